"use client";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { isCourseStaff } from "../../../common/access";
import { QueryFallback } from "../../components/query-fallback";
import { JoinLinkPanel } from "./join-link-panel";
import { MembersTable } from "./members-table";
import { WebhooksPanel } from "../../components/webhooks-panel";
import { CourseDetailsForm } from "./course-details-form";
import { ImportLab } from "./import-lab";

const COURSE_ROLE_NAMES = { INSTRUCTOR: "Instructor", ASSISTANT: "Assistant", STUDENT: "Student" } as const;

export default function CoursePage() {
  const { courseId } = useParams<{ courseId: string }>();
  const trpc = useTRPC();
  const router = useRouter();
  const course = useQuery(trpc.course.byId.queryOptions({ courseId }));

  useEffect(() => {
    if (course.error?.data?.code === "UNAUTHORIZED") router.replace("/sign-in");
  }, [course.error, router]);

  if (!course.data)
    return (
      <main className="page">
        <QueryFallback
          query={course}
          loading="Loading the course…"
          failed="This course could not be opened."
          back={<Link href="/">Back to your courses</Link>}
        />
      </main>
    );

  const { title, description, labs, role } = course.data;
  const staff = isCourseStaff(role);
  return (
    <main className="page">
      <p className="crumbs">
        <Link href="/">← Your courses</Link>
      </p>
      <div className={`page-title${staff ? " title-with-actions" : ""}`}>
        <div>
          <div className="title-row">
            <h1>{title}</h1>
            <span className="badge neutral role-badge">{COURSE_ROLE_NAMES[role]}</span>
          </div>
          {description && <p className="lead">{description}</p>}
        </div>
        {staff && (
          <div className="header-actions">
            {/* The page staff keep open while teaching: students, hands, terminals. */}
            <Link href={`/courses/${courseId}/live`} className="button primary">
              Live room
            </Link>
          </div>
        )}
      </div>
      {staff && (
        <nav className="course-tools" aria-label="Course authoring">
          <Link href={`/courses/${courseId}/templates`}>Environment templates</Link>
          <Link href={`/courses/${courseId}/images`}>Images</Link>
        </nav>
      )}

      <section className="card section">
        <div className="section-head">
          <h2>Labs</h2>
          {staff && (
            <Link href={`/courses/${courseId}/labs/new`} className="button primary small-button">
              New lab
            </Link>
          )}
        </div>
        {labs.length === 0 ? (
          <p className="muted">{staff ? "This course has no labs yet." : "No labs are open yet. Check back later."}</p>
        ) : (
          <ul className="lab-cards">
            {labs.map((lab, index) => (
              <li key={lab.id} className={staff ? "lab-row" : undefined}>
                <Link href={`/labs/${lab.id}`} className="lab-card">
                  <span className="lab-number">{index + 1}</span>
                  <span className="lab-title">{lab.title}</span>
                  {!lab.published && <span className="badge">draft</span>}
                  <span className="lab-open" aria-hidden="true">
                    Open →
                  </span>
                </Link>
                {staff && (
                  <span className="lab-staff-links">
                    <Link href={`/courses/${courseId}/labs/${lab.id}/edit`} aria-label={`Edit ${lab.title}`}>
                      Edit
                    </Link>
                    <Link href={`/courses/${courseId}/labs/${lab.id}/progress`} aria-label={`Progress of ${lab.title}`}>
                      Progress
                    </Link>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      {staff && <ImportLab courseId={courseId} />}
      {staff && <JoinLinkPanel courseId={courseId} />}
      {staff && <MembersTable courseId={courseId} />}
      {staff && <CourseDetailsForm courseId={courseId} course={course.data} />}
      {staff && <WebhooksPanel courseId={courseId} />}
    </main>
  );
}
