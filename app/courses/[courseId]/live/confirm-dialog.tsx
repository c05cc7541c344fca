"use client";
/** Asks once before a step that is hard to undo (reset, stop, end the workshop). */
import { useEffect, useId, useRef } from "react";
import type { Confirmation } from "./live-types";

export function ConfirmDialog({ confirmation, onClose }: { confirmation: Confirmation | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (confirmation && !dialog.open) dialog.showModal();
    else if (!confirmation && dialog.open) dialog.close();
  }, [confirmation]);

  const confirm = () => {
    confirmation?.onConfirm();
    onClose();
  };

  return (
    // Escape closes a modal dialog by itself ("cancel"): the page is told so it stays in step.
    <dialog
      ref={ref}
      className="live-confirm"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {confirmation && (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            confirm();
          }}
        >
          <h2 id={titleId}>{confirmation.title}</h2>
          <p id={bodyId}>{confirmation.body}</p>
          <div className="dialog-actions">
            <button type="button" className="secondary" onClick={onClose} autoFocus>
              Cancel
            </button>
            <button type="submit" className="danger solid">
              {confirmation.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
