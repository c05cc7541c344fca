"use client";
/** Course staff: the course's title, description, kind, dates and expected seats (its warm pools fill to them before the start). */
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { Bounds, wholeWithin } from "../../../common/input-bounds";
import { fieldError, formErrorText } from "../../components/errors";
import { Field } from "../../components/field";
import { toLocalInput } from "./authoring-utils";

type Details = {
  title: string;
  description: string;
  kind: "COURSE" | "WORKSHOP";
  startsAt: string | Date | null;
  endsAt: string | Date | null;
  expectedSeats?: number | null;
};

/** Starts from the course as first loaded; after a save the form keeps what was typed. */
export function CourseDetailsForm({ courseId, course }: { courseId: string; course: Details }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(course.title);
  const [description, setDescription] = useState(course.description);
  const [kind, setKind] = useState(course.kind);
  const [startsAt, setStartsAt] = useState(toLocalInput(course.startsAt));
  const [endsAt, setEndsAt] = useState(toLocalInput(course.endsAt));
  const [expectedSeats, setExpectedSeats] = useState(course.expectedSeats ? String(course.expectedSeats) : "");
  const [localErrors, setLocalErrors] = useState<{ startsAt?: string; endsAt?: string; expectedSeats?: string }>({});
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.course.update.mutationOptions({
      onSuccess: async () => {
        setSaved(true);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.course.byId.queryKey({ courseId }) }),
          queryClient.invalidateQueries({ queryKey: trpc.course.mine.queryKey() }),
        ]);
      },
    }),
  );
  const error = update.error;
  const general = formErrorText(error, ["title", "description", "kind", "startsAt", "endsAt", "expectedSeats"]);
  const edited = () => {
    setSaved(false);
    if (update.isError) update.reset();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: typeof localErrors = {};
    const parse = (value: string, field: "startsAt" | "endsAt") => {
      if (!value) return null;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) {
        problems[field] = "Enter a full date and time, or leave it empty";
        return null;
      }
      return date.toISOString();
    };
    const start = parse(startsAt, "startsAt");
    const end = parse(endsAt, "endsAt");
    const seats = expectedSeats.trim() ? Number(expectedSeats) : null;
    if (seats !== null && !wholeWithin(seats, Bounds.expectedSeats))
      problems.expectedSeats = `A whole number from ${Bounds.expectedSeats.min} to ${Bounds.expectedSeats.max}, or leave it empty`;
    setLocalErrors(problems);
    if (Object.keys(problems).length > 0) return update.reset();
    update.mutate({ courseId, title, description, kind, startsAt: start, endsAt: end, expectedSeats: seats });
  };
  const errorOf = (field: "title" | "description" | "kind" | "startsAt" | "endsAt" | "expectedSeats") =>
    (field === "startsAt" || field === "endsAt" || field === "expectedSeats" ? localErrors[field] : undefined) ?? fieldError(error, field);

  return (
    <section className="card section" aria-labelledby="course-details-heading">
      <h2 id="course-details-heading">Course details</h2>
      <form className="form" onSubmit={submit} noValidate aria-busy={update.isPending} data-testid="course-details-form">
        <div className="form-row wide-first">
          <Field label="Title" error={errorOf("title")}>
            <input
              name="title"
              value={title}
              onChange={(e) => {
                setTitle(e.target.value);
                edited();
              }}
              maxLength={Bounds.courseTitle.max}
              aria-invalid={Boolean(errorOf("title"))}
            />
          </Field>
          <Field
            label="Kind"
            error={errorOf("kind")}
            hint={kind === "WORKSHOP" ? "A one-off session, usually joined by link." : "Runs over weeks, with enrolled students."}
          >
            <select
              name="kind"
              value={kind}
              onChange={(e) => {
                setKind(e.target.value as Details["kind"]);
                edited();
              }}
            >
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
          error={errorOf("description")}
        >
          <textarea
            name="description"
            rows={3}
            value={description}
            onChange={(e) => {
              setDescription(e.target.value);
              edited();
            }}
            maxLength={Bounds.courseDescription.max}
            aria-invalid={Boolean(errorOf("description"))}
          />
        </Field>
        <div className="form-row">
          <Field label="Starts at" error={errorOf("startsAt")} hint="Optional.">
            <input
              type="datetime-local"
              name="startsAt"
              value={startsAt}
              onChange={(e) => {
                setStartsAt(e.target.value);
                edited();
              }}
              aria-invalid={Boolean(errorOf("startsAt"))}
            />
          </Field>
          <Field label="Ends at" error={errorOf("endsAt")} hint="Optional; after the start.">
            <input
              type="datetime-local"
              name="endsAt"
              value={endsAt}
              onChange={(e) => {
                setEndsAt(e.target.value);
                edited();
              }}
              aria-invalid={Boolean(errorOf("endsAt"))}
            />
          </Field>
          <Field
            label="Expected seats"
            error={errorOf("expectedSeats")}
            hint="Optional; warm environments are ready for this many students when the session starts."
          >
            <input
              type="number"
              inputMode="numeric"
              name="expectedSeats"
              min={Bounds.expectedSeats.min}
              max={Bounds.expectedSeats.max}
              value={expectedSeats}
              onChange={(e) => {
                setExpectedSeats(e.target.value);
                edited();
              }}
              aria-invalid={Boolean(errorOf("expectedSeats"))}
            />
          </Field>
        </div>
        {general && (
          <p className="error" role="alert">
            {general}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={update.isPending}>
            {update.isPending ? "Saving…" : "Save details"}
          </button>
          {saved && (
            <span className="saved" role="status">
              Saved ✓
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
