"use client";
/** Creating or editing one environment template: checked in the browser with the schema the server enforces. */
import Link from "next/link";
import type { AriaAttributes } from "react";
import { useForm, useWatch, type UseFormRegister } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds, type Bound } from "../../../../common/input-bounds";
import { TemplateForm as TemplateSchema } from "../../../../common/forms/templates";
import { formErrorText } from "../../../components/errors";
import { Field } from "../../../components/field";
import { showServerFieldErrors } from "../../../components/server-field-errors";
import { DEFAULT_IMAGE } from "../authoring-utils";
import type { TemplateDraft, TemplateValues } from "./template-values";

/** The server's names for the fields this form shows (its "cpus" is the server's "cpuMillis"). */
const SERVER_FIELDS = [
  "name",
  "image",
  "cpuMillis",
  "memoryMb",
  "memoryReservationMb",
  "pidsLimit",
  "diskMb",
  "network",
  "idleTimeoutMinutes",
  "maxLifetimeMinutes",
  "workingDir",
  "setupScript",
  "warmPoolSize",
];

type NumberName = "cpus" | "memoryMb" | "memoryReservationMb" | "pidsLimit" | "diskMb" | "idleTimeoutMinutes" | "maxLifetimeMinutes" | "warmPoolSize";

type NumberInputProps = { name: NumberName; register: UseFormRegister<TemplateValues>; bound: Bound; step?: number } & AriaAttributes;

/** A number field: typed text becomes a number (NaN when empty), which the schema checks; `Field`'s aria props reach the input. */
function NumberInput({ name, register, bound, step, ...aria }: NumberInputProps) {
  return <input type="number" inputMode="decimal" min={bound.min} max={bound.max} step={step} {...aria} {...register(name, { valueAsNumber: true })} />;
}

export function TemplateForm({
  courseId,
  initial,
  onSaved,
  onCancel,
}: {
  courseId: string;
  initial: TemplateDraft;
  onSaved: (name: string, created: boolean) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const images = useQuery(trpc.authoring.images.queryOptions({ courseId }));
  const {
    register,
    handleSubmit,
    setError,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(TemplateSchema), defaultValues: initial.values });
  const save = useMutation(
    trpc.authoring.saveTemplate.mutationOptions({
      onSuccess: async (template) => {
        await queryClient.invalidateQueries({ queryKey: trpc.authoring.templates.queryKey({ courseId }) });
        onSaved(template.name, !initial.templateId);
      },
      onError: (error) => showServerFieldErrors(setError, error, SERVER_FIELDS, { cpuMillis: "cpus" }),
    }),
  );
  const general = formErrorText(save.error, SERVER_FIELDS);

  const chosenImage = useWatch({ control, name: "image" });
  const readyTags = (images.data ?? []).filter((image) => image.status === "READY");
  const imageOptions = [
    { value: DEFAULT_IMAGE, label: `${DEFAULT_IMAGE} (Shellroom default)` },
    ...readyTags.map((image) => ({ value: image.tag, label: `${image.name} — ${image.tag}` })),
  ];
  if (!imageOptions.some((option) => option.value === chosenImage)) imageOptions.push({ value: chosenImage, label: chosenImage });

  return (
    <form
      className="form"
      onSubmit={handleSubmit((values) => save.mutate({ courseId, templateId: initial.templateId, ...values }))}
      noValidate
      aria-busy={save.isPending}
      data-testid="template-form"
    >
      <div className="form-row">
        <Field label="Name" error={errors.name?.message}>
          <input {...register("name")} maxLength={Bounds.templateName.max} placeholder="e.g. Python 3 + git" />
        </Field>
        <Field
          label="Image"
          error={errors.image?.message}
          hint={
            <>
              Images you build appear here once ready. <Link href={`/courses/${courseId}/images`}>Manage images</Link>
            </>
          }
        >
          <select {...register("image")}>
            {imageOptions.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </Field>
      </div>

      <fieldset className="form-group">
        <legend>Limits per student</legend>
        <div className="form-grid">
          <Field label="CPUs" error={errors.cpus?.message} hint="0.1 to 8">
            <NumberInput name="cpus" register={register} bound={{ min: Bounds.cpuMillis.min / 1000, max: Bounds.cpuMillis.max / 1000 }} step={0.1} />
          </Field>
          <Field label="Memory (MiB)" error={errors.memoryMb?.message} hint="No swap beyond this">
            <NumberInput name="memoryMb" register={register} bound={Bounds.memoryMb} step={64} />
          </Field>
          <Field label="Memory reserved (MiB)" error={errors.memoryReservationMb?.message} hint="What placement counts per student; at most the limit">
            <NumberInput name="memoryReservationMb" register={register} bound={Bounds.memoryReservationMb} step={16} />
          </Field>
          <Field label="Process limit" error={errors.pidsLimit?.message} hint="Stops fork bombs">
            <NumberInput name="pidsLimit" register={register} bound={Bounds.pidsLimit} />
          </Field>
          <Field label="Disk (MiB)" error={errors.diskMb?.message} hint="Size limit of the workspace">
            <NumberInput name="diskMb" register={register} bound={Bounds.diskMb} step={64} />
          </Field>
        </div>
        <div className="form-row">
          <Field
            label="Warm pool (containers per worker)"
            error={errors.warmPoolSize?.message}
            hint="Started ahead of time so a class gets prompts at once; 0 turns it off."
          >
            <NumberInput name="warmPoolSize" register={register} bound={Bounds.warmPoolSize} />
          </Field>
          <Field label="Network" error={errors.network?.message} hint="Student containers have no network access.">
            <select {...register("network")}>
              <option value="NONE">None</option>
              <option value="EGRESS" disabled>
                Egress (not available on this deployment)
              </option>
            </select>
          </Field>
        </div>
      </fieldset>

      <fieldset className="form-group">
        <legend>Lifetime</legend>
        <div className="form-row">
          <Field label="Idle timeout (minutes)" error={errors.idleTimeoutMinutes?.message} hint="Stopped after this long without activity; files are kept.">
            <NumberInput name="idleTimeoutMinutes" register={register} bound={Bounds.idleTimeoutMinutes} />
          </Field>
          <Field label="Max lifetime (minutes)" error={errors.maxLifetimeMinutes?.message} hint="Stopped this long after it started, active or not.">
            <NumberInput name="maxLifetimeMinutes" register={register} bound={Bounds.maxLifetimeMinutes} />
          </Field>
        </div>
      </fieldset>

      <Field label="Working directory" error={errors.workingDir?.message} hint="The student’s workspace: kept between sessions.">
        <input {...register("workingDir")} className="mono" spellCheck={false} />
      </Field>
      <Field
        label={
          <>
            Setup script <span className="optional">(optional)</span>
          </>
        }
        error={errors.setupScript?.message}
        hint="Runs once as the student in each new container, before the shell opens; if it fails, the start fails."
      >
        <textarea
          {...register("setupScript")}
          rows={5}
          className="code-input"
          spellCheck={false}
          placeholder={"#!/bin/sh\ncp -r /opt/course-files/. ~/workspace/"}
        />
      </Field>

      {general && (
        <p className="error" role="alert">
          {general}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : initial.templateId ? "Save template" : "Create template"}
        </button>
        <button type="button" className="link-button subtle" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
