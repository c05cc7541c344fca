/**
 * The /worker namespace: workers dial in with a token, register, heartbeat, and stream
 * terminal output, which is fanned out to the browsers watching that terminal.
 */
import { timingSafeEqual } from "node:crypto";
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import {
  BuildLogLine, Heartbeat, TerminalExit, TerminalOutput, WorkerHandshake, WorkerToServer,
} from "../../protocol/worker-messages";
import { ServerToBrowser, type BrowserOutput } from "../../protocol/browser-messages";
import type { Database } from "../database/client";
import type { HeartbeatStore } from "../workers/heartbeats";
import { workerRoom } from "../workers/worker-link";
import { terminalRoom } from "./rooms";

function tokensMatch(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function attachWorkerGateway(options: {
  workers: Namespace;
  terminals: Namespace;
  db: Database;
  workerToken: string;
  log: Logger;
  onBuildLog(buildId: string, line: string): void;
  /** Called once a worker is registered, to reconcile its containers with the records. */
  onWorkerConnected(workerId: string): Promise<unknown>;
  heartbeats: HeartbeatStore;
}) {
  const { workers, terminals, db, log } = options;

  workers.use((socket, next) => {
    const handshake = WorkerHandshake.safeParse(socket.handshake.auth);
    if (!handshake.success || !tokensMatch(options.workerToken, handshake.data.token)) {
      log.warn({ address: socket.handshake.address }, "refused a worker: bad worker token or handshake");
      return next(new Error("invalid worker token"));
    }
    socket.data.worker = handshake.data;
    next();
  });

  workers.on("connection", async (socket: Socket) => {
    const worker: WorkerHandshake = socket.data.worker;
    const workerLog = log.child({ workerId: worker.workerId });
    await socket.join(workerRoom(worker.workerId));
    const record = {
      name: worker.name,
      status: "ONLINE" as const,
      maxEnvironments: worker.capacity.maxEnvironments,
      memoryBytes: BigInt(worker.capacity.memoryBytes),
      connectedAt: new Date(),
      lastHeartbeatAt: new Date(),
    };
    await db.worker.upsert({ where: { id: worker.workerId }, create: { id: worker.workerId, ...record }, update: record });
    await options.heartbeats.beat(worker.workerId);
    workerLog.info({ name: worker.name }, "worker connected");
    void options.onWorkerConnected(worker.workerId).catch((error: Error) => workerLog.error({ err: error.message }, "reconcile failed"));

    let lastLoad = { runningEnvironments: -1, openTerminals: -1 };
    socket.on(WorkerToServer.heartbeat, async (payload: unknown) => {
      const beat = Heartbeat.safeParse(payload);
      if (!beat.success) return;
      await options.heartbeats.beat(worker.workerId)
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not record heartbeat"));
      // The record changes only when the worker's load does (not on every beat).
      const load = { runningEnvironments: beat.data.runningEnvironments, openTerminals: beat.data.openTerminals };
      if (load.runningEnvironments !== lastLoad.runningEnvironments || load.openTerminals !== lastLoad.openTerminals) {
        lastLoad = load;
        await db.worker.update({ where: { id: worker.workerId }, data: { status: "ONLINE", ...load } })
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not record worker load"));
      }
      // Terminal activity keeps environments from being culled as idle.
      for (const [environmentId, at] of Object.entries(beat.data.activity)) {
        await db.environment.updateMany({ where: { id: environmentId, workerId: worker.workerId }, data: { lastActivityAt: new Date(Math.min(at, Date.now())) } })
          .catch((error: Error) => workerLog.error({ environmentId, err: error.message }, "could not record activity"));
      }
    });

    socket.on(WorkerToServer.terminalOutput, (payload: unknown) => {
      const output = TerminalOutput.safeParse(payload);
      if (!output.success) return;
      const { environmentId, terminalId, data, offset } = output.data;
      const message: BrowserOutput = { environmentId, terminalId, data, offset };
      terminals.to(terminalRoom(environmentId, terminalId)).emit(ServerToBrowser.output, message);
    });

    socket.on(WorkerToServer.terminalExit, (payload: unknown) => {
      const exit = TerminalExit.safeParse(payload);
      if (!exit.success) return;
      const { environmentId, terminalId, exitCode } = exit.data;
      terminals.to(terminalRoom(environmentId, terminalId)).emit(ServerToBrowser.exit, { environmentId, terminalId, exitCode });
    });

    socket.on(WorkerToServer.buildLog, (payload: unknown) => {
      const entry = BuildLogLine.safeParse(payload);
      if (entry.success) options.onBuildLog(entry.data.buildId, entry.data.line);
    });

    socket.on("disconnect", async (reason) => {
      workerLog.warn({ reason }, "worker disconnected");
      const stillConnected = (await workers.in(workerRoom(worker.workerId)).fetchSockets()).length > 0;
      if (!stillConnected) {
        await db.worker.update({ where: { id: worker.workerId }, data: { status: "OFFLINE" } })
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not mark worker offline"));
      }
    });
  });
}
