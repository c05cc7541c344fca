"use client";
/**
 * The terminal area while the student waits in the admission queue: their place and an
 * estimate (a live region, so a screen reader hears it change), and a way out of the line.
 * The page keeps asking for the place and mounts the terminal by itself when it is their turn.
 */
import { queueLine } from "./queue-words";

export function QueueCard({
  position,
  estimateSeconds,
  onLeave,
  leaving,
}: {
  position: number;
  estimateSeconds: number | null;
  onLeave: () => void;
  leaving: boolean;
}) {
  return (
    <>
      <p className="terminal-placeholder-title">All machines are busy right now</p>
      <p role="status" aria-live="polite" aria-atomic="true" data-testid="queue-place">
        {queueLine(position, estimateSeconds)}
      </p>
      <p>Keep this page open: your terminal starts by itself when it is your turn.</p>
      <button type="button" onClick={onLeave} disabled={leaving}>
        {leaving ? "Leaving…" : "Leave the queue"}
      </button>
    </>
  );
}
