/**
 * Downloads of students' files over plain HTTP (a tar is a file to save, not a tRPC answer):
 *   GET /api/labs/<labId>/my-workspace.tar    the caller's own workspace for a lab ("Download my work")
 *   GET /api/environments/<id>/workspace.tar   one workspace: its owner, or course staff
 *   GET /api/labs/<labId>/workspaces.tar      a lab's workspaces, a folder per student: course staff
 * Both are read live from the workers (streamed, never held whole); a workspace whose worker is
 * not reachable from this replica comes from its newest stored export when there is one. Access
 * is the one policy's (server/auth/access.ts); a refusal looks like "no such thing".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "../../common/logger";
import type { AuditLog } from "../audit";
import { canDownloadClassWorkspaces, canDownloadWorkspace, loadCourseRole } from "../auth/access";
import type { ClientAddress } from "../auth/client-address";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { validateSessionToken } from "../auth/sessions";
import type { Database } from "../database/client";
import { classArchive, folderFor } from "./class-archive";
import { WorkspaceTransferError, type WorkspaceTransfers } from "./workspace-transfers";

const ONE = /^\/api\/environments\/([A-Za-z0-9_-]{1,64})\/workspace\.tar$/;
const CLASS = /^\/api\/labs\/([A-Za-z0-9_-]{1,64})\/workspaces\.tar$/;
const MINE = /^\/api\/labs\/([A-Za-z0-9_-]{1,64})\/my-workspace\.tar$/;

export interface WorkspaceDownloadServices {
  db: Database;
  transfers: WorkspaceTransfers;
  audit: AuditLog;
  clientAddress: ClientAddress;
  log: Logger;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = "No such workspace, or it is not yours to download.";
/** A filename safe in a Content-Disposition header. */
const fileName = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 100) || "workspace";

/** The handler for these paths: true when the request was one of them (and is answered). */
export function workspaceDownloads(services: WorkspaceDownloadServices) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const pathname = (req.url ?? "/").split("?")[0]!;
    const one = ONE.exec(pathname);
    const all = CLASS.exec(pathname);
    const mine = MINE.exec(pathname);
    if (!one && !all && !mine) return false;
    const answer =
      req.method !== "GET"
        ? Promise.reject(new Refusal(405, "Use GET."))
        : one
          ? downloadOne(services, req, { id: one[1]! })
          : mine
            ? downloadOne(services, req, { labId: mine[1]! })
            : downloadClass(services, req, all![1]!);
    void answer
      .then(({ filename, source, headers }) => {
        res.writeHead(200, {
          "content-type": "application/x-tar",
          "content-disposition": `attachment; filename="${filename}"`,
          "cache-control": "no-store",
          ...headers,
        });
        return pipeline(source, res).catch((error: Error) => {
          services.log.warn({ path: pathname, err: error.message }, "a workspace download broke off");
        });
      })
      .catch((error: unknown) => {
        const status = error instanceof Refusal ? error.status : 500;
        if (status === 500) services.log.error({ path: pathname, err: (error as Error).message }, "workspace download failed");
        if (res.headersSent) return res.destroy();
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end(`${error instanceof Refusal ? error.message : "The workspace could not be downloaded."}\n`);
      });
    return true;
  };
}

async function signedIn(db: Database, req: IncomingMessage) {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  const session = token ? await validateSessionToken(db, token) : null;
  if (!session) throw new Refusal(401, "Sign in to download.");
  return session.user;
}

/**
 * The workspace's files: live from its worker, else its newest stored export (said in a
 * header), else a refusal that says why.
 */
async function filesOf(transfers: WorkspaceTransfers, environmentId: string): Promise<{ source: Readable; headers: Record<string, string> }> {
  try {
    return { source: await transfers.download(environmentId), headers: { "x-shellroom-workspace-source": "live" } };
  } catch (error) {
    if (!(error instanceof WorkspaceTransferError)) throw error;
    if (error.code === "no_workspace") throw new Refusal(404, error.message);
    const stored = await transfers.store.latest(environmentId);
    if (!stored)
      throw new Refusal(503, "The machine that holds this workspace is not reachable right now, and it has no stored copy. Try again in a few minutes.");
    return { source: transfers.store.open(stored), headers: { "x-shellroom-workspace-source": `export ${stored.createdAt.toISOString()}` } };
  }
}

/** An environment by its id, or the caller's own for a lab. */
async function downloadOne(services: WorkspaceDownloadServices, req: IncomingMessage, which: { id: string } | { labId: string }) {
  const { db } = services;
  const actor = await signedIn(db, req);
  const environment = await db.environment.findUnique({
    where: "id" in which ? { id: which.id } : { userId_labId: { userId: actor.id, labId: which.labId } },
    select: { id: true, userId: true, lab: { select: { slug: true, courseId: true } }, user: { select: { displayName: true } } },
  });
  if (!environment) throw new Refusal(404, NOT_FOUND);
  const courseRole = environment.userId === actor.id ? null : await loadCourseRole(db, actor, environment.lab.courseId);
  if (!canDownloadWorkspace(actor, environment, courseRole)) throw new Refusal(404, NOT_FOUND);
  const files = await filesOf(services.transfers, environment.id);
  if (environment.userId !== actor.id) {
    await services.audit.record({
      action: "workspace.downloaded",
      actorId: actor.id,
      subjectType: "Environment",
      subjectId: environment.id,
      courseId: environment.lab.courseId,
      ip: services.clientAddress(req),
    });
  }
  const who = environment.userId === actor.id ? "workspace" : environment.user.displayName;
  return { filename: `${fileName(`${environment.lab.slug}-${who}`)}.tar`, ...files };
}

async function downloadClass(services: WorkspaceDownloadServices, req: IncomingMessage, labId: string) {
  const { db } = services;
  const actor = await signedIn(db, req);
  const lab = await db.lab.findUnique({ where: { id: labId }, select: { id: true, slug: true, courseId: true } });
  if (!lab || !canDownloadClassWorkspaces(await loadCourseRole(db, actor, lab.courseId))) {
    throw new Refusal(404, "No such lab, or you may not download its workspaces.");
  }
  const environments = await db.environment.findMany({
    where: { labId, volumeName: { not: null } },
    select: { id: true, userId: true, user: { select: { displayName: true } } },
    orderBy: [{ user: { displayName: "asc" } }, { userId: "asc" }],
  });
  await services.audit.record({
    action: "workspace.downloaded",
    actorId: actor.id,
    subjectType: "Lab",
    subjectId: lab.id,
    courseId: lab.courseId,
    ip: services.clientAddress(req),
    details: { workspaces: environments.length },
  });
  const source = classArchive(
    environments.map((environment) => ({
      folder: folderFor(environment.user.displayName, environment.userId),
      open: async () => (await filesOf(services.transfers, environment.id)).source,
    })),
    (folder, why) => services.log.warn({ labId, folder, err: why }, "a workspace was left out of the class archive"),
  );
  return { filename: `${fileName(lab.slug)}-workspaces.tar`, source, headers: {} };
}
