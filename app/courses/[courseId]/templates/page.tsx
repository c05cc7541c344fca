"use client";
/** Course staff: the environment templates labs run in (image, limits, timeouts, setup). */
import { useParams } from "next/navigation";
import { useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { formErrorText } from "../../../components/errors";
import { Crumbs, StaffGate } from "../staff-gate";
import { TemplateForm } from "./template-form";
import { TemplatesTable } from "./templates-table";
import { NEW_TEMPLATE, draftOf, type TemplateDraft } from "./template-values";

export default function TemplatesPage() {
  const { courseId } = useParams<{ courseId: string }>();
  return (
    <StaffGate courseId={courseId} what="the environment templates" wide>
      {(course) => <Templates course={course} />}
    </StaffGate>
  );
}

function Templates({ course }: { course: { id: string; title: string } }) {
  const trpc = useTRPC();
  const courseId = course.id;
  const templates = useQuery(trpc.authoring.templates.queryOptions({ courseId }));
  // Refreshed while a worker that joined is being brought an image.
  const imagesOnWorkers = useQuery(
    trpc.authoring.templateImagesOnWorkers.queryOptions(
      { courseId },
      { refetchInterval: (query) => (query.state.data?.some((entry) => entry.coming > 0) ? 3000 : 30_000) },
    ),
  );
  const [editing, setEditing] = useState<TemplateDraft | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [saved, setSaved] = useState<string | null>(null);
  const formRef = useRef<HTMLElement>(null);

  const open = (draft: TemplateDraft) => {
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
        <TemplatesTable
          templates={templates.data}
          loading={templates.isLoading}
          onEdit={(template) => open(draftOf(template))}
          imagesOnWorkers={imagesOnWorkers.data}
        />
      </section>

      {editing && (
        <section ref={formRef} className="card section" aria-labelledby="template-form-heading">
          <h2 id="template-form-heading">{editing.templateId ? `Edit “${editing.values.name}”` : "New template"}</h2>
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
