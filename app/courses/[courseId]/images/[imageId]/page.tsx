"use client";
/** One image build: its Dockerfile and its log, followed live while it builds. */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useLayoutEffect, useRef } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../../../trpc";
import { QueryFallback } from "../../../../components/query-fallback";
import { Crumbs, StaffGate } from "../../staff-gate";
import { ImageStatusBadge } from "../../image-status";
import { formatWhen } from "../../authoring-utils";
import { ImageWorkers } from "../image-workers";

export default function ImagePage() {
  const { courseId, imageId } = useParams<{ courseId: string; imageId: string }>();
  return (
    <StaffGate courseId={courseId} what="the course’s images" wide>
      {(course) => <ImageBuild course={course} imageId={imageId} />}
    </StaffGate>
  );
}

function ImageBuild({ course, imageId }: { course: { id: string; title: string }; imageId: string }) {
  const trpc = useTRPC();
  const image = useQuery(
    trpc.authoring.image.queryOptions(
      { courseId: course.id, imageId },
      {
        // Followed while it builds, and while a worker that joined later is being brought it.
        refetchInterval: (query) => {
          const data = query.state.data;
          if (!data || data.status === "BUILDING") return 1000;
          return data.workers.some((row) => row.status === "BUILDING" || row.status === "TRANSFERRING" || row.status === "FAILED") ? 3000 : false;
        },
        refetchIntervalInBackground: true,
      },
    ),
  );
  const logRef = useRef<HTMLPreElement>(null);
  const stickToBottom = useRef(true);
  const log = image.data?.log ?? "";

  // Follow the log as it grows, unless the reader scrolled up to look at something.
  useLayoutEffect(() => {
    const pre = logRef.current;
    if (pre && stickToBottom.current) pre.scrollTop = pre.scrollHeight;
  }, [log]);
  useEffect(() => {
    const pre = logRef.current;
    if (!pre) return;
    const onScroll = () => {
      stickToBottom.current = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    };
    pre.addEventListener("scroll", onScroll);
    return () => pre.removeEventListener("scroll", onScroll);
  }, [image.data?.id]);

  const trail = [{ href: `/courses/${course.id}/images`, label: "Images" }];
  if (!image.data)
    return (
      <>
        <Crumbs course={course} trail={trail} />
        <QueryFallback query={image} loading="Loading the build…" />
      </>
    );
  const { name, tag, status, error, dockerfile, createdAt, finishedAt } = image.data;

  return (
    <>
      <Crumbs course={course} trail={trail} />
      <div className="page-title">
        <div className="title-row">
          <h1>{name}</h1>
          <ImageStatusBadge status={status} />
        </div>
        <p className="muted small">
          <code className="tag">{tag}</code> · started {formatWhen(createdAt)}
          {finishedAt && <> · finished {formatWhen(finishedAt)}</>}
        </p>
      </div>

      {status === "READY" && (
        <p className="notice info build-outcome" role="status" data-testid="build-outcome">
          <strong>Ready.</strong> Choose <code>{tag}</code> as the image of an <Link href={`/courses/${course.id}/templates`}>environment template</Link> to use
          it in labs.
        </p>
      )}
      {status === "FAILED" && (
        <div className="notice fail build-outcome" role="alert" data-testid="build-outcome">
          <strong>The build failed.</strong>
          {error && <pre className="build-error">{error}</pre>}
          <span className="small">The log below shows the step that failed. Fix the Dockerfile and build a new image.</span>
        </div>
      )}
      {status === "BUILDING" && (
        <p className="notice building build-outcome" role="status" data-testid="build-outcome">
          <span className="spinner dark" aria-hidden="true" /> Building on every worker… this page follows the log, and each worker’s progress below.
        </p>
      )}

      <section className="card section-gap" aria-labelledby="log-heading">
        <div className="section-head">
          <h2 id="log-heading">Build log</h2>
          {status === "BUILDING" && (
            <span className="live-label">
              <span className="dot live" aria-hidden="true" /> live
            </span>
          )}
        </div>
        <pre ref={logRef} className="build-log" data-testid="build-log" tabIndex={0} aria-label="Build log">
          {log || (status === "BUILDING" ? "Waiting for the first lines…" : "(no output)")}
        </pre>
      </section>

      <ImageWorkers workers={image.data.workers} />

      <details className="card section-gap dockerfile-card">
        <summary>Dockerfile</summary>
        <pre className="code-block">{dockerfile}</pre>
      </details>
    </>
  );
}
