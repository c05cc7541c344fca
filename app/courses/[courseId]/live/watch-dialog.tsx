"use client";
/**
 * Looking over a student's shoulder: their terminal, large, in a modal. The terminal panel
 * itself says it is read-only and offers "Take the keyboard"; this only frames it.
 */
import { useEffect, useRef, type KeyboardEvent } from "react";
import { TerminalPanel } from "../../../components/terminal-panel";
import type { Watched } from "./live-types";

/**
 * Escape belongs to the shell while the instructor types in it (vim, less); otherwise it
 * closes the panel. xterm makes its input read-only while watching, which tells the two apart.
 */
function typingInTerminal(target: EventTarget | null) {
  return target instanceof HTMLTextAreaElement && !target.readOnly && target.closest(".xterm") !== null;
}

export function WatchDialog({ watched, onClose }: { watched: Watched; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  // Capture: xterm swallows the keys it handles, and the dialog's own "cancel" never fires then.
  const onKeyDownCapture = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || typingInTerminal(event.target)) return;
    event.preventDefault();
    event.stopPropagation();
    onClose();
  };

  return (
    <dialog
      ref={ref}
      className="watch-dialog"
      aria-label={`Terminal of ${watched.name}`}
      data-testid="watch-dialog"
      onKeyDownCapture={onKeyDownCapture}
      onCancel={(event) => {
        event.preventDefault();
        if (!typingInTerminal(document.activeElement)) onClose();
      }}
    >
      <header className="watch-head">
        <h2>
          <span className="watch-eyebrow">Terminal of</span> {watched.name}
        </h2>
        <button type="button" className="secondary small-button" onClick={onClose} autoFocus>
          Close
        </button>
      </header>
      <div className="watch-body">
        <TerminalPanel environmentId={watched.environmentId} />
      </div>
    </dialog>
  );
}
