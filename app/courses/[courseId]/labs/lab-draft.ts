/** The lab editor's values: the lab as the server checks it (common/forms/labs), each step carrying its id. */
import { z } from "zod";
import { LabInput, StepInput, labSteps } from "../../../../common/forms/labs";
import type { FullLab } from "../authoring-types";

/** `published` is not a field: the buttons that save say which it becomes. A step's id keeps its students' results across edits and moves. */
export const LabEditorSchema = LabInput.omit({ published: true }).extend({ steps: labSteps(StepInput.extend({ stepId: z.string().optional() })) });

export type LabDraft = z.input<typeof LabEditorSchema>;
export type StepDraft = LabDraft["steps"][number];

export const emptyStep = (): StepDraft => ({ title: "", body: "", hint: "", checkScript: "", checkTimeoutSeconds: 10 });

export const emptyLab = (): LabDraft => ({ title: "", templateId: "", instructions: "", steps: [emptyStep()] });

export function draftFromLab(lab: FullLab): LabDraft {
  return {
    title: lab.title,
    templateId: lab.templateId,
    instructions: lab.instructions,
    steps: lab.steps.map((step) => ({
      stepId: step.id,
      title: step.title,
      body: step.body,
      hint: step.hint ?? "",
      checkScript: step.checkScript ?? "",
      checkTimeoutSeconds: step.checkTimeoutSeconds,
    })),
  };
}
