/**
 * Workspaces that move: a student's files read live from their worker (a download), kept in
 * the export store (an export or a snapshot), copied from one worker to another (a drained
 * worker's environment at its next start), or restored from the store onto another worker (a
 * lost host). The bytes travel as byte streams on the workers' sockets (worker-streams.ts) and
 * pass through this replica; a copy never touches its disk. The worker unpacks every archive
 * in a throwaway container (runtime-worker/docker/workspace-archive.ts).
 */
import type { Readable } from "node:stream";
import type { Logger } from "../../common/logger";
import { StreamError } from "../../protocol/byte-stream";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import type { EnvironmentState } from "../../generated/prisma/client";
import type { Database } from "../database/client";
import { environmentSpecOf } from "../environments/template-spec";
import { WorkerUnavailableError } from "../workers/worker-link";
import type { WorkerStreams } from "../workers/worker-streams";
import type { ExportStore, StoredExport } from "./export-store";

/** Why a transfer did not happen; pages and the admin decide on the code. */
export type TransferRefusal = "no_workspace" | "no_export" | "busy" | "worker_unavailable" | "failed";

export class WorkspaceTransferError extends Error {
  override name = "WorkspaceTransferError";
  constructor(
    readonly code: TransferRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** An import of a whole workspace may take a while (a few GiB through one replica). */
const IMPORT_TIMEOUT_MS = 30 * 60_000;
/** States with no container to keep in step: a workspace may be put elsewhere under them. */
const AT_REST: EnvironmentState[] = ["PENDING", "STOPPED", "FAILED", "INTERRUPTED"];

/**
 * The name a workspace takes where it lands: new each time, so it never meets a volume (or a
 * host's image file) of the same name left behind, e.g. by a lost host that comes back.
 */
export const landingVolumeName = (environmentId: string) => `shellroom-ws-${environmentId}-${Date.now().toString(36)}`;

/** A stream's or a worker's failure, in the transfer's codes. */
function refusalOf(error: unknown): WorkspaceTransferError {
  if (error instanceof WorkspaceTransferError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof WorkerUnavailableError) return new WorkspaceTransferError("worker_unavailable", message);
  if (error instanceof StreamError) {
    const code = error.code === "no_workspace" || error.code === "worker_unavailable" ? error.code : "failed";
    return new WorkspaceTransferError(code, message);
  }
  return new WorkspaceTransferError("failed", message);
}

export class WorkspaceTransfers {
  constructor(
    private readonly db: Database,
    private readonly streams: Pick<WorkerStreams, "download" | "upload">,
    readonly store: ExportStore,
    private readonly log: Logger,
  ) {}

  /** The environment's files, live from its worker (which must be connected to this replica). */
  async download(environmentId: string): Promise<Readable> {
    const environment = await this.db.environment.findUniqueOrThrow({ where: { id: environmentId }, include: { template: true } });
    if (!environment.workerId || !environment.volumeName) {
      throw new WorkspaceTransferError("no_workspace", "This environment has no workspace yet: start it once first.");
    }
    try {
      return await this.streams.download(environment.workerId, WorkerRequests.exportWorkspace, environmentSpecOf(environment.template, environment));
    } catch (error) {
      throw refusalOf(error);
    }
  }

  /** Reads the environment's files from its worker into the export store. */
  async exportToStore(environmentId: string): Promise<StoredExport> {
    const archive = await this.download(environmentId);
    try {
      const stored = await this.store.save(environmentId, archive);
      this.log.info({ environmentId, sizeBytes: stored.sizeBytes }, "workspace exported");
      return stored;
    } catch (error) {
      throw refusalOf(error);
    }
  }

  /** Copies a workspace from one worker to another, straight through; the target's (new) volume name. */
  async copy(spec: EnvironmentSpec, from: string, to: string): Promise<string> {
    try {
      const archive = await this.streams.download(from, WorkerRequests.exportWorkspace, spec);
      const landing = { ...spec, volumeName: landingVolumeName(spec.environmentId) };
      const reply = await this.streams.upload(to, WorkerRequests.importWorkspace, landing, archive, IMPORT_TIMEOUT_MS);
      if (!reply.ok) throw new WorkspaceTransferError("failed", reply.error);
      this.log.info({ environmentId: spec.environmentId, from, to }, "workspace copied to another worker");
      return reply.volumeName;
    } catch (error) {
      throw refusalOf(error);
    }
  }

  /**
   * Puts the environment's newest stored export onto `workerId` and records that its workspace
   * lives there now: its student's next start runs there, with those files. Only while it is
   * at rest (stopped, failed, interrupted): a running container would not see the files.
   */
  async restore(environmentId: string, workerId: string): Promise<StoredExport> {
    const environment = await this.db.environment.findUniqueOrThrow({ where: { id: environmentId }, include: { template: true } });
    if (!AT_REST.includes(environment.state)) {
      throw new WorkspaceTransferError("busy", `This environment is ${environment.state.toLowerCase()}: stop it before restoring its workspace.`);
    }
    const stored = await this.store.latest(environmentId);
    if (!stored) throw new WorkspaceTransferError("no_export", "This environment has no stored export to restore.");
    let volumeName: string;
    try {
      const reply = await this.streams.upload(
        workerId,
        WorkerRequests.importWorkspace,
        environmentSpecOf(environment.template, { ...environment, volumeName: landingVolumeName(environment.id) }),
        this.store.open(stored),
        IMPORT_TIMEOUT_MS,
      );
      if (!reply.ok) throw new WorkspaceTransferError("failed", reply.error);
      volumeName = reply.volumeName;
    } catch (error) {
      throw refusalOf(error);
    }
    // Only if nothing moved it meanwhile (a start, another restore): the record follows the files.
    const moved = await this.db.environment.updateMany({
      where: { id: environmentId, state: { in: AT_REST }, workerId: environment.workerId },
      data: { workerId, volumeName, containerId: null },
    });
    if (moved.count === 0) throw new WorkspaceTransferError("busy", "The environment changed while its workspace was restored: try again.");
    this.log.info({ environmentId, from: environment.workerId, to: workerId, export: stored.name }, "workspace restored from its export");
    return stored;
  }
}
