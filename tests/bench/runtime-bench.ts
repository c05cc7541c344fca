/**
 * The engine's OCI runtimes against each other for a class burst: N containers created,
 * started and a login shell exec'd in each, all at once, with the platform's own create
 * options (raw dockerode, as the baseline of the other figures). runc and crun alternate
 * burst by burst, so drift on a shared host hits both alike. Needs an engine that knows
 * both (scripts/ensure-docker.sh registers crun when it is installed); otherwise it says so.
 */
import type Docker from "dockerode";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { formatMs, formatRatio, percentile } from "./measure";
import { rawBurst, removeRaw } from "./raw-docker";

export const RUNTIMES = ["runc", "crun"] as const;
type RuntimeName = (typeof RUNTIMES)[number];

export interface RuntimeBenchOptions {
  /** Containers per burst, e.g. [20] (bench default) or [20, 50]. */
  sizes: number[];
  /** Bursts per runtime and size, alternating runc and crun. */
  rounds: number;
}

export interface RuntimeBenchContext {
  docker: Docker;
  say(message: string): void;
  /** The spec a student would get (the platform's template); the id is fresh per container. */
  specFor(environmentId: string): Promise<EnvironmentSpec>;
  /** Ids are made from this; every container the bench makes is also recorded for the final sweep. */
  idPrefix: string;
  track(environmentId: string): void;
  workerId: string;
}

export interface BurstFigure {
  runtime: RuntimeName;
  size: number;
  /** Per round: burst began -> the last container's shell prompt ("$ "). */
  totals: number[];
  /** Every container of every round: burst began -> its prompt. */
  perContainer: number[];
  failures: string[];
}

export interface RuntimeBenchResult {
  /** Runtimes the engine lacked (the phase then measures nothing). */
  missing: string[];
  bursts: BurstFigure[];
}

/** The engine's runtime names (docker info Runtimes), e.g. runc, crun. */
export async function engineRuntimes(docker: Docker): Promise<string[]> {
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
  return Object.keys(info.Runtimes ?? {});
}

export async function runRuntimeBench(context: RuntimeBenchContext, options: RuntimeBenchOptions): Promise<RuntimeBenchResult> {
  const known = await engineRuntimes(context.docker);
  const missing = RUNTIMES.filter((runtime) => !known.includes(runtime));
  if (missing.length) return { missing, bursts: [] };
  const bursts: BurstFigure[] = [];
  let counter = 0;
  for (const size of options.sizes) {
    const figures = new Map<RuntimeName, BurstFigure>(RUNTIMES.map((runtime) => [runtime, { runtime, size, totals: [], perContainer: [], failures: [] }]));
    for (let round = 0; round < options.rounds; round += 1) {
      // Alternate which goes first too, so neither always follows a cleanup.
      const order = round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse();
      for (const runtime of order) {
        const figure = figures.get(runtime)!;
        const ids = Array.from({ length: size }, () => `${context.idPrefix}-${counter++}`);
        ids.forEach(context.track);
        const specs = await Promise.all(ids.map((id) => context.specFor(id)));
        const burst = await rawBurst(context.docker, specs, context.workerId, { runtime });
        figure.perContainer.push(...burst.toPrompt);
        figure.failures.push(...burst.failures);
        figure.totals.push(burst.wallMs);
        context.say(
          `  ${runtime} burst of ${size} (round ${round + 1}): ${formatMs(burst.wallMs)}, p50 ${formatMs(percentile(burst.toPrompt, 50))}` +
            `${figure.failures.length ? `, ${figure.failures.length} failed so far` : ""}`,
        );
        for (const shell of burst.shells) shell.close();
        await Promise.all(ids.map((id) => removeRaw(context.docker, id).catch((error: Error) => context.say(`remove ${id}: ${error.message}`))));
      }
    }
    bursts.push(...figures.values());
  }
  return { missing, bursts };
}

/** Per burst size: each runtime's p50 (per container) and total (median over rounds), and crun / runc. */
export function runtimeLines(result: RuntimeBenchResult): string[] {
  if (result.missing.length)
    return [`not measured: the engine has no ${result.missing.join(", ")} runtime (install crun; an engine scripts/ensure-docker.sh starts registers it)`];
  const lines: string[] = [];
  for (const size of [...new Set(result.bursts.map((burst) => burst.size))]) {
    const of = (runtime: RuntimeName) => result.bursts.find((burst) => burst.size === size && burst.runtime === runtime)!;
    const summary = (burst: BurstFigure) =>
      burst.failures.length ? { p50: Number.NaN, total: Number.NaN } : { p50: percentile(burst.perContainer, 50), total: percentile(burst.totals, 50) };
    const [runc, crun] = [summary(of("runc")), summary(of("crun"))];
    lines.push(
      `burst of ${size} (${of("runc").totals.length} rounds each, alternating): ` +
        `runc p50 ${formatMs(runc.p50)} total ${formatMs(runc.total)}; crun p50 ${formatMs(crun.p50)} total ${formatMs(crun.total)}; ` +
        `crun/runc p50 ${formatRatio(crun.p50 / runc.p50)}, total ${formatRatio(crun.total / runc.total)}`,
    );
    // A burst with failures has no honest total: say what failed instead.
    for (const runtime of RUNTIMES) {
      const { failures } = of(runtime);
      if (failures.length)
        lines.push(
          `  ${runtime}: ${failures.length} of ${size * of(runtime).totals.length} containers failed, e.g. ${[...new Set(failures)].slice(0, 2).join(" | ")}`,
        );
    }
  }
  return lines;
}
