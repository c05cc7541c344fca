/**
 * Webhooks: a URL and a secret that receive a course's signed events (server/webhooks/), or
 * every course's when no course is named. Course staff manage their course's; administrators
 * the global ones (common/access.ts, canManageWebhooks). The secret is in `create`'s answer only.
 */
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { canManageWebhooks, loadCourseRole } from "../../auth/access";
import { WEBHOOK_EVENTS } from "../../webhooks/webhook-events";
import { protectedProcedure, router, type Context } from "../trpc";

const WebhookUrl = z.url({ protocol: /^https?$/, error: "Enter an http:// or https:// address" }).max(2000);

type Caller = Pick<Context, "db"> & { auth: NonNullable<Context["auth"]> };

/** Refuses unless the caller manages the webhooks of `courseId` (null: every course's). */
async function authorize(ctx: Caller, courseId: string | null) {
  const courseRole = courseId ? await loadCourseRole(ctx.db, ctx.auth.user, courseId) : null;
  if (!canManageWebhooks(ctx.auth.user, courseRole, courseId === null)) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: courseId ? "Only the course's staff manage its webhooks." : "Only administrators manage webhooks for every course.",
    });
  }
}

async function ownedWebhook(ctx: Caller, webhookId: string) {
  const webhook = await ctx.db.webhook.findUnique({ where: { id: webhookId }, select: { id: true, courseId: true } });
  if (!webhook) throw new TRPCError({ code: "NOT_FOUND", message: "No such webhook." });
  await authorize(ctx, webhook.courseId);
  return webhook;
}

export const webhookRouter = router({
  list: protectedProcedure.input(z.object({ courseId: EntityId.nullable() })).query(async ({ ctx, input }) => {
    await authorize(ctx, input.courseId);
    return ctx.db.webhook.findMany({
      where: { courseId: input.courseId },
      orderBy: { createdAt: "asc" },
      select: { id: true, url: true, events: true, active: true, createdAt: true },
    });
  }),

  create: protectedProcedure
    .input(
      z.object({
        courseId: EntityId.nullable(),
        url: WebhookUrl,
        events: z.array(z.enum(WEBHOOK_EVENTS)).max(WEBHOOK_EVENTS.length).default([]),
        secret: z.string().min(16).max(200).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await authorize(ctx, input.courseId);
      const secret = input.secret ?? `whsec_${randomBytes(24).toString("base64url")}`;
      const webhook = await ctx.db.webhook.create({
        data: { courseId: input.courseId, url: input.url, secret, events: [...new Set(input.events)], createdById: ctx.auth.user.id },
        select: { id: true },
      });
      await ctx.audit.record({
        action: "webhook.created",
        actorId: ctx.auth.user.id,
        subjectType: "Webhook",
        subjectId: webhook.id,
        courseId: input.courseId,
        ip: ctx.ip,
        details: { url: input.url },
      });
      return { id: webhook.id, secret };
    }),

  remove: protectedProcedure.input(z.object({ webhookId: EntityId })).mutation(async ({ ctx, input }) => {
    const webhook = await ownedWebhook(ctx, input.webhookId);
    await ctx.db.webhook.delete({ where: { id: webhook.id } });
    await ctx.audit.record({
      action: "webhook.removed",
      actorId: ctx.auth.user.id,
      subjectType: "Webhook",
      subjectId: webhook.id,
      courseId: webhook.courseId,
      ip: ctx.ip,
    });
    return { ok: true };
  }),

  /** The latest deliveries: what was sent, how often it was tried, the receiver's last answer. */
  deliveries: protectedProcedure.input(z.object({ webhookId: EntityId })).query(async ({ ctx, input }) => {
    const webhook = await ownedWebhook(ctx, input.webhookId);
    return ctx.db.webhookDelivery.findMany({
      where: { webhookId: webhook.id },
      orderBy: { createdAt: "desc" },
      take: 50,
      select: {
        id: true,
        event: true,
        status: true,
        attempts: true,
        lastStatusCode: true,
        lastError: true,
        createdAt: true,
        lastAttemptAt: true,
        deliveredAt: true,
      },
    });
  }),
});
