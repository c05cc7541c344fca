/**
 * The /worker namespace: workers dial in with a credential of their own (bound to their id),
 * register, heartbeat, and stream terminal output, which is fanned out to the browsers
 * watching that terminal. A worker speaks only for itself: one connection per id, and what it
 * reports is accepted only for the environments (and builds) placed on it.
 */
import type { IncomingMessage } from "node:http";
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import { WORKER_ID_HEADER, WORKER_TOKEN_HEADER, WorkerHandshake } from "../../protocol/worker-messages";
import { ServerToWorkerMessages, WorkerMessages } from "../../protocol/worker-contract";
import { outputAcksOn } from "./output-acks";
import { inputAnswered } from "../workers/pending-inputs";
import { readMessage, throttledReport } from "../../protocol/contract";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { type TerminalTabs as BrowserTabs } from "../../protocol/browser-contract";
import type { Database } from "../database/client";
import type { UsageStore } from "../workers/environment-usage";
import type { HeartbeatStore } from "../workers/heartbeats";
import { PlacementCheck } from "../workers/placement-check";
import { workerTokenValid } from "../workers/worker-credentials";
import { workerRoom } from "../workers/worker-link";
import type { WorkerStreams } from "../workers/worker-streams";
import { environmentRoom } from "./rooms";
import type { TerminalOutputBus } from "./terminal-output-bus";

/** Why a worker's connection was refused; the worker decides on the code whether retrying helps. */
export const WorkerRefusal = {
  badCredential: "WORKER_CREDENTIAL_INVALID",
  idInUse: "WORKER_ID_IN_USE",
} as const;

/** What the handshake middleware leaves on an admitted worker's socket. */
interface WorkerSocketData {
  worker: WorkerHandshake;
}

/** The workers connected to this replica (not through the adapter): the ones it can stream bytes with. */
export function workersConnectedHere(workers: Namespace): string[] {
  return [...workers.sockets.values()].flatMap((socket) => {
    const { worker } = socket.data as Partial<WorkerSocketData>;
    return worker ? [worker.workerId] : [];
  });
}

const refusal = (code: string, message: string) => Object.assign(new Error(message), { data: { code } });

/**
 * Vets a worker's HTTP request (headers) before socket.io reads a message from it: only a
 * worker with a valid credential may send the worker link's large messages.
 */
export function workerRequestAllowed(secret: string, request: IncomingMessage): boolean {
  const workerId = request.headers[WORKER_ID_HEADER];
  const token = request.headers[WORKER_TOKEN_HEADER];
  return (
    typeof workerId === "string" &&
    typeof token === "string" &&
    WorkerHandshake.shape.workerId.safeParse(workerId).success &&
    workerTokenValid(secret, workerId, token)
  );
}

export function attachWorkerGateway(options: {
  workers: Namespace;
  terminals: Namespace;
  db: Database;
  /** The server's secret that each worker's token is derived from. */
  workerSecret: string;
  log: Logger;
  onBuildLog(buildId: string, line: string, workerId: string): void;
  /** A worker said which images it holds (at hello, and in a heartbeat when that changed). */
  onImagesReported(workerId: string, tags: string[]): Promise<unknown>;
  /** Called once a worker is registered, to reconcile its containers with the records. */
  onWorkerConnected(workerId: string): Promise<unknown>;
  heartbeats: HeartbeatStore;
  usage: UsageStore;
  /** Terminal output and exits, to browsers on every replica. */
  output: TerminalOutputBus;
  /** Byte streams (tarballs, image archives) ride on each worker's socket. */
  streams: WorkerStreams;
}) {
  const { workers, terminals, db, log } = options;

  /** Ids connected (or being admitted) on this replica: a second connection for one is refused. */
  const admitted = new Map<string, string>();

  workers.use(async (socket, next) => {
    const handshake = WorkerHandshake.safeParse(socket.handshake.auth);
    if (
      !handshake.success ||
      !workerTokenValid(options.workerSecret, handshake.data.workerId, handshake.data.token) ||
      socket.handshake.headers[WORKER_ID_HEADER] !== handshake.data.workerId
    ) {
      log.warn({ address: socket.handshake.address, workerId: handshake.data?.workerId }, "refused a worker: its token is not this worker id's");
      return next(refusal(WorkerRefusal.badCredential, "invalid worker token for this worker id"));
    }
    const { workerId } = handshake.data;
    // The first connection keeps its traffic: a newcomer with a live id is refused, never preferred.
    const inUse = () => refusal(WorkerRefusal.idInUse, `a worker with id ${workerId} is already connected`);
    if (admitted.has(workerId)) {
      log.warn({ workerId, address: socket.handshake.address }, "refused a second connection for a connected worker id");
      return next(inUse());
    }
    admitted.set(workerId, socket.id);
    try {
      // Other replicas too (through the adapter): the worker may be connected to any of them.
      const elsewhere = (await workers.in(workerRoom(workerId)).fetchSockets()).filter((other) => other.id !== socket.id);
      if (elsewhere.length > 0) {
        admitted.delete(workerId);
        log.warn({ workerId, address: socket.handshake.address }, "refused a second connection for a connected worker id");
        return next(inUse());
      }
    } catch (error) {
      admitted.delete(workerId);
      return next(refusal(WorkerRefusal.idInUse, `could not check that worker id ${workerId} is free: ${(error as Error).message}`));
    }
    if (socket.conn.readyState !== "open") {
      admitted.delete(workerId); // it left while we looked: socket.io will not connect it
      return next(refusal(WorkerRefusal.idInUse, "the connection closed during admission"));
    }
    (socket.data as WorkerSocketData).worker = handshake.data;
    next();
  });

  workers.on("connection", async (socket: Socket) => {
    const { worker } = socket.data as WorkerSocketData;
    const workerLog = log.child({ workerId: worker.workerId });
    const placed = new PlacementCheck(db, worker.workerId);
    const registered = register(socket, worker);
    // Before any await: a connection that drops while it registers must still free its id,
    // and be recorded offline after its registration (never left "ONLINE" with nobody there).
    socket.once("disconnect", async (reason) => {
      if (admitted.get(worker.workerId) === socket.id) admitted.delete(worker.workerId);
      workerLog.warn({ reason }, "worker disconnected");
      await registered.catch(() => undefined);
      const stillConnected = (await workers.in(workerRoom(worker.workerId)).fetchSockets()).length > 0;
      if (!stillConnected) {
        await db.worker
          .update({ where: { id: worker.workerId }, data: { status: "OFFLINE" } })
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not mark worker offline"));
      }
    });
    try {
      await registered;
    } catch (error) {
      workerLog.warn({ err: (error as Error).message }, "worker connection not registered");
      return socket.disconnect(true);
    }
    if (socket.disconnected) return;
    options.streams.attach(socket);
    workerLog.info({ name: worker.name }, "worker connected");
    // A mismatched worker (another version) must not just look dead: what it sends that does not parse is logged.
    const malformed = throttledReport((fields) => workerLog.warn(fields, "dropped a worker's message that did not match its contract"));
    void options.onWorkerConnected(worker.workerId).catch((error: Error) => workerLog.error({ err: error.message }, "reconcile failed"));

    let lastLoad = { runningEnvironments: -1, openTerminals: -1 };
    /** The images last recorded from a beat; the first beat is recorded whatever the hello said (a cheap read when unchanged). */
    let lastImages: string | null = null;
    socket.on(WorkerMessages.heartbeat.event, async (payload: unknown) => {
      const beat = readMessage(WorkerMessages.heartbeat, payload, malformed);
      if (!beat) return;
      await options.heartbeats
        .beat(worker.workerId, Date.now(), beat.memory, beat.pools)
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not record heartbeat"));
      // The record changes only when the worker's load does (not on every beat).
      const load = { runningEnvironments: beat.runningEnvironments, openTerminals: beat.openTerminals };
      if (load.runningEnvironments !== lastLoad.runningEnvironments || load.openTerminals !== lastLoad.openTerminals) {
        lastLoad = load;
        await db.worker
          .update({ where: { id: worker.workerId }, data: { status: "ONLINE", ...load } })
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not record worker load"));
      }
      if (Object.keys(beat.usage).length > 0) {
        await placed
          .only(beat.usage)
          .then((usage) => options.usage.record(usage))
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not record usage"));
      }
      // The images it holds: recorded when they changed (a copy or build finished, or one was removed).
      if (beat.images && beat.images.join("\n") !== lastImages) {
        lastImages = beat.images.join("\n");
        await options
          .onImagesReported(worker.workerId, beat.images)
          .catch((error: Error) => workerLog.error({ err: error.message }, "could not record images"));
      }
      // Terminal activity keeps environments from being culled as idle. One statement per beat, not
      // one per environment (a class typing is hundreds a beat): the beat's earliest time stands for
      // all (a beat spans seconds, idle limits minutes), so none is recorded active later than it was.
      const active = Object.keys(beat.activity);
      if (active.length > 0) {
        const at = new Date(Object.values(beat.activity).reduce((earliest, time) => Math.min(earliest, time), Date.now()));
        await db.environment
          .updateMany({
            where: { id: { in: active }, workerId: worker.workerId, OR: [{ lastActivityAt: null }, { lastActivityAt: { lt: at } }] },
            data: { lastActivityAt: at },
          })
          .catch((error: Error) => workerLog.error({ environments: active.length, err: error.message }, "could not record activity"));
      }
    });

    // Output is acknowledged cumulatively, once handed over to the bus: with the next input to this worker, or alone (output-acks.ts).
    const outputAcks = outputAcksOn(socket, (acks) => socket.emit(ServerToWorkerMessages.outputAcked.event, { acks }));
    socket.on(WorkerMessages.terminalOutput.event, (payload: unknown, ack?: unknown) => {
      const output = readMessage(WorkerMessages.terminalOutput, payload, malformed);
      const done = () => {
        if (output) outputAcks.handed(output, output.offset + output.data.byteLength, output.data.byteLength);
        // A worker of the previous protocol asks for a reply per message: it gets one too.
        if (typeof ack === "function") (ack as () => void)();
      };
      // Acknowledged even when malformed (as far as it can be): the worker's window must not stall on it.
      if (!output) return done();
      // Input the shell took, answered with this output (server/workers/pending-inputs.ts).
      const { taken, ...chunk } = output;
      for (const inputId of taken ?? []) inputAnswered(socket, inputId, { ok: true });
      // Acknowledged once handed over: the worker's window then bounds what is in flight.
      // (Chunks of one terminal wait on the same placement answer, so they keep their order.)
      placed
        .environment(output.environmentId)
        .then((ok) => (ok ? options.output.publish({ kind: "output", ...chunk }) : refused("terminal output", output.environmentId)))
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not relay terminal output"))
        .finally(done);
    });

    socket.on(WorkerMessages.terminalExit.event, (payload: unknown) => {
      const exit = readMessage(WorkerMessages.terminalExit, payload, malformed);
      if (!exit) return;
      void placed
        .environment(exit.environmentId)
        .then((ok) => (ok ? options.output.publish({ kind: "exit", ...exit }) : refused("a terminal's exit", exit.environmentId)))
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not relay a terminal's exit"));
    });

    socket.on(WorkerMessages.terminalTabs.event, (payload: unknown) => {
      const tabs = readMessage(WorkerMessages.terminalTabs, payload, malformed);
      if (!tabs) return;
      void placed
        .environment(tabs.environmentId)
        .then((ok) => {
          if (!ok) return refused("tabs", tabs.environmentId);
          terminals
            .to(environmentRoom(tabs.environmentId))
            .emit(ServerToBrowser.tabs, { environmentId: tabs.environmentId, terminals: tabs.terminalIds } satisfies BrowserTabs);
        })
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not relay tabs"));
    });

    socket.on(WorkerMessages.buildLog.event, (payload: unknown) => {
      const entry = readMessage(WorkerMessages.buildLog, payload, malformed);
      if (!entry) return;
      void placed
        .build(entry.buildId)
        .then((ok) => {
          if (ok) options.onBuildLog(entry.buildId, entry.line, worker.workerId);
          else refused("a build log line", entry.buildId);
        })
        .catch((error: Error) => workerLog.error({ err: error.message }, "could not record a build log line"));
    });

    /** Said once per environment (or build): a worker reporting for another's is misconfigured or hostile. */
    const warned = new Set<string>();
    function refused(what: string, id: string) {
      if (warned.size < 1000 && !warned.has(id)) workerLog.warn({ id, what }, "ignored a worker's report for something not placed on it");
      warned.add(id);
    }
  });

  /** Joins the worker's room and records it online, with a first heartbeat. */
  async function register(socket: Socket, worker: WorkerHandshake) {
    await socket.join(workerRoom(worker.workerId));
    // Two connections admitted at once on two replicas each saw the other not yet joined:
    // now both are in the room, and both keep the older one (the same answer on either side).
    const older = (await workers.in(workerRoom(worker.workerId)).fetchSockets()).some(
      (other) =>
        other.id !== socket.id &&
        (other.handshake.issued < socket.handshake.issued || (other.handshake.issued === socket.handshake.issued && other.id < socket.id)),
    );
    if (older) throw new Error(`a worker with id ${worker.workerId} connected first elsewhere`);
    const record = {
      name: worker.name,
      status: "ONLINE" as const,
      maxEnvironments: worker.capacity.maxEnvironments,
      memoryBytes: BigInt(worker.capacity.memoryBytes),
      connectedAt: new Date(),
      lastHeartbeatAt: new Date(),
    };
    await db.worker.upsert({ where: { id: worker.workerId }, create: { id: worker.workerId, ...record }, update: record });
    // Before its first beat makes it live: placement then knows what it can start (a new host: nothing yet).
    if (worker.images) {
      // Not recorded: placement keeps its last record, and the next heartbeat's change tries again.
      await options
        .onImagesReported(worker.workerId, worker.images)
        .catch((error: Error) => log.error({ workerId: worker.workerId, err: error.message }, "could not record images"));
    }
    await options.heartbeats.beat(worker.workerId);
  }
}
