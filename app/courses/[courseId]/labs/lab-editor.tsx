"use client";
/**
 * The lab editor: title, template, Markdown instructions and an ordered list of steps, each
 * with an optional check script. Saving writes the whole lab; steps keep their ids (and so
 * students' results) across edits and moves.
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { strToU8, zipSync } from "fflate";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { fieldError, formErrorText } from "../../../components/errors";
import { Field } from "../../../components/field";
import { MarkdownField } from "../markdown-field";
import { downloadBlob } from "../authoring-utils";
import type { FullLab } from "../authoring-types";

type StepDraft = { key: string; stepId?: string; title: string; body: string; hint: string; checkScript: string; timeout: string };
export type LabDraftState = { title: string; templateId: string; instructions: string; steps: StepDraft[] };

let nextKey = 0;
const newKey = () => `new-${++nextKey}`;
export const emptyStep = (): StepDraft => ({ key: newKey(), title: "", body: "", hint: "", checkScript: "", timeout: "10" });

export function draftFromLab(lab: FullLab): LabDraftState {
  return {
    title: lab.title,
    templateId: lab.templateId,
    instructions: lab.instructions,
    steps: lab.steps.map((step) => ({
      key: step.id,
      stepId: step.id,
      title: step.title,
      body: step.body,
      hint: step.hint ?? "",
      checkScript: step.checkScript ?? "",
      timeout: String(step.checkTimeoutSeconds),
    })),
  };
}

/** What saving would write: equal fingerprints mean nothing to save. */
const fingerprint = (draft: LabDraftState) => JSON.stringify({ ...draft, steps: draft.steps.map(({ key: _key, ...step }) => step) });

type StepErrors = { title?: string; timeout?: string };

function validate(draft: LabDraftState) {
  const lab: Record<string, string> = {};
  if (!draft.title.trim()) lab.title = "Give the lab a title";
  if (!draft.templateId) lab.templateId = "Choose an environment template";
  const steps = draft.steps.map((step): StepErrors => {
    const errors: StepErrors = {};
    if (!step.title.trim()) errors.title = "Give the step a title";
    const timeout = Number(step.timeout);
    if (!Number.isInteger(timeout) || step.timeout.trim() === "") errors.timeout = "Enter a whole number of seconds";
    else if (timeout < Bounds.checkTimeoutSeconds.min) errors.timeout = "At least 1 second";
    else if (timeout > Bounds.checkTimeoutSeconds.max) errors.timeout = `At most 5 minutes (${Bounds.checkTimeoutSeconds.max} s)`;
    return errors;
  });
  const ok = Object.keys(lab).length === 0 && steps.every((errors) => Object.keys(errors).length === 0);
  return { ok, lab, steps };
}

export function LabEditor({
  courseId,
  labId,
  initial,
  initialPublished,
  notice: initialNotice,
}: {
  courseId: string;
  labId?: string;
  initial: LabDraftState;
  initialPublished: boolean;
  notice?: string | null;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const templates = useQuery(trpc.authoring.templates.queryOptions({ courseId }));
  const [draft, setDraft] = useState(initial);
  const [baseline, setBaseline] = useState(() => fingerprint(initial));
  const [published, setPublished] = useState(initialPublished);
  // Once a save was attempted, problems show (and clear) as the author types.
  const [attempted, setAttempted] = useState(false);
  const errors = attempted ? validate(draft) : null;
  const [notice, setNotice] = useState<string | null>(initialNotice ?? null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const dirty = fingerprint(draft) !== baseline;

  // A new lab starts on the course's first template.
  const firstTemplateId = templates.data?.find((template) => template.courseId !== null)?.id ?? templates.data?.[0]?.id;
  useEffect(() => {
    if (!draft.templateId && firstTemplateId) {
      setDraft((current) => ({ ...current, templateId: firstTemplateId }));
      setBaseline((current) => (labId ? current : fingerprint({ ...initial, templateId: firstTemplateId })));
    }
  }, [draft.templateId, firstTemplateId, initial, labId]);

  // Leaving with unsaved edits asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const invalidateCourse = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.course.byId.queryKey({ courseId }) }),
      queryClient.invalidateQueries({ queryKey: trpc.course.mine.queryKey() }),
    ]);

  const save = useMutation(
    trpc.authoring.saveLab.mutationOptions({
      onSuccess: async ({ labId: savedId }, input) => {
        await invalidateCourse();
        const publishedNow = input.published;
        if (!labId) {
          router.replace(`/courses/${courseId}/labs/${savedId}/edit?created=${publishedNow ? "published" : "draft"}`);
          return;
        }
        // Reload so new steps get their ids (a second save must not recreate them).
        const fresh = await queryClient.fetchQuery({ ...trpc.authoring.lab.queryOptions({ courseId, labId: savedId }), staleTime: 0 });
        const next = draftFromLab(fresh);
        setAttempted(false);
        setDraft(next);
        setBaseline(fingerprint(next));
        setPublished(fresh.published);
        setNotice(
          publishedNow !== published
            ? publishedNow
              ? "Saved and published: students can open it now."
              : "Saved and unpublished: students no longer see it."
            : "Saved.",
        );
      },
    }),
  );
  const publish = useMutation(
    trpc.authoring.setPublished.mutationOptions({
      onSuccess: async (_result, input) => {
        setPublished(input.published);
        await invalidateCourse();
        await queryClient.invalidateQueries({ queryKey: trpc.authoring.lab.queryKey({ courseId, labId: input.labId }) });
        setNotice(input.published ? "Published: students in the course can open this lab now." : "Unpublished: students no longer see this lab.");
      },
    }),
  );

  const change = (patch: Partial<LabDraftState>) => {
    setDraft((current) => ({ ...current, ...patch }));
    setNotice(null);
    if (save.isError) save.reset();
  };
  const changeStep = (index: number, patch: Partial<StepDraft>) =>
    change({ steps: draft.steps.map((step, i) => (i === index ? { ...step, ...patch } : step)) });
  const moveStep = (index: number, by: -1 | 1) => {
    const steps = [...draft.steps];
    const [moved] = steps.splice(index, 1);
    steps.splice(index + by, 0, moved!);
    change({ steps });
    requestAnimationFrame(() => document.getElementById(`move-${by < 0 ? "up" : "down"}-${moved!.key}`)?.focus());
  };
  const removeStep = (index: number) => {
    const step = draft.steps[index]!;
    if (
      step.stepId &&
      !window.confirm(`Remove step ${index + 1}${step.title ? ` “${step.title}”` : ""}? When you save, students’ results for it are deleted too.`)
    )
      return;
    change({ steps: draft.steps.filter((_, i) => i !== index) });
  };
  const addStep = () => {
    const step = emptyStep();
    change({ steps: [...draft.steps, step] });
    requestAnimationFrame(() => document.getElementById(`step-title-${step.key}`)?.focus());
  };

  const write = (nextPublished: boolean) => {
    const checked = validate(draft);
    setAttempted(true);
    if (!checked.ok) {
      save.reset();
      requestAnimationFrame(() => document.querySelector<HTMLElement>(".lab-editor [aria-invalid='true']")?.focus());
      return;
    }
    setNotice(null);
    save.mutate({
      courseId,
      labId,
      templateId: draft.templateId,
      title: draft.title,
      instructions: draft.instructions,
      published: nextPublished,
      steps: draft.steps.map((step) => ({
        stepId: step.stepId,
        title: step.title,
        body: step.body,
        hint: step.hint.trim() ? step.hint : null,
        checkScript: step.checkScript.trim() ? step.checkScript : null,
        checkTimeoutSeconds: Number(step.timeout),
      })),
    });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    write(published);
  };
  const togglePublished = () => {
    if (!labId || dirty) write(!published);
    else publish.mutate({ courseId, labId, published: !published });
  };

  const exportFolder = async () => {
    if (!labId) return;
    setExporting(true);
    setExportError(null);
    try {
      const { folderName, files } = await queryClient.fetchQuery({ ...trpc.authoring.exportLab.queryOptions({ courseId, labId }), staleTime: 0 });
      const zipped = zipSync(Object.fromEntries(Object.entries(files).map(([path, content]) => [`${folderName}/${path}`, strToU8(content)])), { level: 6 });
      downloadBlob(`${folderName}.zip`, new Blob([new Uint8Array(zipped)], { type: "application/zip" }));
    } catch (error) {
      setExportError(formErrorText(error as Parameters<typeof formErrorText>[0]) ?? "The lab could not be exported.");
    } finally {
      setExporting(false);
    }
  };

  const serverError = save.error;
  const labError = (field: "title" | "templateId" | "instructions") => errors?.lab[field] ?? fieldError(serverError, field);
  const general = formErrorText(serverError, ["title", "templateId", "instructions"]) ?? formErrorText(publish.error);
  const busy = save.isPending || publish.isPending;
  const templateOptions = useMemo(() => templates.data ?? [], [templates.data]);
  const checks = draft.steps.filter((step) => step.checkScript.trim()).length;

  return (
    <form className="lab-editor" onSubmit={submit} noValidate aria-busy={busy} data-testid="lab-editor">
      <div className="page-title title-with-actions">
        <div>
          <div className="title-row">
            <h1>{labId ? "Edit lab" : "New lab"}</h1>
            {labId && (
              <span className={`status-pill ${published ? "open" : "disabled"}`} data-testid="publish-state" data-published={published}>
                {published ? "Published" : "Draft"}
              </span>
            )}
          </div>
          <p className="muted small">
            {draft.steps.length} step{draft.steps.length === 1 ? "" : "s"}, {checks} with an automatic check
            {labId && (
              <>
                {" "}
                · <Link href={`/labs/${labId}`}>Open as a student sees it</Link>
              </>
            )}
          </p>
        </div>
        {labId && (
          <div className="header-actions">
            <Link href={`/courses/${courseId}/labs/${labId}/progress`} className="button secondary">
              Progress
            </Link>
            <button
              type="button"
              className="secondary"
              onClick={exportFolder}
              disabled={exporting}
              title="Downloads the saved lab as a folder (lab.yaml, instructions.md, steps/, checks/) in a .zip"
            >
              {exporting ? "Exporting…" : "Export folder"}
            </button>
          </div>
        )}
      </div>
      {exportError && (
        <p className="notice warn" role="alert">
          {exportError}
        </p>
      )}

      <section className="card" aria-labelledby="lab-basics-heading">
        <h2 id="lab-basics-heading" className="sr-only">
          The lab
        </h2>
        <div className="form">
          <div className="form-row wide-first">
            <Field label="Lab title" error={labError("title")}>
              <input
                name="title"
                value={draft.title}
                onChange={(e) => change({ title: e.target.value })}
                maxLength={Bounds.labTitle.max}
                placeholder="e.g. Finding files with find and grep"
                aria-invalid={Boolean(labError("title"))}
              />
            </Field>
            <Field label="Environment template" error={labError("templateId")} hint={<Link href={`/courses/${courseId}/templates`}>Manage templates</Link>}>
              <select
                name="templateId"
                value={draft.templateId}
                onChange={(e) => change({ templateId: e.target.value })}
                aria-invalid={Boolean(labError("templateId"))}
                disabled={templates.isLoading}
              >
                {!draft.templateId && <option value="">{templates.isLoading ? "Loading…" : "Choose a template"}</option>}
                {templateOptions.map((template) => (
                  <option key={template.id} value={template.id}>
                    {template.name} ({template.image})
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {templates.data?.length === 0 && (
            <p className="notice warn" role="status">
              This course has no environment template yet. <Link href={`/courses/${courseId}/templates`}>Create one</Link> first: every lab runs in one.
            </p>
          )}
          <MarkdownField
            label="Instructions"
            headingOffset={1}
            value={draft.instructions}
            onChange={(instructions) => change({ instructions })}
            rows={8}
            error={labError("instructions")}
            hint="Markdown. Shown above the steps, beside the student’s terminal."
            placeholder={"# What you will do\n\nIn this lab you will…"}
          />
        </div>
      </section>

      <section className="steps-editor" aria-labelledby="steps-heading">
        <div className="section-head steps-head">
          <h2 id="steps-heading">Steps</h2>
          <span className="muted small">Students work through these in order; each can have a check they run with one click.</span>
        </div>
        {draft.steps.length === 0 && <p className="card empty-steps muted">No steps yet. Add the first one below.</p>}
        <ol className="step-list">
          {draft.steps.map((step, index) => (
            <li key={step.key}>
              <StepEditor
                step={step}
                index={index}
                count={draft.steps.length}
                errors={errors?.steps[index]}
                onChange={(patch) => changeStep(index, patch)}
                onMove={(by) => moveStep(index, by)}
                onRemove={() => removeStep(index)}
              />
            </li>
          ))}
        </ol>
        <button type="button" className="secondary add-step" onClick={addStep}>
          + Add step
        </button>
      </section>

      <div className="save-bar" role="region" aria-label="Save">
        <div className="save-state" aria-live="polite">
          {general ? (
            <span className="error" role="alert">
              {general}
            </span>
          ) : errors && !errors.ok ? (
            <span className="error" role="alert">
              Fix the fields marked in red, then save again.
            </span>
          ) : notice ? (
            <span className="saved" role="status">
              {notice}
            </span>
          ) : dirty ? (
            <span className="unsaved">Unsaved changes</span>
          ) : labId ? (
            <span className="muted small">All changes saved</span>
          ) : null}
        </div>
        <div className="save-actions">
          <button
            type="button"
            className="secondary"
            onClick={togglePublished}
            disabled={busy}
            title={published ? "Students stop seeing this lab" : "Students in the course can open this lab"}
          >
            {!labId || dirty ? (published ? "Save and unpublish" : "Save and publish") : published ? "Unpublish" : "Publish"}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {save.isPending ? "Saving…" : labId ? "Save lab" : "Create lab"}
          </button>
        </div>
      </div>
    </form>
  );
}

function StepEditor({
  step,
  index,
  count,
  errors,
  onChange,
  onMove,
  onRemove,
}: {
  step: StepDraft;
  index: number;
  count: number;
  errors?: StepErrors;
  onChange: (patch: Partial<StepDraft>) => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}) {
  const number = index + 1;
  const legendId = `step-legend-${step.key}`;
  return (
    <fieldset className="card step-card" aria-labelledby={legendId} data-testid={`step-editor-${index}`}>
      <div className="step-card-head">
        <span className="step-number" aria-hidden="true">
          {number}
        </span>
        <h3 id={legendId} className="step-legend">
          Step {number}
        </h3>
        <span className="step-heading-title">{step.title || <span className="muted">Untitled</span>}</span>
        <span className="step-tools">
          <button
            type="button"
            id={`move-up-${step.key}`}
            className="icon-button"
            onClick={() => onMove(-1)}
            disabled={index === 0}
            aria-label={`Move step ${number} up`}
            title="Move up"
          >
            ↑
          </button>
          <button
            type="button"
            id={`move-down-${step.key}`}
            className="icon-button"
            onClick={() => onMove(1)}
            disabled={index === count - 1}
            aria-label={`Move step ${number} down`}
            title="Move down"
          >
            ↓
          </button>
          <button type="button" className="icon-button danger-icon" onClick={onRemove} aria-label={`Remove step ${number}`} title="Remove step">
            ✕
          </button>
        </span>
      </div>
      <div className="form">
        <Field label="Step title" error={errors?.title}>
          <input
            id={`step-title-${step.key}`}
            value={step.title}
            onChange={(e) => onChange({ title: e.target.value })}
            maxLength={Bounds.stepTitle.max}
            placeholder="e.g. Make a file"
            aria-invalid={Boolean(errors?.title)}
          />
        </Field>
        <MarkdownField
          label="Step text"
          headingOffset={3}
          value={step.body}
          onChange={(body) => onChange({ body })}
          rows={5}
          placeholder={"Create `one.txt` in your workspace:\n\n```\ntouch ~/workspace/one.txt\n```"}
        />
        <Field
          label={
            <>
              Hint <span className="optional">(optional)</span>
            </>
          }
          hint="Shown folded; students open it when stuck."
        >
          <input value={step.hint} onChange={(e) => onChange({ hint: e.target.value })} maxLength={Bounds.stepHint.max} />
        </Field>
        <div className="check-row">
          <Field
            label={
              <>
                Check script <span className="optional">(optional)</span>
              </>
            }
            hint="Runs in the student’s container, as the student, when they press Check. Exit 0 passes; what it prints is shown to them."
          >
            <textarea
              value={step.checkScript}
              onChange={(e) => onChange({ checkScript: e.target.value })}
              rows={4}
              className="code-input"
              spellCheck={false}
              placeholder={'test -f ~/workspace/one.txt || { echo "one.txt is missing"; exit 1; }'}
            />
          </Field>
          <Field label="Timeout (seconds)" error={errors?.timeout}>
            <input
              type="number"
              min={Bounds.checkTimeoutSeconds.min}
              max={Bounds.checkTimeoutSeconds.max}
              step={1}
              inputMode="numeric"
              value={step.timeout}
              onChange={(e) => onChange({ timeout: e.target.value })}
              aria-invalid={Boolean(errors?.timeout)}
            />
          </Field>
        </div>
      </div>
    </fieldset>
  );
}
