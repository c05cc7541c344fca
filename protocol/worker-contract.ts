/**
 * The server <-> worker hop as contracts: each request the server sends with its reply schema,
 * and each message a worker pushes. The server reads every reply with these (a reply that does
 * not parse is the coded failure `malformed_reply`, logged with its event); the worker reads
 * every request with them (a bad one is answered `invalid_request`).
 */
import { z } from "zod";
import { MALFORMED_REPLY, failure, message, replyOf, request, type ReplyOf, type RequestContract } from "./contract";
import { EntityId, TerminalId } from "./ids";
import {
  guardTerminalInput,
  guardTerminalOutput,
  BuildImageRequest,
  BuildLogLine,
  CancelBuildRequest,
  CheckRequest,
  ConfigurePools,
  EnvironmentRef,
  EnvironmentSpec,
  Heartbeat,
  ImageTransferRequest,
  InputId,
  ListEnvironmentsRequest,
  OpenPreviewRequest,
  OpenTerminalRequest,
  OutputAcked,
  RemoveEnvironmentRequest,
  ResizeTerminal,
  SNAPSHOT_PART_CHARS,
  ServerToWorker,
  ServiceLogsRequest,
  SnapshotPartRequest,
  TerminalExit,
  TerminalInput,
  TerminalOutput,
  TerminalRef,
  TerminalTabs,
  WorkerToServer,
  WorkspaceStreamRequest,
} from "./worker-messages";

/** Why a worker refused or failed a request, for the server's code to act on (the words are for logs and people). */
export const WorkerErrorCode = z.enum([
  /** The request did not parse. */
  "invalid_request",
  /** The shell has not taken earlier input: hold this and send it again later. */
  "input_busy",
  /** The environment has no running container on this worker. */
  "not_running",
  /** The terminal asked for is not open (a viewer may watch another). */
  "terminal_closed",
  /** The environment has as many terminals open as it may. */
  "too_many_terminals",
  /** A snapshot's further piece is gone (expired or never made): attach again. */
  "snapshot_gone",
  /** The environment has no workspace on this worker (nothing to export). */
  "no_workspace",
  /** Anything else: the words say what. */
  "failed",
  /** Made by the server's reader: the worker's reply did not match its schema. */
  MALFORMED_REPLY,
]);
export type WorkerErrorCode = z.infer<typeof WorkerErrorCode>;

const WorkerFailure = failure(WorkerErrorCode, "failed");
const reply = <Shape extends z.ZodRawShape>(shape: Shape) => replyOf(shape, WorkerFailure);
const Done = reply({});

/** terminal:input's answer for an input sent with an inputId (runtime-worker/terminals/input-answers.ts). */
export const InputAnswer = z.object({ inputId: InputId, reply: Done });
export type InputAnswer = z.input<typeof InputAnswer>;

/** A terminal's screen now: the first piece, and how to fetch the rest (see SnapshotPart). */
const Snapshot = reply({
  screen: z.string().max(SNAPSHOT_PART_CHARS * 2),
  /** Output bytes the screen already includes; later output starts there. */
  offset: z.number().int().min(0),
  terminalIds: z.array(TerminalId).max(64),
  snapshotId: z.string().min(1).max(64).optional(),
  parts: z.number().int().min(1).max(10_000).optional(),
});

export const WorkerRequests = {
  startEnvironment: request(
    ServerToWorker.startEnvironment,
    EnvironmentSpec,
    reply({ containerId: z.string().min(1).max(128), volumeName: z.string().min(1).max(128), fromPool: z.boolean() }),
  ),
  stopEnvironment: request(ServerToWorker.stopEnvironment, EnvironmentRef, Done),
  removeEnvironment: request(ServerToWorker.removeEnvironment, RemoveEnvironmentRequest, Done),
  runCheck: request(
    ServerToWorker.runCheck,
    CheckRequest,
    reply({ exitCode: z.number().int().nullable(), output: z.string().max(256 * 1024), timedOut: z.boolean() }),
  ),
  buildImage: request(ServerToWorker.buildImage, BuildImageRequest, Done),
  cancelBuild: request(ServerToWorker.cancelBuild, CancelBuildRequest, Done),
  /** A download: the worker streams `docker save` of the image (protocol/byte-stream.ts), then answers. */
  saveImage: request(ServerToWorker.saveImage, ImageTransferRequest, Done),
  /** An upload: the worker loads the streamed archive and answers once the tag is there. */
  loadImage: request(ServerToWorker.loadImage, ImageTransferRequest, Done),
  /** What a worker holds (by label), for reconcile after a (re)connect. */
  listEnvironments: request(
    ServerToWorker.listEnvironments,
    ListEnvironmentsRequest,
    reply({ environments: z.array(z.object({ environmentId: EntityId, state: z.enum(["running", "stopped"]) })).max(100_000) }),
  ),
  configurePools: request(ServerToWorker.configurePools, ConfigurePools, Done),
  openTerminal: request(ServerToWorker.openTerminal, OpenTerminalRequest, Snapshot),
  terminalInput: request(ServerToWorker.terminalInput, TerminalInput, Done, guardTerminalInput),
  resizeTerminal: request(ServerToWorker.resizeTerminal, ResizeTerminal, Done),
  snapshotTerminal: request(ServerToWorker.snapshotTerminal, TerminalRef, Snapshot),
  snapshotPart: request(ServerToWorker.snapshotPart, SnapshotPartRequest, reply({ data: z.string().max(SNAPSHOT_PART_CHARS * 2) })),
  closeTerminal: request(ServerToWorker.closeTerminal, TerminalRef, Done),
  listTerminals: request(ServerToWorker.listTerminals, EnvironmentRef, reply({ terminalIds: z.array(TerminalId).max(64) })),
  killProcesses: request(ServerToWorker.killProcesses, EnvironmentRef, Done),
  serviceLogs: request(ServerToWorker.serviceLogs, ServiceLogsRequest, reply({ log: z.string().max(1024 * 1024) })),
  openPreview: request(ServerToWorker.openPreview, OpenPreviewRequest, Done),
  /** A download: the reply says yes, then the tar's bytes follow on the stream. */
  exportWorkspace: request(ServerToWorker.exportWorkspace, WorkspaceStreamRequest, Done),
  /** An upload: answered once the whole tar is unpacked, with the workspace volume it went into. */
  importWorkspace: request(ServerToWorker.importWorkspace, WorkspaceStreamRequest, reply({ volumeName: z.string().min(1).max(128) })),
} as const satisfies Record<string, RequestContract>;

export type WorkerRequestName = keyof typeof WorkerRequests;
export type WorkerReplyOf<K extends WorkerRequestName> = ReplyOf<(typeof WorkerRequests)[K]>;
/** A snapshot's successful reply (open or snapshot), as the server reads it. */
export type SnapshotReply = Extract<WorkerReplyOf<"snapshotTerminal">, { ok: true }>;

/** What the server pushes to a worker (no reply). */
export const ServerToWorkerMessages = {
  outputAcked: message(ServerToWorker.outputAcked, OutputAcked),
} as const;

/**
 * What a worker pushes. Output is the one with an acknowledgement, and it carries nothing:
 * the acknowledgement only moves the worker's output window.
 */
export const WorkerMessages = {
  heartbeat: message(WorkerToServer.heartbeat, Heartbeat),
  terminalOutput: message(WorkerToServer.terminalOutput, TerminalOutput, guardTerminalOutput),
  terminalExit: message(WorkerToServer.terminalExit, TerminalExit),
  terminalTabs: message(WorkerToServer.terminalTabs, TerminalTabs),
  buildLog: message(WorkerToServer.buildLog, BuildLogLine),
  inputsAnswered: message(WorkerToServer.inputsAnswered, z.object({ answers: z.array(InputAnswer).max(10_000) })),
} as const;
