/**
 * The /worker namespace: workers dial in with a token, register, heartbeat, and stream
 * terminal output, which is fanned out to the browsers watching that terminal.
 */
import { timingSafeEqual } from "node:crypto";
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import {
  BuildLogLine, Heartbeat, TerminalExit, TerminalOutput, TerminalTabs, WorkerHandshake, WorkerToServer,
} from "../../protocol/worker-messages";
import { ServerToBrowser, type TerminalTabs as BrowserTabs } from "../../protocol/browser-messages";
import type { Database } from "../database/client";
import type { UsageStore } from "../workers/environment-usage";
import type { HeartbeatStore } from "../workers/heartbeats";
import { workerRoom } from "../workers/worker-link";
import { environmentRoom } from "./rooms";
import type { TerminalOutputBus } from "./terminal-output-bus";

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
  usage: UsageStore;
  /** Terminal output and exits, to browsers on every replica. */
  output: TerminalOutputBus;
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
      if (Object.keys(beat.data.usage).length > 0) {
        await options.usage.record(beat.data.usage).catch((error: Error) => workerLog.error({ err: error.message }, "could not record usage"));
      }
      // Terminal activity keeps environments from being culled as idle.
      for (const [environmentId, at] of Object.entries(beat.data.activity)) {
        await db.environment.updateMany({ where: { id: environmentId, workerId: worker.workerId }, data: { lastActivityAt: new Date(Math.min(at, Date.now())) } })
          .catch((error: Error) => workerLog.error({ environmentId, err: error.message }, "could not record activity"));
      }
    });

    socket.on(WorkerToServer.terminalOutput, (payload: unknown, ack?: unknown) => {
      const done = () => { if (typeof ack === "function") ack(); };
      const output = TerminalOutput.safeParse(payload);
      // Acknowledged even when malformed: the worker's window must not stall on it.
      if (!output.success) return done();
      // Acknowledged once handed over: the worker's window then bounds what is in flight.
      options.output.publish({ kind: "output", ...output.data })
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not relay terminal output"))
        .finally(done);
    });

    socket.on(WorkerToServer.terminalExit, (payload: unknown) => {
      const exit = TerminalExit.safeParse(payload);
      if (!exit.success) return;
      void options.output.publish({ kind: "exit", ...exit.data })
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not relay a terminal's exit"));
    });

    socket.on(WorkerToServer.terminalTabs, (payload: unknown) => {
      const tabs = TerminalTabs.safeParse(payload);
      if (!tabs.success) return;
      terminals.to(environmentRoom(tabs.data.environmentId))
        .emit(ServerToBrowser.tabs, { environmentId: tabs.data.environmentId, terminals: tabs.data.terminalIds } satisfies BrowserTabs);
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
