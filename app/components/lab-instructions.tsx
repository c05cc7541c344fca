"use client";
/**
 * A lab's text and steps as the instructor wrote them (Markdown, rendered safely), with
 * each step's automatic check and the student's progress through them.
 */
import { useId } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc";
import { formErrorText } from "./errors";
import { Markdown } from "./markdown";

export type StepResult = { passed: boolean; attempts: number; firstPassedAt: Date | string | null; output: string | null; exitCode?: number | null };
export type LabStep = {
  id: string;
  position: number;
  title: string;
  body: string;
  hint: string | null;
  hasCheck: boolean;
  result: StepResult | null;
};

/** The step router appends this line when a check ran out of time. */
const TIMED_OUT = /\[The check ran longer than \d+ s and was stopped\.\]\s*$/;

export function LabProgress({ steps }: { steps: LabStep[] }) {
  const labelId = useId();
  const checked = steps.filter((step) => step.hasCheck);
  if (checked.length === 0) return null;
  const passed = checked.filter((step) => step.result?.firstPassedAt).length;
  const total = checked.length;
  const done = passed === total;
  return (
    <div className={`lab-progress${done ? " done" : ""}`}>
      <div className="lab-progress-text" id={labelId}>
        {passed} of {total} checks passed{done && <span className="lab-progress-done"> · all done</span>}
      </div>
      <div
        className="lab-progress-track"
        role="progressbar"
        aria-labelledby={labelId}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={passed}
        aria-valuetext={`${passed} of ${total} checks passed`}
      >
        <div className="lab-progress-fill" style={{ width: `${(passed / total) * 100}%` }} />
      </div>
    </div>
  );
}

type Verdict = { passed: boolean; timedOut: boolean; output: string; attempts: number; passedBefore: boolean; exitCode?: number | null };

function CheckResult({ verdict, pending }: { verdict: Verdict; pending: boolean }) {
  const label = verdict.passed ? "Passed" : verdict.timedOut ? "Timed out" : "Not yet";
  const explanation = verdict.passed
    ? "The check found what it was looking for."
    : verdict.timedOut
      ? "The check took too long and was stopped. Try again; if it keeps happening, ask your instructor."
      : verdict.passedBefore
        ? "You passed this step before, but the latest check did not pass. Here is what it said:"
        : verdict.output
          ? "Here is what the check said:"
          : "The check did not pass.";
  const output = verdict.output.trim();
  return (
    <div
      className={`check-result ${verdict.passed ? "passed" : verdict.timedOut ? "timed-out" : "failed"}`}
      data-testid="check-result"
      data-passed={String(verdict.passed)}
      aria-busy={pending}
    >
      <p className="check-verdict">
        <span className="check-icon" aria-hidden="true">
          {verdict.passed ? "✓" : verdict.timedOut ? "!" : "✗"}
        </span>
        <strong>{label}</strong>
        <span className="check-meta">{verdict.attempts === 1 ? "1 attempt" : `${verdict.attempts} attempts`}</span>
      </p>
      <p className="check-explanation">{explanation}</p>
      {output && <pre className="check-output">{output}</pre>}
    </div>
  );
}

function StepItem({ labId, step, canCheck, cannotCheckReason }: { labId: string; step: LabStep; canCheck: boolean; cannotCheckReason: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const check = useMutation(
    trpc.step.check.mutationOptions({
      onSuccess: (outcome) => {
        // The page's copy of the lab learns the result (and the progress bar with it).
        queryClient.setQueryData(
          trpc.lab.byId.queryKey({ labId }),
          (lab) =>
            lab && {
              ...lab,
              steps: lab.steps.map((candidate) =>
                candidate.id !== outcome.stepId
                  ? candidate
                  : {
                      ...candidate,
                      result: {
                        passed: outcome.passed,
                        attempts: outcome.attempts,
                        firstPassedAt: outcome.firstPassedAt,
                        output: outcome.output,
                        exitCode: outcome.exitCode,
                        lastCheckedAt: new Date().toISOString(),
                      },
                    },
              ),
            },
        );
      },
    }),
  );
  const stored = step.result;
  const latest = check.data?.stepId === step.id ? check.data : null;
  const verdict: Verdict | null = latest
    ? {
        passed: latest.passed,
        timedOut: latest.timedOut,
        output: latest.output,
        attempts: latest.attempts,
        passedBefore: Boolean(latest.firstPassedAt),
        exitCode: latest.exitCode,
      }
    : stored
      ? {
          passed: stored.passed,
          timedOut: !stored.passed && TIMED_OUT.test(stored.output ?? ""),
          output: stored.output ?? "",
          attempts: stored.attempts,
          passedBefore: Boolean(stored.firstPassedAt),
          exitCode: stored.exitCode,
        }
      : null;
  const completed = Boolean(stored?.firstPassedAt ?? latest?.firstPassedAt);
  const error = formErrorText(check.error);
  const hintId = useId();

  return (
    <li className={`lab-step${completed ? " completed" : ""}`} data-testid={`step-${step.position}`}>
      <div className="lab-step-marker" aria-hidden="true">
        {completed ? "✓" : step.position + 1}
      </div>
      <div className="lab-step-content">
        <div className="lab-step-head">
          <h3>{step.title}</h3>
          {completed && <span className="lab-step-done">Completed</span>}
        </div>
        <Markdown text={step.body} headingOffset={3} className="lab-step-body" />
        {step.hint && (
          <details className="lab-hint">
            <summary id={hintId}>Hint</summary>
            <Markdown text={step.hint} headingOffset={3} />
          </details>
        )}
        {step.hasCheck && (
          <div className="lab-check">
            <div className="lab-check-row">
              <button
                type="button"
                className="secondary check-button"
                onClick={() => check.mutate({ labId, stepId: step.id })}
                disabled={!canCheck || check.isPending}
                aria-describedby={!canCheck ? `${hintId}-why` : undefined}
              >
                {check.isPending ? (
                  <>
                    <span className="spinner dark" aria-hidden="true" /> Checking…
                  </>
                ) : (
                  "Check"
                )}
              </button>
              <span className="lab-check-note" id={`${hintId}-why`}>
                {check.isPending ? "Running the check in your environment…" : canCheck ? "Runs a quick test in your environment." : cannotCheckReason}
              </span>
            </div>
            {error && (
              <p className="error check-error" role="alert">
                {error}
              </p>
            )}
            {verdict && <CheckResult verdict={verdict} pending={check.isPending} />}
          </div>
        )}
      </div>
    </li>
  );
}

export function LabInstructions({
  labId,
  instructions,
  steps,
  canCheck = true,
  cannotCheckReason = "",
}: {
  labId: string;
  instructions: string;
  steps: LabStep[];
  /** False while the environment is not running: checks run inside it. */
  canCheck?: boolean;
  cannotCheckReason?: string;
}) {
  return (
    <div className="instructions">
      {instructions.trim() && <Markdown text={instructions} headingOffset={1} className="lab-intro" />}
      {steps.length > 0 && (
        <>
          <h2 className="lab-steps-heading">Steps</h2>
          <ol className="lab-steps">
            {steps.map((step) => (
              <StepItem key={step.id} labId={labId} step={step} canCheck={canCheck} cannotCheckReason={cannotCheckReason} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
