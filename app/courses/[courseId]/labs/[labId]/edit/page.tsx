"use client";
/** Course staff: edit a lab, publish it, export it as a folder. */
import Link from "next/link";
import { useParams, useSearchParams } from "next/navigation";
import { Suspense, useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../../../../trpc";
import { QueryFallback } from "../../../../../components/query-fallback";
import { Crumbs, StaffGate } from "../../../staff-gate";
import { LabEditor } from "../../lab-editor";
import { draftFromLab } from "../../lab-draft";
import type { FullLab } from "../../../authoring-types";

export default function EditLabPage() {
  const { courseId, labId } = useParams<{ courseId: string; labId: string }>();
  return (
    <StaffGate courseId={courseId} what="the lab editor" wide>
      {(course) => (
        <>
          <Crumbs course={course} />
          <Suspense fallback={<p className="muted">Loading the lab…</p>}>
            <EditLab courseId={courseId} labId={labId} />
          </Suspense>
        </>
      )}
    </StaffGate>
  );
}

const CREATED_NOTICES: Record<string, string> = {
  draft: "Lab created as a draft: students cannot see it until you publish it.",
  published: "Lab created and published: students in the course can open it now.",
};

function EditLab({ courseId, labId }: { courseId: string; labId: string }) {
  const trpc = useTRPC();
  const created = useSearchParams().get("created");
  // Loaded once: the editor owns the draft from here and reloads it itself after saving.
  const lab = useQuery(trpc.authoring.lab.queryOptions({ courseId, labId }, { staleTime: Infinity }));
  if (!lab.data) return <QueryFallback query={lab} loading="Loading the lab…" back={<Link href={`/courses/${courseId}`}>Back to the course</Link>} />;
  return <LoadedEditor courseId={courseId} labId={labId} lab={lab.data} notice={created ? (CREATED_NOTICES[created] ?? null) : null} />;
}

function LoadedEditor({ courseId, labId, lab, notice }: { courseId: string; labId: string; lab: FullLab; notice: string | null }) {
  // The first version seen; later refetches (after saves) go through the editor itself.
  const initial = useMemo(() => draftFromLab(lab), [labId]); // eslint-disable-line react-hooks/exhaustive-deps
  const initialPublished = useMemo(() => lab.published, [labId]); // eslint-disable-line react-hooks/exhaustive-deps
  return <LabEditor key={labId} courseId={courseId} labId={labId} initial={initial} initialPublished={initialPublished} notice={notice} />;
}
