"use client";
/** Course staff: write a new lab. */
import { useParams } from "next/navigation";
import { useState } from "react";
import { Crumbs, StaffGate } from "../../staff-gate";
import { LabEditor } from "../lab-editor";
import { emptyLab } from "../lab-draft";

export default function NewLabPage() {
  const { courseId } = useParams<{ courseId: string }>();
  const [initial] = useState(emptyLab);
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
