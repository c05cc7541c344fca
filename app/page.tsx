"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

export default function HomePage() {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());
  const courses = useQuery(trpc.course.mine.queryOptions(undefined, { enabled: Boolean(me.data) }));

  useEffect(() => {
    if (me.isSuccess && !me.data) router.replace("/sign-in");
  }, [me.isSuccess, me.data, router]);

  if (!me.data) return <main className="page"><p className="muted">Loading…</p></main>;
  return (
    <main className="page">
      <h1>Your courses</h1>
      {courses.isLoading && <p className="muted">Loading your courses…</p>}
      {courses.error && <p className="error" role="alert">{courses.error.message}</p>}
      {courses.data?.length === 0 && <p className="muted">You are not enrolled in any course yet. Ask your instructor for a join link.</p>}
      <div className="course-list">
        {courses.data?.map((course) => (
          <section key={course.id} className="card">
            <h2>{course.title}</h2>
            {course.description && <p className="muted">{course.description}</p>}
            <ul className="lab-list">
              {course.labs.map((lab) => (
                <li key={lab.id}>
                  <Link href={`/labs/${lab.id}`}>{lab.title}</Link>
                  {!lab.published && <span className="badge">draft</span>}
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </main>
  );
}
