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
 * (f) and (g) are measured in terminal-load-echo.ts, (h) in server-under-flood.ts; this file runs
 * them in turn and puts their figures together.
 */
import os from "node:os";
import { BROWSER_OUTPUT_WINDOW } from "../../protocol/browser-messages";
import { WORKER_OUTPUT_WINDOW } from "../../protocol/worker-messages";
import { figure, formatMiB, formatMs, formatRate, percentile, summarize, type Figure } from "./measure";
import { platformActiveEcho, platformFlood, rawActiveEcho, rawFlood } from "./terminal-load-echo";
import { serverUnderFlood, type ServerRssResult } from "./server-under-flood";
import { errorText, type TerminalLoadContext, type TerminalLoadOptions } from "./terminal-load-context";

export interface TerminalLoadResult {
  figures: Figure[];
  lines: string[];
  /** (h): the server process's RSS under flood. */
  serverRss: ServerRssResult | undefined;
  anomalies: string[];
  details: Record<string, unknown>;
}

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
