"use client";
/**
 * What staff do to every environment of the course at once, and ending the workshop. The
 * server runs those a few at a time and reports as it goes: the bar shows how far it is,
 * and what failed is listed by student once it is done.
 */
import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { BulkActionProgress } from "../../../../protocol/browser-contract";
import { useTRPC } from "../../../trpc";
import { formErrorText, type ShownError } from "../../../components/errors";
import type { Confirmation } from "./live-types";

const EXTEND_CHOICES = [15, 30, 60] as const;

type Report = { kind: "done" | "error"; text: string } | null;

const environments = (count: number) => `${count} environment${count === 1 ? "" : "s"}`;

const WORDS: Record<BulkActionProgress["kind"], { doing: string; did: string; verb: string }> = {
  extend: { doing: "Extending", did: "Extended", verb: "extended" },
  reset: { doing: "Resetting", did: "Reset", verb: "reset" },
  stop: { doing: "Stopping", did: "Stopped", verb: "stopped" },
  end: { doing: "Ending the workshop: stopping", did: "Workshop ended. Stopped", verb: "stopped" },
};

/** "Resetting 45 of 200", then "Reset 198 environments. 2 could not be reset." */
function describe(progress: BulkActionProgress) {
  const words = WORDS[progress.kind];
  const processed = progress.done + progress.failed.length;
  if (!progress.finished) return `${words.doing} ${processed} of ${progress.total}…`;
  if (progress.total === 0) return progress.kind === "end" ? "Workshop ended. No environments were running." : "No environments were running.";
  const failures = progress.failed.length > 0 ? ` ${environments(progress.failed.length)} could not be ${words.verb}.` : "";
  const interrupted = progress.interrupted ? ` The server stopped before the other ${progress.total - processed} were done.` : "";
  return `${words.did} ${environments(progress.done)}.${failures}${interrupted}`;
}

function BulkProgress({ progress }: { progress: BulkActionProgress }) {
  const processed = progress.done + progress.failed.length;
  return (
    <div className="bulk-progress" data-testid="bulk-progress" data-kind={progress.kind} data-finished={progress.finished}>
      <p className="room-actions-report" role="status">
        {describe(progress)}
      </p>
      {!progress.finished && progress.total > 0 && <progress className="bulk-bar" max={progress.total} value={processed} aria-label={describe(progress)} />}
      {progress.failed.length > 0 && (
        <ul className="bulk-failures" aria-label="Could not be done">
          {progress.failed.map((failure) => (
            <li key={failure.environmentId}>
              <strong>{failure.name}</strong>: {failure.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function RoomActions({
  courseId,
  ended,
  bulk,
  ask,
}: {
  courseId: string;
  ended: boolean;
  /** The course's latest action on everyone (running or just finished), or null. */
  bulk: BulkActionProgress | null;
  ask: (confirmation: Confirmation) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const minutesId = useId();
  const [minutes, setMinutes] = useState<number>(30);
  const [report, setReport] = useState<Report>(null);

  const settle = {
    onMutate: () => setReport(null),
    onError: (error: ShownError) => setReport({ kind: "error", text: formErrorText(error) ?? "That did not work. Try again." }),
    onSettled: () => queryClient.invalidateQueries(trpc.live.overview.pathFilter()),
  };
  // The request only starts the action: how it goes arrives as `bulk`.
  const extendAll = useMutation(trpc.live.extendAll.mutationOptions(settle));
  const resetAll = useMutation(trpc.live.resetAll.mutationOptions(settle));
  const stopAll = useMutation(trpc.live.stopAll.mutationOptions(settle));
  const endWorkshop = useMutation(trpc.live.endWorkshop.mutationOptions(settle));
  const reopenWorkshop = useMutation(
    trpc.live.reopenWorkshop.mutationOptions({
      ...settle,
      onSuccess: () => setReport({ kind: "done", text: "Workshop reopened: students can start their environments again." }),
    }),
  );
  const running = Boolean(bulk && !bulk.finished);
  const doing = (kind: BulkActionProgress["kind"]) => running && bulk?.kind === kind;
  const busy = running || [extendAll, resetAll, stopAll, endWorkshop, reopenWorkshop].some((mutation) => mutation.isPending);

  return (
    <div className="room-actions">
      <h2 className="toolbar-title">Everyone</h2>
      <div className="room-actions-row">
        <span className="extend-group">
          <label htmlFor={minutesId} className="sr-only">
            Minutes to add
          </label>
          <select id={minutesId} value={minutes} onChange={(event) => setMinutes(Number(event.target.value))} disabled={busy}>
            {EXTEND_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                +{choice} min
              </option>
            ))}
          </select>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            title="More time for every running environment"
            onClick={() => extendAll.mutate({ courseId, minutes })}
          >
            {extendAll.isPending || doing("extend") ? "Extending…" : "Extend all"}
          </button>
        </span>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          title="Fresh containers for every running environment; files kept"
          onClick={() =>
            ask({
              title: "Reset every running environment?",
              body: "Every student with a running environment gets a fresh container: running programs and changes outside ~/workspace are gone. Their files in ~/workspace are kept.",
              confirmLabel: "Reset environments",
              onConfirm: () => resetAll.mutate({ courseId }),
            })
          }
        >
          {resetAll.isPending || doing("reset") ? "Resetting…" : "Reset all"}
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          title="Stop every running environment; files kept"
          onClick={() =>
            ask({
              title: "Stop every running environment?",
              body: "Every student’s shell ends and they are told you stopped it. Their files in ~/workspace are kept, and they can start again.",
              confirmLabel: "Stop environments",
              onConfirm: () => stopAll.mutate({ courseId }),
            })
          }
        >
          {stopAll.isPending || doing("stop") ? "Stopping…" : "Stop all"}
        </button>
        <span className="room-actions-end">
          {ended ? (
            <button type="button" className="primary" disabled={busy} onClick={() => reopenWorkshop.mutate({ courseId })}>
              {reopenWorkshop.isPending ? "Reopening…" : "Reopen workshop"}
            </button>
          ) : (
            <button
              type="button"
              className="danger solid"
              disabled={busy}
              onClick={() =>
                ask({
                  title: "End the workshop?",
                  body: "Every environment stops and every raised hand is lowered. Students’ workspaces are kept, but they cannot start again until you reopen the workshop.",
                  confirmLabel: "End the workshop",
                  onConfirm: () => endWorkshop.mutate({ courseId }),
                })
              }
            >
              {endWorkshop.isPending || doing("end") ? "Ending…" : "End workshop"}
            </button>
          )}
        </span>
      </div>
      {bulk && !(report?.kind === "done") ? (
        <BulkProgress progress={bulk} />
      ) : (
        <p className="room-actions-report" role="status">
          {report?.kind === "done" && report.text}
        </p>
      )}
      {report?.kind === "error" && (
        <p className="error small" role="alert">
          {report.text}
        </p>
      )}
    </div>
  );
}
