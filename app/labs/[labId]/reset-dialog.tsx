"use client";
/**
 * Asks before replacing the student's container: a fresh one, with their files in
 * ~/workspace kept (the default) or wiped.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";

export function ResetDialog({ open, onCancel, onConfirm }: { open: boolean; onCancel: () => void; onConfirm: (wipeWorkspace: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [wipe, setWipe] = useState(false);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setWipe(false); // every time it opens, keeping files is what a plain "Reset" does
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onConfirm(wipe);
  };

  return (
    // Escape closes a modal dialog by itself ("cancel"): the page is told so it stays in step.
    <dialog
      ref={ref}
      className="reset-dialog"
      aria-labelledby={titleId}
      aria-describedby={descriptionId}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <form onSubmit={submit}>
        <h2 id={titleId}>Reset your environment?</h2>
        <p id={descriptionId} className="muted">
          You get a fresh container: programs you started and changes outside ~/workspace are gone.
        </p>
        <fieldset className="reset-choices">
          <legend className="sr-only">Your files in ~/workspace</legend>
          <label className={`reset-choice${!wipe ? " selected" : ""}`}>
            <input type="radio" name="workspace" value="keep" checked={!wipe} onChange={() => setWipe(false)} />
            <span>
              <span className="reset-choice-title">Keep my files in ~/workspace</span>
              <span className="reset-choice-hint">Recommended. Everything you saved there is still there afterwards.</span>
            </span>
          </label>
          <label className={`reset-choice danger${wipe ? " selected" : ""}`}>
            <input type="radio" name="workspace" value="wipe" checked={wipe} onChange={() => setWipe(true)} />
            <span>
              <span className="reset-choice-title">Wipe my files in ~/workspace too</span>
              <span className="reset-choice-hint">Start from an empty workspace. This cannot be undone.</span>
            </span>
          </label>
        </fieldset>
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={wipe ? "danger solid" : "primary"}>
            Reset
          </button>
        </div>
      </form>
    </dialog>
  );
}
