/**
 * Terminals under load, (f) and (g), each against raw dockerode in the same run:
 *  (f) echo latency while N terminals are all active at once (N students, one environment
 *      and one acking terminal each; baseline: N raw containers with an exec shell each);
 *  (g) one terminal flooded by `cat /dev/urandom | base64`, then Ctrl-C.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { BROWSER_OUTPUT_WINDOW } from "../../protocol/browser-messages";
import { formatMs, inBatches, now, sleep } from "./measure";
import { platformAtPrompt, platformShell, withTimeout, type PlatformShell } from "./platform-shell";
import { echoMarker, enterEchoMode, measureFlood, newLineInEchoMode, type FloodResult, type TerminalLink } from "./terminal-link";
import { errorText, load1, type RawHandle, type TerminalLoadContext, type TerminalLoadOptions } from "./terminal-load-context";

/** Environments started (and raw containers created) at a time while setting up (f). */
const SETUP_CONCURRENCY = 10;

/** monitorEventLoopDelay records whole intervals: the resolution is subtracted from what it reports. */
const LOOP_DELAY_RESOLUTION_MS = 5;

// ---------------------------------------------------------------------------------------
// (f) echo with N active terminals

export interface ActiveEchoResult {
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
export async function activeEcho(links: readonly TerminalLink[], samplesPer: number): Promise<ActiveEchoResult> {
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

export async function platformActiveEcho(ctx: TerminalLoadContext, options: TerminalLoadOptions, anomalies: string[]) {
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

export async function rawActiveEcho(ctx: TerminalLoadContext, options: TerminalLoadOptions, anomalies: string[]) {
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

export async function platformFlood(ctx: TerminalLoadContext, seconds: number) {
  const shell = await platformAtPrompt(ctx.platform, { onEnvironment: ctx.track });
  try {
    const flood = await measureFlood(shell.terminal, seconds);
    return { ...flood, repaints: shell.terminal.stats().repaints };
  } finally {
    shell.terminal.socket.close();
    await ctx.platform.removeEnvironment(shell.environmentId);
  }
}

export async function rawFlood(ctx: TerminalLoadContext, seconds: number): Promise<FloodResult> {
  const raw = await ctx.rawShell();
  try {
    await withTimeout(raw.shell.prompt, 30_000, "raw prompt");
    return await measureFlood(raw.shell, seconds);
  } finally {
    await ctx.closeRawShell(raw);
  }
}
