/**
 * The contract between the server and a runtime worker: event names and zod schemas.
 * Workers dial the server's /worker namespace; neither side reaches into the other's
 * storage. Every message is parsed on arrival, in both directions.
 */
import { z } from "zod";
import { Bytes, CELL_LIMIT_MESSAGE, EntityId, TerminalId, TerminalSize, codePoints, isCount, isEntityId, isTerminalId, withinCellLimit } from "./ids";
import { LoopbackPort, MAX_LOG_LINES, ServiceName, ServiceSpecs } from "../common/services";
import { StreamId } from "./byte-stream";

export const WORKER_NAMESPACE = "/worker";
/** Workers dial a socket.io server of their own (not the browsers'), with its own message limit. */
export const WORKER_SOCKET_PATH = "/worker-link";
/** The largest message on the worker link (replies, output, logs): far above any real one. */
export const WORKER_MESSAGE_LIMIT = 16 * 1024 * 1024;
/** HTTP headers a worker sends with its connection, vetted before any message is read. */
export const WORKER_ID_HEADER = "x-shellroom-worker-id";
export const WORKER_TOKEN_HEADER = "x-shellroom-worker-token";

/**
 * An image's name as workers report and move it (repository:tag). Bounded: a worker lists
 * what it holds with every heartbeat.
 */
export const ImageTag = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-z0-9][a-z0-9._/-]*:[\w.-]+$/, "must be repository:tag");
/**
 * The image a template gets when its instructor picks nothing else. Every worker needs it
 * (instructors' Dockerfiles build FROM it); a host that lacks it gets a copy from one that has it.
 */
export const DEFAULT_IMAGE = "shellroom/default:1";
/** The most image names one report carries. */
export const MAX_REPORTED_IMAGES = 2000;
/** The images a worker holds (tags), as it reports them at hello and with its heartbeats. */
export const HeldImages = z.array(ImageTag).max(MAX_REPORTED_IMAGES);

export const WorkerHandshake = z.object({
  token: z.string().min(16).max(256),
  workerId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/),
  name: z.string().min(1).max(100),
  capacity: z.object({
    maxEnvironments: z.number().int().positive(),
    memoryBytes: z.number().int().positive(),
  }),
  /** The images this host holds when it connects (absent: a worker that does not report them). */
  images: HeldImages.optional(),
});
export type WorkerHandshake = z.infer<typeof WorkerHandshake>;

export const ContainerLimits = z.object({
  memoryBytes: z
    .number()
    .int()
    .min(16 * 1024 * 1024),
  nanoCpus: z.number().int().min(10_000_000),
  pidsLimit: z.number().int().min(16).max(100_000),
  /** The workspace's size limit (enforced where the worker supports it). */
  diskBytes: z
    .number()
    .int()
    .min(16 * 1024 * 1024)
    .optional(),
});
export type ContainerLimits = z.infer<typeof ContainerLimits>;

/** A workspace volume's name (or none): only the platform's own names are accepted. */
const VolumeName = z
  .string()
  .regex(/^shellroom-[\w.-]+$/)
  .max(128)
  .nullable()
  .default(null);

/** Everything a worker needs to create or resume one student's environment. */
export const EnvironmentSpec = z.object({
  environmentId: EntityId,
  image: z.string().min(1).max(256),
  limits: ContainerLimits,
  network: z.enum(["none"]),
  workingDir: z.string().startsWith("/").max(256),
  user: z.string().min(1).max(64),
  ownerId: EntityId,
  /** Runs once, as the student (fed on stdin, clean environment), when the container is first created. */
  setupScript: z
    .string()
    .max(64 * 1024)
    .nullable()
    .default(null),
  /** The workspace volume when one exists already (it may have come from the warm pool). */
  volumeName: VolumeName,
  /** Sidecar services sharing its network namespace (common/services.ts). */
  services: ServiceSpecs,
});
export type EnvironmentSpec = z.input<typeof EnvironmentSpec>;

export const EnvironmentRef = z.object({ environmentId: EntityId });

export const TerminalRef = z.object({ environmentId: EntityId, terminalId: TerminalId });
export type TerminalRef = z.infer<typeof TerminalRef>;

/** Server -> worker requests (answered through socket.io acknowledgements; replies: worker-contract.ts). */
export const ServerToWorker = {
  startEnvironment: "environment:start",
  stopEnvironment: "environment:stop",
  removeEnvironment: "environment:remove",
  runCheck: "environment:check",
  buildImage: "image:build",
  cancelBuild: "image:cancel-build",
  /** The bytes of `docker save` of one image (a byte stream to the server: another worker lacks it). */
  saveImage: "image:save",
  /** Loads an image from the bytes of a `docker save` (a byte stream from the server). */
  loadImage: "image:load",
  listEnvironments: "environment:list",
  configurePools: "pool:configure",
  openTerminal: "terminal:open",
  terminalInput: "terminal:input",
  resizeTerminal: "terminal:resize",
  /** The screen as it is now, without resizing (a browser that fell behind repaints). */
  snapshotTerminal: "terminal:snapshot",
  /** A further piece of a snapshot too long for one message (see OpenTerminalReply). */
  snapshotPart: "terminal:snapshot-part",
  closeTerminal: "terminal:close",
  listTerminals: "terminal:list",
  /** Ends every process in an environment (a runaway), keeping its files: the container restarts. */
  killProcesses: "environment:kill-processes",
  /** The last lines a sidecar service logged. */
  serviceLogs: "environment:service-logs",
  /** A byte tunnel to a port on the environment's loopback (a preview): a download and an upload paired. */
  openPreview: "preview:open",
  /** Output handed over, cumulatively per terminal (no reply): moves the worker's output windows. */
  outputAcked: "terminal:output-acked",
  /** The environment's files as a tar byte stream to the server (protocol/byte-stream.ts). */
  exportWorkspace: "workspace:export",
  /** A tar byte stream from the server unpacked into the environment's volumes (made when missing). */
  importWorkspace: "workspace:import",
} as const;

/** A workspace carried as a byte stream: the environment's spec says which volumes and where they mount. */
export const WorkspaceStreamRequest = EnvironmentSpec.extend({ streamId: StreamId });
export type WorkspaceStreamRequest = z.input<typeof WorkspaceStreamRequest>;

export const OpenTerminalRequest = TerminalRef.extend(TerminalSize.shape).refine(withinCellLimit, CELL_LIMIT_MESSAGE);
export type OpenTerminalRequest = z.infer<typeof OpenTerminalRequest>;

/** Per terminal, the output offset the server has handed over up to. */
export const OutputAck = TerminalRef.extend({ offset: z.number().int().min(0) });
export type OutputAck = z.infer<typeof OutputAck>;
/** Output acknowledgements one message may carry. */
export const MAX_OUTPUT_ACKS = 10_000;
export const OutputAcked = z.object({ acks: z.array(OutputAck).max(MAX_OUTPUT_ACKS) });

/** Names one input to the worker, so its answer can come inside output (runtime-worker/terminals/input-answers.ts). */
export const InputId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Characters (code points, as zod counts them) in one input message to a worker. */
export const MAX_WORKER_INPUT = 64 * 1024;
export const TerminalInput = TerminalRef.extend({
  data: z.string().max(MAX_WORKER_INPUT),
  /** Set by the server the worker is connected to: answered in output or terminal:inputs-answered, not by acknowledgement. */
  inputId: InputId.optional(),
  /** Output acknowledgements riding along (of any terminal of the worker), as terminal:output-acked carries them. */
  acks: OutputAcked.shape.acks.optional(),
});
export type TerminalInput = z.infer<typeof TerminalInput>;

/**
 * TerminalInput's schema written out by hand, for the worker's reader of every keystroke: it
 * accepts exactly what the schema accepts and returns what the schema returns (unknown fields
 * dropped), or null where the schema would refuse; the worker then parses with the schema, so a
 * refusal is answered in the schema's words. `tests/unit/worker-input-guard.test.ts` holds it to
 * the schema over valid and hostile messages.
 */
export function guardTerminalInput(payload: unknown): z.output<typeof TerminalInput> | null {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  const { environmentId, terminalId, data, inputId, acks } = payload as Record<string, unknown>;
  if (!isEntityId(environmentId) || !isTerminalId(terminalId)) return null;
  if (typeof data !== "string" || (data.length > MAX_WORKER_INPUT && codePoints(data) > MAX_WORKER_INPUT)) return null;
  if (inputId !== undefined && !isCount(inputId)) return null;
  const input: z.output<typeof TerminalInput> = { environmentId, terminalId, data };
  if (inputId !== undefined) input.inputId = inputId;
  if (acks === undefined) return input;
  if (!Array.isArray(acks) || acks.length > MAX_OUTPUT_ACKS) return null;
  const read: OutputAck[] = [];
  for (let index = 0; index < acks.length; index++) {
    const ack: unknown = acks[index];
    if (typeof ack !== "object" || ack === null || Array.isArray(ack)) return null;
    const { environmentId: ackEnvironment, terminalId: ackTerminal, offset } = ack as Record<string, unknown>;
    if (!isEntityId(ackEnvironment) || !isTerminalId(ackTerminal) || !isCount(offset)) return null;
    read.push({ environmentId: ackEnvironment, terminalId: ackTerminal, offset });
  }
  input.acks = read;
  return input;
}

export const ResizeTerminal = TerminalRef.extend(TerminalSize.shape).refine(withinCellLimit, CELL_LIMIT_MESSAGE);
export type ResizeTerminal = z.infer<typeof ResizeTerminal>;

/** Piece `index` (from 1; piece 0 came in the reply) of the snapshot `snapshotId`. */
export const SnapshotPartRequest = TerminalRef.extend({
  snapshotId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  index: z.number().int().min(1).max(10_000),
});
export type SnapshotPartRequest = z.infer<typeof SnapshotPartRequest>;

/**
 * Input the worker holds for one terminal's shell (written, not yet taken by the stream).
 * Past this it refuses more ("input_busy"): the server's per-socket window keeps it far below.
 */
export const WORKER_INPUT_LIMIT = 512 * 1024;

/** A snapshot piece is at most this many characters (every worker message stays far under 1 MB). */
export const SNAPSHOT_PART_CHARS = 32 * 1024;

export const ServiceLogsRequest = EnvironmentRef.extend({ service: ServiceName, lines: z.number().int().min(1).max(MAX_LOG_LINES) });

/** The worker sends the port's bytes as `streamId` and reads what the browser sends from `uploadStreamId`. */
export const OpenPreviewRequest = EnvironmentRef.extend({ port: LoopbackPort, streamId: StreamId, uploadStreamId: StreamId });

export const RemoveEnvironmentRequest = EnvironmentRef.extend({
  removeVolume: z.boolean(),
  volumeName: VolumeName,
});

/** What a pooled container must match to serve an environment: everything but identity (its sidecar services too: the pool starts them). */
export const PoolTemplate = EnvironmentSpec.pick({ image: true, limits: true, network: true, workingDir: true, user: true, services: true });
export type PoolTemplate = z.input<typeof PoolTemplate>;

/** The most containers one pool may hold on one worker (a class prepared on a single large host). */
export const MAX_POOL_SIZE = 1000;

/**
 * The warm pools a worker keeps: `size` started containers per template shape. `shrinkOnTake`:
 * a container handed out lowers the size by one until the next configuration instead of being
 * replaced (a class's pool: the server's next plan counts that student as served).
 */
export const ConfigurePools = z.object({
  pools: z.array(z.object({ template: PoolTemplate, size: z.number().int().min(0).max(MAX_POOL_SIZE), shrinkOnTake: z.boolean().default(false) })).max(100),
});
export type ConfigurePools = z.input<typeof ConfigurePools>;

/** A step's check: a script run inside the student's own container, as a checker uid that only reads the student's files. */
export const CheckRequest = EnvironmentRef.extend({
  script: z
    .string()
    .min(1)
    .max(64 * 1024),
  timeoutSeconds: z.number().int().min(1).max(300),
});
export type CheckRequest = z.infer<typeof CheckRequest>;

/** What one build may use: its container's memory (no swap), CPU and processes, and its time. */
export const BuildLimits = z.object({
  memoryBytes: z
    .number()
    .int()
    .min(32 * 1024 * 1024)
    .max(64 * 1024 ** 3),
  nanoCpus: z.number().int().min(10_000_000).max(64_000_000_000),
  pidsLimit: z.number().int().min(16).max(100_000),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600_000),
});
export type BuildLimits = z.infer<typeof BuildLimits>;
export const DEFAULT_BUILD_LIMITS: BuildLimits = { memoryBytes: 2 * 1024 ** 3, nanoCpus: 1_000_000_000, pidsLimit: 512, timeoutMs: 20 * 60_000 };

/** An instructor's Dockerfile, built with no network and no registry pulls. */
export const BuildImageRequest = z.object({
  buildId: EntityId,
  tag: z.string().regex(/^shellroom\/[a-z0-9._-]+:[\w.-]+$/, "must be a shellroom/ tag"),
  dockerfile: z
    .string()
    .min(1)
    .max(64 * 1024),
  limits: BuildLimits.default(DEFAULT_BUILD_LIMITS),
});
export type BuildImageRequest = z.input<typeof BuildImageRequest>;

/** The server gave up on a build (interrupted, or past its deadline): the worker stops it. */
export const CancelBuildRequest = z.object({ buildId: EntityId, reason: z.string().max(500) });

/** Asks for an image's bytes (image:save) or hands them over (image:load); `streamId` names the byte stream. */
export const ImageTransferRequest = z.object({ streamId: StreamId, tag: ImageTag });
export type ImageTransferRequest = z.infer<typeof ImageTransferRequest>;

export const BuildLogLine = z.object({ buildId: EntityId, line: z.string().max(8 * 1024) });

/** Worker -> server events. */
export const WorkerToServer = {
  heartbeat: "worker:heartbeat",
  terminalOutput: "terminal:output",
  terminalExit: "terminal:exit",
  /** An environment's set of open terminals changed (a tab opened or its shell ended). */
  terminalTabs: "terminal:tabs",
  buildLog: "image:build-log",
  /** Answers to inputs sent with an inputId that no output carried (refusals, input that printed nothing). */
  inputsAnswered: "terminal:inputs-answered",
} as const;

/**
 * Output is acknowledged by the server; a terminal with this many bytes unacknowledged
 * is paused (the shell blocks on write), so neither side buffers a flood without bound.
 * It covers the acknowledgement's round trip at full speed on a loaded host (256 KiB held
 * a flood to ~10 MB/s when that took 20 ms).
 */
export const WORKER_OUTPUT_WINDOW = 1024 * 1024;

/** One environment's resource use, as the worker last measured it. */
export const EnvironmentUsage = z.object({
  cpuPercent: z.number().min(0).max(100_000),
  memoryBytes: z.number().int().min(0),
  memoryLimitBytes: z.number().int().min(0),
  /** Processes in the container now, and its pids limit (0: unknown); a fork bomb sits at the limit. */
  pids: z.number().int().min(0).default(0),
  pidsLimit: z.number().int().min(0).default(0),
  /** The container's CPU limit in percent of one core (0: unknown), to tell "at its limit". */
  cpuLimitPercent: z.number().min(0).max(100_000).default(0),
});
export type EnvironmentUsage = z.infer<typeof EnvironmentUsage>;

/**
 * The host's memory as the worker sees it. Placement counts templates' reservations against
 * the worker's capacity; this is the reality check beside it: below `floorBytes` available,
 * the worker takes no new environment until memory comes back.
 */
export const HostMemory = z.object({
  /** What the kernel could hand out now without swapping (/proc/meminfo MemAvailable). */
  availableBytes: z.number().int().min(0),
  /** The least available memory this host keeps for the kernel, the engine and bursts. */
  floorBytes: z.number().int().min(0),
  /** What the environments' containers use now, summed (their memory cgroups), as last sampled. */
  environmentsBytes: z.number().int().min(0),
});
export type HostMemory = z.infer<typeof HostMemory>;

/** Ready containers in one warm pool. */
export const PoolReadiness = z.object({ key: z.string().regex(/^[0-9a-f]{16}$/), ready: z.number().int().min(0).max(100_000) });
export type PoolReadiness = z.infer<typeof PoolReadiness>;

export const Heartbeat = z.object({
  runningEnvironments: z.number().int().min(0),
  /** Absent when the worker cannot read its host's memory (placement then counts reservations only). */
  memory: HostMemory.optional(),
  /** Warm containers ready to hand out, across pools. */
  pooledContainers: z.number().int().min(0).default(0),
  /** The same per pool (`key`: protocol/pool-key.ts), for a class's preparation progress. */
  pools: z.array(PoolReadiness).max(200).default([]),
  openTerminals: z.number().int().min(0),
  /** environmentId -> last terminal activity (ms since epoch), for environments active since the last beat. */
  activity: z.record(z.string().max(64), z.number().int().min(0)).default({}),
  /** environmentId -> CPU and memory, for the running environments the worker could measure. */
  usage: z.record(z.string().max(64), EnvironmentUsage).default({}),
  /** The images this host holds now (absent: not reported this beat; the last report stands). */
  images: HeldImages.optional(),
});
export type Heartbeat = z.input<typeof Heartbeat>;

/** `offset` is the byte position of `data` in the terminal's output since the shell started. */
/** Inputs one output message may answer. */
export const MAX_TAKEN_INPUTS = 4096;

export const TerminalOutput = TerminalRef.extend({
  data: Bytes,
  offset: z.number().int().min(0),
  /** Inputs to this terminal (their inputId) the shell has taken: their answer rides here. */
  taken: z.array(InputId).max(MAX_TAKEN_INPUTS).optional(),
});
export type TerminalOutput = z.output<typeof TerminalOutput>;

/**
 * TerminalOutput's schema written out by hand, for the message every echo and every chunk of
 * output is (the server reads it per message from each worker): it accepts exactly what the
 * schema accepts and returns what the schema returns (unknown fields dropped, the bytes as a
 * Uint8Array view), or null where the schema would refuse; the caller then parses with the schema,
 * so a refusal is reported in the schema's words. `tests/unit/worker-output-guard.test.ts` runs
 * both over valid and hostile messages.
 */
export function guardTerminalOutput(payload: unknown): TerminalOutput | null {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  const { environmentId, terminalId, data, offset, taken } = payload as Record<string, unknown>;
  if (!isEntityId(environmentId) || !isTerminalId(terminalId)) return null;
  if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return null;
  if (!isCount(offset)) return null;
  if (taken !== undefined) {
    if (!Array.isArray(taken) || taken.length > MAX_TAKEN_INPUTS) return null;
    for (let index = 0; index < taken.length; index++) if (!isCount(taken[index])) return null;
  }
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return taken === undefined ? { environmentId, terminalId, data: bytes, offset } : { environmentId, terminalId, data: bytes, offset, taken: taken.slice() };
}

export const TerminalExit = TerminalRef.extend({ exitCode: z.number().int().nullable() });

export const TerminalTabs = EnvironmentRef.extend({ terminalIds: z.array(TerminalId).max(64) });
export type TerminalTabs = z.infer<typeof TerminalTabs>;
export type TerminalExit = z.infer<typeof TerminalExit>;

export const ListEnvironmentsRequest = z.object({});
