/**
 * Labs as a folder an instructor can keep in git:
 *   lab.yaml            title, settings and the ordered list of steps
 *   instructions.md     the lab's introduction
 *   steps/NN-name.md    each step's text
 *   checks/NN-name.sh   each step's check script (optional)
 * lab.yaml may also declare the lab's infrastructure: `services` (sidecars beside each
 * student's environment, common/services.ts) and `preview` (ports a browser may preview);
 * an import gives them to the lab's template.
 */
import { parse, stringify } from "yaml";
import { z } from "zod";
import { Bounds } from "../../common/input-bounds";
import { PreviewPortList, ServiceList, type ServiceSpecInput } from "../../common/services";

export interface LabDraft {
  title: string;
  instructions: string;
  published: boolean;
  steps: Array<{ title: string; body: string; hint: string | null; checkScript: string | null; checkTimeoutSeconds: number }>;
  /** The template's services and preview ports, when the folder declares them (absent: the template's stay). */
  infrastructure?: { services?: ServiceSpecInput[]; previewPorts?: number[] };
}

export type LabFolder = Record<string, string>;

export class LabFolderError extends Error {
  override name = "LabFolderError";
}

const MAX_FILES = 400;
const MAX_FILE_BYTES = 256 * 1024;

const StepEntry = z.object({
  title: z.string().trim().min(Bounds.stepTitle.min).max(Bounds.stepTitle.max),
  body: z.string().regex(/^steps\/[\w.-]+\.md$/, "must name a file under steps/ ending in .md"),
  hint: z.string().max(Bounds.stepHint.max).optional(),
  check: z
    .string()
    .regex(/^checks\/[\w.-]+\.sh$/, "must name a file under checks/ ending in .sh")
    .optional(),
  checkTimeoutSeconds: z.number().int().min(Bounds.checkTimeoutSeconds.min).max(Bounds.checkTimeoutSeconds.max).default(10),
});

const LabYaml = z.object({
  title: z.string().trim().min(Bounds.labTitle.min).max(Bounds.labTitle.max),
  published: z.boolean().default(false),
  instructions: z
    .string()
    .regex(/^[\w.-]+\.md$/, "must name a Markdown file at the top of the folder")
    .default("instructions.md"),
  steps: z.array(StepEntry).max(Bounds.labSteps.max).default([]),
  services: ServiceList.optional(),
  preview: PreviewPortList.optional(),
});

const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40) || "step";

export function labToFolder(lab: LabDraft): LabFolder {
  const files: LabFolder = { "instructions.md": lab.instructions };
  const steps = lab.steps.map((step, index) => {
    const name = `${String(index + 1).padStart(2, "0")}-${slug(step.title)}`;
    files[`steps/${name}.md`] = step.body;
    if (step.checkScript) files[`checks/${name}.sh`] = step.checkScript;
    return {
      title: step.title,
      body: `steps/${name}.md`,
      ...(step.hint ? { hint: step.hint } : {}),
      ...(step.checkScript ? { check: `checks/${name}.sh`, checkTimeoutSeconds: step.checkTimeoutSeconds } : {}),
    };
  });
  const { services, previewPorts } = lab.infrastructure ?? {};
  files["lab.yaml"] = stringify({
    title: lab.title,
    published: lab.published,
    instructions: "instructions.md",
    steps,
    ...(services?.length ? { services } : {}),
    ...(previewPorts?.length ? { preview: previewPorts } : {}),
  });
  return files;
}

export function folderToLab(input: LabFolder): LabDraft {
  // Uploads of a folder arrive with the folder's own name in front: strip it.
  const files = stripCommonFolder(input);
  if (Object.keys(files).length > MAX_FILES) throw new LabFolderError(`A lab folder may hold at most ${MAX_FILES} files.`);
  for (const [name, content] of Object.entries(files)) {
    if (Buffer.byteLength(content) > MAX_FILE_BYTES) throw new LabFolderError(`${name} is larger than ${MAX_FILE_BYTES / 1024} KiB.`);
  }
  const manifest = files["lab.yaml"];
  if (manifest === undefined) throw new LabFolderError("The folder has no lab.yaml at its top.");
  let raw: unknown;
  try {
    raw = parse(manifest);
  } catch (error) {
    throw new LabFolderError(`lab.yaml is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = LabYaml.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LabFolderError(`lab.yaml: ${issue.path.join(".") || "top level"} ${issue.message}`);
  }
  const lab = parsed.data;
  const read = (name: string, what: string) => {
    const content = files[name];
    if (content === undefined) throw new LabFolderError(`lab.yaml: ${what} refers to ${name}, which is not in the folder.`);
    return content;
  };
  return {
    title: lab.title,
    published: lab.published,
    instructions: files[lab.instructions] ?? "",
    steps: lab.steps.map((step, index) => ({
      title: step.title,
      body: read(step.body, `steps[${index}].body`),
      hint: step.hint ?? null,
      checkScript: step.check ? read(step.check, `steps[${index}].check`) : null,
      checkTimeoutSeconds: step.checkTimeoutSeconds,
    })),
    ...(lab.services || lab.preview ? { infrastructure: { services: lab.services, previewPorts: lab.preview } } : {}),
  };
}

function stripCommonFolder(files: LabFolder): LabFolder {
  const names = Object.keys(files).map((name) => name.replace(/^\.?\//, ""));
  if (names.some((name) => name.includes(".."))) throw new LabFolderError("File names may not contain '..'.");
  if (names.includes("lab.yaml")) return Object.fromEntries(Object.entries(files).map(([name, content]) => [name.replace(/^\.?\//, ""), content]));
  const top = names[0]?.split("/")[0];
  if (top && names.every((name) => name.startsWith(`${top}/`))) {
    return Object.fromEntries(Object.entries(files).map(([name, content]) => [name.replace(/^\.?\//, "").slice(top.length + 1), content]));
  }
  return files;
}
