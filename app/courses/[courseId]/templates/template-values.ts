/** What the template form starts from: a new template's defaults, or a saved template as the form shows it (CPUs, not thousandths). */
import type { z } from "zod";
import type { TemplateForm } from "../../../../common/forms/templates";
import { DEFAULT_IMAGE } from "../authoring-utils";
import type { Template } from "../authoring-types";

export type TemplateValues = z.input<typeof TemplateForm>;

/** A template being edited: its id (none for a new one) and the form's values. */
export type TemplateDraft = { templateId?: string; values: TemplateValues };

export const NEW_TEMPLATE: TemplateDraft = {
  values: {
    name: "",
    image: DEFAULT_IMAGE,
    cpus: 1,
    memoryMb: 512,
    memoryReservationMb: 64,
    pidsLimit: 256,
    diskMb: 1024,
    network: "NONE",
    idleTimeoutMinutes: 30,
    maxLifetimeMinutes: 240,
    workingDir: "/home/student/workspace",
    setupScript: "",
    warmPoolSize: 0,
  },
};

export const draftOf = (template: Template): TemplateDraft => ({
  templateId: template.id,
  values: {
    name: template.name,
    image: template.image,
    cpus: template.cpuMillis / 1000,
    memoryMb: template.memoryMb,
    memoryReservationMb: template.memoryReservationMb,
    pidsLimit: template.pidsLimit,
    diskMb: template.diskMb,
    network: "NONE",
    idleTimeoutMinutes: template.idleTimeoutMinutes,
    maxLifetimeMinutes: template.maxLifetimeMinutes,
    workingDir: template.workingDir,
    setupScript: template.setupScript ?? "",
    warmPoolSize: template.warmPoolSize ?? 0,
  },
});
