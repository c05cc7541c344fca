/**
 * API tokens: a person's own (acting as them, made on the account page) and service tokens
 * (acting as a service account of their own, made by an administrator). The secret is in the
 * answer to `create` only. None of these procedures names a scope: a token cannot make tokens.
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { API_SCOPES, SERVICE_ACCOUNT_ROLES, canRevokeToken } from "../../auth/access";
import { MAX_TOKEN_DAYS, createApiToken, type NewApiToken } from "../../auth/api-tokens";
import { adminProcedure, protectedProcedure, router, type Context } from "../trpc";

const TokenFields = z.object({
  name: z.string().trim().min(1, "Name the token").max(80),
  scopes: z.array(z.enum(API_SCOPES)).min(1, "Choose at least one scope").max(API_SCOPES.length),
  days: z.number().int().min(1).max(MAX_TOKEN_DAYS).default(90),
});

const LISTED = { id: true, name: true, prefix: true, kind: true, scopes: true, expiresAt: true, lastUsedAt: true, revokedAt: true, createdAt: true } as const;

async function issue(ctx: Pick<Context, "db" | "audit" | "ip"> & { auth: { user: { id: string } } }, token: NewApiToken) {
  const created = await createApiToken(ctx.db, token);
  await ctx.audit.record({
    action: "api_token.created",
    actorId: ctx.auth.user.id,
    subjectType: "ApiToken",
    subjectId: created.id,
    ip: ctx.ip,
    details: { kind: token.kind, scopes: token.scopes.join(" ") },
  });
  return { id: created.id, prefix: created.prefix, expiresAt: created.expiresAt, secret: created.secret };
}

export const apiTokenRouter = router({
  mine: protectedProcedure.query(({ ctx }) =>
    ctx.db.apiToken.findMany({ where: { userId: ctx.auth.user.id, kind: "PERSONAL" }, orderBy: { createdAt: "desc" }, select: LISTED }),
  ),

  create: protectedProcedure
    .input(TokenFields)
    .mutation(({ ctx, input }) => issue(ctx, { ...input, kind: "PERSONAL", userId: ctx.auth.user.id, createdById: ctx.auth.user.id })),

  revoke: protectedProcedure.input(z.object({ tokenId: EntityId })).mutation(async ({ ctx, input }) => {
    const token = await ctx.db.apiToken.findUnique({ where: { id: input.tokenId }, select: { userId: true, revokedAt: true } });
    // Someone else's token looks like no token, so ids cannot be probed.
    if (!token || !canRevokeToken(ctx.auth.user, token)) throw new TRPCError({ code: "NOT_FOUND", message: "No such token." });
    if (!token.revokedAt) await ctx.db.apiToken.update({ where: { id: input.tokenId }, data: { revokedAt: new Date() } });
    await ctx.audit.record({ action: "api_token.revoked", actorId: ctx.auth.user.id, subjectType: "ApiToken", subjectId: input.tokenId, ip: ctx.ip });
    return { ok: true };
  }),

  services: adminProcedure.query(({ ctx }) =>
    ctx.db.apiToken.findMany({
      where: { kind: "SERVICE" },
      orderBy: { createdAt: "desc" },
      select: { ...LISTED, user: { select: { id: true, displayName: true, role: true } } },
    }),
  ),

  /** A service account (no email, no password) with the given global role, and its token. */
  createService: adminProcedure.input(TokenFields.extend({ role: z.enum(SERVICE_ACCOUNT_ROLES) })).mutation(async ({ ctx, input }) => {
    const account = await ctx.db.user.create({ data: { displayName: `${input.name} (service)`, role: input.role }, select: { id: true } });
    return issue(ctx, { name: input.name, scopes: input.scopes, days: input.days, kind: "SERVICE", userId: account.id, createdById: ctx.auth.user.id });
  }),
});
