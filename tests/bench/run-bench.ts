/**
 * Shellroom's benchmark: each platform figure beside a raw-dockerode baseline measured in
 * the same run, and their ratio (platform / baseline). It reports; it asserts nothing.
 *
 * Terminals under load (f, g) are against raw dockerode too, and (h) measures a separate
 * server process's RSS under flood against a stated bound (tests/bench/terminal-load-bench.ts).
 * The warm-pool figures (d, e) compare the platform with itself: pool size 0 vs a warm pool
 * (tests/bench/pool-bench.ts). The class on one host (k, l, m: tests/bench/class-bench.ts) runs
 * server and worker as separate processes and students over HTTP from the join link on: a class
 * of N cold beside a raw Docker burst of N, a class of N from a full pool, M environments idle
 * with host memory per environment and a bystander's echo among them. The wire phase
 * (tests/bench/wire-bench.ts) is the terminal hop by hop: server, worker and each browser as
 * separate processes, beside raw Docker and a peer web terminal (wetty), with each process's CPU.
 *
 * Env: DATABASE_URL (a migrated database; scripts/bench.sh prepares shellroom_bench),
 * REDIS_URL, and optionally BENCH_COLD_SAMPLES (5), BENCH_ECHO_SAMPLES (300),
 * BENCH_THROUGHPUT_BYTES (50000000), BENCH_THROUGHPUT_RUNS (3), BENCH_CONCURRENT_TERMINALS (100),
 * BENCH_CONCURRENT_ECHO_SAMPLES (30 per terminal), BENCH_FLOOD_SECONDS (10),
 * BENCH_POOL_SAMPLES (5), BENCH_WARM_POOL_SIZE (5), BENCH_BURST_SIZE (50), BENCH_START_CONCURRENCY (the worker's default),
 * BENCH_CONTAINMENT_SECONDS (20), BENCH_CONTAINMENT_ECHO_SAMPLES (100),
 * BENCH_RUNTIME_SIZES ("10": containers per runc/crun burst), BENCH_RUNTIME_ROUNDS (2),
 * BENCH_CLASS_SIZE (100: students in the class bursts k and l), BENCH_IDLE_ENVIRONMENTS (300: m),
 * BENCH_CLASS_ROUNDS (4: k's rounds, raw and platform alternating which goes first),
 * BENCH_IDLE_CONCURRENCY (10: m's starts at a time), BENCH_IDLE_ECHO_SAMPLES (300), BENCH_IDLE_SETTLE_SECONDS (20),
 * BENCH_WIRE_ECHO_SAMPLES (1000 per side), BENCH_WIRE_ECHO_PAUSE_MS (0: back to back; 200: a typist's pace), BENCH_WIRE_ECHO_WARMUP (2000 untimed echoes per side first, CPU not counted), BENCH_WIRE_THROUGHPUT_BYTES (16000000), BENCH_WIRE_THROUGHPUT_RUNS (2),
 * BENCH_WIRE_TERMINALS (100), BENCH_WIRE_ACTIVE_SAMPLES (20 per terminal), BENCH_WIRE_BYSTANDER_SAMPLES (300),
 * BENCH_WIRE_FLOOD_SECONDS (4: at least, per side), BENCH_WIRE_OUTPUT_RATE (the wire phase's worker's
 * SHELLROOM_TERMINAL_OUTPUT_RATE: each terminal's output budget after its burst; unset: as deployed), BENCH_WIRE_ACK_EVERY_MESSAGE (1: the wire phase's platform browsers ack every
 * output message at once instead of as the page paces its acks, to tell that pacing from the rest),
 * BENCH_PHASES ("raw,terminals,pool,containment,runtime,class,wire": the figures against raw docker, terminals under
 * load, the warm-pool figures, a bystander's echo under abuse against its quiet value, runc vs crun
 * for a class burst, the class on one host, the terminal at the speed of the wire), BENCH_LOG_LEVEL (error),
 * BENCH_PROCESS_LOG_LEVEL (warn: the separate server and worker processes of (h), (i), the class and wire).
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { BENCH_WORKER_CAPACITY, startBenchPlatform, type BenchPlatform } from "./bench-platform";
import { now, sleep } from "./measure";
import { runPoolBench, type PoolBenchResult } from "./pool-bench";
import { runTerminalLoadBench, type TerminalLoadResult } from "./terminal-load-bench";
import { runContainmentBench, type ContainmentResult } from "./containment-bench";
import { runRuntimeBench, type RuntimeBenchResult } from "./runtime-bench";
import { runClassBench } from "./class-bench";
import type { ClassBenchResult } from "./class-bench-common";
import { benchRunResources } from "./bench-run-resources";
import { rawComparisonPhase } from "./raw-comparison";
import { runWireBench } from "./wire-bench";
import type { WireResult } from "./wire-report";
import { reportBench } from "./bench-report";
import {
  BURST_SIZE,
  CLASS_ROUNDS,
  CLASS_SIZE,
  CONCURRENT_ECHO_SAMPLES,
  CONCURRENT_TERMINALS,
  CONTAINMENT_ECHO_SAMPLES,
  CONTAINMENT_SECONDS,
  FLOOD_SECONDS,
  IDLE_CONCURRENCY,
  IDLE_ECHO_SAMPLES,
  IDLE_ENVIRONMENTS,
  IDLE_SETTLE_SECONDS,
  IN_PROCESS_PHASES,
  PHASES,
  POOL_SAMPLES,
  RESULTS_FILE,
  RUNTIME_ROUNDS,
  RUNTIME_SIZES,
  WARM_POOL_SIZE,
  WIRE_ACTIVE_SAMPLES,
  WIRE_BYSTANDER_SAMPLES,
  WIRE_ECHO_SAMPLES,
  WIRE_ECHO_WARMUP,
  WIRE_ECHO_PAUSE_MS,
  WIRE_FLOOD_SECONDS,
  WIRE_OUTPUT_RATE,
  WIRE_TERMINALS,
  WIRE_THROUGHPUT_BYTES,
  WIRE_THROUGHPUT_RUNS,
  ECHO_BLOCKS,
} from "./bench-settings";

const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL must name a migrated database (scripts/bench.sh prepares one).");
  process.exit(2);
}

const docker = new Docker();
const runId = randomBytes(4).toString("hex");
const rawWorkerId = `bench-raw-${runId}`;
let platform: BenchPlatform | undefined;
let cleanedUp: Promise<void> | undefined;
const { createdIds, extraWorkerIds, startedProcesses, runWorkerIds, dockerLeftovers, sweep, stopStartedProcesses } = benchRunResources({
  docker,
  runId,
  rawWorkerId,
  say,
  platform: () => platform,
});

function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    await stopStartedProcesses();
    if (platform) await platform.close().catch((error: Error) => say(`platform close: ${error.message}`));
    await sweep();
  })();
  return cleanedUp;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`${signal}: cleaning up`);
    // A second sweep catches a container whose creation was already under way.
    void cleanup()
      .then(() => sleep(1000))
      .then(sweep)
      .finally(() => process.exit(130));
  });
}
process.on("uncaughtException", (error) => {
  say(`uncaught exception: ${error.stack ?? error.message}`);
  void cleanup().finally(() => process.exit(1));
});

// ---------------------------------------------------------------------------------------
// Platform side

const track = (environmentId: string) => {
  createdIds.add(environmentId);
};

const { rawShell, closeRawShell, rawComparison } = rawComparisonPhase({ docker, runId, rawWorkerId, createdIds, say, track });

async function main() {
  const benchStarted = now();
  const dockerVersion = await docker.version();
  say(`docker ${dockerVersion.Version} (API ${dockerVersion.ApiVersion}), node ${process.version}, ${os.cpus().length} CPUs`);
  // Started only for the phases that use it, so it does not idle beside the processes of the others.
  const started = IN_PROCESS_PHASES.some((phase) => PHASES.has(phase))
    ? await startBenchPlatform({ databaseUrl: databaseUrl!, redisUrl: process.env.REDIS_URL })
    : undefined;
  platform = started;
  if (started) say(`platform at ${started.url}, worker ${started.workerId} (capacity ${BENCH_WORKER_CAPACITY.maxEnvironments} environments)`);
  /** The in-process platform, for a phase of IN_PROCESS_PHASES (started above whenever one of them is asked for). */
  const p = started as BenchPlatform;

  const phaseSeconds: string[] = [];
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const began = now();
    try {
      return await run();
    } finally {
      phaseSeconds.push(`${name} ${((now() - began) / 1000).toFixed(1)} s`);
    }
  };
  const raw = PHASES.has("raw") ? await timed("raw docker comparison", () => rawComparison(p)) : undefined;
  let terminals: TerminalLoadResult | undefined;
  if (PHASES.has("terminals")) {
    terminals = await timed("terminals under load", () =>
      runTerminalLoadBench(
        {
          platform: p,
          docker,
          say,
          track,
          runId,
          rawShell: () => rawShell(p),
          closeRawShell,
          addWorkerId: (workerId) => {
            extraWorkerIds.add(workerId);
          },
          addProcess: (child) => {
            startedProcesses.add(child);
          },
          benchDatabaseUrl: databaseUrl!,
          redisUrl: process.env.REDIS_URL,
          logDir: path.dirname(RESULTS_FILE),
        },
        { concurrentTerminals: CONCURRENT_TERMINALS, echoSamplesPerTerminal: CONCURRENT_ECHO_SAMPLES, floodSeconds: FLOOD_SECONDS },
      ),
    );
  }
  let pool: PoolBenchResult | undefined;
  if (PHASES.has("pool")) {
    pool = await timed("warm pool", () =>
      runPoolBench({ platform: p, docker, say, track }, { samples: POOL_SAMPLES, warmPoolSize: WARM_POOL_SIZE, burstSize: BURST_SIZE }),
    );
  }
  let containment: ContainmentResult | undefined;
  if (PHASES.has("containment")) {
    containment = await timed("containment", () =>
      runContainmentBench(
        {
          say,
          runId,
          benchDatabaseUrl: databaseUrl!,
          redisUrl: process.env.REDIS_URL,
          logDir: path.dirname(RESULTS_FILE),
          addWorkerId: (workerId) => {
            extraWorkerIds.add(workerId);
          },
          addProcess: (child) => {
            startedProcesses.add(child);
          },
        },
        { echoSamples: CONTAINMENT_ECHO_SAMPLES, abuseSeconds: CONTAINMENT_SECONDS },
      ),
    );
  }
  let runtime: RuntimeBenchResult | undefined;
  if (PHASES.has("runtime")) {
    runtime = await timed("runtime", () =>
      runRuntimeBench(
        {
          docker,
          say,
          workerId: rawWorkerId,
          idPrefix: `bench-raw-${runId}-rt`,
          track: (id) => {
            createdIds.add(id);
          },
          specFor: (id) => p.specFor(id, "bench-baseline"),
        },
        { sizes: RUNTIME_SIZES, rounds: RUNTIME_ROUNDS },
      ),
    );
  }
  let classroom: ClassBenchResult | undefined;
  if (PHASES.has("class")) {
    classroom = await timed("class", () =>
      runClassBench(
        {
          docker,
          say,
          runId,
          benchDatabaseUrl: databaseUrl!,
          redisUrl: process.env.REDIS_URL,
          logDir: path.dirname(RESULTS_FILE),
          rawWorkerId,
          track: (id) => {
            createdIds.add(id);
          },
          addWorkerId: (workerId) => {
            extraWorkerIds.add(workerId);
          },
          addProcess: (child) => {
            startedProcesses.add(child);
          },
        },
        {
          size: CLASS_SIZE,
          idleEnvironments: IDLE_ENVIRONMENTS,
          rounds: CLASS_ROUNDS,
          idleConcurrency: IDLE_CONCURRENCY,
          echoSamples: IDLE_ECHO_SAMPLES,
          settleSeconds: IDLE_SETTLE_SECONDS,
        },
      ),
    );
  }
  let wire: WireResult | undefined;
  if (PHASES.has("wire")) {
    wire = await timed("wire", () =>
      runWireBench(
        {
          docker,
          say,
          runId,
          benchDatabaseUrl: databaseUrl!,
          redisUrl: process.env.REDIS_URL,
          logDir: path.dirname(RESULTS_FILE),
          rawWorkerId,
          track,
          addWorkerId: (workerId) => {
            extraWorkerIds.add(workerId);
          },
          addProcess: (child) => {
            startedProcesses.add(child);
          },
        },
        {
          echoSamples: WIRE_ECHO_SAMPLES,
          echoWarmup: WIRE_ECHO_WARMUP,
          echoPauseMs: WIRE_ECHO_PAUSE_MS,
          echoBlocks: ECHO_BLOCKS,
          throughputBytes: WIRE_THROUGHPUT_BYTES,
          throughputRuns: WIRE_THROUGHPUT_RUNS,
          terminals: WIRE_TERMINALS,
          activeSamples: WIRE_ACTIVE_SAMPLES,
          bystanderSamples: WIRE_BYSTANDER_SAMPLES,
          floodSeconds: WIRE_FLOOD_SECONDS,
          outputRate: WIRE_OUTPUT_RATE,
        },
      ),
    );
  }
  const wallSeconds = (now() - benchStarted) / 1000;
  await reportBench({ raw, terminals, pool, containment, runtime, classroom, wire }, { wallSeconds, phaseSeconds, dockerVersion, say });
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
}
await cleanup();
const left = await dockerLeftovers();
say(
  left.containers.length || left.volumes.length
    ? `after cleanup ${left.containers.length} container(s) and ${left.volumes.length} volume(s) of this run are still in Docker: ${[...left.containers.map((c) => c.Names[0]), ...left.volumes].join(", ")}`
    : `after cleanup no container or volume of this run's workers (${runWorkerIds().join(", ")}) is left in Docker`,
);
if (left.containers.length || left.volumes.length) exitCode ||= 1;
process.exit(exitCode);
