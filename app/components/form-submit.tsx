/**
 * The end of a form: the problem no field shows (see `formErrorText`), then the submit button,
 * which is disabled and says what is happening while the form is sent. Other actions given as
 * children share one row with it (the row stays while they are hidden, so nothing jumps).
 */
import type { ReactNode } from "react";
import { ErrorAlert } from "./error-alert";

export function FormSubmit({
  error,
  pending,
  label,
  pendingLabel,
  children,
}: {
  error: string | null | undefined;
  pending: boolean;
  label: string;
  pendingLabel: string;
  children?: ReactNode;
}) {
  const button = (
    <button type="submit" className="primary" disabled={pending}>
      {pending ? pendingLabel : label}
    </button>
  );
  return (
    <>
      <ErrorAlert text={error} />
      {children === undefined ? (
        button
      ) : (
        <div className="form-actions">
          {button}
          {children}
        </div>
      )}
    </>
  );
}
