"use client";
/** Course staff: the environment templates labs run in (image, limits, timeouts, setup). */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { fieldError, formErrorText } from "../../../components/errors";
import { Field } from "../../../components/field";
import { Crumbs, StaffGate } from "../staff-gate";
import { DEFAULT_IMAGE } from "../authoring-utils";
import type { Template } from "../authoring-types";

export default function TemplatesPage() {
  const { courseId } = useParams<{ courseId: string }>();
  return (
    <StaffGate courseId={courseId} what="the environment templates" wide>
      {(course) => <Templates course={course} />}
    </StaffGate>
  );
}

type Draft = {
  templateId?: string;
  name: string;
  image: string;
  cpus: string;
  memoryMb: string;
  memoryReservationMb: string;
  pidsLimit: string;
  diskMb: string;
  idleTimeoutMinutes: string;
  maxLifetimeMinutes: string;
  workingDir: string;
  setupScript: string;
  warmPoolSize: string;
};

const NEW_TEMPLATE: Draft = {
  name: "",
  image: DEFAULT_IMAGE,
  cpus: "1",
  memoryMb: "512",
  memoryReservationMb: "64",
  pidsLimit: "256",
  diskMb: "1024",
  idleTimeoutMinutes: "30",
  maxLifetimeMinutes: "240",
  workingDir: "/home/student/workspace",
  setupScript: "",
  warmPoolSize: "0",
};

const draftOf = (template: Template): Draft => ({
  templateId: template.id,
  name: template.name,
  image: template.image,
  cpus: String(template.cpuMillis / 1000),
  memoryMb: String(template.memoryMb),
  memoryReservationMb: String(template.memoryReservationMb),
  pidsLimit: String(template.pidsLimit),
  diskMb: String(template.diskMb),
  idleTimeoutMinutes: String(template.idleTimeoutMinutes),
  maxLifetimeMinutes: String(template.maxLifetimeMinutes),
  workingDir: template.workingDir,
  setupScript: template.setupScript ?? "",
  warmPoolSize: String(template.warmPoolSize ?? 0),
});

const cpuText = (millis: number) => `${Number((millis / 1000).toFixed(2))} CPU${millis === 1000 ? "" : "s"}`;
const minutesText = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);

function Templates({ course }: { course: { id: string; title: string } }) {
  const trpc = useTRPC();
  const courseId = course.id;
  const templates = useQuery(trpc.authoring.templates.queryOptions({ courseId }));
  const [editing, setEditing] = useState<Draft | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [saved, setSaved] = useState<string | null>(null);
  const formRef = useRef<HTMLElement>(null);

  const open = (draft: Draft) => {
    setEditing(draft);
    setFormKey((key) => key + 1);
    setSaved(null);
    requestAnimationFrame(() => formRef.current?.scrollIntoView({ behavior: "smooth", block: "start" }));
  };
  const loadError = formErrorText(templates.error);

  return (
    <>
      <Crumbs course={course} />
      <div className="page-title title-with-actions">
        <div>
          <h1>Environment templates</h1>
          <p className="lead">What each lab’s containers run: the image, their limits and how long they live.</p>
        </div>
        <button type="button" className="primary" onClick={() => open(NEW_TEMPLATE)}>
          New template
        </button>
      </div>
      {saved && (
        <p className="notice info" role="status">
          {saved}
        </p>
      )}
      <section className="card flush" aria-label="Templates">
        {loadError && (
          <p className="error pad" role="alert">
            {loadError}
          </p>
        )}
        <div className="table-wrap">
          <table className="table" data-testid="templates-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Image</th>
                <th>CPU</th>
                <th>Memory</th>
                <th>Processes</th>
                <th>Idle / lifetime</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {templates.isLoading && (
                <tr>
                  <td colSpan={7} className="empty">
                    Loading templates…
                  </td>
                </tr>
              )}
              {templates.data?.length === 0 && (
                <tr>
                  <td colSpan={7} className="empty">
                    No templates yet. Create one for your labs to run in.
                  </td>
                </tr>
              )}
              {templates.data?.map((template) => (
                <tr key={template.id}>
                  <td>
                    <strong>{template.name}</strong>
                    {template.courseId === null && <span className="badge neutral">shared</span>}
                  </td>
                  <td>
                    <code className="tag">{template.image}</code>
                  </td>
                  <td className="nowrap">{cpuText(template.cpuMillis)}</td>
                  <td className="nowrap">
                    {template.memoryMb} MiB <span className="muted small">({template.memoryReservationMb} reserved)</span>
                  </td>
                  <td>{template.pidsLimit}</td>
                  <td className="nowrap">
                    {minutesText(template.idleTimeoutMinutes)} / {minutesText(template.maxLifetimeMinutes)}
                  </td>
                  <td className="actions-cell">
                    {template.courseId === null ? (
                      <span className="muted small">read-only</span>
                    ) : (
                      <button type="button" className="secondary small-button" aria-label={`Edit ${template.name}`} onClick={() => open(draftOf(template))}>
                        Edit
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {editing && (
        <section ref={formRef} className="card section" aria-labelledby="template-form-heading">
          <h2 id="template-form-heading">{editing.templateId ? `Edit “${editing.name}”` : "New template"}</h2>
          <TemplateForm
            key={formKey}
            courseId={courseId}
            initial={editing}
            onCancel={() => setEditing(null)}
            onSaved={(name, created) => {
              setEditing(null);
              setSaved(`${created ? "Created" : "Saved"} “${name}”.`);
            }}
          />
        </section>
      )}
    </>
  );
}

function TemplateForm({
  courseId,
  initial,
  onSaved,
  onCancel,
}: {
  courseId: string;
  initial: Draft;
  onSaved: (name: string, created: boolean) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const images = useQuery(trpc.authoring.images.queryOptions({ courseId }));
  const [draft, setDraft] = useState(initial);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const save = useMutation(
    trpc.authoring.saveTemplate.mutationOptions({
      onSuccess: async (template) => {
        await queryClient.invalidateQueries({ queryKey: trpc.authoring.templates.queryKey({ courseId }) });
        onSaved(template.name, !initial.templateId);
      },
    }),
  );
  const set = (field: Exclude<keyof Draft, "templateId">) => (event: { target: { value: string } }) => {
    setDraft((current) => ({ ...current, [field]: event.target.value }));
    if (save.isError) save.reset();
    if (localErrors[field]) setLocalErrors(({ [field]: _gone, ...rest }) => rest);
  };

  const readyTags = (images.data ?? []).filter((image) => image.status === "READY");
  const imageOptions = [
    { value: DEFAULT_IMAGE, label: `${DEFAULT_IMAGE} (Shellroom default)` },
    ...readyTags.map((image) => ({ value: image.tag, label: `${image.name} — ${image.tag}` })),
  ];
  if (!imageOptions.some((option) => option.value === draft.image)) imageOptions.push({ value: draft.image, label: draft.image });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    const whole = (field: "memoryMb" | "memoryReservationMb" | "pidsLimit" | "diskMb" | "idleTimeoutMinutes" | "maxLifetimeMinutes" | "warmPoolSize") => {
      const value = Number(draft[field]);
      if (draft[field].trim() === "" || !Number.isInteger(value)) {
        problems[field] = "Enter a whole number";
        return 0;
      }
      return value;
    };
    const cpus = Number(draft.cpus);
    if (draft.cpus.trim() === "" || !Number.isFinite(cpus)) problems.cpus = "Enter a number of CPUs, e.g. 0.5";
    const input = {
      courseId,
      templateId: draft.templateId,
      name: draft.name,
      image: draft.image,
      cpuMillis: Math.round(cpus * 1000),
      memoryMb: whole("memoryMb"),
      memoryReservationMb: whole("memoryReservationMb"),
      pidsLimit: whole("pidsLimit"),
      diskMb: whole("diskMb"),
      network: "NONE" as const,
      idleTimeoutMinutes: whole("idleTimeoutMinutes"),
      maxLifetimeMinutes: whole("maxLifetimeMinutes"),
      workingDir: draft.workingDir,
      setupScript: draft.setupScript.trim() ? draft.setupScript : null,
      warmPoolSize: whole("warmPoolSize"),
    };
    setLocalErrors(problems);
    if (Object.keys(problems).length > 0) return save.reset();
    save.mutate(input);
  };

  const error = save.error;
  const errorOf = (local: Exclude<keyof Draft, "templateId">, server: string = local) => localErrors[local] ?? fieldError(error, server);
  const general = formErrorText(error, [
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
  ]);
  const numberInput = (
    field: "cpus" | "memoryMb" | "memoryReservationMb" | "pidsLimit" | "diskMb" | "idleTimeoutMinutes" | "maxLifetimeMinutes" | "warmPoolSize",
    server: string,
    props: { min: number; max: number; step?: number },
  ) => (
    <input
      type="number"
      name={field}
      inputMode="decimal"
      value={draft[field]}
      onChange={set(field)}
      {...props}
      aria-invalid={Boolean(errorOf(field, server))}
    />
  );

  return (
    <form className="form" onSubmit={submit} noValidate aria-busy={save.isPending} data-testid="template-form">
      <div className="form-row">
        <Field label="Name" error={errorOf("name")}>
          <input
            name="name"
            value={draft.name}
            onChange={set("name")}
            maxLength={Bounds.templateName.max}
            placeholder="e.g. Python 3 + git"
            aria-invalid={Boolean(errorOf("name"))}
          />
        </Field>
        <Field
          label="Image"
          error={errorOf("image")}
          hint={
            <>
              Images you build appear here once ready. <Link href={`/courses/${courseId}/images`}>Manage images</Link>
            </>
          }
        >
          <select name="image" value={draft.image} onChange={set("image")} aria-invalid={Boolean(errorOf("image"))}>
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
          <Field label="CPUs" error={errorOf("cpus", "cpuMillis")} hint="0.1 to 8">
            {numberInput("cpus", "cpuMillis", { min: Bounds.cpuMillis.min / 1000, max: Bounds.cpuMillis.max / 1000, step: 0.1 })}
          </Field>
          <Field label="Memory (MiB)" error={errorOf("memoryMb")} hint="No swap beyond this">
            {numberInput("memoryMb", "memoryMb", { ...Bounds.memoryMb, step: 64 })}
          </Field>
          <Field label="Memory reserved (MiB)" error={errorOf("memoryReservationMb")} hint="What placement counts per student; at most the limit">
            {numberInput("memoryReservationMb", "memoryReservationMb", { ...Bounds.memoryReservationMb, step: 16 })}
          </Field>
          <Field label="Process limit" error={errorOf("pidsLimit")} hint="Stops fork bombs">
            {numberInput("pidsLimit", "pidsLimit", Bounds.pidsLimit)}
          </Field>
          <Field label="Disk (MiB)" error={errorOf("diskMb")} hint="Size limit of the workspace">
            {numberInput("diskMb", "diskMb", { ...Bounds.diskMb, step: 64 })}
          </Field>
        </div>
        <div className="form-row">
          <Field
            label="Warm pool (containers per worker)"
            error={errorOf("warmPoolSize")}
            hint="Started ahead of time so a class gets prompts at once; 0 turns it off."
          >
            {numberInput("warmPoolSize", "warmPoolSize", Bounds.warmPoolSize)}
          </Field>
          <Field label="Network" error={fieldError(error, "network")} hint="Student containers have no network access.">
            <select name="network" value="NONE" onChange={() => undefined}>
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
          <Field label="Idle timeout (minutes)" error={errorOf("idleTimeoutMinutes")} hint="Stopped after this long without activity; files are kept.">
            {numberInput("idleTimeoutMinutes", "idleTimeoutMinutes", Bounds.idleTimeoutMinutes)}
          </Field>
          <Field label="Max lifetime (minutes)" error={errorOf("maxLifetimeMinutes")} hint="Stopped this long after it started, active or not.">
            {numberInput("maxLifetimeMinutes", "maxLifetimeMinutes", Bounds.maxLifetimeMinutes)}
          </Field>
        </div>
      </fieldset>

      <Field label="Working directory" error={errorOf("workingDir")} hint="The student’s workspace: kept between sessions.">
        <input
          name="workingDir"
          value={draft.workingDir}
          onChange={set("workingDir")}
          className="mono"
          spellCheck={false}
          aria-invalid={Boolean(errorOf("workingDir"))}
        />
      </Field>
      <Field
        label={
          <>
            Setup script <span className="optional">(optional)</span>
          </>
        }
        error={errorOf("setupScript")}
        hint="Runs once as the student in each new container, before the shell opens; if it fails, the start fails."
      >
        <textarea
          name="setupScript"
          rows={5}
          value={draft.setupScript}
          onChange={set("setupScript")}
          className="code-input"
          spellCheck={false}
          placeholder={"#!/bin/sh\ncp -r /opt/course-files/. ~/workspace/"}
          aria-invalid={Boolean(errorOf("setupScript"))}
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
