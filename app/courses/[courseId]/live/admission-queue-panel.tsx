"use client";
/**
 * Students waiting in the admission queue for a place (no machine had room when they
 * started): in the order they will be admitted, with how long each has waited. Their place
 * is in the whole platform's line, so it may start above 1 when other courses wait too.
 */
import { duration } from "./live-format";
import type { Overview } from "./live-types";

type Waiting = Overview["queue"][number];

export function AdmissionQueuePanel({ queue, now }: { queue: Waiting[]; now: number }) {
  if (queue.length === 0) return null;
  return (
    <section className="card admission-queue" aria-labelledby="admission-queue-title" data-testid="admission-queue">
      <h2 id="admission-queue-title">{queue.length} waiting for a place</h2>
      <p className="muted small">Every machine is full: each starts by itself, in this order, as soon as a place frees (when someone stops).</p>
      <ol className="admission-queue-list">
        {queue.map((entry) => (
          <li key={entry.environmentId} data-testid="admission-queue-entry" data-student-name={entry.name}>
            <span className="admission-queue-position" aria-label={`Place ${entry.position}`}>
              {entry.position}
            </span>
            <strong>{entry.name}</strong>
            <span className="muted">
              {" "}
              · {entry.labTitle} · waiting {duration(now - new Date(entry.queuedAt).getTime())}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
