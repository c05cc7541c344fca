/**
 * Shellroom's benchmark: each platform figure beside a raw-dockerode baseline measured in
 * the same run, and their ratio (platform / baseline). It reports; it asserts nothing.
 *
 * Env: DATABASE_URL (a migrated database; scripts/bench.sh prepares shellroom_bench),
 * REDIS_URL, and optionally BENCH_COLD_SAMPLES (5), BENCH_ECHO_SAMPLES (300),
 * BENCH_THROUGHPUT_BYTES (50000000), BENCH_THROUGHPUT_RUNS (3), BENCH_LOG_LEVEL (error).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { LABEL_ENVIRONMENT, LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { startBenchPlatform, type BenchPlatform, type PlatformTerminal } from "./bench-platform";
import { figure, formatMs, formatRate, now, percentile, renderTable, sleep, summarize, type Figure } from "./measure";
import { removeRaw, startRawShell, type RawShell } from "./raw-docker";
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

const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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
let platform: BenchPlatform | undefined;
let cleanedUp: Promise<void> | undefined;

/** Removes every container of this run's two worker ids and every environment it recorded. */
async function sweep() {
  const workerIds = [rawWorkerId, ...(platform ? [platform.workerId] : [])];
  for (const workerId of workerIds) {
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_WORKER}=${workerId}`] } }).catch(() => []);
    for (const container of leftovers) createdIds.add(container.Labels[LABEL_ENVIRONMENT] ?? "");
  }
  for (const id of createdIds) if (id) await removeRaw(docker, id).catch((error: Error) => say(`remove ${id}: ${error.message}`));
}

function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    if (platform) await platform.close().catch((error: Error) => say(`platform close: ${error.message}`));
    await sweep();
  })();
  return cleanedUp;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`${signal}: cleaning up`);
    // A second sweep catches a container whose creation was already under way.
    void cleanup().then(() => sleep(1000)).then(sweep).finally(() => process.exit(130));
  });
}
process.on("uncaughtException", (error) => {
  say(`uncaught exception: ${error.stack ?? error.message}`);
  void cleanup().finally(() => process.exit(1));
});

// ---------------------------------------------------------------------------------------
// Platform side

/**
 * A fresh student's environment, attached. `phases.total` runs from startForLab to the
 * first prompt byte; `prompt` resolves once the screen or the output shows "$ ".
 */
async function platformShell(p: BenchPlatform) {
  const student = await p.newStudent();
  const started = now();
  const environmentId = await p.startEnvironment(student.cookie);
  createdIds.add(environmentId);
  const startedForLab = now();
  const socket = await p.connect(student.cookie);
  const connected = now();
  const terminal = p.terminal(socket, environmentId);
  let seen = "";
  let markPrompt = () => undefined as void;
  const prompt = new Promise<void>((resolve) => { markPrompt = resolve; });
  const firstOutput = new Promise<number>((resolve) => {
    const stop = terminal.onData((chunk) => {
      resolve(now());
      seen += Buffer.from(chunk).toString("latin1");
      if (seen.includes("$ ")) { stop(); markPrompt(); }
    });
  });
  const attached = p.attach(socket, environmentId).then((reply) => {
    if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
    const at = now();
    if (reply.screen.includes("$ ")) markPrompt();
    return { reply, at };
  });
  // The attach reply's screen may already show the prompt; otherwise the first output chunk counts.
  const promptFromScreen = attached.then(({ reply, at }) => (reply.screen.includes("$ ") ? at : firstOutput));
  const firstPrompt = await withTimeout(Promise.race([firstOutput, promptFromScreen]), 30_000, "platform first prompt");
  const { at: attachedAt } = await attached;
  return {
    terminal, environmentId, prompt,
    phases: {
      total: firstPrompt - started,
      startForLab: startedForLab - started,
      socketConnect: connected - startedForLab,
      attachToFirstByte: firstPrompt - connected,
      attachReply: attachedAt - connected,
    },
  };
}

/** A fresh student's environment, attached and at its prompt. */
async function platformAtPrompt(p: BenchPlatform) {
  const shell = await platformShell(p);
  await withTimeout(shell.prompt, 15_000, "platform prompt");
  return shell;
}

async function closePlatformShell(p: BenchPlatform, shell: { terminal: PlatformTerminal; environmentId: string }) {
  shell.terminal.socket.close();
  await p.removeEnvironment(shell.environmentId);
}

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

async function main() {
  const benchStarted = now();
  const dockerVersion = await docker.version();
  say(`docker ${dockerVersion.Version} (API ${dockerVersion.ApiVersion}), node ${process.version}, ${os.cpus().length} CPUs`);
  platform = await startBenchPlatform({ databaseUrl: databaseUrl!, redisUrl: process.env.REDIS_URL });
  const p = platform;
  say(`platform at ${p.url}, worker ${p.workerId}`);

  // (a) cold start -> first prompt byte. One warm-up each, then alternate.
  say(`cold start: 1 warm-up + ${COLD_SAMPLES} samples each (platform and baseline alternate)`);
  const platformCold: Awaited<ReturnType<typeof platformShell>>["phases"][] = [];
  const rawCold: number[] = [];
  for (let index = 0; index <= COLD_SAMPLES; index++) {
    const shell = await platformShell(p);
    await closePlatformShell(p, shell);
    const raw = await rawShell(p);
    await closeRawShell(raw);
    if (index === 0) continue;
    platformCold.push(shell.phases);
    rawCold.push(raw.firstByteMs);
    say(`  sample ${index}: platform ${formatMs(shell.phases.total)}, raw ${formatMs(raw.firstByteMs)}`);
  }

  // (b) keystroke echo round trips on one long-lived shell each.
  say(`keystroke echo: ${ECHO_SAMPLES} samples each, in ${ECHO_BLOCKS} alternating blocks`);
  const echoShellPlatform = await platformAtPrompt(p);
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
  say(`throughput: head -c ${THROUGHPUT_BYTES} /dev/zero | base64, ${THROUGHPUT_RUNS} run(s) each, alternating`);
  const throughputPlatform: ThroughputResult[] = [];
  const throughputRaw: ThroughputResult[] = [];
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    const platformRun = await measureThroughput(echoShellPlatform.terminal, THROUGHPUT_BYTES);
    throughputPlatform.push(platformRun);
    const rawRun = await measureThroughput(echoShellRaw.shell, THROUGHPUT_BYTES);
    throughputRaw.push(rawRun);
    say(`  run ${run + 1}: platform ${formatRate(platformRun.bytesPerSecond)} (${formatMs(platformRun.ms)}), raw ${formatRate(rawRun.bytesPerSecond)} (${formatMs(rawRun.ms)})`);
  }
  await closePlatformShell(p, echoShellPlatform);
  await closeRawShell(echoShellRaw);

  // Results.
  const coldTotals = platformCold.map((phases) => phases.total);
  const platformRates = throughputPlatform.map((run) => run.bytesPerSecond);
  const rawRates = throughputRaw.map((run) => run.bytesPerSecond);
  const figures: Figure[] = [
    figure("cold start -> first prompt (p50)", "ms", percentile(coldTotals, 50), percentile(rawCold, 50), { platform: coldTotals.length, baseline: rawCold.length }),
    figure("keystroke echo round trip (p50)", "ms", percentile(echoPlatform, 50), percentile(echoRaw, 50), { platform: echoPlatform.length, baseline: echoRaw.length }),
    figure("keystroke echo round trip (p99)", "ms", percentile(echoPlatform, 99), percentile(echoRaw, 99), { platform: echoPlatform.length, baseline: echoRaw.length }),
    figure("output throughput (median)", "bytes/s", percentile(platformRates, 50), percentile(rawRates, 50), { platform: platformRates.length, baseline: rawRates.length }),
  ];
  const phase = (name: keyof (typeof platformCold)[number]) => percentile(platformCold.map((phases) => phases[name]), 50);
  const cpuPerMb = (runs: ThroughputResult[]) => percentile(runs.map((run) => run.processCpuMs / (run.bytes / 1e6)), 50);
  const wallSeconds = (now() - benchStarted) / 1000;

  console.log("");
  console.log(renderTable(figures));
  console.log("");
  console.log("ratio = platform / raw docker (for times lower is better, for throughput higher is better)");
  console.log(`platform cold start p50 by phase: startForLab ${formatMs(phase("startForLab"))}, socket connect ${formatMs(phase("socketConnect"))}, ` +
    `attach -> first prompt byte ${formatMs(phase("attachToFirstByte"))} (attach reply ${formatMs(phase("attachReply"))})`);
  console.log(`throughput: ${(throughputPlatform[0]!.bytes / 1e6).toFixed(1)} MB per run; this process's CPU per MB received: ` +
    `platform ${cpuPerMb(throughputPlatform).toFixed(1)} ms, raw ${cpuPerMb(throughputRaw).toFixed(1)} ms ` +
    "(server, worker and client share this one Node process)");
  console.log(`samples: cold start ${coldTotals.length}+${rawCold.length}, echo ${echoPlatform.length}+${echoRaw.length}, throughput ${platformRates.length}+${rawRates.length}; bench took ${wallSeconds.toFixed(1)} s`);

  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify({
    measuredAt: new Date().toISOString(),
    host: { node: process.version, cpus: os.cpus().length, docker: dockerVersion.Version, dockerApi: dockerVersion.ApiVersion },
    note: "ratio = platform / baseline; baseline = raw dockerode with the platform's containerCreateOptions, same run",
    figures,
    details: {
      coldStart: { platform: { ...summarize(coldTotals), phases: platformCold }, baseline: { ...summarize(rawCold), samples: rawCold } },
      echo: { platform: summarize(echoPlatform), baseline: summarize(echoRaw) },
      throughput: { zeroBytes: THROUGHPUT_BYTES, platform: throughputPlatform, baseline: throughputRaw },
    },
    wallSeconds,
  }, null, 2)}\n`);
  say(`results written to ${path.relative(projectRoot, RESULTS_FILE)}`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  say(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  exitCode = 1;
}
await cleanup();
process.exit(exitCode);
