"use client";
/** Course staff: the course's title, description, kind, dates and expected seats (its warm pools fill to them before the start). */
import { useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds } from "../../../common/input-bounds";
import { CourseDetailsInput } from "../../../common/forms/courses";
import { formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { FormSubmit } from "../../components/form-submit";
import { showServerFieldErrors } from "../../components/server-field-errors";
import { optionalNumber, toLocalInput } from "./authoring-utils";

type Details = {
  title: string;
  description: string;
  kind: "COURSE" | "WORKSHOP";
  startsAt: string | Date | null;
  endsAt: string | Date | null;
  expectedSeats?: number | null;
};

const FIELDS = ["title", "description", "kind", "startsAt", "endsAt", "expectedSeats"] as const;

/** Starts from the course as first loaded; after a save the form keeps what was typed. */
export function CourseDetailsForm({ courseId, course }: { courseId: string; course: Details }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    control,
    formState: { errors },
  } = useForm({
    resolver: zodResolver(CourseDetailsInput),
    // Dates stay as the fields hold them (local time); the schema turns them into instants here, in the browser.
    defaultValues: {
      title: course.title,
      description: course.description,
      kind: course.kind,
      startsAt: toLocalInput(course.startsAt),
      endsAt: toLocalInput(course.endsAt),
      expectedSeats: course.expectedSeats ?? null,
    },
  });
  const update = useMutation(
    trpc.course.update.mutationOptions({
      onSuccess: async () => {
        setSaved(true);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.course.byId.queryKey({ courseId }) }),
          queryClient.invalidateQueries({ queryKey: trpc.course.mine.queryKey() }),
        ]);
      },
      onError: (error) => showServerFieldErrors(setError, error, FIELDS),
    }),
  );
  const kind = useWatch({ control, name: "kind" });
  const general = formErrorText(update.error, FIELDS);
  const edited = () => {
    setSaved(false);
    if (update.isError) update.reset();
  };
  const field = <Name extends (typeof FIELDS)[number]>(name: Name) => register(name, { onChange: edited });

  return (
    <section className="card section" aria-labelledby="course-details-heading">
      <h2 id="course-details-heading">Course details</h2>
      <form
        className="form"
        onSubmit={handleSubmit((values) => update.mutate({ courseId, ...values }))}
        noValidate
        aria-busy={update.isPending}
        data-testid="course-details-form"
      >
        <div className="form-row wide-first">
          <Field label="Title" error={errors.title?.message}>
            <input {...field("title")} maxLength={Bounds.courseTitle.max} />
          </Field>
          <Field
            label="Kind"
            error={errors.kind?.message}
            hint={kind === "WORKSHOP" ? "A one-off session, usually joined by link." : "Runs over weeks, with enrolled students."}
          >
            <select {...field("kind")}>
              <option value="COURSE">Course</option>
              <option value="WORKSHOP">Workshop</option>
            </select>
          </Field>
        </div>
        <Field
          label={
            <>
              Description <span className="optional">(optional)</span>
            </>
          }
          error={errors.description?.message}
        >
          <textarea {...field("description")} rows={3} maxLength={Bounds.courseDescription.max} />
        </Field>
        <div className="form-row">
          <Field label="Starts at" error={errors.startsAt?.message} hint="Optional.">
            <input type="datetime-local" {...field("startsAt")} />
          </Field>
          <Field label="Ends at" error={errors.endsAt?.message} hint="Optional; after the start.">
            <input type="datetime-local" {...field("endsAt")} />
          </Field>
          <Field
            label="Expected seats"
            error={errors.expectedSeats?.message}
            hint="Optional; warm environments are ready for this many students when the session starts."
          >
            <input
              type="number"
              inputMode="numeric"
              min={Bounds.expectedSeats.min}
              max={Bounds.expectedSeats.max}
              {...register("expectedSeats", { setValueAs: optionalNumber, onChange: edited })}
            />
          </Field>
        </div>
        <FormSubmit error={general} pending={update.isPending} label="Save details" pendingLabel="Saving…">
          {saved && (
            <span className="saved" role="status">
              Saved ✓
            </span>
          )}
        </FormSubmit>
      </form>
    </section>
  );
}
