"use client";
/** Course staff: write a new lab. */
import { useParams } from "next/navigation";
import { useState } from "react";
import { Crumbs, StaffGate } from "../../staff-gate";
import { LabEditor, emptyStep, type LabDraftState } from "../lab-editor";

export default function NewLabPage() {
  const { courseId } = useParams<{ courseId: string }>();
  const [initial] = useState<LabDraftState>(() => ({ title: "", templateId: "", instructions: "", steps: [emptyStep()] }));
  return (
    <StaffGate courseId={courseId} what="the lab editor" wide>
      {(course) => (
        <>
          <Crumbs course={course} />
          <LabEditor courseId={courseId} initial={initial} initialPublished={false} />
        </>
      )}
    </StaffGate>
  );
}
