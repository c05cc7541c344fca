"use client";
/**
 * One student at a glance: presence, their environment's state and load, how far they
 * are, a raised hand; and the few things staff do to one environment.
 */
import { memo } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { formErrorText } from "../../../components/errors";
import { activity, ago, bytes, duration } from "./live-format";
import type { Confirmation, Student, StudentEnvironment, Watched } from "./live-types";

/** Minutes one "Extend" adds. */
const EXTEND_MINUTES = 30;

const STATE_LABELS: Record<string, string> = {
  PENDING: "Starting",
  QUEUED: "Waiting for a place",
  STARTING: "Starting",
  RUNNING: "Running",
  STOPPED: "Stopped",
  FAILED: "Failed",
  INTERRUPTED: "Interrupted",
};
const STOP_REASONS: Record<string, string> = {
  IDLE: "stopped when idle",
  EXPIRED: "stopped at its time limit",
  USER: "stopped by the student",
  STAFF: "stopped by staff",
  WORKER_LOST: "its machine was lost",
  RUNAWAY: "stopped as a runaway",
  LEFT_QUEUE: "left the queue for a place",
};
const RUNAWAY_LABELS: Record<string, string> = { pids: "Runaway: fork bomb?", cpu: "Runaway: CPU at its limit" };
/**
 * Staff reset a running or broken environment; a stopped one gets a fresh container anyway
 * when its student starts it again, and one that is starting is about to.
 */
const RESETTABLE = new Set(["RUNNING", "FAILED", "INTERRUPTED"]);

/** Why a stopped environment stopped, in a few words, or null. */
function stopReason(environment: StudentEnvironment) {
  return environment.state === "STOPPED" && environment.stopReason ? (STOP_REASONS[environment.stopReason] ?? null) : null;
}

function Usage({ usage }: { usage: NonNullable<StudentEnvironment["usage"]> }) {
  const memoryShare = usage.memoryLimitBytes > 0 ? usage.memoryBytes / usage.memoryLimitBytes : 0;
  // Near a limit is where a student's program is about to be killed or slowed: say so.
  const pidsShare = usage.pidsLimit > 0 ? usage.pids / usage.pidsLimit : 0;
  const hot = usage.cpuPercent >= 90 || memoryShare >= 0.9 || pidsShare >= 0.9;
  return (
    <p className={`card-usage${hot ? " hot" : ""}`} data-testid="card-usage">
      {Math.round(usage.cpuPercent)}% CPU · {bytes(usage.memoryBytes)}
      {usage.memoryLimitBytes > 0 ? ` / ${bytes(usage.memoryLimitBytes)}` : ""}
      {/* Processes only when they are many: a fork bomb is the case worth a glance. */}
      {pidsShare >= 0.5 && (
        <>
          {" "}
          · {usage.pids}/{usage.pidsLimit} processes
        </>
      )}
    </p>
  );
}

export const StudentCard = memo(function StudentCard({
  courseId,
  student,
  now,
  onWatch,
  ask,
}: {
  courseId: string;
  student: Student;
  now: number;
  onWatch: (watched: Watched) => void;
  ask: (confirmation: Confirmation) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries(trpc.live.overview.pathFilter());
  const extend = useMutation(trpc.environment.extend.mutationOptions({ onSettled: refresh }));
  const reset = useMutation(trpc.live.reset.mutationOptions({ onSettled: refresh }));
  const stop = useMutation(trpc.environment.stopForStudent.mutationOptions({ onSettled: refresh }));
  const kill = useMutation(trpc.live.killProcesses.mutationOptions({ onSettled: refresh }));

  const { name, online, hand, environment, progress } = student;
  const state = environment?.state ?? "none";
  const running = state === "RUNNING";
  const busy = extend.isPending || reset.isPending || stop.isPending || kill.isPending;
  const error = extend.error ?? reset.error ?? stop.error ?? kill.error;
  const reason = environment ? stopReason(environment) : null;
  // One message at a time: a new action clears what the last one said.
  const clearErrors = () => {
    extend.reset();
    reset.reset();
    stop.reset();
    kill.reset();
  };
  const runaway = running ? (environment?.runaway ?? null) : null;
  const percent = progress.checks > 0 ? Math.round((progress.passed / progress.checks) * 100) : 0;

  const askReset = (environmentId: string) =>
    ask({
      title: `Reset ${name}’s environment?`,
      body: "They get a fresh container: running programs and changes outside ~/workspace are gone. Their files in ~/workspace are kept.",
      confirmLabel: "Reset environment",
      onConfirm: () => {
        clearErrors();
        reset.mutate({ courseId, environmentId });
      },
    });
  const askStop = (environmentId: string) =>
    ask({
      title: `Stop ${name}’s environment?`,
      body: "Their shell ends and they are told you stopped it. Their files in ~/workspace are kept, and they can start it again.",
      confirmLabel: "Stop environment",
      onConfirm: () => {
        clearErrors();
        stop.mutate({ courseId, environmentId });
      },
    });

  return (
    <li
      className={`student-card${hand ? " has-hand" : ""}${runaway ? " runaway" : ""}${online ? "" : " offline"}`}
      data-testid="student-card"
      data-student-name={name}
      data-state={state}
      aria-busy={busy || undefined}
    >
      <div className="card-head">
        <span className={`presence${online ? " online" : ""}`} title={online ? "Online" : "Offline"} aria-hidden="true" />
        <h3 className="card-name" title={student.email ? `${name} · ${student.email}` : name}>
          {name}
          <span className="sr-only">{online ? " (online)" : " (offline)"}</span>
        </h3>
        <span className={`env-state state-${state.toLowerCase()}`}>
          {environment ? (STATE_LABELS[environment.state] ?? environment.state.toLowerCase()) : "Not started"}
        </span>
      </div>

      {environment && (
        <>
          <p className="card-lab" title={environment.labTitle}>
            {environment.labTitle}
          </p>
          <p className="card-meta">
            {reason && <span>{reason}</span>}
            {environment.lastActivityAt && (
              <span>{running ? activity(environment.lastActivityAt, now) : `last active ${ago(environment.lastActivityAt, now)}`}</span>
            )}
            {running && environment.expiresAt && (
              <span title="Until the environment’s time limit">{duration(new Date(environment.expiresAt).getTime() - now)} left</span>
            )}
          </p>
        </>
      )}

      <div className="card-progress" title={progress.checks > 0 ? `${progress.passed} of ${progress.checks} checked steps passed` : "This lab has no checks"}>
        <span className="card-progress-track" aria-hidden="true">
          <span className={`card-progress-fill${progress.checks > 0 && progress.passed >= progress.checks ? " done" : ""}`} style={{ width: `${percent}%` }} />
        </span>
        <span className="card-progress-text">{progress.checks > 0 ? `${progress.passed}/${progress.checks} checks` : "no checks"}</span>
      </div>

      {running && environment?.usage && <Usage usage={environment.usage} />}

      {runaway && environment && (
        <div className="card-runaway" data-testid="card-runaway" role="status">
          <span
            className="card-runaway-text"
            title={`At its ${runaway.reason === "pids" ? "process" : "CPU"} limit since ${new Date(runaway.since).toLocaleTimeString()}`}
          >
            {RUNAWAY_LABELS[runaway.reason] ?? "Runaway"} <span className="muted">{ago(runaway.since, now).replace(/ ago$/, "")}</span>
          </span>
          <button
            type="button"
            className="card-button danger-action"
            disabled={busy}
            title="End every process in this environment: the container restarts, files are kept, the student gets a new shell"
            onClick={() => {
              clearErrors();
              kill.mutate({ courseId, environmentId: environment.id });
            }}
          >
            {kill.isPending ? "Ending…" : "Kill processes"}
          </button>
        </div>
      )}

      {hand && (
        <div className="card-hand" data-testid="card-hand">
          <span className="hand-emoji" aria-hidden="true">
            ✋
          </span>
          <span className="card-hand-text">
            <span className="sr-only">Hand raised {ago(hand.raisedAt, now)}: </span>
            {hand.note || <span className="muted">Hand raised, no note</span>}
          </span>
        </div>
      )}

      {error && (
        <p className="card-error" role="alert">
          {formErrorText(error) ?? "That did not work. Try again."}
        </p>
      )}

      {environment && (running || RESETTABLE.has(environment.state)) && (
        <div className="card-actions">
          {running && (
            <button type="button" className="card-button primary-action" onClick={() => onWatch({ environmentId: environment.id, name })}>
              Watch
            </button>
          )}
          {running && (
            <button
              type="button"
              className="card-button"
              disabled={busy}
              title={`${EXTEND_MINUTES} more minutes before the time limit`}
              onClick={() => {
                clearErrors();
                extend.mutate({ courseId, environmentId: environment.id, minutes: EXTEND_MINUTES });
              }}
            >
              Extend
            </button>
          )}
          {RESETTABLE.has(environment.state) && (
            <button
              type="button"
              className="card-button"
              disabled={busy}
              title="A fresh container; files in ~/workspace are kept"
              onClick={() => askReset(environment.id)}
            >
              Reset
            </button>
          )}
          {running && (
            <button
              type="button"
              className="card-button danger-action"
              disabled={busy}
              title="Stop the container; files are kept"
              onClick={() => askStop(environment.id)}
            >
              Stop
            </button>
          )}
        </div>
      )}
    </li>
  );
});
