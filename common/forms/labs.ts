/**
 * A lab as its author writes it: title, template, Markdown instructions and ordered steps with
 * optional checks. Ids are not typed by anyone: the router adds its own (protocol/ids) to these.
 */
import { z } from "zod";
import { Bounds } from "../input-bounds";
import { numberExpected } from "./fields";

/** Blank optional text (a hint, a check script) is stored as none. */
const noneWhenBlank = (text: string | null) => (text?.trim() ? text : null);

export const StepInput = z.object({
  title: z.string().trim().min(Bounds.stepTitle.min, "Give the step a title").max(Bounds.stepTitle.max),
  body: z.string().max(64 * 1024),
  hint: z.string().trim().max(Bounds.stepHint.max).nullable().transform(noneWhenBlank),
  checkScript: z
    .string()
    .max(64 * 1024)
    .nullable()
    .transform(noneWhenBlank),
  checkTimeoutSeconds: z
    .number(numberExpected("Enter a whole number of seconds"))
    .int("Enter a whole number of seconds")
    .min(Bounds.checkTimeoutSeconds.min, "At least 1 second")
    .max(Bounds.checkTimeoutSeconds.max, "At most 5 minutes"),
});

/** A lab's steps, each as `step` says (the router's carry their ids). */
export const labSteps = <Step extends z.ZodType>(step: Step) => z.array(step).max(Bounds.labSteps.max, `At most ${Bounds.labSteps.max} steps`);

export const LabInput = z.object({
  templateId: z.string().min(1, "Choose an environment template"),
  title: z.string().trim().min(Bounds.labTitle.min, "Give the lab a title").max(Bounds.labTitle.max),
  instructions: z.string().max(256 * 1024),
  published: z.boolean(),
  steps: labSteps(StepInput),
});

/** A lab folder as picked in the browser (a .zip or the folder itself): its files' paths and texts. */
export const ImportLabInput = z.object({
  templateId: z.string().min(1, "Choose a template for the imported lab"),
  files: z.record(z.string().max(500), z.string()).refine((files) => Object.keys(files).length > 0, "Choose a .zip file or a folder first."),
});
