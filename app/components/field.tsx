/**
 * A labelled input with its error (or a hint) underneath, outside the label's name. The error
 * or hint is tied to the input for screen readers: the input is described by it
 * (aria-describedby) and marked invalid (aria-invalid) while there is an error.
 */
import { Children, cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from "react";

type Describable = { "aria-describedby"?: string; "aria-invalid"?: boolean | "true" | "false" };

/** The one control inside the label gets the note's id; anything else is left as it is. */
function describe(children: ReactNode, noteId: string | undefined, invalid: boolean): ReactNode {
  const only = Children.toArray(children);
  if (only.length !== 1 || !isValidElement(only[0])) return children;
  const control = only[0] as ReactElement<Describable>;
  const describedBy = [control.props["aria-describedby"], noteId].filter(Boolean).join(" ") || undefined;
  return cloneElement(control, {
    "aria-describedby": describedBy,
    "aria-invalid": invalid || control.props["aria-invalid"] === true || control.props["aria-invalid"] === "true" || undefined,
  });
}

export function Field({ label, error, hint, children }: { label: ReactNode; error?: string; hint?: ReactNode; children: ReactNode }) {
  const id = useId();
  const noteId = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label>
        <span className="field-label">{label}</span>
        {describe(children, noteId, Boolean(error))}
      </label>
      {error ? (
        <span className="field-error" id={noteId}>
          {error}
        </span>
      ) : hint ? (
        <span className="field-hint" id={noteId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}
