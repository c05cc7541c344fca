"use client";
/** Course staff: every student × every step of one lab, refreshed live. */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../../../trpc";
import { formErrorText } from "../../../../../components/errors";
import { QueryFallback } from "../../../../../components/query-fallback";
import { Crumbs, StaffGate } from "../../../staff-gate";
import { downloadBlob, formatWhen } from "../../../authoring-utils";
import type { Progress } from "../../../authoring-types";

const REFRESH_MS = 3000;

export default function ProgressPage() {
  const { courseId, labId } = useParams<{ courseId: string; labId: string }>();
  return (
    <StaffGate courseId={courseId} what="this lab’s progress" wide>
      {(course) => <LabProgress course={course} labId={labId} />}
    </StaffGate>
  );
}

type Cell = Progress["rows"][number]["steps"][number];

function LabProgress({ course, labId }: { course: { id: string; title: string }; labId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const progress = useQuery(trpc.lab.progress.queryOptions({ labId }, { refetchInterval: REFRESH_MS, refetchIntervalInBackground: false }));
  // lab.progress does not say which steps have a check; the authoring view does.
  const lab = useQuery(trpc.authoring.lab.queryOptions({ courseId: course.id, labId }, { refetchInterval: 30_000 }));
  const [csvState, setCsvState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });

  const downloadCsv = async () => {
    setCsvState({ busy: true, error: null });
    try {
      const { filename, csv } = await queryClient.fetchQuery({ ...trpc.lab.progressCsv.queryOptions({ labId }), staleTime: 0 });
      downloadBlob(filename, new Blob([csv], { type: "text/csv;charset=utf-8" }));
      setCsvState({ busy: false, error: null });
    } catch (error) {
      setCsvState({ busy: false, error: formErrorText(error as Parameters<typeof formErrorText>[0]) ?? "The CSV could not be made." });
    }
  };

  const crumbs = <Crumbs course={course} trail={[{ href: `/courses/${course.id}/labs/${labId}/edit`, label: "Edit lab" }]} />;
  if (!progress.data)
    return (
      <>
        {crumbs}
        <QueryFallback query={progress} loading="Loading progress…" />
      </>
    );
  const { title, steps, rows } = progress.data;
  const uncheckedIds = new Set(lab.data?.steps.filter((step) => !step.checkScript).map((step) => step.id) ?? []);
  const checked = steps.map((step) => !uncheckedIds.has(step.id));
  const checkedCount = checked.filter(Boolean).length;
  const passedOf = (row: Progress["rows"][number]) => row.steps.filter((cell, index) => checked[index] && cell?.passed).length;
  const finished = rows.filter((row) => checkedCount > 0 && passedOf(row) === checkedCount).length;
  const started = rows.filter((row) => row.steps.some((cell) => cell !== null)).length;

  return (
    <>
      {crumbs}
      <div className="page-title title-with-actions">
        <div>
          <p className="eyebrow">Progress</p>
          <h1>{title}</h1>
          <p className="muted small live-note">
            <span className={`dot ${progress.error ? "warn" : "live"}`} aria-hidden="true" />
            {progress.error ? "Reconnecting… showing the last figures." : `Live: refreshes every ${REFRESH_MS / 1000} seconds`}
            {progress.dataUpdatedAt > 0 && <span className="sr-only"> (updated {new Date(progress.dataUpdatedAt).toLocaleTimeString()})</span>}
          </p>
        </div>
        <div className="header-actions">
          <Link href={`/courses/${course.id}/labs/${labId}/edit`} className="button secondary">
            Edit lab
          </Link>
          <a className="button secondary" href={`/api/labs/${labId}/workspaces.tar`} download title="Every student's files as one .tar, a folder per student">
            Download workspaces
          </a>
          <button type="button" className="primary" onClick={downloadCsv} disabled={csvState.busy}>
            {csvState.busy ? "Preparing…" : "Download CSV"}
          </button>
        </div>
      </div>
      {csvState.error && (
        <p className="notice warn" role="alert">
          {csvState.error}
        </p>
      )}

      <ul className="progress-stats" aria-label="Summary">
        <li>
          <strong>{rows.length}</strong> student{rows.length === 1 ? "" : "s"}
        </li>
        <li>
          <strong>{started}</strong> started
        </li>
        <li>
          <strong>{finished}</strong> passed every checked step
        </li>
      </ul>

      <section className="card flush" aria-label="Progress by student">
        <div className="table-wrap">
          <table className="table progress-table" data-testid="progress-table">
            <thead>
              <tr>
                <th scope="col">Student</th>
                {steps.map((step, index) => (
                  <th key={step.id} scope="col" className={`step-col${checked[index] ? "" : " no-check"}`} title={step.title}>
                    <span className="step-col-number">{index + 1}</span>
                    <span className="step-col-title">{step.title}</span>
                    {!checked[index] && <span className="step-col-note">no check</span>}
                  </th>
                ))}
                <th scope="col" className="done-col" title="Steps with a check that the student passed">
                  Passed
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={steps.length + 2} className="empty">
                    No students in the course yet.
                  </td>
                </tr>
              )}
              {rows.map((row) => {
                const passed = passedOf(row);
                return (
                  <tr key={row.userId} data-testid="progress-row" data-user={row.displayName}>
                    <th scope="row" className="student-cell">
                      <span className="student-name">{row.displayName}</span>
                      {row.email && <span className="student-email">{row.email}</span>}
                    </th>
                    {row.steps.map((cell, index) =>
                      checked[index] ? (
                        <ResultCell key={steps[index]?.id ?? index} cell={cell} step={steps[index]?.title ?? ""} />
                      ) : (
                        <td key={steps[index]?.id ?? index} className="result-cell no-check" data-state="no-check">
                          <span className="sr-only">{steps[index]?.title}: no check</span>
                        </td>
                      ),
                    )}
                    <td className="done-col">
                      <span className={passed === checkedCount && checkedCount > 0 ? "done-all" : ""}>
                        {passed}/{checkedCount}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <p className="legend muted small">
        <span className="result passed">✓</span> passed (hover for when) · <span className="result failed">✗</span> tried, not passed yet · blank: not tried.
        The small number counts checks run; steps without a check are shaded.
      </p>
    </>
  );
}

function ResultCell({ cell, step }: { cell: Cell; step: string }) {
  if (!cell)
    return (
      <td className="result-cell" data-state="none">
        <span className="sr-only">{step}: not tried</span>
      </td>
    );
  const attempts = `${cell.attempts} check${cell.attempts === 1 ? "" : "s"}`;
  const firstPassed = cell.firstPassedAt ? `first passed ${formatWhen(cell.firstPassedAt)}` : null;
  const label = cell.passed
    ? `${step}: passed, ${firstPassed ?? ""}${firstPassed ? ", " : ""}${attempts}`
    : `${step}: not passed${firstPassed ? ` at the last check (${firstPassed})` : " yet"}, ${attempts}`;
  const state = cell.passed ? "passed" : "failed";
  return (
    <td className="result-cell" data-state={state} title={label}>
      <span className={`result ${state}`} aria-hidden="true">
        {cell.passed ? "✓" : "✗"}
      </span>
      <span className="attempts" aria-hidden="true">
        {cell.attempts}
      </span>
      <span className="sr-only">{label}</span>
    </td>
  );
}
