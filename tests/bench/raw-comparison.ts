/** (a) cold start, (b) keystroke echo, (c) output throughput: the platform beside raw dockerode, same run. */
import Docker from "dockerode";
import type { BenchPlatform } from "./bench-platform";
import { figure, formatMs, formatRate, now, percentile, summarize, type Figure } from "./measure";
import { closePlatformShell, platformAtPrompt, platformShell, withTimeout, type ShellPhases } from "./platform-shell";
import { removeRaw, startRawShell, type RawShell } from "./raw-docker";
import { measureEcho, measureThroughput, type ThroughputResult } from "./terminal-link";
import { COLD_SAMPLES, ECHO_BLOCKS, ECHO_SAMPLES, THROUGHPUT_BYTES, THROUGHPUT_RUNS } from "./bench-settings";

export interface RawComparisonResult {
  figures: Figure[];
  lines: string[];
  details: Record<string, unknown>;
}

/** The raw baseline's shells (recorded in `createdIds` for the final sweep) and the comparison that uses them. */
export function rawComparisonPhase(run: {
  docker: Docker;
  runId: string;
  rawWorkerId: string;
  createdIds: Set<string>;
  say(message: string): void;
  track(environmentId: string): void;
}) {
  const { docker, runId, rawWorkerId, createdIds, say, track } = run;
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

  /** (a) cold start, (b) keystroke echo, (c) output throughput: each against raw dockerode. */
  async function rawComparison(p: BenchPlatform): Promise<RawComparisonResult> {
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

  return { rawShell, closeRawShell, rawComparison };
}
