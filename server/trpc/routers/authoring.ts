/**
 * What instructors and assistants write: environment templates and labs (Markdown
 * instructions, ordered steps with checks). Everything here is course staff only.
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { ImageBuildInput } from "../../../common/forms/images";
import { ImportLabInput, LabInput, StepInput, labSteps } from "../../../common/forms/labs";
import { RESERVATION_CHECK, TemplateFields, reservationFits } from "../../../common/forms/templates";
import { LabFolderError, folderToLab, labToFolder, type LabDraft } from "../../labs/lab-folder";
import { servicesOf } from "../../environments/template-spec";
import { ServiceSpecs } from "../../../common/services";
import type { Database } from "../../database/client";
import { DockerfileInput } from "../../images/dockerfile-input";
import { PushedLab } from "../api-outputs";
import { courseStaffProcedure, router } from "../trpc";

const SaveTemplateInput = TemplateFields.extend({ templateId: EntityId.optional() }).refine(reservationFits, RESERVATION_CHECK);

/** The author's lab with the ids that tie it (and its steps, and so students' results) to what is stored. */
const SaveLabInput = LabInput.extend({
  labId: EntityId.optional(),
  templateId: LabInput.shape.templateId.pipe(EntityId),
  steps: labSteps(StepInput.extend({ stepId: EntityId.optional() })),
});

async function ensureTemplateInCourse(db: Database, courseId: string, templateId: string) {
  const template = await db.environmentTemplate.findFirst({ where: { id: templateId, OR: [{ courseId }, { courseId: null }] } });
  if (!template) throw new TRPCError({ code: "BAD_REQUEST", message: "Choose one of this course's environment templates." });
}

const slugOf = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40) || "lab";

async function uniqueLabSlug(db: Database, courseId: string, title: string) {
  const base = slugOf(title);
  for (let suffix = 1; ; suffix++) {
    const candidate = suffix === 1 ? base : `${base}-${suffix}`;
    if (!(await db.lab.findUnique({ where: { courseId_slug: { courseId, slug: candidate } } }))) return candidate;
  }
}

/** Writes a lab and its steps in one transaction; steps keep their ids (and results) when edited. */
async function saveLab(db: Database, courseId: string, input: z.infer<typeof SaveLabInput> | (LabDraft & { labId?: string; templateId: string })) {
  return db.$transaction(async (tx) => {
    const data = { title: input.title, instructions: input.instructions, published: input.published, templateId: input.templateId };
    const lab = input.labId
      ? await tx.lab.update({ where: { id: input.labId }, data })
      : await tx.lab.create({
          data: { ...data, courseId, slug: await uniqueLabSlug(db, courseId, input.title), position: await tx.lab.count({ where: { courseId } }) },
        });
    const existing = await tx.labStep.findMany({ where: { labId: lab.id }, select: { id: true } });
    const stepIdOf = (step: object) => (step as { stepId?: string }).stepId;
    const kept = input.steps.map(stepIdOf).filter((id): id is string => Boolean(id));
    await tx.labStep.deleteMany({ where: { labId: lab.id, id: { notIn: kept } } });
    // Positions are unique: park kept steps out of the way before renumbering.
    await tx.labStep.updateMany({ where: { labId: lab.id }, data: { position: { increment: 10_000 } } });
    for (const [position, step] of input.steps.entries()) {
      const fields = {
        title: step.title,
        body: step.body,
        hint: step.hint,
        checkScript: step.checkScript,
        checkTimeoutSeconds: step.checkTimeoutSeconds,
        position,
      };
      const stepId = stepIdOf(step);
      if (stepId && existing.some((row) => row.id === stepId)) await tx.labStep.update({ where: { id: stepId }, data: fields });
      else await tx.labStep.create({ data: { ...fields, labId: lab.id } });
    }
    return lab;
  });
}

async function labInCourse(db: Database, courseId: string, labId: string) {
  const lab = await db.lab.findFirst({
    where: { id: labId, courseId },
    include: { steps: { orderBy: { position: "asc" } }, template: { select: { services: true, previewPorts: true } } },
  });
  if (!lab) throw new TRPCError({ code: "NOT_FOUND", message: "No such lab in this course." });
  return { ...lab, infrastructure: { services: servicesOf(lab.template), previewPorts: lab.template.previewPorts } };
}

function draftOf(files: Record<string, string>): LabDraft {
  try {
    return folderToLab(files);
  } catch (error) {
    if (error instanceof LabFolderError) throw new TRPCError({ code: "BAD_REQUEST", message: error.message });
    throw error;
  }
}

/** The template a pushed lab uses when none is named: the lab's own, else the course's first, else the first shared one. */
async function defaultTemplateId(db: Database, courseId: string, existingLabTemplateId: string | undefined) {
  if (existingLabTemplateId) return existingLabTemplateId;
  const template = await db.environmentTemplate.findFirst({
    where: { OR: [{ courseId }, { courseId: null }] },
    orderBy: [{ courseId: { sort: "asc", nulls: "last" } }, { createdAt: "asc" }],
  });
  if (!template) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "This course has no environment template yet: create one first." });
  return template.id;
}

export const authoringRouter = router({
  images: courseStaffProcedure.query(({ ctx }) =>
    ctx.db.image.findMany({
      where: { courseId: ctx.course.id },
      orderBy: { createdAt: "desc" },
      select: { id: true, name: true, tag: true, status: true, error: true, createdAt: true, finishedAt: true },
    }),
  ),

  image: courseStaffProcedure.input(z.object({ imageId: EntityId })).query(async ({ ctx, input }) => {
    const image = await ctx.db.image.findFirst({ where: { id: input.imageId, courseId: ctx.course.id } });
    if (!image) throw new TRPCError({ code: "NOT_FOUND", message: "No such image in this course." });
    // Where it stands on each worker: built there, being built or copied there (a worker that joined later), or failed.
    const workers = await ctx.db.workerImage.findMany({
      where: { tag: image.tag },
      orderBy: { workerId: "asc" },
      select: { workerId: true, status: true, log: true, error: true, retryAt: true, updatedAt: true, worker: { select: { name: true, status: true } } },
    });
    return { ...image, workers };
  }),

  /** Queues a build on every live worker (a Dockerfile the build policy refuses never gets there); follow it with `image`. */
  buildImage: courseStaffProcedure.input(ImageBuildInput.extend({ dockerfile: DockerfileInput })).mutation(async ({ ctx, input }) => {
    const image = await ctx.imageBuilds.start({ courseId: ctx.course.id, name: input.name, dockerfile: input.dockerfile, userId: ctx.auth.user.id });
    return { imageId: image.id, tag: image.tag };
  }),

  templates: courseStaffProcedure.query(({ ctx }) =>
    ctx.db.environmentTemplate.findMany({ where: { OR: [{ courseId: ctx.course.id }, { courseId: null }] }, orderBy: { createdAt: "asc" } }),
  ),

  /** For each of the course's templates' images: on how many of the online workers it is ready, and on how many it is on its way. */
  templateImagesOnWorkers: courseStaffProcedure.query(async ({ ctx }) => {
    const templates = await ctx.db.environmentTemplate.findMany({ where: { OR: [{ courseId: ctx.course.id }, { courseId: null }] }, select: { image: true } });
    const online = (await ctx.db.worker.findMany({ where: { status: "ONLINE" }, select: { id: true } })).map((worker) => worker.id);
    const images = [...new Set(templates.map((template) => template.image))];
    const rows = await ctx.db.workerImage.findMany({ where: { tag: { in: images }, workerId: { in: online } }, select: { tag: true, status: true } });
    return images.map((image) => ({
      image,
      online: online.length,
      ready: rows.filter((row) => row.tag === image && row.status === "READY").length,
      coming: rows.filter((row) => row.tag === image && (row.status === "BUILDING" || row.status === "TRANSFERRING")).length,
    }));
  }),

  saveTemplate: courseStaffProcedure.input(SaveTemplateInput).mutation(async ({ ctx, input }) => {
    const { templateId, ...fields } = input;
    if (templateId) {
      const owned = await ctx.db.environmentTemplate.findFirst({ where: { id: templateId, courseId: ctx.course.id } });
      if (!owned) throw new TRPCError({ code: "NOT_FOUND", message: "No such template in this course." });
      const updated = await ctx.db.environmentTemplate.update({ where: { id: templateId }, data: fields });
      void ctx.pools.push();
      return updated;
    }
    const created = await ctx.db.environmentTemplate.create({ data: { ...fields, courseId: ctx.course.id } });
    if (created.warmPoolSize > 0) void ctx.pools.push();
    return created;
  }),

  lab: courseStaffProcedure.input(z.object({ labId: EntityId })).query(({ ctx, input }) => labInCourse(ctx.db, ctx.course.id, input.labId)),

  saveLab: courseStaffProcedure.input(SaveLabInput).mutation(async ({ ctx, input }) => {
    if (input.labId) await labInCourse(ctx.db, ctx.course.id, input.labId);
    await ensureTemplateInCourse(ctx.db, ctx.course.id, input.templateId);
    const lab = await saveLab(ctx.db, ctx.course.id, input);
    return { labId: lab.id };
  }),

  setPublished: courseStaffProcedure.input(z.object({ labId: EntityId, published: z.boolean() })).mutation(async ({ ctx, input }) => {
    await labInCourse(ctx.db, ctx.course.id, input.labId);
    await ctx.db.lab.update({ where: { id: input.labId }, data: { published: input.published } });
    return { ok: true };
  }),

  exportLab: courseStaffProcedure.input(z.object({ labId: EntityId })).query(async ({ ctx, input }) => {
    const lab = await labInCourse(ctx.db, ctx.course.id, input.labId);
    return { folderName: slugOf(lab.title), files: labToFolder(lab) };
  }),

  /**
   * A lab folder from git (the command line's `lab push`): creates the lab, or updates the
   * course's lab of the same title; steps keep their ids (and students' results) by title.
   */
  pushLab: courseStaffProcedure
    .meta({
      scope: "labs:write",
      openapi: {
        method: "POST",
        path: "/courses/{courseId}/labs",
        tags: ["labs"],
        summary: "Create or update a lab from a lab folder (lab.yaml, instructions.md, steps/, checks/)",
      },
    })
    .input(z.object({ files: ImportLabInput.shape.files, templateId: EntityId.optional() }))
    .output(PushedLab)
    .mutation(async ({ ctx, input }) => {
      const draft = draftOf(input.files);
      const existing = await ctx.db.lab.findUnique({
        where: { courseId_slug: { courseId: ctx.course.id, slug: slugOf(draft.title) } },
        select: { id: true, templateId: true, steps: { select: { id: true, title: true } } },
      });
      const templateId = input.templateId ?? (await defaultTemplateId(ctx.db, ctx.course.id, existing?.templateId));
      await ensureTemplateInCourse(ctx.db, ctx.course.id, templateId);
      const unclaimed = [...(existing?.steps ?? [])];
      const steps = draft.steps.map((step) => {
        const match = unclaimed.findIndex((old) => old.title === step.title);
        return match >= 0 ? { ...step, stepId: unclaimed.splice(match, 1)[0]!.id } : step;
      });
      const lab = await saveLab(ctx.db, ctx.course.id, { ...draft, steps, templateId, labId: existing?.id });
      return { labId: lab.id, steps: draft.steps.length, created: !existing };
    }),

  importLab: courseStaffProcedure
    .input(ImportLabInput.extend({ templateId: ImportLabInput.shape.templateId.pipe(EntityId) }))
    .mutation(async ({ ctx, input }) => {
      await ensureTemplateInCourse(ctx.db, ctx.course.id, input.templateId);
      const draft = draftOf(input.files);
      if (draft.infrastructure) {
        // The lab's infrastructure lives on its template: only a template of this course takes it.
        const owned = await ctx.db.environmentTemplate.count({ where: { id: input.templateId, courseId: ctx.course.id } });
        if (!owned)
          throw new TRPCError({
            code: "BAD_REQUEST",
            message: "This folder declares services or preview ports: choose a template of this course to give them to.",
          });
        const { services, previewPorts } = draft.infrastructure;
        await ctx.db.environmentTemplate.update({
          where: { id: input.templateId },
          data: { ...(services ? { services: ServiceSpecs.parse(services) } : {}), ...(previewPorts ? { previewPorts } : {}) },
        });
      }
      const lab = await saveLab(ctx.db, ctx.course.id, { ...draft, templateId: input.templateId });
      return { labId: lab.id, steps: draft.steps.length };
    }),
});
