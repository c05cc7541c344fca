/** The class bench's figures and printed lines (tests/bench/class-bench.ts). */
import os from "node:os";
import { figure, formatMiB, formatMs, percentile, renderTable, type Figure } from "./measure";
import { WORKSPACE_QUOTA, type ClassBenchOptions, type ClassBenchResult, type ClassBurst, type IdleResult, type JoinFigures } from "./class-bench-common";

/** The figures of (k), (l) and (m), their lines, and the details for the results file; `anomalies` are the run's. */
export function classReport(
  options: ClassBenchOptions,
  anomalies: string[],
  parts: {
    coldJoins: JoinFigures[];
    cold: ClassBurst[];
    raw: ClassBurst[];
    pool: { joins: JoinFigures; burst: ClassBurst; fillMs: number; drainMs: number } | undefined;
    poolRefused: string | undefined;
    idle: IdleResult;
    template: { memoryMb: number; memoryReservationMb: number; cpuMillis: number; pidsLimit: number };
  },
): ClassBenchResult {
  const { cold, raw, pool, idle, template } = parts;
  const n = options.size;
  const all = (bursts: ClassBurst[], pick: (burst: ClassBurst) => number[]) => bursts.flatMap(pick);
  const walls = (bursts: ClassBurst[]) =>
    percentile(
      bursts.map((burst) => burst.wallMs),
      50,
    );
  const coldPrompt = all(cold, (b) => b.toPrompt);
  const rawPrompt = all(raw, (b) => b.toPrompt);
  const samples = { platform: coldPrompt.length, baseline: rawPrompt.length };
  const figures: Figure[] = [
    figure(`(k) class of ${n} cold: wall time to the last prompt`, "ms", walls(cold), walls(raw), { platform: cold.length, baseline: raw.length }),
    figure(`(k) class of ${n} cold: to prompt per student (p50)`, "ms", percentile(coldPrompt, 50), percentile(rawPrompt, 50), samples),
    figure(`(k) class of ${n} cold: to prompt per student (p95)`, "ms", percentile(coldPrompt, 95), percentile(rawPrompt, 95), samples),
    figure(
      `(k) class of ${n} cold: one echo at the prompt (p95)`,
      "ms",
      percentile(
        all(cold, (b) => b.echo),
        95,
      ),
      percentile(
        all(raw, (b) => b.echo),
        95,
      ),
      { platform: all(cold, (b) => b.echo).length, baseline: all(raw, (b) => b.echo).length },
    ),
  ];
  const errorsOf = (bursts: ClassBurst[]) => bursts.reduce((sum, burst) => sum + burst.errors.length, 0);
  const joinErrors = parts.coldJoins.reduce((sum, join) => sum + join.errors.length, 0);
  const m = idle.placed;
  const mem = idle.memory;
  const perEnvironment = (before: number, after: number) => (m ? (after - before) / m : Number.NaN);
  const shimsAfter = mem.engineAfter.shims;
  const perContainer = (total: number, count: number) => (count ? total / count : Number.NaN);
  const attributable =
    perContainer(mem.engineAfter.containers.bytes, mem.engineAfter.containers.count) +
    perContainer(shimsAfter.pss, shimsAfter.count) +
    perEnvironment(mem.engineBefore.dockerd.pss, mem.engineAfter.dockerd.pss) +
    perEnvironment(mem.engineBefore.containerd.pss, mem.engineAfter.containerd.pss) +
    perEnvironment(...mem.workerRss) +
    perEnvironment(...mem.serverRss);
  const quietP99 = percentile(idle.bystanderEcho.quiet, 99);
  const idleP99 = percentile(idle.bystanderEcho.idle, 99);
  const lines = [
    `(k) ratio platform / raw: wall ${(walls(cold) / walls(raw)).toFixed(2)}x (bar: <= 1.2x); errors: platform ${errorsOf(cold)}, raw ${errorsOf(raw)}, joins ${joinErrors}; ` +
      `queued replies ${cold.reduce((sum, b) => sum + b.queuedReplies, 0)} (students queued ${cold.reduce((sum, b) => sum + b.queuedStudents, 0)})`,
    ...cold.map((burst, index) => `(k) round ${index + 1}: platform ${burstLine(burst)}`),
    ...raw.map((burst, index) => `(k) round ${index + 1}: raw ${burstLine(burst)}`),
    ...parts.coldJoins.map(
      (join, index) =>
        `(k) round ${index + 1}: ${join.ok}/${join.students} joined through the link at once in ${formatMs(join.wallMs)} (p50 ${formatMs(join.p50)}, p95 ${formatMs(join.p95)}), before the start burst`,
    ),
    pool
      ? `(l) class of ${n} from a full pool: ${burstLine(pool.burst)}; p95 to prompt ${formatMs(percentile(pool.burst.toPrompt, 95))} (bar: <= 3 s), ` +
        `max ${formatMs(Math.max(...pool.burst.toPrompt))}, errors ${pool.burst.errors.length + pool.joins.errors.length}`
      : `(l) not measured: the pool of ${n} was refused (${parts.poolRefused})`,
    ...(pool
      ? [
          `(l) the pool of ${n} filled (ready to the shell, per the worker's /metrics and Docker) ${formatMs(pool.fillMs)} after the instructor saved; ` +
            `drained ${formatMs(pool.drainMs)} after it was set to 0 and the class deleted; joins: ${pool.joins.ok}/${pool.joins.students} in ${formatMs(pool.joins.wallMs)}`,
        ]
      : []),
    `(m) ${m}/${options.idleEnvironments} environments placed and idle in ${formatMs(idle.placeMs)} (${options.idleConcurrency} at a time, each a student at a prompt), ` +
      `errors ${idle.errors.length}, queued replies ${idle.queuedReplies}`,
    `(m) host memory per idle environment: ${formatMiB(perEnvironment(mem.availableAfter + (mem.benchRss[1] - mem.benchRss[0]), mem.availableBefore))} ` +
      `(MemAvailable ${formatMiB(mem.availableBefore)} -> ${formatMiB(mem.availableAfter)}, ${options.settleSeconds} s after the last placement, ` +
      `less this process's growth ${signedMiB(mem.benchRss[1] - mem.benchRss[0])} for the students' ${m + 1} open pages; other work on the host counts too)`,
    `(m)   of which the engine: containerd shim ${formatMiB(perContainer(shimsAfter.pss, shimsAfter.count))} PSS ` +
      `(${formatMiB(perContainer(shimsAfter.rss, shimsAfter.count))} RSS) per container (${shimsAfter.count} shims found), ` +
      `dockerd ${signedMiB(perEnvironment(mem.engineBefore.dockerd.pss, mem.engineAfter.dockerd.pss))} PSS, containerd ${signedMiB(perEnvironment(mem.engineBefore.containerd.pss, mem.engineAfter.containerd.pss))} PSS per environment`,
    `(m)   the container itself (cgroup usage, page cache included): ${formatMiB(perContainer(mem.engineAfter.containers.bytes, mem.engineAfter.containers.count))} per container ` +
      `(${mem.engineAfter.containers.count} cgroups); the worker process ${signedMiB(perEnvironment(...mem.workerRss))}, the server process ${signedMiB(perEnvironment(...mem.serverRss))} RSS per environment`,
    `(m) attributable per environment: ${formatMiB(attributable)} (container cgroup + its shim's PSS + dockerd, containerd, worker and server growth); ` +
      `the MemAvailable figure adds kernel memory (namespaces, mounts, page tables) and moves with any other work on the host`,
    `(m) bystander echo p99: before ${formatMs(quietP99)}, among ${m} idle ${formatMs(idleP99)}: ${(idleP99 / quietP99).toFixed(2)}x ` +
      `(p50 ${formatMs(percentile(idle.bystanderEcho.quiet, 50))} -> ${formatMs(percentile(idle.bystanderEcho.idle, 50))}; ${idle.bystanderEcho.idle.length} samples each)`,
    `template: the demo lab's (${template.memoryMb} MiB limit, ${template.memoryReservationMb} MiB reservation, ${template.cpuMillis / 1000} CPU, ${template.pidsLimit} pids, ` +
      `${WORKSPACE_QUOTA === "on" ? "size-limited (loop ext4, as deployed)" : "plain volumes (BENCH_WORKSPACE_QUOTA=off)"}; the raw baseline has plain volumes); ` +
      `times run from the burst's start to each student's "$ "; ${os.cpus().length} CPUs, ${formatMiB(os.totalmem())} memory`,
  ];
  return {
    figures,
    lines,
    anomalies,
    details: {
      size: n,
      idleEnvironments: options.idleEnvironments,
      rounds: options.rounds,
      cold: { joins: parts.coldJoins, bursts: cold },
      raw: { bursts: raw },
      pool: pool ?? { refused: parts.poolRefused },
      idle,
    },
  };
}

/** A growth in MiB with its sign: "+0.4 MiB", "-0.2 MiB". */
const signedMiB = (bytes: number) => `${bytes >= 0 ? "+" : ""}${formatMiB(bytes)}`;

/** "95/100 at a prompt (3 from the pool), wall 12.3 s, p50 .., p95 ..; echo p95 ..; load a -> b". */
export function burstLine(burst: ClassBurst): string {
  return (
    `${burst.ok}/${burst.students} at a prompt${burst.side === "platform" ? ` (${burst.fromPool} from the pool, ${burst.queuedStudents} queued)` : ""}, ` +
    `wall ${formatMs(burst.wallMs)}, p50 ${formatMs(percentile(burst.toPrompt, 50))}, p95 ${formatMs(percentile(burst.toPrompt, 95))}; ` +
    `echo p95 ${formatMs(percentile(burst.echo, 95))}; errors ${burst.errors.length}; load ${burst.load[0]} -> ${burst.load[1]}`
  );
}

export function classLines(result: ClassBenchResult): string[] {
  return [renderTable(result.figures), "", ...result.lines];
}
