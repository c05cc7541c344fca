"use client";
/**
 * The lab editor: title, template, Markdown instructions and an ordered list of steps, each
 * with an optional check script. Saving writes the whole lab; steps keep their ids (and so
 * students' results) across edits and moves. Checked in the browser with the schema the
 * server enforces (common/forms/labs).
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Controller, FormProvider, useFieldArray, useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { formErrorText } from "../../../components/errors";
import { Field } from "../../../components/field";
import { showServerFieldErrors } from "../../../components/server-field-errors";
import { MarkdownField } from "../markdown-field";
import { LabEditorSchema, draftFromLab, emptyStep, type LabDraft } from "./lab-draft";
import { useLabExport } from "./lab-export";
import { SaveBar } from "./save-bar";
import { StepEditor } from "./step-editor";

const FIELDS = ["title", "templateId", "instructions", "steps"] as const;

export function LabEditor({
  courseId,
  labId,
  initial,
  initialPublished,
  notice: initialNotice,
}: {
  courseId: string;
  labId?: string;
  initial: LabDraft;
  initialPublished: boolean;
  notice?: string | null;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const templates = useQuery(trpc.authoring.templates.queryOptions({ courseId }));
  const form = useForm({ resolver: zodResolver(LabEditorSchema), defaultValues: initial });
  const { register, control, handleSubmit, setError, reset, resetField, getValues, subscribe } = form;
  const { errors, isDirty: dirty, isSubmitted } = form.formState;
  const steps = useFieldArray({ control, name: "steps" });
  const [published, setPublished] = useState(initialPublished);
  const [notice, setNotice] = useState<string | null>(initialNotice ?? null);
  const { exportFolder, exporting, exportError } = useLabExport(courseId, labId);

  // A new lab starts on the course's first template (as its starting value: choosing it is no edit).
  const templateId = useWatch({ control, name: "templateId" });
  const firstTemplateId = templates.data?.find((template) => template.courseId !== null)?.id ?? templates.data?.[0]?.id;
  useEffect(() => {
    if (!templateId && firstTemplateId) resetField("templateId", { defaultValue: firstTemplateId });
  }, [templateId, firstTemplateId, resetField]);

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
        reset(draftFromLab(fresh));
        setPublished(fresh.published);
        setNotice(
          publishedNow !== published
            ? publishedNow
              ? "Saved and published: students can open it now."
              : "Saved and unpublished: students no longer see it."
            : "Saved.",
        );
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
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

  // Any edit clears the last notice and the last save's error (a reset after saving names no field).
  const { isError: saveFailed, reset: forgetSave } = save;
  useEffect(() => {
    return subscribe({
      formState: { values: true },
      callback: ({ name }) => {
        if (!name) return;
        setNotice(null);
        if (saveFailed) forgetSave();
      },
    });
  }, [subscribe, saveFailed, forgetSave]);

  /** Saves the lab as it is in the form, published or not; refused fields are focused by the form. */
  const write = (nextPublished: boolean) =>
    handleSubmit(
      (values) => {
        setNotice(null);
        save.mutate({ courseId, labId, published: nextPublished, ...values });
      },
      () => save.reset(),
    );
  const togglePublished = () => {
    if (!labId || dirty) void write(!published)();
    else publish.mutate({ courseId, labId, published: !published });
  };

  const moveStep = (index: number, by: -1 | 1) => {
    const key = steps.fields[index]!.id;
    steps.move(index, index + by);
    requestAnimationFrame(() => document.getElementById(`move-${by < 0 ? "up" : "down"}-${key}`)?.focus());
  };
  const removeStep = (index: number) => {
    const step = getValues(`steps.${index}`);
    if (
      step.stepId &&
      !window.confirm(`Remove step ${index + 1}${step.title ? ` “${step.title}”` : ""}? When you save, students’ results for it are deleted too.`)
    )
      return;
    steps.remove(index);
  };

  const stepsError = errors.steps?.root?.message ?? errors.steps?.message;
  const general = formErrorText(save.error, FIELDS) ?? stepsError ?? formErrorText(publish.error);
  const busy = save.isPending || publish.isPending;
  const checks = (useWatch({ control, name: "steps" }) ?? []).filter((step) => step.checkScript?.trim()).length;

  return (
    <FormProvider {...form}>
      <form className="lab-editor" onSubmit={write(published)} noValidate aria-busy={busy} data-testid="lab-editor">
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
              {steps.fields.length} step{steps.fields.length === 1 ? "" : "s"}, {checks} with an automatic check
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
              <Field label="Lab title" error={errors.title?.message}>
                <input {...register("title")} maxLength={Bounds.labTitle.max} placeholder="e.g. Finding files with find and grep" />
              </Field>
              <Field
                label="Environment template"
                error={errors.templateId?.message}
                hint={<Link href={`/courses/${courseId}/templates`}>Manage templates</Link>}
              >
                <select {...register("templateId")} disabled={templates.isLoading}>
                  {!templateId && <option value="">{templates.isLoading ? "Loading…" : "Choose a template"}</option>}
                  {(templates.data ?? []).map((template) => (
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
            <Controller
              control={control}
              name="instructions"
              render={({ field }) => (
                <MarkdownField
                  label="Instructions"
                  headingOffset={1}
                  value={field.value}
                  onChange={field.onChange}
                  rows={8}
                  error={errors.instructions?.message}
                  hint="Markdown. Shown above the steps, beside the student’s terminal."
                  placeholder={"# What you will do\n\nIn this lab you will…"}
                />
              )}
            />
          </div>
        </section>

        <section className="steps-editor" aria-labelledby="steps-heading">
          <div className="section-head steps-head">
            <h2 id="steps-heading">Steps</h2>
            <span className="muted small">Students work through these in order; each can have a check they run with one click.</span>
          </div>
          {steps.fields.length === 0 && <p className="card empty-steps muted">No steps yet. Add the first one below.</p>}
          <ol className="step-list">
            {steps.fields.map((field, index) => (
              <li key={field.id}>
                <StepEditor
                  index={index}
                  count={steps.fields.length}
                  stepKey={field.id}
                  onMove={(by) => moveStep(index, by)}
                  onRemove={() => removeStep(index)}
                />
              </li>
            ))}
          </ol>
          <button type="button" className="secondary add-step" onClick={() => steps.append(emptyStep())}>
            + Add step
          </button>
        </section>

        <SaveBar
          isNew={!labId}
          published={published}
          dirty={dirty}
          busy={busy}
          saving={save.isPending}
          error={general}
          invalid={isSubmitted && Object.keys(errors).length > 0}
          notice={notice}
          onTogglePublished={togglePublished}
        />
      </form>
    </FormProvider>
  );
}
