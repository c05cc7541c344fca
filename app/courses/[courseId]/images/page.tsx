"use client";
/** Course staff: custom images built from a Dockerfile on top of the default image. */
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { Bounds } from "../../../../common/input-bounds";
import { ImageBuildInput } from "../../../../common/forms/images";
import { formErrorText } from "../../../components/errors";
import { Field } from "../../../components/field";
import { FormSubmit } from "../../../components/form-submit";
import { showServerFieldErrors } from "../../../components/server-field-errors";
import { Crumbs, StaffGate } from "../staff-gate";
import { ImageStatusBadge } from "../image-status";
import { DEFAULT_IMAGE, formatWhen } from "../authoring-utils";

const STARTER_DOCKERFILE = `FROM ${DEFAULT_IMAGE}\nUSER root\nRUN ...\nUSER student`;

export default function ImagesPage() {
  const { courseId } = useParams<{ courseId: string }>();
  return (
    <StaffGate courseId={courseId} what="the course’s images" wide>
      {(course) => <Images course={course} />}
    </StaffGate>
  );
}

function Images({ course }: { course: { id: string; title: string } }) {
  const trpc = useTRPC();
  const courseId = course.id;
  const images = useQuery(
    trpc.authoring.images.queryOptions(
      { courseId },
      {
        // Keep the badges current while something is building.
        refetchInterval: (query) => (query.state.data?.some((image) => image.status === "BUILDING") ? 2000 : false),
      },
    ),
  );
  const [creating, setCreating] = useState(false);
  const loadError = formErrorText(images.error);

  return (
    <>
      <Crumbs course={course} />
      <div className="page-title title-with-actions">
        <div>
          <h1>Images</h1>
          <p className="lead">
            Add tools to the default image with a Dockerfile. Ready images can be chosen in{" "}
            <Link href={`/courses/${courseId}/templates`}>environment templates</Link>.
          </p>
        </div>
        {!creating && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New image
          </button>
        )}
      </div>

      {creating && (
        <section className="card section-gap" aria-labelledby="new-image-heading">
          <h2 id="new-image-heading">New image</h2>
          <NewImageForm courseId={courseId} onCancel={() => setCreating(false)} />
        </section>
      )}

      <section className="card flush" aria-label="Images">
        {loadError && (
          <p className="error pad" role="alert">
            {loadError}
          </p>
        )}
        <div className="table-wrap">
          <table className="table" data-testid="images-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Tag</th>
                <th>Status</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {images.isLoading && (
                <tr>
                  <td colSpan={4} className="empty">
                    Loading images…
                  </td>
                </tr>
              )}
              {images.data?.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No images yet. Labs use <code>{DEFAULT_IMAGE}</code> until you build one.
                  </td>
                </tr>
              )}
              {images.data?.map((image) => (
                <tr key={image.id}>
                  <td>
                    <Link href={`/courses/${courseId}/images/${image.id}`} className="strong-link">
                      {image.name}
                    </Link>
                  </td>
                  <td>
                    <code className="tag">{image.tag}</code>
                  </td>
                  <td>
                    <ImageStatusBadge status={image.status} />
                  </td>
                  <td className="nowrap muted">{formatWhen(image.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

const IMAGE_FIELDS = ["name", "dockerfile"] as const;

function NewImageForm({ courseId, onCancel }: { courseId: string; onCancel: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(ImageBuildInput), defaultValues: { name: "", dockerfile: STARTER_DOCKERFILE } });
  const build = useMutation(
    trpc.authoring.buildImage.mutationOptions({
      onSuccess: async ({ imageId }) => {
        await queryClient.invalidateQueries({ queryKey: trpc.authoring.images.queryKey({ courseId }) });
        router.push(`/courses/${courseId}/images/${imageId}`);
      },
      // The build policy (what a Dockerfile may do) is checked on the server: its refusal lands beside the Dockerfile.
      onError: (error) => showServerFieldErrors(setError, error, IMAGE_FIELDS),
    }),
  );
  const general = formErrorText(build.error, IMAGE_FIELDS);
  const edited = () => {
    if (build.isError) build.reset();
  };

  return (
    <form
      className="form"
      onSubmit={handleSubmit((values) => build.mutate({ courseId, ...values }))}
      noValidate
      aria-busy={build.isPending}
      data-testid="image-form"
    >
      <Field label="Image name" error={errors.name?.message}>
        <input {...register("name", { onChange: edited })} maxLength={Bounds.imageName.max} placeholder="e.g. python-tools" />
      </Field>
      <Field
        label="Dockerfile"
        error={errors.dockerfile?.message}
        hint={
          <>
            Built on every worker with no network access: start <code>FROM</code> an image already built here (nothing is pulled), and end with{" "}
            <code>USER student</code>.
          </>
        }
      >
        <textarea {...register("dockerfile", { onChange: edited })} rows={10} className="code-input" spellCheck={false} />
      </Field>
      <FormSubmit error={general} pending={build.isPending} label="Build image" pendingLabel="Starting…">
        <button type="button" className="link-button subtle" onClick={onCancel}>
          Cancel
        </button>
      </FormSubmit>
    </form>
  );
}
