import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { Bounds } from "../../../common/input-bounds";
import { GLOBAL_ROLES } from "../../auth/access";
import { createPasswordReset } from "../../auth/password-reset";
import { adminProcedure, router } from "../trpc";
import { EntityId } from "../../../protocol/ids";
import { WorkerHandshake } from "../../../protocol/worker-messages";
import { NoSuchWorkerError, WORKER_SCHEDULINGS, setWorkerScheduling, workerOverview } from "../../workers/worker-scheduling";
import { WorkspaceTransferError, type TransferRefusal } from "../../workspaces/workspace-transfers";

export const adminRouter = router({
  users: adminProcedure.input(z.object({ search: z.string().trim().max(Bounds.userSearch.max).default("") }).default({ search: "" })).query(({ ctx, input }) =>
    ctx.db.user.findMany({
      where: input.search
        ? { OR: [{ displayName: { contains: input.search, mode: "insensitive" } }, { email: { contains: input.search, mode: "insensitive" } }] }
        : {},
      orderBy: { createdAt: "asc" },
      take: 500,
      select: { id: true, displayName: true, email: true, role: true, createdAt: true },
    }),
  ),

  setRole: adminProcedure.input(z.object({ userId: z.string().min(1).max(64), role: z.enum(GLOBAL_ROLES) })).mutation(async ({ ctx, input }) => {
    if (input.userId === ctx.auth.user.id) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot change your own role." });
    const user = await ctx.db.user.findUnique({ where: { id: input.userId }, select: { role: true } });
    if (!user) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
    await ctx.db.user.update({ where: { id: input.userId }, data: { role: input.role } });
    // Live sockets carry the role they connected with: end them, and they reconnect with the new one.
    ctx.sockets.disconnectUser(input.userId);
    await ctx.audit.record({
      action: "user.role_changed",
      actorId: ctx.auth.user.id,
      subjectType: "User",
      subjectId: input.userId,
      ip: ctx.ip,
      details: { from: user.role, to: input.role },
    });
    return { ok: true };
  }),

  /** Every worker with its scheduling (cordon, drain) and what still lives on it. */
  workers: adminProcedure.query(({ ctx }) => workerOverview(ctx.db)),

  /** Cordon (no new placements), drain (also move each environment at its next start), or open a worker again. */
  setWorkerScheduling: adminProcedure
    .input(z.object({ workerId: WorkerHandshake.shape.workerId, scheduling: z.enum(WORKER_SCHEDULINGS) }))
    .mutation(async ({ ctx, input }) => {
      let from: string;
      try {
        ({ from } = await setWorkerScheduling(ctx.db, input.workerId, input.scheduling));
      } catch (error) {
        if (error instanceof NoSuchWorkerError) throw new TRPCError({ code: "NOT_FOUND", message: error.message });
        throw error;
      }
      await ctx.audit.record({
        action: "worker.scheduling_changed",
        actorId: ctx.auth.user.id,
        subjectType: "Worker",
        subjectId: input.workerId,
        ip: ctx.ip,
        details: { from, to: input.scheduling },
      });
      return { ok: true };
    }),

  /** Exports every workspace on a worker to the export store now (before maintenance or a drain). */
  exportWorkerWorkspaces: adminProcedure
    .input(z.object({ workerId: WorkerHandshake.shape.workerId }))
    .mutation(({ ctx, input }) => ctx.workspaces.snapshots.exportWorker(input.workerId)),

  /** Environments whose worker is not online (lost, or offline), with their newest stored export. */
  strandedWorkspaces: adminProcedure.query(async ({ ctx }) => {
    const stranded = await ctx.db.environment.findMany({
      where: { worker: { status: { not: "ONLINE" } } },
      orderBy: [{ workerId: "asc" }, { createdAt: "asc" }],
      take: 500,
      select: { id: true, state: true, workerId: true, user: { select: { displayName: true } }, lab: { select: { title: true } } },
    });
    return Promise.all(
      stranded.map(async (environment) => {
        const latest = await ctx.workspaces.transfers.store.latest(environment.id);
        return { ...environment, latestExport: latest ? { createdAt: latest.createdAt, sizeBytes: latest.sizeBytes } : null };
      }),
    );
  }),

  /** Restores an environment's newest export onto another worker: its student's next start runs there, with those files. */
  restoreWorkspace: adminProcedure.input(z.object({ environmentId: EntityId, workerId: WorkerHandshake.shape.workerId })).mutation(async ({ ctx, input }) => {
    try {
      const restored = await ctx.workspaces.transfers.restore(input.environmentId, input.workerId);
      await ctx.audit.record({
        action: "workspace.restored",
        actorId: ctx.auth.user.id,
        subjectType: "Environment",
        subjectId: input.environmentId,
        ip: ctx.ip,
        details: { workerId: input.workerId, exportedAt: restored.createdAt.toISOString() },
      });
      return { restoredFrom: restored.createdAt };
    } catch (error) {
      if (!(error instanceof WorkspaceTransferError)) throw error;
      throw new TRPCError({ code: TRANSFER_REFUSALS[error.code], message: error.message, cause: error });
    }
  }),

  /** A one-time link that sets the user's password: shown to the administrator once, only its hash is kept. */
  createPasswordResetLink: adminProcedure.input(z.object({ userId: z.string().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.user.findUnique({ where: { id: input.userId }, select: { id: true } });
    if (!user) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
    const reset = await createPasswordReset(ctx.db, user.id, ctx.auth.user.id);
    await ctx.audit.record({ action: "auth.password_reset_link_created", actorId: ctx.auth.user.id, subjectType: "User", subjectId: user.id, ip: ctx.ip });
    return { path: reset.path, expiresAt: reset.expiresAt };
  }),
});

/** How a refused transfer reads over HTTP (the page decides on the code). */
const TRANSFER_REFUSALS: Record<TransferRefusal, TRPCError["code"]> = {
  no_workspace: "NOT_FOUND",
  no_export: "NOT_FOUND",
  busy: "CONFLICT",
  worker_unavailable: "SERVICE_UNAVAILABLE",
  failed: "INTERNAL_SERVER_ERROR",
};
