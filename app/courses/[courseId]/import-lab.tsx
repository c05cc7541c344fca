"use client";
/**
 * Course staff: bring in a lab folder (lab.yaml, instructions.md, steps/, checks/), either as
 * a .zip (e.g. from "Export folder") or as the folder itself.
 */
import Link from "next/link";
import { useEffect, useRef, useState, type ChangeEvent } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { strFromU8, unzipSync } from "fflate";
import { useTRPC } from "../../trpc";
import { ImportLabInput } from "../../../common/forms/labs";
import { formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { showServerFieldErrors } from "../../components/server-field-errors";

type Picked = { source: string; files: Record<string, string>; skipped: number };

/** Hidden files and folders (.git, .DS_Store) and macOS zip leftovers are not part of a lab. */
const ignored = (path: string) => path.split("/").some((part) => part.startsWith(".") || part === "__MACOSX");

async function readZip(file: File): Promise<Picked> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(await file.arrayBuffer()));
  } catch {
    throw new Error(`${file.name} is not a readable .zip file.`);
  }
  const files: Record<string, string> = {};
  let skipped = 0;
  for (const [path, data] of Object.entries(entries)) {
    if (path.endsWith("/")) continue;
    if (ignored(path)) {
      skipped++;
      continue;
    }
    files[path] = strFromU8(data);
  }
  return { source: file.name, files, skipped };
}

async function readFolder(list: FileList): Promise<Picked> {
  const files: Record<string, string> = {};
  let skipped = 0;
  for (const file of Array.from(list)) {
    const path = file.webkitRelativePath || file.name;
    if (ignored(path)) {
      skipped++;
      continue;
    }
    files[path] = await file.text();
  }
  const top = Object.keys(files)[0]?.split("/")[0] ?? "folder";
  return { source: `${top}/`, files, skipped };
}

export function ImportLab({ courseId }: { courseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const templates = useQuery(trpc.authoring.templates.queryOptions({ courseId }));
  const [picked, setPicked] = useState<Picked | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const zipInput = useRef<HTMLInputElement>(null);
  // The files are not typed: picking a .zip or a folder sets them.
  const {
    register,
    handleSubmit,
    setError,
    setValue,
    getValues,
    formState: { errors },
  } = useForm({ resolver: zodResolver(ImportLabInput), defaultValues: { templateId: "", files: {} } });
  const importLab = useMutation(
    trpc.authoring.importLab.mutationOptions({
      onError: (error) => showServerFieldErrors(setError, error, ["templateId"]),
      onSuccess: async () => {
        setPicked(null);
        setValue("files", {});
        if (zipInput.current) zipInput.current.value = "";
        if (folderInput.current) folderInput.current.value = "";
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.course.byId.queryKey({ courseId }) }),
          queryClient.invalidateQueries({ queryKey: trpc.course.mine.queryKey() }),
        ]);
      },
    }),
  );

  // React has no prop for folder pickers: set the attributes on the element itself.
  useEffect(() => {
    folderInput.current?.setAttribute("webkitdirectory", "");
    folderInput.current?.setAttribute("directory", "");
  }, []);

  // The course's own first template unless the author picks another.
  const firstTemplateId = templates.data?.find((template) => template.courseId !== null)?.id ?? templates.data?.[0]?.id;
  useEffect(() => {
    if (firstTemplateId && !getValues("templateId")) setValue("templateId", firstTemplateId);
  }, [firstTemplateId, getValues, setValue]);

  const pick = (read: () => Promise<Picked>, other: HTMLInputElement | null) => {
    importLab.reset();
    setReadError(null);
    setPicked(null);
    setValue("files", {});
    if (other) other.value = "";
    read().then(
      (result) => {
        if (Object.keys(result.files).length === 0) return setReadError(`${result.source} holds no files to import.`);
        setPicked(result);
        setValue("files", result.files, { shouldValidate: Boolean(errors.files) });
      },
      (error: Error) => setReadError(error.message),
    );
  };
  const onZip = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) pick(() => readZip(file), folderInput.current);
  };
  const onFolder = (event: ChangeEvent<HTMLInputElement>) => {
    const list = event.target.files;
    if (list && list.length > 0) pick(() => readFolder(list), zipInput.current);
  };
  const submit = handleSubmit((values) => importLab.mutate({ courseId, ...values }));

  const fileCount = picked ? Object.keys(picked.files).length : 0;
  const hasManifest = picked ? Object.keys(picked.files).some((path) => path === "lab.yaml" || path.endsWith("/lab.yaml")) : false;
  const filesError = (errors.files as { message?: string } | undefined)?.message;
  const error = readError ?? filesError ?? formErrorText(importLab.error, ["templateId"]);

  return (
    <section className="card section import-lab" aria-labelledby="import-lab-heading">
      <h2 id="import-lab-heading">Import a lab</h2>
      <p className="muted small">
        A lab folder — <code>lab.yaml</code>, <code>instructions.md</code>, <code>steps/</code>, <code>checks/</code> — as made by <em>Export folder</em> in the
        lab editor, or the same folder zipped.
      </p>
      <form className="form" onSubmit={submit} noValidate aria-busy={importLab.isPending} data-testid="import-lab-form">
        <div className="import-pickers">
          <label className="file-button">
            <input ref={zipInput} type="file" accept=".zip,application/zip" onChange={onZip} className="sr-only" />
            Upload a .zip
          </label>
          <label className="file-button">
            <input ref={folderInput} type="file" multiple onChange={onFolder} className="sr-only" />
            Upload a folder
          </label>
          <span className="picked" data-testid="import-picked" aria-live="polite">
            {picked ? (
              <>
                <strong>{picked.source}</strong>: {fileCount} file{fileCount === 1 ? "" : "s"}
                {picked.skipped > 0 && <>, {picked.skipped} hidden skipped</>}
                {!hasManifest && <span className="error"> — no lab.yaml in it</span>}
              </>
            ) : (
              <span className="muted">Nothing chosen yet</span>
            )}
          </span>
        </div>
        <div className="form-row wide-first">
          <Field label="Template for the imported lab" error={errors.templateId?.message}>
            <select {...register("templateId")} disabled={!templates.data?.length}>
              {templates.data?.length === 0 && <option value="">No templates yet</option>}
              {templates.data?.map((template) => (
                <option key={template.id} value={template.id}>
                  {template.name} ({template.image})
                </option>
              ))}
            </select>
          </Field>
          <div className="import-submit">
            <button type="submit" className="primary" disabled={importLab.isPending || !picked || !firstTemplateId}>
              {importLab.isPending ? "Importing…" : "Import lab"}
            </button>
          </div>
        </div>
        {error && (
          <p className="error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
        {importLab.data && (
          <p className="success" role="status">
            Imported a lab with {importLab.data.steps} step{importLab.data.steps === 1 ? "" : "s"}.{" "}
            <Link href={`/courses/${courseId}/labs/${importLab.data.labId}/edit`}>Open it in the editor</Link>
          </p>
        )}
      </form>
    </section>
  );
}
