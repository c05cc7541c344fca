/**
 * A runtime worker: dials the server's /worker namespace with its token, then serves the
 * server's requests against the local runtime. Every request is read against its contract
 * (protocol/worker-contract.ts); a bad one gets `{ ok: false, code: "invalid_request", error }`,
 * never a crash, and every failure carries a code.
 */
import { io, type Socket } from "socket.io-client";
import {
  Heartbeat,
  TerminalRef,
  WORKER_ID_HEADER,
  WORKER_NAMESPACE,
  WORKER_SOCKET_PATH,
  WORKER_TOKEN_HEADER,
  WorkerToServer,
  type WorkerHandshake,
} from "../protocol/worker-messages";
import { readMessage, readRequest, throttledReport, type ParsedRequestOf, type ReplyInputOf, type RequestContract, type SuccessOf } from "../protocol/contract";
import { ServerToWorkerMessages, WorkerRequests } from "../protocol/worker-contract";
import { OutputAcks } from "./terminals/output-acks";
import { WIRE_PARSER } from "../protocol/wire-parser";
import { serverLinkTransports } from "./server-link-transport";
import { coalesceClientWrites } from "../protocol/write-coalescing";
import { WorkerRequestError } from "./request-error";
import { workerStreams, type WorkerStreamServing } from "./worker-streams";
import type { RuntimeDriver } from "./driver";

import { EnvironmentManager, POOLED_MAIN_SHELL } from "./environments";
import type { OutputBudgetOptions } from "./terminals/output-budget";
import { InputBusyError } from "./terminals/terminal-session";
import { InputAnswers } from "./terminals/input-answers";
import { BuildQueue } from "./images/build-queue";
import { createWorkerMetrics, type WorkerMetrics, type WorkerRequestResult } from "./observability";
import { WarmPool } from "./pool/warm-pool";
import { UsageSampler } from "./usage-sampler";
import { defaultMemoryFloor, readAvailableMemory } from "./host-memory";
import type { Logger } from "../common/logger";

export interface WorkerOptions {
  serverUrl: string;
  handshake: WorkerHandshake;
  driver: RuntimeDriver;
  log: Logger;
  heartbeatMs?: number;
  /** Available memory below which this worker takes no new environment (default: defaultMemoryFloor()). */
  memoryFloorBytes?: number;
  /** Container creates and starts at once on this worker's engine (DEFAULT_START_CONCURRENCY when unset). */
  startConcurrency?: number;
  /** How fast each terminal's output may flow (SHELLROOM_TERMINAL_OUTPUT_RATE when unset). */
  terminalOutput?: OutputBudgetOptions;
}

export interface RunningWorker {
  readonly socket: Socket;
  /** Where requests that carry bytes are registered (worker-streams.ts). */
  readonly streams: WorkerStreamServing;
  readonly pool: WarmPool;
  readonly environments: EnvironmentManager;
  readonly metrics: WorkerMetrics;
  connected(): Promise<void>;
  close(): Promise<void>;
}

/** A heartbeat carries the host's images when they changed, and at least this often. */
const IMAGES_RESEND_MS = 60_000;

/** CPU and memory are sampled at most this often (each is a Docker call per container). */
const USAGE_INTERVAL_MS = 3000;

type Ack = (reply: ReplyInputOf<RequestContract>) => void;

/**
 * The code the server gave for refusing the connection (see server/gateway/worker-gateway.ts).
 * A credential the server does not accept is refused before the websocket opens: engine.io
 * answers the upgrade with HTTP 400 (as it would a client of another protocol version).
 */
function refusalCodeOf(error: Error): unknown {
  const refused = error as Error & { data?: { code?: unknown }; description?: { message?: string } };
  if (refused.data?.code) return refused.data.code;
  return /\b(400|403)\b/.test(String(refused.description?.message ?? "")) ? "WORKER_CREDENTIAL_INVALID" : undefined;
}

export function startWorker(options: WorkerOptions): RunningWorker {
  const log = options.log.child({ workerId: options.handshake.workerId });
  const metrics = createWorkerMetrics();
  /** What this host holds, for the hello and each heartbeat; undefined (not reported) when the runtime cannot say. */
  const heldImages = () =>
    options.driver.listImages().catch((error: unknown) => {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not list this host's images");
      return undefined;
    });
  const socket = io(`${options.serverUrl}${WORKER_NAMESPACE}`, {
    path: WORKER_SOCKET_PATH,
    // Read at each (re)connect: the hello says which images this host holds, so a host without
    // them (a new one) is never placed on before the server has heard what it lacks.
    auth: (send) => void heldImages().then((images) => send({ ...options.handshake, images })),
    // The server vets these before it reads any message (the worker link allows large ones).
    extraHeaders: { [WORKER_ID_HEADER]: options.handshake.workerId, [WORKER_TOKEN_HEADER]: options.handshake.token },
    // Websocket only; its frames unmasked where nothing in between can read them (server-link-transport.ts).
    transports: serverLinkTransports(options.serverUrl),
    parser: WIRE_PARSER,
    reconnectionDelayMax: 2000,
  });

  // What the worker sends in one turn (many terminals' output) leaves in one write.
  coalesceClientWrites(socket.io);

  const pool = new WarmPool(options.driver, log, POOLED_MAIN_SHELL);
  /** Sent output waiting for the server's cumulative acknowledgement (output-acks.ts). */
  const outputAcks = new OutputAcks();
  /** Answers to input that ride with the terminal's output when it comes soon (input-answers.ts). */
  const inputAnswers = new InputAnswers((answers) => socket.emit(WorkerToServer.inputsAnswered, { answers }));
  const malformedFromServer = throttledReport((fields) => log.warn(fields, "dropped a server message that did not match its contract"));
  const environments = new EnvironmentManager(
    options.driver,
    {
      link: (ref: TerminalRef) => ({
        get connected() {
          return socket.connected;
        },
        send: (data, offset, acked) => {
          outputAcks.wait(ref, offset + data.byteLength, acked);
          socket.emit(WorkerToServer.terminalOutput, { ...ref, data, offset, ...inputAnswers.takenWith(ref) });
        },
      }),
      exit: (ref: TerminalRef, exitCode) => {
        outputAcks.forget(ref);
        socket.emit(WorkerToServer.terminalExit, { ...ref, exitCode });
      },
      tabs: (environmentId, terminalIds) => {
        if (socket.connected) socket.emit(WorkerToServer.terminalTabs, { environmentId, terminalIds });
      },
    },
    log,
    pool,
    options.startConcurrency,
    options.terminalOutput,
  );

  /** Binds a request to its handler: read against the contract, run, answer; every failure carries a code. */
  function serve<C extends RequestContract>(contract: C, handler: (input: ParsedRequestOf<C>) => Promise<SuccessOf<C> | void>) {
    const { event } = contract;
    socket.on(event, async (payload: unknown, ack?: Ack) => {
      const began = performance.now();
      const answered = (result: WorkerRequestResult) => metrics.recordRequest(event, result, (performance.now() - began) / 1000);
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = readRequest(contract, payload);
      if (!parsed.ok) {
        log.warn({ event, issues: parsed.issues }, "rejected malformed request");
        answered("invalid");
        reply({ ok: false, code: "invalid_request", error: `invalid ${event}: ${parsed.issues}` });
        return;
      }
      try {
        reply({ ok: true, ...((await handler(parsed.data)) ?? {}) });
        answered("ok");
      } catch (error) {
        if (error instanceof InputBusyError) {
          // Backpressure, not a failure: the server holds the input and tries again.
          answered("busy");
          return reply({ ok: false, code: error.code, error: error.message });
        }
        answered("failed");
        const message = error instanceof Error ? error.message : String(error);
        // A coded refusal (a closed tab, a stopped environment) is an answer, not a fault of this worker.
        if (error instanceof WorkerRequestError) log.info({ event, code: error.code, err: message }, "request refused");
        else log.error({ event, err: message }, "request failed");
        reply({ ok: false, code: error instanceof WorkerRequestError ? error.code : "failed", error: message });
      }
    });
  }

  serve(WorkerRequests.startEnvironment, (spec) => environments.start(spec));
  serve(WorkerRequests.stopEnvironment, ({ environmentId }) => environments.stop(environmentId));
  serve(WorkerRequests.removeEnvironment, ({ environmentId, removeVolume, volumeName }) => environments.remove(environmentId, removeVolume, volumeName));
  serve(WorkerRequests.configurePools, async (config) => {
    await pool.configure(config);
  });
  serve(WorkerRequests.runCheck, (request) => environments.check(request));
  const builds = new BuildQueue();
  serve(WorkerRequests.buildImage, async ({ buildId, tag, dockerfile, limits }) => {
    const buildLog = (line: string) => socket.emit(WorkerToServer.buildLog, { buildId, line: line.slice(0, 8000) });
    await builds.run(
      buildId,
      (signal) => options.driver.buildImage(dockerfile, tag, buildLog, { limits, signal }),
      (ahead) => buildLog(`Queued: ${ahead} build${ahead === 1 ? "" : "s"} ahead on this worker.`),
    );
  });
  serve(WorkerRequests.cancelBuild, async ({ buildId, reason }) => builds.cancel(buildId, reason));
  serve(WorkerRequests.listEnvironments, async () => ({ environments: await environments.list() }));
  serve(WorkerRequests.openTerminal, (request) => environments.openTerminal(request));
  serve(WorkerRequests.terminalInput, async ({ data, inputId, acks, ...ref }) => {
    // Output acknowledgements that rode on this input (the server's output-acks.ts), before anything can refuse it.
    if (acks) for (const ack of acks) outputAcks.acked(ack, ack.offset);
    return inputId === undefined ? environments.input(ref, data) : inputAnswers.settle(ref, inputId, environments.input(ref, data));
  });
  serve(WorkerRequests.resizeTerminal, ({ cols, rows, ...ref }) => environments.resize(ref, { cols, rows }));
  serve(WorkerRequests.snapshotTerminal, (ref) => environments.snapshot(ref));
  serve(WorkerRequests.snapshotPart, async (request) => environments.snapshotPart(request));
  serve(WorkerRequests.closeTerminal, async (ref) => environments.closeTerminal(ref));
  serve(WorkerRequests.killProcesses, ({ environmentId }) => options.driver.killProcesses(environmentId));
  serve(WorkerRequests.listTerminals, async ({ environmentId }) => ({ terminalIds: environments.terminalIds(environmentId) }));
  /** Requests that carry bytes (workspace tarballs, image archives) register through this: worker-streams.ts. */
  const streams = workerStreams(socket, serve, malformedFromServer, log);
  // Images for a host that lacks them (no registry): this host's copy out, or another's in.
  streams.serveDownload(WorkerRequests.saveImage, ({ tag }) => options.driver.saveImage(tag));
  streams.serveUpload(WorkerRequests.loadImage, async ({ tag }, source) => {
    const began = performance.now();
    await options.driver.loadImage(tag, source, (line) => log.info({ tag, line, seconds: Math.round(performance.now() - began) / 1000 }, "image load"));
    log.info({ tag, seconds: Math.round(performance.now() - began) / 1000 }, "loaded an image copied from another worker");
    void sendHeartbeat(); // the server hears at once that this host holds it now
  });
  serve(WorkerRequests.serviceLogs, (request) => environments.serviceLogs(request));
  streams.serveTunnel(WorkerRequests.openPreview, ({ environmentId, port }, input) => environments.openPreview(environmentId, port, input));
  streams.serveDownload(WorkerRequests.exportWorkspace, ({ streamId: _stream, ...spec }) => environments.exportWorkspace(spec));
  streams.serveUpload(WorkerRequests.importWorkspace, ({ streamId: _stream, ...spec }, archive) => environments.importWorkspace(spec, archive));

  const usage = new UsageSampler(
    () => environments.usage(),
    USAGE_INTERVAL_MS,
    (error) => log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not sample usage"),
  );
  usage.start();

  const memoryFloorBytes = options.memoryFloorBytes ?? defaultMemoryFloor();
  let lastBeatAt = 0;
  /** The images last reported in a beat (reset on connect: a new connection's first beat carries them). */
  let lastImages: { text: string | undefined; at: number } = { text: undefined, at: 0 };
  let beating = false;
  const sendHeartbeat = async () => {
    // A slow runtime must not stack beats up: the next one starts when this one is sent.
    if (!socket.connected || beating) return;
    beating = true;
    try {
      const runningEnvironments = await environments.runningCount();
      const held = await heldImages();
      // Sent when it changed, on a new connection, and once a minute anyway (a beat stays small).
      const heldText = held?.join("\n");
      const images = heldText !== lastImages.text || Date.now() - lastImages.at > IMAGES_RESEND_MS ? held : undefined;
      if (images) lastImages = { text: heldText, at: Date.now() };
      const availableBytes = await readAvailableMemory();
      const memory = availableBytes === null ? undefined : { availableBytes, floorBytes: memoryFloorBytes, environmentsBytes: usage.environmentsMemoryBytes };
      // Activity is read at the last moment, so what the server gets is never stale.
      const sentAt = Date.now();
      const beat: Heartbeat = {
        runningEnvironments,
        memory,
        pooledContainers: pool.size,
        pools: pool.readiness(),
        openTerminals: environments.openTerminalCount,
        activity: environments.activitySince(lastBeatAt),
        usage: usage.take(),
        images,
      };
      lastBeatAt = sentAt - 1; // overlap by a millisecond: reporting twice is harmless, missing is not
      socket.emit(WorkerToServer.heartbeat, beat);
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error) }, "heartbeat failed: runtime unreachable");
    } finally {
      beating = false;
    }
  };
  const heartbeat = setInterval(sendHeartbeat, options.heartbeatMs ?? 5000);
  heartbeat.unref();

  socket.on(ServerToWorkerMessages.outputAcked.event, (payload: unknown) => {
    const message = readMessage(ServerToWorkerMessages.outputAcked, payload, malformedFromServer);
    if (message) for (const ack of message.acks) outputAcks.acked(ack, ack.offset);
  });

  socket.on("connect", () => {
    log.info({ serverUrl: options.serverUrl }, "connected to server");
    lastImages = { text: undefined, at: 0 };
    outputAcks.clear();
    environments.resetLinks();
    void sendHeartbeat();
  });
  let closed = false;
  socket.on("connect_error", (error) => {
    const code = refusalCodeOf(error);
    if (code === "WORKER_CREDENTIAL_INVALID") {
      // Retrying with the same token cannot help: stop, and say what to fix.
      socket.disconnect();
      return log.error(
        { err: error.message },
        "the server refused this worker's token: SHELLROOM_WORKER_TOKEN must be the token made for SHELLROOM_WORKER_ID (and server and worker of one version)",
      );
    }
    log.warn({ err: error.message }, "cannot reach server; retrying");
    // A refusal by the server's middleware ends socket.io's own retries. A live connection with
    // our id (our previous self, not yet noticed gone) will go: keep trying until it has.
    if (code === "WORKER_ID_IN_USE")
      setTimeout(() => {
        if (!closed && !socket.connected) socket.connect();
      }, 2000).unref();
  });
  socket.on("disconnect", (reason) => {
    log.warn({ reason }, "disconnected from server");
    outputAcks.clear();
    inputAnswers.clear();
    // The server let another connection with our id keep it: try again, as after a refusal.
    if (reason === "io server disconnect")
      setTimeout(() => {
        if (!closed && !socket.connected) socket.connect();
      }, 2000).unref();
    // A build's result travels back as the reply to this connection's request: it is lost now.
    builds.cancelAll("interrupted: the worker lost its connection to the server");
    // Acks of output in flight will not come: shells must not stay held waiting for them.
    environments.resetLinks();
  });

  return {
    socket,
    streams,
    pool,
    environments,
    metrics,
    connected: () =>
      new Promise((resolve, reject) => {
        if (socket.connected) return resolve();
        const onError = (error: Error) => {
          // The server refused our token: retrying will not help.
          if (refusalCodeOf(error) === "WORKER_CREDENTIAL_INVALID") reject(error);
        };
        socket.once("connect", () => {
          socket.off("connect_error", onError);
          resolve();
        });
        socket.on("connect_error", onError);
      }),
    close: async () => {
      closed = true;
      clearInterval(heartbeat);
      usage.stop();
      environments.closeAll();
      socket.close();
    },
  };
}
