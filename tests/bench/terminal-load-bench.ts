/**
 * Terminals under load, each figure against raw dockerode in the same run:
 *  (f) echo latency while N terminals are all active at once: N fresh students, each with
 *      their own environment and one attached, acking terminal; every terminal types a
 *      unique short marker and times its echo, again and again with a little think time,
 *      all N concurrently. Baseline: N raw containers with an exec shell each, same pattern.
 *  (g) one terminal flooded by `cat /dev/urandom | base64`: bytes/s received (the client
 *      acks as it receives), then Ctrl-C -> the output stops.
 *  (h) the server as its own process (tests/bench/platform-processes.ts) while one terminal
 *      floods to two sockets of the same student, one acking and one that never acks (a
 *      stalled browser): the server's RSS before and at its peak, against a stated bound.
 *      No baseline: raw dockerode has no server.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import os from "node:os";
import type { ChildProcess } from "node:child_process";
import type Docker from "dockerode";
import { BROWSER_OUTPUT_WINDOW } from "../../protocol/browser-messages";
import { WORKER_OUTPUT_WINDOW } from "../../protocol/worker-messages";
import { DEMO_LAB_SLUG, DEMO_LOGINS } from "../../server/database/seed";
import { createDatabase } from "../../server/database/client";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import type { BenchPlatform } from "./bench-platform";
import { attachTerminal, openTerminalSocket, terminalLink } from "./browser-socket";
import { figure, formatMiB, formatMs, formatRate, inBatches, MiB, now, percentile, sleep, summarize, type Figure } from "./measure";
import { platformAtPrompt, platformShell, withTimeout, type PlatformShell } from "./platform-shell";
import { readRss, startPlatformProcesses, type PlatformProcesses } from "./platform-processes";
import type { RawShell } from "./raw-docker";
import { echoMarker, enterEchoMode, measureFlood, newLineInEchoMode, type FloodResult, type TerminalLink } from "./terminal-link";

/** The bound (h) states: far above what flow control should let the server hold for one flood. */
export const SERVER_RSS_GROWTH_BOUND = 64 * MiB;
const RSS_SAMPLE_MS = 200;
/** Environments started (and raw containers created) at a time while setting up (f). */
const SETUP_CONCURRENCY = 10;

export interface TerminalLoadOptions {
  /** (f) terminals active at once, each its own student and environment. */
  concurrentTerminals: number;
  /** (f) echo samples per terminal. */
  echoSamplesPerTerminal: number;
  /** (g), (h) flood duration. */
  floodSeconds: number;
}

export interface RawHandle {
  shell: RawShell;
  id: string;
}

export interface TerminalLoadContext {
  platform: BenchPlatform;
  docker: Docker;
  say(message: string): void;
  /** Records an environment id for the final sweep. */
  track(environmentId: string): void;
  /** A raw container with an exec shell (recorded for the sweep), and its removal. */
  rawShell(): Promise<RawHandle>;
  closeRawShell(raw: RawHandle): Promise<void>;
  /** Adds a worker id whose containers and volumes the final sweep removes. */
  addWorkerId(workerId: string): void;
  /** Registers a process this run started, for the final cleanup to stop (by its pid) if still running. */
  addProcess(child: ChildProcess): void;
  benchDatabaseUrl: string;
  redisUrl: string | undefined;
  runId: string;
  logDir: string;
}

export interface TerminalLoadResult {
  figures: Figure[];
  lines: string[];
  /** (h): the server process's RSS under flood. */
  serverRss: ServerRssResult | undefined;
  anomalies: string[];
  details: Record<string, unknown>;
}

/** monitorEventLoopDelay records whole intervals: the resolution is subtracted from what it reports. */
const LOOP_DELAY_RESOLUTION_MS = 5;
const load1 = () => Number(os.loadavg()[0]!.toFixed(1));
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ---------------------------------------------------------------------------------------
// (f) echo with N active terminals

interface ActiveEchoResult {
  terminals: number;
  samples: number[];
  failures: number;
  errors: string[];
  wallMs: number;
  /** This process's CPU use during the run, as a share of one core. */
  processCpu: number;
  /** This process's CPU time per echo (ms). */
  cpuMsPerEcho: number;
  /**
   * Event-loop delay of this process during the run (ms beyond the sampling interval):
   * server, worker and clients share it on the platform side.
   */
  eventLoopDelay: { p50: number; p99: number; max: number };
  load: [number, number];
}

/** Every link in echo mode; then all type markers at once, `samplesPer` each with 10-50 ms think time. */
async function activeEcho(links: readonly TerminalLink[], samplesPer: number): Promise<ActiveEchoResult> {
  await Promise.all(links.map((link) => enterEchoMode(link)));
  const loadBefore = load1();
  const delay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const began = now();
  const errors: string[] = [];
  const perTerminal = await Promise.all(
    links.map(async (link) => {
      const times: number[] = [];
      for (let index = 0; index < samplesPer; index++) {
        // Keep the canonical line buffer short (outside the timed part).
        if (index > 0 && index % 100 === 0) await newLineInEchoMode(link).catch((error) => errors.push(errorText(error)));
        await sleep(10 + Math.random() * 40);
        // Unique within the terminal: each sample waits for its own echo before the next.
        const marker = `k${index.toString(36).padStart(3, "0")}`;
        try {
          times.push(await echoMarker(link, marker));
        } catch (error) {
          errors.push(errorText(error));
        }
      }
      return times;
    }),
  );
  const wallMs = now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
  const samples = perTerminal.flat();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    terminals: links.length,
    samples,
    failures: errors.length,
    errors: [...new Set(errors)].slice(0, 5),
    wallMs,
    processCpu: cpuMs / wallMs,
    cpuMsPerEcho: cpuMs / Math.max(1, samples.length),
    eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    load: [loadBefore, load1()],
  };
}

async function platformActiveEcho(ctx: TerminalLoadContext, options: TerminalLoadOptions, anomalies: string[]) {
  const p = ctx.platform;
  const n = options.concurrentTerminals;
  const students = await inBatches(Array.from({ length: n }), SETUP_CONCURRENCY, () => p.newStudent());
  const setupBegan = now();
  const shells = (
    await inBatches(students, SETUP_CONCURRENCY, async (student) => {
      try {
        const shell = await platformShell(p, { student, timeoutMs: 120_000, onEnvironment: ctx.track });
        await withTimeout(shell.prompt, 60_000, "platform prompt");
        return shell;
      } catch (error) {
        anomalies.push(`(f) a student's terminal did not come up: ${errorText(error)}`);
        return undefined;
      }
    })
  ).filter((shell): shell is PlatformShell => Boolean(shell));
  ctx.say(`  platform: ${shells.length}/${n} students' environments started and attached in ${formatMs(now() - setupBegan)}; all typing now`);
  try {
    const result = await activeEcho(
      shells.map((shell) => shell.terminal),
      options.echoSamplesPerTerminal,
    );
    const repaints = shells.reduce((sum, shell) => sum + shell.terminal.stats().repaints, 0);
    if (repaints)
      anomalies.push(`(f) acking sockets fell more than the ${BROWSER_OUTPUT_WINDOW / 1024} KiB window behind and were repainted ${repaints} time(s)`);
    return result;
  } finally {
    const removeBegan = now();
    for (const shell of shells) shell.terminal.socket.close();
    await inBatches(shells, 8, (shell) =>
      p.removeEnvironment(shell.environmentId).catch((error) => {
        anomalies.push(`(f) removing ${shell.environmentId}: ${errorText(error)}`);
      }),
    );
    ctx.say(`  platform: ${shells.length} environments removed in ${formatMs(now() - removeBegan)}`);
  }
}

async function rawActiveEcho(ctx: TerminalLoadContext, options: TerminalLoadOptions, anomalies: string[]) {
  const n = options.concurrentTerminals;
  const setupBegan = now();
  const raws: RawHandle[] = [];
  await inBatches(Array.from({ length: n }), SETUP_CONCURRENCY, async () => {
    try {
      const raw = await ctx.rawShell();
      raws.push(raw);
      await withTimeout(raw.shell.prompt, 60_000, "raw prompt");
    } catch (error) {
      anomalies.push(`(f) a raw shell did not come up: ${errorText(error)}`);
    }
  });
  ctx.say(`  raw docker: ${raws.length}/${n} containers with an exec shell up in ${formatMs(now() - setupBegan)}; all typing now`);
  try {
    return await activeEcho(
      raws.map((raw) => raw.shell),
      options.echoSamplesPerTerminal,
    );
  } finally {
    const removeBegan = now();
    await inBatches(raws, 8, (raw) =>
      ctx.closeRawShell(raw).catch((error) => {
        anomalies.push(`(f) removing raw ${raw.id}: ${errorText(error)}`);
      }),
    );
    ctx.say(`  raw docker: ${raws.length} containers removed in ${formatMs(now() - removeBegan)}`);
  }
}

// ---------------------------------------------------------------------------------------
// (g) flood

async function platformFlood(ctx: TerminalLoadContext, seconds: number) {
  const shell = await platformAtPrompt(ctx.platform, { onEnvironment: ctx.track });
  try {
    const flood = await measureFlood(shell.terminal, seconds);
    return { ...flood, repaints: shell.terminal.stats().repaints };
  } finally {
    shell.terminal.socket.close();
    await ctx.platform.removeEnvironment(shell.environmentId);
  }
}

async function rawFlood(ctx: TerminalLoadContext, seconds: number): Promise<FloodResult> {
  const raw = await ctx.rawShell();
  try {
    await withTimeout(raw.shell.prompt, 30_000, "raw prompt");
    return await measureFlood(raw.shell, seconds);
  } finally {
    await ctx.closeRawShell(raw);
  }
}

// ---------------------------------------------------------------------------------------
// (h) the server process's RSS under flood

export interface ServerRssResult {
  boundBytes: number;
  serverEntry: string;
  serverPid: number;
  workerPid: number;
  /** Median of the server's RSS samples in the seconds before the flood. */
  serverBaseline: number;
  /** Highest server RSS from the flood's start until the output stopped (plus a second). */
  serverPeak: number;
  serverGrowth: number;
  withinBound: boolean;
  workerBaseline: number;
  workerPeak: number;
  /** The acking socket. */
  acking: { bytesPerSecond: number; bytes: number; repaints: number; stopMs: number };
  /** The socket that never acks: what reached it before the server stopped sending. */
  stalled: { bytes: number; messages: number; repaints: number };
  samples: { t: number; server: number | null; worker: number | null; phase: "before" | "flood" | "stopping" | "after" }[];
}

interface RssSampler {
  phase: ServerRssResult["samples"][number]["phase"];
  samples: ServerRssResult["samples"];
  stop(): void;
}

function sampleRss(serverPid: number, workerPid: number): RssSampler {
  const began = now();
  const sampler: RssSampler = {
    phase: "before",
    samples: [],
    stop: () => clearInterval(timer),
  };
  const take = () => {
    sampler.samples.push({ t: Math.round(now() - began), server: readRss(serverPid) ?? null, worker: readRss(workerPid) ?? null, phase: sampler.phase });
  };
  take();
  const timer = setInterval(take, RSS_SAMPLE_MS);
  return sampler;
}

/** Signs in through tRPC auth.signIn against `url`; returns the Cookie header value. */
async function signIn(url: string, email: string, password: string) {
  const response = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email, password }),
  });
  const session = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0]!)
    .find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
  if (!response.ok || !session) throw new Error(`auth.signIn failed (${response.status}): ${(await response.text()).slice(0, 300)}`);
  return session;
}

async function mutate<T>(url: string, cookie: string, procedure: string, input: unknown): Promise<T> {
  const response = await fetch(`${url}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: url },
    body: JSON.stringify(input),
  });
  const text = await response.text();
  let body: { result?: { data?: T } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (!response.ok || !body?.result) throw new Error(`${procedure} failed (${response.status}): ${text.slice(0, 300)}`);
  return body.result.data as T;
}

async function serverUnderFlood(ctx: TerminalLoadContext, seconds: number, anomalies: string[]): Promise<ServerRssResult> {
  const workerId = `bench-proc-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const startedAt = now();
  const processes: PlatformProcesses = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl,
    databaseName: "shellroom_bench_proc",
    redisUrl: ctx.redisUrl,
    workerId,
    logDir: ctx.logDir,
    onSpawn: (child) => ctx.addProcess(child),
  });
  ctx.say(
    `  server (${processes.serverEntry}) pid ${processes.serverPid}, worker pid ${processes.workerPid} at ${processes.url} (up in ${formatMs(now() - startedAt)}; logs in ${processes.logs.server}, ${processes.logs.worker})`,
  );
  const { url } = processes;
  const sockets: { close(): void }[] = [];
  let cookie: string | undefined;
  let labId: string | undefined;
  let environmentId: string | undefined;
  try {
    const db = createDatabase(processes.databaseUrl);
    try {
      labId = (await db.lab.findFirstOrThrow({ where: { slug: DEMO_LAB_SLUG }, select: { id: true } })).id;
    } finally {
      await db.$disconnect();
    }
    const student = DEMO_LOGINS.find((login) => login.role === "STUDENT")!;
    cookie = await signIn(url, student.email, student.password);
    // The worker dials in a few seconds after its start: until then no machine has room.
    const deadline = now() + 120_000;
    for (;;) {
      try {
        environmentId = (await mutate<{ environmentId: string }>(url, cookie, "environment.startForLab", { labId })).environmentId;
        break;
      } catch (error) {
        if (now() > deadline || !/SERVICE_UNAVAILABLE|503|No machine/.test(errorText(error))) throw error;
        await sleep(500);
      }
    }
    ctx.track(environmentId);

    /** A socket of the student's, attached to the environment's main terminal; with `prompt`, once it shows one. */
    const connectAndAttach = async (acks: boolean, prompt: boolean) => {
      const socket = await openTerminalSocket(url, cookie!, { acks });
      sockets.push(socket);
      const link = terminalLink(socket, environmentId!);
      let seen = "";
      let stopWatching = () => undefined as void;
      // Listening before the attach: the prompt may arrive as output right after it.
      const promptSeen = new Promise<void>((resolve) => {
        stopWatching = link.onData((chunk) => {
          seen += Buffer.from(chunk).toString("latin1");
          if (seen.includes("$ ")) resolve();
        });
      });
      try {
        const reply = await attachTerminal(socket, environmentId!, 30_000);
        if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
        if (prompt && !reply.screen.includes("$ ")) await withTimeout(promptSeen, 30_000, "prompt on the server process's terminal");
      } finally {
        stopWatching();
      }
      return link;
    };
    const acking = { link: await connectAndAttach(true, true) };
    const stalled = { link: await connectAndAttach(false, false) };

    const sampler = sampleRss(processes.serverPid, processes.workerPid);
    await sleep(3_000);
    sampler.phase = "flood";
    const floodPromise = measureFlood(acking.link, seconds);
    const ctrlCAt = sleep(seconds * 1000).then(() => {
      sampler.phase = "stopping";
    });
    const flood = await floodPromise;
    await ctrlCAt;
    sampler.phase = "after";
    await sleep(1_000);
    sampler.stop();

    const values = (phases: string[], key: "server" | "worker") =>
      sampler.samples.filter((sample) => phases.includes(sample.phase) && sample[key] !== null).map((sample) => sample[key]!);
    const serverBaseline = percentile(values(["before"], "server"), 50);
    const serverPeak = Math.max(...values(["flood", "stopping", "after"], "server"));
    const workerBaseline = percentile(values(["before"], "worker"), 50);
    const workerPeak = Math.max(...values(["flood", "stopping", "after"], "worker"));
    const stalledStats = stalled.link.stats();
    const ackingStats = acking.link.stats();
    if (stalledStats.bytes > BROWSER_OUTPUT_WINDOW + 256 * 1024) {
      anomalies.push(`(h) the socket that never acks received ${formatMiB(stalledStats.bytes)}, beyond the ${formatMiB(BROWSER_OUTPUT_WINDOW)} window`);
    }
    if (ackingStats.repaints)
      anomalies.push(
        `(h) the acking socket fell more than the ${BROWSER_OUTPUT_WINDOW / 1024} KiB window behind and was repainted ${ackingStats.repaints} time(s) (this client did not keep up with the server's sending; output in between was skipped)`,
      );
    if (!flood.promptBack) anomalies.push("(h) no prompt seen after the Ctrl-C");
    return {
      boundBytes: SERVER_RSS_GROWTH_BOUND,
      serverEntry: processes.serverEntry,
      serverPid: processes.serverPid,
      workerPid: processes.workerPid,
      serverBaseline,
      serverPeak,
      serverGrowth: serverPeak - serverBaseline,
      withinBound: serverPeak - serverBaseline <= SERVER_RSS_GROWTH_BOUND,
      workerBaseline,
      workerPeak,
      acking: { bytesPerSecond: flood.bytesPerSecond, bytes: flood.bytes, repaints: ackingStats.repaints, stopMs: flood.stopMs },
      stalled: { bytes: stalledStats.bytes, messages: stalledStats.messages, repaints: stalledStats.repaints },
      samples: sampler.samples,
    };
  } finally {
    for (const socket of sockets) socket.close();
    if (cookie && labId && environmentId) {
      // Through the platform, as the student deletes it: the worker removes container and volume.
      await mutate(url, cookie, "environment.delete", { labId }).catch((error) => anomalies.push(`(h) environment.delete: ${errorText(error)}`));
    }
    await processes.stop();
    ctx.say(`  server and worker processes stopped`);
  }
}

// ---------------------------------------------------------------------------------------

export async function runTerminalLoadBench(ctx: TerminalLoadContext, options: TerminalLoadOptions): Promise<TerminalLoadResult> {
  const { say } = ctx;
  const anomalies: string[] = [];
  const n = options.concurrentTerminals;

  say(
    `(f) echo with ${n} active terminals: ${n} students, one environment and terminal each, ${options.echoSamplesPerTerminal} samples per terminal, 10-50 ms think time`,
  );
  const echoPlatform = await platformActiveEcho(ctx, options, anomalies);
  say(
    `  platform: p50 ${formatMs(percentile(echoPlatform.samples, 50))}, p99 ${formatMs(percentile(echoPlatform.samples, 99))} ` +
      `(${echoPlatform.samples.length} samples, ${echoPlatform.failures} failed); event loop delay p99 ${formatMs(echoPlatform.eventLoopDelay.p99)}`,
  );
  const echoRaw = await rawActiveEcho(ctx, options, anomalies);
  say(
    `  raw docker: p50 ${formatMs(percentile(echoRaw.samples, 50))}, p99 ${formatMs(percentile(echoRaw.samples, 99))} ` +
      `(${echoRaw.samples.length} samples, ${echoRaw.failures} failed); event loop delay p99 ${formatMs(echoRaw.eventLoopDelay.p99)}`,
  );
  for (const [side, result] of [
    ["platform", echoPlatform],
    ["raw docker", echoRaw],
  ] as const) {
    if (result.failures) anomalies.push(`(f) ${side}: ${result.failures} echo(es) failed: ${result.errors.join(" | ")}`);
  }

  say(`(g) flood: cat /dev/urandom | base64 for ${options.floodSeconds} s, then Ctrl-C`);
  const floodPlatform = await platformFlood(ctx, options.floodSeconds);
  say(
    `  platform: ${formatRate(floodPlatform.bytesPerSecond)}, Ctrl-C -> output stops ${formatMs(floodPlatform.stopMs)} (${floodPlatform.bytesAfterCtrlC} bytes after it)`,
  );
  const floodRaw = await rawFlood(ctx, options.floodSeconds);
  say(`  raw docker: ${formatRate(floodRaw.bytesPerSecond)}, Ctrl-C -> output stops ${formatMs(floodRaw.stopMs)} (${floodRaw.bytesAfterCtrlC} bytes after it)`);
  if (floodPlatform.repaints)
    anomalies.push(
      `(g) the acking socket fell more than the ${BROWSER_OUTPUT_WINDOW / 1024} KiB window behind and was repainted ${floodPlatform.repaints} time(s) during the flood (output in between was skipped)`,
    );
  for (const [side, result] of [
    ["platform", floodPlatform],
    ["raw docker", floodRaw],
  ] as const) {
    if (!result.promptBack) anomalies.push(`(g) ${side}: no prompt seen after the Ctrl-C`);
  }

  say(`(h) server RSS under flood: a server process and a worker process of their own; one acking and one stalled socket, ${options.floodSeconds} s flood`);
  let serverRss: ServerRssResult | undefined;
  try {
    serverRss = await serverUnderFlood(ctx, options.floodSeconds, anomalies);
    say(
      `  server RSS ${formatMiB(serverRss.serverBaseline)} -> peak ${formatMiB(serverRss.serverPeak)} (growth ${formatMiB(serverRss.serverGrowth)}); ` +
        `worker peak ${formatMiB(serverRss.workerPeak)}; stalled socket got ${formatMiB(serverRss.stalled.bytes)}`,
    );
  } catch (error) {
    anomalies.push(`(h) could not be measured: ${errorText(error)}`);
    say(`  (h) failed: ${errorText(error)}`);
  }

  const figures: Figure[] = [
    figure(`(f) echo p50 with ${n} active terminals`, "ms", percentile(echoPlatform.samples, 50), percentile(echoRaw.samples, 50), {
      platform: echoPlatform.samples.length,
      baseline: echoRaw.samples.length,
    }),
    figure(`(f) echo p99 with ${n} active terminals`, "ms", percentile(echoPlatform.samples, 99), percentile(echoRaw.samples, 99), {
      platform: echoPlatform.samples.length,
      baseline: echoRaw.samples.length,
    }),
    figure("(g) output under flood", "bytes/s", floodPlatform.bytesPerSecond, floodRaw.bytesPerSecond, { platform: 1, baseline: 1 }),
    figure("(g) Ctrl-C -> output stops", "ms", floodPlatform.stopMs, floodRaw.stopMs, { platform: 1, baseline: 1 }),
  ];
  const cpuPercent = (share: number) => `${Math.round(share * 100)}%`;
  const lines = [
    `(f) ${echoPlatform.terminals} platform terminals (${echoPlatform.samples.length} echoes, ${echoPlatform.failures} failed) | ` +
      `${echoRaw.terminals} raw shells (${echoRaw.samples.length} echoes, ${echoRaw.failures} failed); ` +
      `wall ${formatMs(echoPlatform.wallMs)} | ${formatMs(echoRaw.wallMs)}`,
    `(f) this process (platform: server + worker + ${n} clients; raw: ${n} clients): CPU ${cpuPercent(echoPlatform.processCpu)} | ${cpuPercent(echoRaw.processCpu)} of a core, ` +
      `${formatMs(echoPlatform.cpuMsPerEcho)} | ${formatMs(echoRaw.cpuMsPerEcho)} CPU per echo, ` +
      `event loop delay p50/p99/max ${formatMs(echoPlatform.eventLoopDelay.p50)}/${formatMs(echoPlatform.eventLoopDelay.p99)}/${formatMs(echoPlatform.eventLoopDelay.max)} | ` +
      `${formatMs(echoRaw.eventLoopDelay.p50)}/${formatMs(echoRaw.eventLoopDelay.p99)}/${formatMs(echoRaw.eventLoopDelay.max)}; ` +
      `load ${echoPlatform.load.join(" -> ")} | ${echoRaw.load.join(" -> ")} (${os.cpus().length} CPUs)`,
    `(g) ${options.floodSeconds} s flood: ${formatMiB(floodPlatform.bytes)} | ${formatMiB(floodRaw.bytes)} received; after Ctrl-C ${floodPlatform.bytesAfterCtrlC} | ${floodRaw.bytesAfterCtrlC} bytes ` +
      `(platform windows: ${WORKER_OUTPUT_WINDOW / 1024} KiB worker -> server, ${BROWSER_OUTPUT_WINDOW / 1024} KiB server -> browser); ` +
      `this process's CPU per MB: ${(floodPlatform.processCpuMs / (floodPlatform.bytes / 1e6)).toFixed(1)} | ${(floodRaw.processCpuMs / (floodRaw.bytes / 1e6)).toFixed(1)} ms`,
  ];
  return {
    figures,
    lines,
    serverRss,
    anomalies,
    details: {
      activeEcho: {
        terminals: n,
        samplesPerTerminal: options.echoSamplesPerTerminal,
        platform: { ...summarize(echoPlatform.samples), ...echoPlatform, samples: undefined },
        baseline: { ...summarize(echoRaw.samples), ...echoRaw, samples: undefined },
      },
      flood: { seconds: options.floodSeconds, platform: floodPlatform, baseline: floodRaw },
      serverRssUnderFlood: serverRss ?? null,
    },
  };
}

/** The (h) section of the printed output. */
export function serverRssLines(result: ServerRssResult): string[] {
  return [
    `server process (${result.serverEntry}, pid ${result.serverPid}) RSS: before the flood ${formatMiB(result.serverBaseline)}, peak during ${formatMiB(result.serverPeak)}`,
    `worker process (pid ${result.workerPid}) RSS: before the flood ${formatMiB(result.workerBaseline)}, peak during ${formatMiB(result.workerPeak)}`,
    `acking socket: ${formatRate(result.acking.bytesPerSecond)} (${formatMiB(result.acking.bytes)}), Ctrl-C -> output stops ${formatMs(result.acking.stopMs)}, ${result.acking.repaints} repaint(s); ` +
      `socket that never acks: ${formatMiB(result.stalled.bytes)} in ${result.stalled.messages} message(s), then nothing`,
    `server RSS growth under flood: ${formatMiB(result.serverGrowth)} (bound ${formatMiB(result.boundBytes).replace(".0 ", " ")}: the server keeps at most ` +
      `${BROWSER_OUTPUT_WINDOW / 1024} KiB in flight per browser and ${WORKER_OUTPUT_WINDOW / 1024} KiB per terminal from the worker) -> ` +
      `${result.withinBound ? "within bound" : "OVER BOUND"}`,
  ];
}
