"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "./trpc";
import { Bounds } from "../common/input-bounds";
import { canCreateCourses, isCourseStaff } from "../common/access";
import { NewCourseInput } from "../common/forms/courses";
import { formErrorText } from "./components/errors";
import { Field } from "./components/field";
import { QueryFallback } from "./components/query-fallback";
import { showServerFieldErrors } from "./components/server-field-errors";

const COURSE_ROLE_NAMES = { INSTRUCTOR: "Instructor", ASSISTANT: "Assistant", STUDENT: "Student" } as const;

export default function HomePage() {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());
  const courses = useQuery(trpc.course.mine.queryOptions(undefined, { enabled: Boolean(me.data) }));

  useEffect(() => {
    if (me.isSuccess && !me.data) router.replace("/sign-in");
  }, [me.isSuccess, me.data, router]);

  if (!me.data)
    return (
      <main className="page">
        <QueryFallback query={me} loading="Loading…" />
      </main>
    );
  const canCreate = canCreateCourses(me.data);

  return (
    <main className="page">
      <h1>Your courses</h1>
      {!courses.data && <QueryFallback query={courses} loading="Loading your courses…" />}
      {courses.data?.length === 0 && (
        <p className="muted">
          {canCreate ? "You are not in any course yet. Create one below." : "You are not enrolled in any course yet. Ask your instructor for a join link."}
        </p>
      )}
      <div className="course-list">
        {courses.data?.map((course) => (
          <section key={course.id} className="card course-card">
            <div className="course-card-head">
              <h2>
                <Link href={`/courses/${course.id}`}>{course.title}</Link>
              </h2>
              {isCourseStaff(course.role) && <span className="badge neutral">{COURSE_ROLE_NAMES[course.role]}</span>}
            </div>
            {course.description && <p className="muted">{course.description}</p>}
            {course.labs.length > 0 ? (
              <ul className="lab-list">
                {course.labs.map((lab) => (
                  <li key={lab.id}>
                    <Link href={`/labs/${lab.id}`}>{lab.title}</Link>
                    {!lab.published && <span className="badge">draft</span>}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted small">No labs yet.</p>
            )}
          </section>
        ))}
      </div>
      {canCreate && <NewCourseForm />}
    </main>
  );
}

const COURSE_FIELDS = ["title", "description"] as const;

function NewCourseForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm({ resolver: zodResolver(NewCourseInput), defaultValues: { title: "", description: "" } });
  const create = useMutation(
    trpc.course.create.mutationOptions({
      onSuccess: async ({ id }) => {
        await queryClient.invalidateQueries({ queryKey: trpc.course.mine.queryKey() });
        router.push(`/courses/${id}`);
      },
      onError: (error) => showServerFieldErrors(setError, error, COURSE_FIELDS),
    }),
  );
  const general = formErrorText(create.error, COURSE_FIELDS);

  return (
    <section className="card section new-course" aria-labelledby="new-course-heading">
      <h2 id="new-course-heading">New course</h2>
      <form className="form" onSubmit={handleSubmit((values) => create.mutate(values))} noValidate aria-busy={create.isPending}>
        <Field label="Title" error={errors.title?.message}>
          <input {...register("title")} required maxLength={Bounds.courseTitle.max} placeholder="e.g. Linux for data science" />
        </Field>
        <Field
          label={
            <>
              Description <span className="optional">(optional)</span>
            </>
          }
          error={errors.description?.message}
        >
          <textarea {...register("description")} rows={3} maxLength={Bounds.courseDescription.max} />
        </Field>
        {general && (
          <p className="error" role="alert">
            {general}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create course"}
          </button>
        </div>
      </form>
    </section>
  );
}
