"use client";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { isCourseStudent } from "../../../common/access";
import { TerminalBar, TerminalPanel } from "../../components/terminal-panel";
import { LabInstructions, LabProgress } from "../../components/lab-instructions";
import { formErrorText } from "../../components/errors";
import { ResetDialog } from "./reset-dialog";
import { RaiseHand } from "./raise-hand";
import { SplitHandle, useSplit } from "./split";
import { QueueCard } from "./queue-card";
import { EnvironmentTabs, useEnvironmentTabs } from "./environment-tabs";
import { PreviewLinks } from "../../components/preview-links";

/**
 * Where the student's environment is, as far as this page knows. `generation` changes
 * whenever the terminal must be mounted afresh (start again, reset): the environment id
 * itself stays the same for a student and a lab.
 */
type Phase =
  | { kind: "starting" }
  /** Waiting in the admission queue for a place: the page asks again until it runs. */
  | { kind: "queued"; position: number; estimateSeconds: number | null; leaving: boolean }
  | { kind: "running"; environmentId: string; generation: number }
  | { kind: "stopping"; environmentId: string; generation: number }
  /** Stopped from this page: no terminal is shown. */
  | { kind: "stopped" }
  /** Stopped by the server (idle, time limit, instructor): the terminal stays, with the notice. */
  | { kind: "stopped-remotely"; environmentId: string; generation: number }
  | { kind: "resetting"; wipe: boolean }
  | { kind: "failed"; message: string };

/** A lab's own "# Title" line would repeat the page's heading. */
function withoutLeadingTitle(instructions: string, title: string) {
  const heading = /^\s*#\s+(.+?)\s*#*\s*(?:\r?\n|$)/.exec(instructions);
  return heading && heading[1]!.trim().toLowerCase() === title.trim().toLowerCase() ? instructions.slice(heading[0].length) : instructions;
}

/** How often a queued page asks for its place (the server also drops a place nobody asks about). */
const QUEUE_POLL_MS = 2000;

function TerminalPlaceholder({ children }: { children: ReactNode }) {
  return (
    <div className="terminal-placeholder">
      <div className="terminal-placeholder-card">{children}</div>
    </div>
  );
}

export default function LabPage() {
  const { labId } = useParams<{ labId: string }>();
  const trpc = useTRPC();
  const router = useRouter();
  const lab = useQuery(trpc.lab.byId.queryOptions({ labId }));
  const [phase, setPhase] = useState<Phase>({ kind: "starting" });
  const [actionError, setActionError] = useState<string | null>(null);
  const [resetOpen, setResetOpen] = useState(false);
  const generation = useRef(0);
  const requested = useRef(false);
  const split = useSplit();
  const environmentTabs = useEnvironmentTabs(phase.kind === "running" || phase.kind === "stopping" ? phase.environmentId : null);

  const running = (environmentId: string): Phase => ({ kind: "running", environmentId, generation: ++generation.current });
  const failedWith = (error: Parameters<typeof formErrorText>[0], fallback: string): Phase => ({ kind: "failed", message: formErrorText(error) ?? fallback });
  /** A start's answer: the terminal, or a place in the queue. */
  type Summary = { environmentId: string } & ({ state: "RUNNING" } | { state: "QUEUED"; position: number; estimateSeconds: number | null });
  const startedOrQueued = (summary: Summary): Phase =>
    summary.state === "QUEUED"
      ? { kind: "queued", position: summary.position, estimateSeconds: summary.estimateSeconds, leaving: false }
      : running(summary.environmentId);

  const start = useMutation(
    trpc.environment.startForLab.mutationOptions({
      onMutate: () => {
        setActionError(null);
        setPhase({ kind: "starting" });
      },
      onSuccess: (summary) => setPhase(startedOrQueued(summary)),
      onError: (error) => setPhase(failedWith(error, "Your environment could not be started.")),
    }),
  );
  // While queued: the same call, asked again quietly; it keeps the place and answers it, or waits for the start once admitted.
  const askPlace = useMutation(
    trpc.environment.startForLab.mutationOptions({
      onSuccess: (summary) => setPhase((current) => (current.kind !== "queued" || current.leaving ? current : startedOrQueued(summary))),
      onError: (error) => setPhase((current) => (current.kind === "queued" ? failedWith(error, "Your environment could not be started.") : current)),
    }),
  );
  const stop = useMutation(
    trpc.environment.stop.mutationOptions({
      onSuccess: () => setPhase({ kind: "stopped" }),
      onError: (error) => {
        setActionError(formErrorText(error) ?? "Your environment could not be stopped.");
        setPhase((current) =>
          current.kind === "stopping" ? { ...current, kind: "running" } : current.kind === "queued" ? { ...current, leaving: false } : current,
        );
      },
    }),
  );
  const reset = useMutation(
    trpc.environment.reset.mutationOptions({
      onSuccess: (summary) => setPhase(startedOrQueued(summary)),
      onError: (error) => setPhase(failedWith(error, "Your environment could not be reset.")),
    }),
  );

  useEffect(() => {
    if (lab.error?.data?.code === "UNAUTHORIZED") router.replace("/sign-in");
  }, [lab.error, router]);

  useEffect(() => {
    // Once per page: StrictMode's second effect run must not start twice.
    if (lab.data && !requested.current) {
      requested.current = true;
      start.mutate({ labId });
    }
  }, [lab.data, labId, start]);

  const queued = phase.kind === "queued" && !phase.leaving;
  const { mutate: ask, isPending: asking } = askPlace;
  useEffect(() => {
    // One question at a time: the next is asked a while after the last answer.
    if (!queued || asking) return;
    const timer = setTimeout(() => ask({ labId }), QUEUE_POLL_MS);
    return () => clearTimeout(timer);
  }, [queued, asking, ask, labId, phase]);

  const startAgain = useCallback(() => start.mutate({ labId }), [start, labId]);
  const leaveQueue = () => {
    if (phase.kind !== "queued") return;
    setActionError(null);
    setPhase({ ...phase, leaving: true });
    stop.mutate({ labId });
  };
  const stopNow = () => {
    if (phase.kind !== "running") return;
    setActionError(null);
    setPhase({ ...phase, kind: "stopping" });
    stop.mutate({ labId });
  };
  const resetNow = (wipeWorkspace: boolean) => {
    setResetOpen(false);
    setActionError(null);
    setPhase({ kind: "resetting", wipe: wipeWorkspace });
    reset.mutate({ labId, wipeWorkspace });
  };
  const stoppedRemotely = useCallback(() => {
    setPhase((current) => (current.kind === "running" || current.kind === "stopping" ? { ...current, kind: "stopped-remotely" } : current));
  }, []);

  if (lab.error) {
    return (
      <main className="page">
        <p className="notice warn" role="alert">
          {formErrorText(lab.error) ?? "This lab could not be opened."}
        </p>
        <p>
          <Link href="/">Back to your courses</Link>
        </p>
      </main>
    );
  }
  if (!lab.data)
    return (
      <main className="page">
        <p className="muted">
          <span className="spinner dark" aria-hidden="true" /> Loading the lab…
        </p>
      </main>
    );

  const { title, course, instructions, steps } = lab.data;
  const busy = phase.kind === "starting" || phase.kind === "stopping" || phase.kind === "resetting" || phase.kind === "queued";
  const canCheck = phase.kind === "running";
  const cannotCheckReason =
    phase.kind === "starting" || phase.kind === "resetting" || phase.kind === "queued"
      ? "Checks run once your environment is ready."
      : "Start your environment to check this step.";

  const actions = (
    <>
      <button
        type="button"
        className="terminal-button"
        onClick={stopNow}
        disabled={phase.kind !== "running"}
        title="Stop the container. Your files in ~/workspace are kept."
      >
        {phase.kind === "stopping" ? "Stopping…" : "Stop"}
      </button>
      <button type="button" className="terminal-button" onClick={() => setResetOpen(true)} disabled={busy} title="Replace the container with a fresh one.">
        {phase.kind === "resetting" ? "Resetting…" : "Reset environment"}
      </button>
      <a
        className="terminal-button"
        href={`/api/labs/${labId}/my-workspace.tar`}
        download
        title="A .tar of your files (your home folder, ~/workspace included)"
      >
        Download my work
      </a>
    </>
  );

  let terminal: ReactNode;
  switch (phase.kind) {
    case "running":
    case "stopping":
    case "stopped-remotely":
      terminal = (
        <TerminalPanel
          key={`${phase.environmentId}:${phase.generation}`}
          environmentId={phase.environmentId}
          actions={actions}
          onStartAgain={startAgain}
          onStopped={stoppedRemotely}
        />
      );
      break;
    case "starting":
      terminal = (
        <>
          <TerminalBar state="starting" actions={actions}>
            <span className="spinner" aria-hidden="true" /> Starting your environment…
          </TerminalBar>
          <TerminalPlaceholder>
            <p className="terminal-placeholder-title">Getting your Linux machine ready</p>
            <p>This usually takes a few seconds.</p>
          </TerminalPlaceholder>
        </>
      );
      break;
    case "queued":
      terminal = (
        <>
          <TerminalBar state="queued" actions={actions}>
            <span className="dot idle" aria-hidden="true" /> Waiting for a place…
          </TerminalBar>
          <TerminalPlaceholder>
            <QueueCard position={phase.position} estimateSeconds={phase.estimateSeconds} onLeave={leaveQueue} leaving={phase.leaving} />
          </TerminalPlaceholder>
        </>
      );
      break;
    case "resetting":
      terminal = (
        <>
          <TerminalBar state="resetting" actions={actions}>
            <span className="spinner" aria-hidden="true" /> Resetting your environment…
          </TerminalBar>
          <TerminalPlaceholder>
            <p className="terminal-placeholder-title">Setting up a fresh environment</p>
            <p>{phase.wipe ? "Your files in ~/workspace are being wiped." : "Your files in ~/workspace are kept."}</p>
          </TerminalPlaceholder>
        </>
      );
      break;
    case "stopped":
      terminal = (
        <>
          <TerminalBar state="stopped" actions={actions}>
            <span className="dot idle" aria-hidden="true" /> Stopped
          </TerminalBar>
          <TerminalPlaceholder>
            <p className="terminal-placeholder-title">Your environment is stopped</p>
            <p>Your files in ~/workspace are kept. Start it again to carry on where you left off.</p>
            <button type="button" className="primary" onClick={startAgain} disabled={start.isPending}>
              Start again
            </button>
          </TerminalPlaceholder>
        </>
      );
      break;
    case "failed":
      terminal = (
        <>
          <TerminalBar state="error" actions={actions}>
            <span className="dot bad" aria-hidden="true" />
            <span className="error">Not available</span>
          </TerminalBar>
          <TerminalPlaceholder>
            <p className="terminal-placeholder-title">Your environment is not available</p>
            <p role="alert">{phase.message}</p>
            <button type="button" className="primary" onClick={startAgain} disabled={start.isPending}>
              Try again
            </button>
          </TerminalPlaceholder>
        </>
      );
      break;
  }

  return (
    <main className={`lab-layout lab-split${split.dragging ? " dragging" : ""}`} ref={split.containerRef} style={split.style}>
      <aside className="lab-instructions" id="lab-instructions" aria-label="Instructions">
        <div className="lab-topline">
          <p className="crumbs">
            <Link href={`/courses/${course.id}`}>← {course.title}</Link>
          </p>
          {/* Students ask for help; staff answer hands in the course's live room. */}
          {isCourseStudent(lab.data.courseRole) && <RaiseHand labId={labId} />}
        </div>
        <h1 className="lab-heading">{title}</h1>
        <LabProgress steps={steps} />
        <PreviewLinks.Provider value={environmentTabs.links}>
          <LabInstructions
            labId={labId}
            instructions={withoutLeadingTitle(instructions, title)}
            steps={steps}
            canCheck={canCheck}
            cannotCheckReason={cannotCheckReason}
          />
        </PreviewLinks.Provider>
      </aside>
      <SplitHandle split={split} controls="lab-instructions" />
      <section className="lab-terminal" aria-label="Terminal">
        {actionError && (
          <div className="terminal-action-error" role="alert">
            <span>{actionError}</span>
            <button type="button" className="terminal-notice-dismiss" onClick={() => setActionError(null)} aria-label="Dismiss this message">
              ×
            </button>
          </div>
        )}
        <EnvironmentTabs tabs={environmentTabs}>{terminal}</EnvironmentTabs>
      </section>
      <ResetDialog open={resetOpen} onCancel={() => setResetOpen(false)} onConfirm={resetNow} />
    </main>
  );
}
