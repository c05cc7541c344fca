/**
 * The wire bench's measurements, each run on every side (platform, raw Docker, the peer) by
 * its client process, with the CPU time of each process on that side's path read from /proc
 * around it: keystroke echo (in alternating blocks), output throughput (alternating runs), a
 * bystander's echo while another terminal of the same server floods, and echo with many
 * terminals typing at once.
 */
import { now, sleep } from "./measure";
import { addCpu, cpuMeter, syscallMeter, type ProcessGroups } from "./proc-cpu";
import type { ThroughputResult } from "./terminal-link";
import type { ActiveEchoResult } from "./terminal-load-echo";
import type { FloodCount, WireClient } from "./wire-client";

export type SideName = "platform" | "raw" | "peer";

/** One side as measured: its client process and the processes on its path (client first). The floor (6) is measured for echo only. */
export interface Side {
  name: SideName | "floor";
  client: WireClient;
  groups: ProcessGroups;
}

/** Echoes typed before the timed ones in each block (their CPU is counted, so they are counted too). */
const ECHO_WARMUP = 20;

export interface EchoRun {
  samples: number[];
  /** CPU ms per process over every block. */
  cpu: Record<string, number>;
  /** Read and write system calls per process over every block. */
  syscalls: Record<string, { reads: number; writes: number }>;
  /** Keystrokes typed (timed and warm-up): what the CPU is divided by. */
  keystrokes: number;
}

/** `samples` echoes per side on link 0, in `blocks` blocks with the sides taking turns (drift hits all alike). */
export async function echoBlocks(sides: readonly Side[], samples: number, blocks: number, pauseMs = 0): Promise<Record<string, EchoRun>> {
  const runs: Record<string, EchoRun> = Object.fromEntries(sides.map((side) => [side.name, { samples: [], cpu: {}, syscalls: {}, keystrokes: 0 }]));
  const perBlock = Math.ceil(samples / blocks);
  for (let block = 0; block < blocks; block++) {
    const count = Math.min(perBlock, samples - block * perBlock);
    if (count <= 0) break;
    for (const side of sides) {
      const run = runs[side.name]!;
      const meter = cpuMeter(side.groups);
      const calls = syscallMeter(side.groups);
      meter.start();
      calls.start();
      run.samples.push(...(await side.client.call({ op: "echo", link: 0, samples: count, warmup: ECHO_WARMUP, pauseMs })));
      addCpu(run.cpu, meter.read());
      for (const [name, { reads, writes }] of Object.entries(calls.read())) {
        const sum = (run.syscalls[name] ??= { reads: 0, writes: 0 });
        sum.reads += reads;
        sum.writes += writes;
      }
      run.keystrokes += count + ECHO_WARMUP;
    }
  }
  return runs;
}

export interface ThroughputRuns {
  runs: ThroughputResult[];
  /** CPU ms per process over every run. */
  cpu: Record<string, number>;
  bytes: number;
  /** Output messages the client got over every run (socket.io events; chunks of the raw stream). */
  messages: number;
}

/** `head -c <zeroBytes> /dev/zero | base64` on link 0 of each side, `runs` times, the sides taking turns. */
export async function throughputRuns(
  sides: readonly Side[],
  zeroBytes: number,
  runs: number,
  say: (message: string) => void,
): Promise<Record<string, ThroughputRuns>> {
  const results: Record<string, ThroughputRuns> = Object.fromEntries(sides.map((side) => [side.name, { runs: [], cpu: {}, bytes: 0, messages: 0 }]));
  for (let run = 0; run < runs; run++) {
    const said: string[] = [];
    for (const side of sides) {
      const result = results[side.name]!;
      const messagesBefore = (await side.client.call({ op: "stats" })).messages;
      const meter = cpuMeter(side.groups);
      meter.start();
      const measured = await side.client.call({ op: "throughput", link: 0, bytes: zeroBytes });
      addCpu(result.cpu, meter.read());
      result.messages += (await side.client.call({ op: "stats" })).messages - messagesBefore;
      result.runs.push(measured);
      result.bytes += measured.bytes;
      said.push(`${side.name} ${(measured.bytesPerSecond / 1e6).toFixed(1)} MB/s`);
    }
    say(`  run ${run + 1}: ${said.join(", ")}`);
  }
  return results;
}

export interface BystanderRun {
  quiet: number[];
  flooded: number[];
  flood: FloodCount;
}

/**
 * The bystander's echo (its client's link 0) quiet, then while the flooder's link 0 runs
 * `cat /dev/urandom | base64` at full speed (acked as fast as it arrives), for at least
 * `floodSeconds` and `samples` echoes; then the flood is stopped with Ctrl-C.
 */
export async function bystanderUnderFlood(bystander: WireClient, flooder: WireClient, samples: number, floodSeconds: number): Promise<BystanderRun> {
  const quiet = await bystander.call({ op: "echo", link: 0, samples, warmup: ECHO_WARMUP });
  await flooder.call({ op: "floodStart", link: 0 });
  let flood: FloodCount | undefined;
  try {
    await sleep(1_000); // the flood at full strength
    const began = now();
    const flooded: number[] = [];
    while (flooded.length < samples || now() - began < floodSeconds * 1000) {
      flooded.push(...(await bystander.call({ op: "echo", link: 0, samples: Math.min(100, samples), warmup: 5 })));
      if (now() - began > floodSeconds * 4000) break;
    }
    flood = await flooder.call({ op: "floodStop", link: 0 });
    return { quiet, flooded, flood };
  } finally {
    if (!flood) await flooder.call({ op: "floodStop", link: 0 }).catch(() => undefined);
  }
}

export interface ActiveRun {
  result: ActiveEchoResult;
  /** CPU ms per process during the run. */
  cpu: Record<string, number>;
}

/** Every link of the side's client types at once, `samplesPer` echoes each (terminal-load-echo's activeEcho). */
export async function activeRun(side: Side, samplesPer: number): Promise<ActiveRun> {
  const meter = cpuMeter(side.groups);
  meter.start();
  const result = await side.client.call({ op: "activeEcho", samplesPer });
  return { result, cpu: meter.read() };
}
