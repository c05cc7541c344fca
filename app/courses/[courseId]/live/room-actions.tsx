"use client";
/** What staff do to every environment of the course at once, and ending the workshop. */
import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { formErrorText, type ShownError } from "../../../components/errors";
import type { Confirmation } from "./live-types";

const EXTEND_CHOICES = [15, 30, 60] as const;

type Outcome = { done: number; failed: number };
type Report = { kind: "done" | "error"; text: string } | null;

const environments = (count: number) => `${count} environment${count === 1 ? "" : "s"}`;

/** "Stopped 12 environments. 1 could not be stopped." */
function describe({ done, failed }: Outcome, did: string, verb: string) {
  if (done === 0 && failed === 0) return "No environments were running.";
  const failures = failed > 0 ? ` ${environments(failed)} could not be ${verb}.` : "";
  return `${did} ${environments(done)}.${failures}`;
}

export function RoomActions({ courseId, ended, ask }: { courseId: string; ended: boolean; ask: (confirmation: Confirmation) => void }) {
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
  const extendAll = useMutation(trpc.live.extendAll.mutationOptions({
    ...settle, onSuccess: (outcome, { minutes: added }) => setReport({ kind: "done", text: describe(outcome, `Added ${added} minutes to`, "extended") }),
  }));
  const resetAll = useMutation(trpc.live.resetAll.mutationOptions({
    ...settle, onSuccess: (outcome) => setReport({ kind: "done", text: describe(outcome, "Reset", "reset") }),
  }));
  const stopAll = useMutation(trpc.live.stopAll.mutationOptions({
    ...settle, onSuccess: (outcome) => setReport({ kind: "done", text: describe(outcome, "Stopped", "stopped") }),
  }));
  const endWorkshop = useMutation(trpc.live.endWorkshop.mutationOptions({
    ...settle, onSuccess: (outcome) => setReport({ kind: "done", text: `Workshop ended. ${describe(outcome, "Stopped", "stopped")}` }),
  }));
  const reopenWorkshop = useMutation(trpc.live.reopenWorkshop.mutationOptions({
    ...settle, onSuccess: () => setReport({ kind: "done", text: "Workshop reopened: students can start their environments again." }),
  }));
  const busy = [extendAll, resetAll, stopAll, endWorkshop, reopenWorkshop].some((mutation) => mutation.isPending);

  return (
    <div className="room-actions">
      <h2 className="toolbar-title">Everyone</h2>
      <div className="room-actions-row">
        <span className="extend-group">
          <label htmlFor={minutesId} className="sr-only">Minutes to add</label>
          <select id={minutesId} value={minutes} onChange={(event) => setMinutes(Number(event.target.value))} disabled={busy}>
            {EXTEND_CHOICES.map((choice) => <option key={choice} value={choice}>+{choice} min</option>)}
          </select>
          <button type="button" className="secondary" disabled={busy} title="More time for every running environment"
            onClick={() => extendAll.mutate({ courseId, minutes })}>
            {extendAll.isPending ? "Extending…" : "Extend all"}
          </button>
        </span>
        <button type="button" className="secondary" disabled={busy} title="Fresh containers for every running environment; files kept"
          onClick={() => ask({
            title: "Reset every running environment?",
            body: "Every student with a running environment gets a fresh container: running programs and changes outside ~/workspace are gone. Their files in ~/workspace are kept.",
            confirmLabel: "Reset environments",
            onConfirm: () => resetAll.mutate({ courseId }),
          })}>
          {resetAll.isPending ? "Resetting…" : "Reset all"}
        </button>
        <button type="button" className="danger" disabled={busy} title="Stop every running environment; files kept"
          onClick={() => ask({
            title: "Stop every running environment?",
            body: "Every student’s shell ends and they are told you stopped it. Their files in ~/workspace are kept, and they can start again.",
            confirmLabel: "Stop environments",
            onConfirm: () => stopAll.mutate({ courseId }),
          })}>
          {stopAll.isPending ? "Stopping…" : "Stop all"}
        </button>
        <span className="room-actions-end">
          {ended ? (
            <button type="button" className="primary" disabled={busy} onClick={() => reopenWorkshop.mutate({ courseId })}>
              {reopenWorkshop.isPending ? "Reopening…" : "Reopen workshop"}
            </button>
          ) : (
            <button type="button" className="danger solid" disabled={busy}
              onClick={() => ask({
                title: "End the workshop?",
                body: "Every environment stops and every raised hand is lowered. Students’ workspaces are kept, but they cannot start again until you reopen the workshop.",
                confirmLabel: "End the workshop",
                onConfirm: () => endWorkshop.mutate({ courseId }),
              })}>
              {endWorkshop.isPending ? "Ending…" : "End workshop"}
            </button>
          )}
        </span>
      </div>
      <p className="room-actions-report" role="status">{report?.kind === "done" && report.text}</p>
      {report?.kind === "error" && <p className="error small" role="alert">{report.text}</p>}
    </div>
  );
}
