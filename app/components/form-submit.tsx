/**
 * The end of a form: the problem no field shows (see `formErrorText`), then the submit button,
 * which is disabled and says what is happening while the form is sent. Other buttons given in
 * `beside` share one row with it.
 */
import type { ReactNode } from "react";
import { ErrorAlert } from "./error-alert";

export function FormSubmit({
  error,
  pending,
  label,
  pendingLabel,
  beside,
}: {
  error: string | null | undefined;
  pending: boolean;
  label: string;
  pendingLabel: string;
  beside?: ReactNode;
}) {
  const button = (
    <button type="submit" className="primary" disabled={pending}>
      {pending ? pendingLabel : label}
    </button>
  );
  return (
    <>
      <ErrorAlert text={error} />
      {beside === undefined ? (
        button
      ) : (
        <div className="form-actions">
          {button}
          {beside}
        </div>
      )}
    </>
  );
}
