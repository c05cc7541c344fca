"use client";
/** Raised hands, oldest first: who needs help, with what, since when. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { formErrorText } from "../../../components/errors";
import { ago } from "./live-format";
import type { Hand, Watched } from "./live-types";

export function HandQueue({
  courseId,
  hands,
  now,
  environmentStates,
  onWatch,
}: {
  courseId: string;
  hands: Hand[];
  now: number;
  /** The state of each environment on a card: a hand whose environment is known to be stopped gets no "Watch". */
  environmentStates: Map<string, string>;
  onWatch: (watched: Watched) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const resolve = useMutation(
    trpc.live.resolveHand.mutationOptions({
      onSettled: () => queryClient.invalidateQueries(trpc.live.overview.pathFilter()),
    }),
  );

  return (
    <section className="card live-hands" aria-labelledby="hand-queue-title">
      <div className="live-hands-head">
        <h2 id="hand-queue-title">Raised hands</h2>
        {hands.length > 0 && (
          <span className="hand-count" aria-label={`${hands.length} waiting`}>
            {hands.length}
          </span>
        )}
      </div>
      {resolve.error && (
        <p className="error small" role="alert">
          {formErrorText(resolve.error)}
        </p>
      )}
      <ol className="hand-queue" data-testid="hand-queue">
        {hands.length === 0 && <li className="hand-empty muted">No hands raised.</li>}
        {hands.map((hand, index) => {
          const resolving = resolve.isPending && resolve.variables?.handId === hand.id;
          const state = hand.environmentId ? environmentStates.get(hand.environmentId) : undefined;
          const canWatch = hand.environmentId !== null && (state === undefined || state === "RUNNING");
          return (
            <li key={hand.id} className="hand-item" data-testid="hand-item" data-student-name={hand.name}>
              <span className="hand-position" aria-hidden="true">
                {index + 1}
              </span>
              <div className="hand-main">
                <p className="hand-who">
                  <strong>{hand.name}</strong>
                  <span className="muted"> · raised {ago(hand.raisedAt, now)}</span>
                </p>
                {hand.note ? <p className="hand-note">{hand.note}</p> : <p className="hand-note muted">No note.</p>}
              </div>
              <div className="hand-actions">
                {canWatch && (
                  <button type="button" className="secondary small-button" onClick={() => onWatch({ environmentId: hand.environmentId!, name: hand.name })}>
                    Watch
                  </button>
                )}
                <button
                  type="button"
                  className="primary small-button"
                  disabled={resolving}
                  title="Lower this hand: you have helped"
                  onClick={() => resolve.mutate({ courseId, handId: hand.id })}
                >
                  Done
                </button>
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
