"use client";
/**
 * The frame of every course-staff page: loads the course, sends signed-out visitors to sign
 * in, and tells students (or non-members) plainly that the page is not for them.
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { isCourseStaff, type StaffRole } from "../../../common/access";
import { QueryFallback } from "../../components/query-fallback";

export type StaffCourse = { id: string; title: string; role: StaffRole };

export function StaffGate({
  courseId,
  what,
  wide,
  children,
}: {
  courseId: string;
  /** What the page is, for the refusal: "environment templates", "this lab's progress"… */
  what: string;
  wide?: boolean;
  children: (course: StaffCourse) => ReactNode;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const course = useQuery(trpc.course.byId.queryOptions({ courseId }));
  const pageClass = `page authoring${wide ? " wide" : ""}`;

  useEffect(() => {
    if (course.error?.data?.code === "UNAUTHORIZED") router.replace("/sign-in");
  }, [course.error, router]);

  if (!course.data)
    return (
      <main className={pageClass}>
        <QueryFallback query={course} loading="Loading…" failed="This course could not be opened." back={<Link href="/">Back to your courses</Link>} />
      </main>
    );
  const { role, title, id } = course.data;
  if (!isCourseStaff(role)) {
    return (
      <main className={pageClass}>
        <div className="card refusal" role="alert" data-testid="staff-only">
          <h1>Course staff only</h1>
          <p>
            Only the instructors and assistants of <strong>{title}</strong> can see {what}.
          </p>
          <p>
            <Link href={`/courses/${id}`}>Back to the course</Link>
          </p>
        </div>
      </main>
    );
  }
  return <main className={pageClass}>{children({ id, title, role })}</main>;
}

/** "← Course title" above a staff page's heading, with optional intermediate steps. */
export function Crumbs({ course, trail = [] }: { course: { id: string; title: string }; trail?: Array<{ href: string; label: string }> }) {
  return (
    <nav className="crumbs" aria-label="Breadcrumb">
      <Link href={`/courses/${course.id}`}>← {course.title}</Link>
      {trail.map((step) => (
        <span key={step.href}>
          <span className="crumb-sep" aria-hidden="true">
            /
          </span>
          <Link href={step.href}>{step.label}</Link>
        </span>
      ))}
    </nav>
  );
}
