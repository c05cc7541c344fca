"use client";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { TerminalPanel } from "../../components/terminal-panel";
import { LabInstructions } from "../../components/lab-instructions";
import { formErrorText } from "../../components/errors";

export default function LabPage() {
  const { labId } = useParams<{ labId: string }>();
  const trpc = useTRPC();
  const router = useRouter();
  const lab = useQuery(trpc.lab.byId.queryOptions({ labId }));
  const start = useMutation(trpc.environment.startForLab.mutationOptions());
  const requested = useRef(false);

  useEffect(() => {
    if (lab.error?.data?.code === "UNAUTHORIZED") router.replace("/sign-in");
  }, [lab.error, router]);

  useEffect(() => {
    // Once per page: StrictMode's second effect run must not start twice.
    if (lab.data && !requested.current) {
      requested.current = true;
      start.mutate({ labId });
    }
  }, [lab.data, labId, start]);

  if (lab.error) {
    return <main className="page"><p className="error" role="alert">{formErrorText(lab.error)}</p><Link href="/">Back to your courses</Link></main>;
  }
  if (!lab.data) return <main className="page"><p className="muted">Loading the lab…</p></main>;

  return (
    <main className="lab-layout">
      <aside className="lab-instructions">
        <p className="crumbs"><Link href={`/courses/${lab.data.course.id}`}>{lab.data.course.title}</Link></p>
        <LabInstructions instructions={lab.data.instructions} steps={lab.data.steps} />
      </aside>
      <section className="lab-terminal">
        {start.isPending && (
          <div className="terminal-status" data-testid="terminal-status" data-state="starting" role="status">
            <span className="spinner" /> Starting your environment…
          </div>
        )}
        {start.error && (
          <div className="terminal-status" data-testid="terminal-status" data-state="error" role="alert">
            <span className="error">{formErrorText(start.error)}</span>
            <button className="link-button" onClick={() => start.mutate({ labId })}>Try again</button>
          </div>
        )}
        {start.data && <TerminalPanel environmentId={start.data.environmentId} />}
      </section>
    </main>
  );
}
