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
 * with host memory per environment and a bystander's echo among them.
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
 * BENCH_PHASES ("raw,terminals,pool,containment,runtime,class": the figures against raw docker, terminals under
 * load, the warm-pool figures, a bystander's echo under abuse against its quiet value, runc vs crun
 * for a class burst, the class on one host), BENCH_LOG_LEVEL (error), BENCH_PROCESS_LOG_LEVEL (warn: the
 * separate server and worker processes of (h), (i) and the class).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { LABEL_ENVIRONMENT, LABEL_MANAGED, LABEL_WORKER, volumeName } from "../../runtime-worker/docker/container-config";
import { BENCH_WORKER_CAPACITY, startBenchPlatform, type BenchPlatform } from "./bench-platform";
import { figure, formatMs, formatRate, now, percentile, renderPoolTable, renderTable, sleep, summarize, type Figure } from "./measure";
import { closePlatformShell, platformAtPrompt, platformShell, withTimeout, type ShellPhases } from "./platform-shell";
import { runPoolBench, type PoolBenchResult } from "./pool-bench";
import { runTerminalLoadBench, type TerminalLoadResult } from "./terminal-load-bench";
import { serverRssLines } from "./server-under-flood";
import { containmentLines, runContainmentBench, type ContainmentResult } from "./containment-bench";
import { removeRaw, startRawShell, type RawShell } from "./raw-docker";
import { runRuntimeBench, runtimeLines, type RuntimeBenchResult } from "./runtime-bench";
import { runClassBench } from "./class-bench";
import type { ClassBenchResult } from "./class-bench-common";
import { classLines } from "./class-report";
import { measureEcho, measureThroughput, type ThroughputResult } from "./terminal-link";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const RESULTS_FILE = path.join(projectRoot, ".data/bench-results.json");

const intFromEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const COLD_SAMPLES = intFromEnv("BENCH_COLD_SAMPLES", 5);
const ECHO_SAMPLES = intFromEnv("BENCH_ECHO_SAMPLES", 300);
const ECHO_BLOCKS = 3; // platform and baseline alternate in blocks, so drift hits both alike
const THROUGHPUT_BYTES = intFromEnv("BENCH_THROUGHPUT_BYTES", 50_000_000);
const THROUGHPUT_RUNS = intFromEnv("BENCH_THROUGHPUT_RUNS", 3);
const POOL_SAMPLES = intFromEnv("BENCH_POOL_SAMPLES", 5);
const WARM_POOL_SIZE = intFromEnv("BENCH_WARM_POOL_SIZE", 5);
const BURST_SIZE = intFromEnv("BENCH_BURST_SIZE", 50);
const CONCURRENT_TERMINALS = intFromEnv("BENCH_CONCURRENT_TERMINALS", 100);
const CONCURRENT_ECHO_SAMPLES = intFromEnv("BENCH_CONCURRENT_ECHO_SAMPLES", 30);
const FLOOD_SECONDS = intFromEnv("BENCH_FLOOD_SECONDS", 10);
const CONTAINMENT_SECONDS = intFromEnv("BENCH_CONTAINMENT_SECONDS", 20);
const CONTAINMENT_ECHO_SAMPLES = intFromEnv("BENCH_CONTAINMENT_ECHO_SAMPLES", 100);
const RUNTIME_SIZES = (process.env.BENCH_RUNTIME_SIZES ?? "10")
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const RUNTIME_ROUNDS = intFromEnv("BENCH_RUNTIME_ROUNDS", 2);
const CLASS_SIZE = intFromEnv("BENCH_CLASS_SIZE", 100);
const IDLE_ENVIRONMENTS = intFromEnv("BENCH_IDLE_ENVIRONMENTS", 300);
const CLASS_ROUNDS = intFromEnv("BENCH_CLASS_ROUNDS", 4);
const IDLE_CONCURRENCY = intFromEnv("BENCH_IDLE_CONCURRENCY", 10);
const IDLE_ECHO_SAMPLES = intFromEnv("BENCH_IDLE_ECHO_SAMPLES", 300);
const IDLE_SETTLE_SECONDS = intFromEnv("BENCH_IDLE_SETTLE_SECONDS", 20);
const PHASES = new Set((process.env.BENCH_PHASES ?? "raw,terminals,pool,containment,runtime,class").split(",").map((phase) => phase.trim()));
/** Phases that use the platform in this process (containment and class run their own processes). */
const IN_PROCESS_PHASES = ["raw", "terminals", "pool", "runtime"];

const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL must name a migrated database (scripts/bench.sh prepares one).");
  process.exit(2);
}

const docker = new Docker();
const runId = randomBytes(4).toString("hex");
const rawWorkerId = `bench-raw-${runId}`;
/** Every environment id this run created, platform's and baseline's, for the final sweep. */
const createdIds = new Set<string>();
/** Workers of this run besides the in-process one (the separate worker process of (h)). */
const extraWorkerIds = new Set<string>();
/** Processes this run started (the server and worker processes of (h)): stopped by pid in the cleanup. */
const startedProcesses = new Set<ChildProcess>();
let platform: BenchPlatform | undefined;
let cleanedUp: Promise<void> | undefined;

const runWorkerIds = () => [rawWorkerId, ...(platform ? [platform.workerId] : []), ...extraWorkerIds];

/** Managed containers and volumes of this run in Docker (by worker label; the baseline's volumes by name). */
async function dockerLeftovers() {
  const containers: Docker.ContainerInfo[] = [];
  const volumes: string[] = [];
  for (const workerId of runWorkerIds()) {
    const filters = { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${workerId}`] };
    containers.push(...(await docker.listContainers({ all: true, filters }).catch(() => [])));
    volumes.push(...((await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? []).map((volume) => volume.Name));
  }
  const rawVolumes = ((await docker.listVolumes({ filters: { label: [`${LABEL_MANAGED}=true`] } }).catch(() => ({ Volumes: [] }))).Volumes ?? [])
    .map((volume) => volume.Name)
    .filter((name) => name.startsWith(volumeName(`bench-raw-${runId}-`)));
  return { containers, volumes: [...new Set([...volumes, ...rawVolumes])] };
}

/**
 * Removes every container and volume of this run's two worker ids (environments and warm
 * pool alike) and every environment it recorded.
 */
async function sweep() {
  const { containers, volumes } = await dockerLeftovers();
  for (const container of containers) {
    createdIds.add(container.Labels[LABEL_ENVIRONMENT] ?? "");
    await docker
      .getContainer(container.Id)
      .remove({ force: true })
      .catch((error: { statusCode?: number; message: string }) => {
        if (error.statusCode !== 404) say(`remove container ${container.Names[0]}: ${error.message}`);
      });
  }
  for (const id of createdIds) if (id) await removeRaw(docker, id).catch((error: Error) => say(`remove ${id}: ${error.message}`));
  for (const name of volumes) {
    await docker
      .getVolume(name)
      .remove()
      .catch((error: { statusCode?: number; message: string }) => {
        if (error.statusCode !== 404) say(`remove volume ${name}: ${error.message}`);
      });
  }
}

/** SIGTERM to each process this run started that is still running; SIGKILL after 10 s. */
async function stopStartedProcesses() {
  await Promise.all(
    [...startedProcesses].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      say(`stopping process ${child.pid} (started by this run)`);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
      child.kill("SIGKILL");
      await exited;
    }),
  );
}

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

// ---------------------------------------------------------------------------------------
// Baseline side

let rawCounter = 0;
async function rawShell(p: BenchPlatform): Promise<{ shell: RawShell; id: string; firstByteMs: number }> {
  const id = `bench-raw-${runId}-${rawCounter++}`;
  createdIds.add(id);
  const spec = await p.specFor(id, "bench-baseline");
  const started = now();
  const shell = await startRawShell(docker, spec, rawWorkerId);
  await withTimeout(shell.firstByte, 30_000, "raw first byte");
  return { shell, id, firstByteMs: now() - started };
}

async function closeRawShell(raw: { shell: RawShell; id: string }) {
  raw.shell.close();
  await removeRaw(docker, raw.id);
}

// ---------------------------------------------------------------------------------------

/** (a) cold start, (b) keystroke echo, (c) output throughput: each against raw dockerode. */
async function rawComparison(p: BenchPlatform) {
  // (a) cold start -> first prompt byte. One warm-up each, then alternate.
  say(`(a) cold start: 1 warm-up + ${COLD_SAMPLES} samples each (platform and baseline alternate)`);
  const platformCold: ShellPhases[] = [];
  const rawCold: number[] = [];
  for (let index = 0; index <= COLD_SAMPLES; index++) {
    const shell = await platformShell(p, { onEnvironment: track });
    await closePlatformShell(p, shell);
    const raw = await rawShell(p);
    await closeRawShell(raw);
    if (index === 0) continue;
    platformCold.push(shell.phases);
    rawCold.push(raw.firstByteMs);
    say(`  sample ${index}: platform ${formatMs(shell.phases.total)}, raw ${formatMs(raw.firstByteMs)}`);
  }

  // (b) keystroke echo round trips on one long-lived shell each.
  say(`(b) keystroke echo: ${ECHO_SAMPLES} samples each, in ${ECHO_BLOCKS} alternating blocks`);
  const echoShellPlatform = await platformAtPrompt(p, { onEnvironment: track });
  const echoShellRaw = await rawShell(p);
  await withTimeout(echoShellRaw.shell.prompt, 15_000, "raw prompt");
  const echoPlatform: number[] = [];
  const echoRaw: number[] = [];
  const perBlock = Math.ceil(ECHO_SAMPLES / ECHO_BLOCKS);
  for (let block = 0; block < ECHO_BLOCKS; block++) {
    const count = Math.min(perBlock, ECHO_SAMPLES - block * perBlock);
    if (count <= 0) break;
    echoPlatform.push(...(await measureEcho(echoShellPlatform.terminal, count, 10)));
    echoRaw.push(...(await measureEcho(echoShellRaw.shell, count, 10)));
  }
  say(`  echo p50: platform ${formatMs(percentile(echoPlatform, 50))}, raw ${formatMs(percentile(echoRaw, 50))}`);

  // (c) output throughput on the same shells.
  say(`(c) throughput: head -c ${THROUGHPUT_BYTES} /dev/zero | base64, ${THROUGHPUT_RUNS} run(s) each, alternating`);
  const throughputPlatform: ThroughputResult[] = [];
  const throughputRaw: ThroughputResult[] = [];
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    const platformRun = await measureThroughput(echoShellPlatform.terminal, THROUGHPUT_BYTES);
    throughputPlatform.push(platformRun);
    const rawRun = await measureThroughput(echoShellRaw.shell, THROUGHPUT_BYTES);
    throughputRaw.push(rawRun);
    say(
      `  run ${run + 1}: platform ${formatRate(platformRun.bytesPerSecond)} (${formatMs(platformRun.ms)}), raw ${formatRate(rawRun.bytesPerSecond)} (${formatMs(rawRun.ms)})`,
    );
  }
  await closePlatformShell(p, echoShellPlatform);
  await closeRawShell(echoShellRaw);

  const coldTotals = platformCold.map((phases) => phases.total);
  const platformRates = throughputPlatform.map((run) => run.bytesPerSecond);
  const rawRates = throughputRaw.map((run) => run.bytesPerSecond);
  const figures: Figure[] = [
    figure("(a) cold start -> first prompt (p50)", "ms", percentile(coldTotals, 50), percentile(rawCold, 50), {
      platform: coldTotals.length,
      baseline: rawCold.length,
    }),
    figure("(b) keystroke echo round trip (p50)", "ms", percentile(echoPlatform, 50), percentile(echoRaw, 50), {
      platform: echoPlatform.length,
      baseline: echoRaw.length,
    }),
    figure("(b) keystroke echo round trip (p99)", "ms", percentile(echoPlatform, 99), percentile(echoRaw, 99), {
      platform: echoPlatform.length,
      baseline: echoRaw.length,
    }),
    figure("(c) output throughput (median)", "bytes/s", percentile(platformRates, 50), percentile(rawRates, 50), {
      platform: platformRates.length,
      baseline: rawRates.length,
    }),
  ];
  const phase = (name: keyof ShellPhases) =>
    percentile(
      platformCold.map((phases) => phases[name]),
      50,
    );
  const cpuPerMb = (runs: ThroughputResult[]) =>
    percentile(
      runs.map((run) => run.processCpuMs / (run.bytes / 1e6)),
      50,
    );
  const lines = [
    "ratio = platform / raw docker (for times lower is better, for throughput higher is better)",
    `(a) platform cold start p50 by phase: startForLab ${formatMs(phase("startForLab"))}, socket connect ${formatMs(phase("socketConnect"))}, ` +
      `attach -> first prompt byte ${formatMs(phase("attachToFirstByte"))} (attach reply ${formatMs(phase("attachReply"))})`,
    `(c) ${(throughputPlatform[0]!.bytes / 1e6).toFixed(1)} MB per run; this process's CPU per MB received: ` +
      `platform ${cpuPerMb(throughputPlatform).toFixed(1)} ms, raw ${cpuPerMb(throughputRaw).toFixed(1)} ms ` +
      "(server, worker and client share this one Node process)",
    `samples: cold start ${coldTotals.length}+${rawCold.length}, echo ${echoPlatform.length}+${echoRaw.length}, throughput ${platformRates.length}+${rawRates.length}`,
  ];
  const details = {
    coldStart: { platform: { ...summarize(coldTotals), phases: platformCold }, baseline: { ...summarize(rawCold), samples: rawCold } },
    echo: { platform: summarize(echoPlatform), baseline: summarize(echoRaw) },
    throughput: { zeroBytes: THROUGHPUT_BYTES, platform: throughputPlatform, baseline: throughputRaw },
  };
  return { figures, lines, details };
}

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
  const wallSeconds = (now() - benchStarted) / 1000;
  const againstRaw = [...(raw?.figures ?? []), ...(terminals?.figures ?? [])];

  console.log("");
  if (againstRaw.length) {
    console.log("Platform vs raw dockerode (same run, same container options):");
    console.log(renderTable(againstRaw));
    console.log("");
    for (const line of [...(raw?.lines ?? []), ...(terminals?.lines ?? [])]) console.log(line);
    console.log("");
  }
  if (terminals) {
    console.log("(h) Server as its own process under flood (one acking browser, one that never acks):");
    for (const line of terminals.serverRss ? serverRssLines(terminals.serverRss) : ["not measured (see anomalies)"]) console.log(line);
    console.log(terminals.anomalies.length ? `terminal anomalies (${terminals.anomalies.length}):` : "terminal anomalies: none");
    for (const anomaly of terminals.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (pool) {
    console.log("Warm pool vs cold start (platform only; fresh students; lab template at pool size 0 vs a filled pool):");
    console.log(renderPoolTable(pool.figures));
    console.log("");
    for (const line of pool.lines) console.log(line);
    console.log(pool.anomalies.length ? `platform anomalies (${pool.anomalies.length}):` : "platform anomalies: none");
    for (const anomaly of pool.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (containment) {
    console.log("(i) Containment: a bystander's echo while one student floods, resizes and re-attaches and another runs a fork bomb:");
    for (const line of containmentLines(containment)) console.log(line);
    console.log(containment.anomalies.length ? `containment anomalies (${containment.anomalies.length}):` : "containment anomalies: none");
    for (const anomaly of containment.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (runtime) {
    console.log("(j) OCI runtimes for a class burst (raw dockerode, the platform's container options; create, start, exec a login shell; to its prompt):");
    for (const line of runtimeLines(runtime)) console.log(line);
    console.log("");
  }
  if (classroom) {
    console.log(`The class on one host (server and worker as separate processes; students join through the link over HTTP, then start, attach, prompt, echo):`);
    for (const line of classLines(classroom)) console.log(line);
    console.log(classroom.anomalies.length ? `class anomalies (${classroom.anomalies.length}):` : "class anomalies: none");
    for (const anomaly of classroom.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  console.log(`bench took ${wallSeconds.toFixed(1)} s (${phaseSeconds.join(", ")})`);

  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        host: { node: process.version, cpus: os.cpus().length, docker: dockerVersion.Version, dockerApi: dockerVersion.ApiVersion },
        note:
          "figures: ratio = platform / baseline; baseline = raw dockerode with the platform's containerCreateOptions, same run. " +
          "poolFigures: ratio = pool / cold; cold = the lab's template at warm pool size 0, pool = started from a filled warm pool. " +
          "serverUnderFlood: a separate server process's RSS while one terminal floods to an acking and a never-acking socket",
        figures: againstRaw,
        poolFigures: pool?.figures ?? [],
        serverUnderFlood: terminals?.serverRss ? { ...terminals.serverRss, samples: undefined, lines: serverRssLines(terminals.serverRss) } : null,
        containment: containment ? { ...containment, lines: containmentLines(containment) } : null,
        runtime: runtime ? { missing: runtime.missing, bursts: runtime.bursts, lines: runtimeLines(runtime) } : null,
        class: classroom ? { figures: classroom.figures, lines: classroom.lines, anomalies: classroom.anomalies, details: classroom.details } : null,
        details: { ...raw?.details, ...terminals?.details, ...pool?.details },
        anomalies: [...(terminals?.anomalies ?? []), ...(pool?.anomalies ?? []), ...(containment?.anomalies ?? []), ...(classroom?.anomalies ?? [])],
        leftoversAfterPlatformCleanup: pool?.leftovers ?? null,
        wallSeconds,
      },
      null,
      2,
    )}\n`,
  );
  say(`results written to ${path.relative(projectRoot, RESULTS_FILE)}`);
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
