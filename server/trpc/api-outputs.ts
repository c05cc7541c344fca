/**
 * The answers of the procedures the REST surface (/api/v1) exposes, as zod schemas: tRPC
 * checks each answer against its schema, and trpc-to-openapi writes them into the OpenAPI
 * document. Only what an integration needs; the pages' own procedures keep their shapes.
 */
import { z } from "zod";
import { API_SCOPES, COURSE_ROLES } from "../auth/access";

const LabSummary = z.object({ id: z.string(), title: z.string(), published: z.boolean() });

export const MyCourses = z.array(
  z.object({ id: z.string(), title: z.string(), description: z.string(), role: z.enum(COURSE_ROLES), labs: z.array(LabSummary) }),
);

export const CreatedCourse = z.object({ id: z.string() });

export const CourseMembers = z.array(
  z.object({ id: z.string(), displayName: z.string(), email: z.string().nullable(), role: z.enum(COURSE_ROLES), joinedAt: z.date() }),
);

export const AddedMember = z.object({ userId: z.string(), role: z.enum(COURSE_ROLES), created: z.boolean() });

export const ProgressExport = z.object({ filename: z.string(), csv: z.string() });

export const PushedLab = z.object({ labId: z.string(), steps: z.number().int(), created: z.boolean() });

export const CourseEnvironments = z.array(
  z.object({
    id: z.string(),
    state: z.string(),
    stopReason: z.string().nullable(),
    userId: z.string(),
    displayName: z.string(),
    labId: z.string(),
    labTitle: z.string(),
    startedAt: z.date().nullable(),
    stoppedAt: z.date().nullable(),
  }),
);

export const StoppedEnvironment = z.object({ state: z.literal("STOPPED") });

export const ApiScopeList = z.array(z.enum(API_SCOPES));
