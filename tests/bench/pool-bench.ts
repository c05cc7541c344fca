/**
 * Warm pools against cold starts, on the platform itself (no raw baseline here):
 *  (d) one fresh student: tRPC environment.startForLab -> first prompt byte on the terminal
 *      socket, with the lab's template at pool size 0 (cold) and with a warm pool;
 *  (e) a class burst: N students start at once, cold and from a pool of N filled beforehand.
 * The lab and its small template are made through tRPC authoring as the seeded instructor,
 * and pool sizes are set the way an instructor sets them (authoring.saveTemplate), so the
 * server's push to the worker is part of what runs. Between phases every environment is
 * removed, so cold is cold.
 */
import os from "node:os";
import type Docker from "dockerode";
import { LABEL_MANAGED, LABEL_POOL, LABEL_WORKER, POOL_PREFIX } from "../../runtime-worker/docker/container-config";
import type { Database } from "../../server/database/client";
import { DEFAULT_TEMPLATE_ID } from "../../server/database/seed";
import type { BenchPlatform } from "./bench-platform";
import type { DriverTimings } from "./timed-driver";
import { formatMs, inBatches, now, percentile, poolFigure, sleep, summarize, type PoolFigure } from "./measure";
import { closePlatformShell, platformShell, withTimeout, type PlatformShell, type ShellPhases } from "./platform-shell";

export const INSTRUCTOR = { email: "instructor@shellroom.local", password: "shellroom-instructor" };

/** A worker's pooled containers in Docker (by its label and the pool's name prefix), running or not. */
export async function pooledContainers(docker: Docker, workerId: string) {
  return (
    await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${workerId}`, LABEL_POOL], name: [POOL_PREFIX] },
    })
  ).filter((container) => container.Names.some((name) => name.startsWith(`/${POOL_PREFIX}`)));
}

/** Whether the environment was handed a pooled container (its workspace volume is a pool slot's). */
export async function isFromPool(db: Database, environmentId: string) {
  const row = await db.environment.findUnique({ where: { id: environmentId }, select: { volumeName: true } });
  return Boolean(row?.volumeName?.startsWith("shellroom-pool-ws-"));
}

export interface PoolBenchOptions {
  /** Samples per side for (d), after one warm-up each. */
  samples: number;
  /** Pool size for (d). */
  warmPoolSize: number;
  /** Students in the class burst (e); the pool for it has this size. */
  burstSize: number;
}

export interface PoolBenchContext {
  platform: BenchPlatform;
  docker: Docker;
  say(message: string): void;
  /** Records an environment id for the final sweep. */
  track(environmentId: string): void;
}

interface BurstResult {
  students: number;
  ok: number;
  failed: number;
  errors: string[];
  fromPool: number;
  /** Burst began -> the last student's first prompt byte. */
  wallMs: number;
  /** Per student: startForLab -> first prompt byte. */
  timeToPrompt: number[];
  /** Per student: startForLab -> "$ " seen (screen or output). */
  timeToFullPrompt: number[];
  startForLab: number[];
  /** The worker's runtime driver calls during the burst (ms). */
  driver: ReturnType<DriverTimings["snapshot"]>;
  /** 1-minute load average of the host before and after. */
  load: [number, number];
}

const load1 = () => Number(os.loadavg()[0]!.toFixed(1));

/** "exec 120/340 ms (50)" for the methods that were called. */
function driverLine(snapshot: ReturnType<DriverTimings["snapshot"]>, names: string[]) {
  return names
    .filter((name) => snapshot[name])
    .map((name) => `${name} ${formatMs(snapshot[name]!.p50)}/${formatMs(snapshot[name]!.p95)} (${snapshot[name]!.n})`)
    .join(", ");
}
const DRIVER_CALLS = ["state", "create", "start", "assignPooled", "createPooled", "exec"];

export interface PoolBenchResult {
  figures: PoolFigure[];
  lines: string[];
  details: Record<string, unknown>;
  /** Things the platform did that it should not have (with evidence). */
  anomalies: string[];
  /** Managed containers/volumes of this worker still in Docker after the platform's own cleanup. */
  leftovers: { containers: string[]; volumes: string[] };
}

/** The small template of the brief: 128 MiB, a quarter CPU, 64 processes. */
function smallTemplate(image: string) {
  return {
    name: "Bench: small (warm pool)",
    image,
    memoryMb: 128,
    cpuMillis: 250,
    pidsLimit: 64,
    diskMb: 256,
    network: "NONE" as const,
    idleTimeoutMinutes: 60,
    maxLifetimeMinutes: 120,
    workingDir: "/home/student/workspace",
    setupScript: null,
  };
}

export async function runPoolBench(ctx: PoolBenchContext, options: PoolBenchOptions): Promise<PoolBenchResult> {
  const { platform: p, docker, say } = ctx;
  const anomalies: string[] = [];

  // The lab and its template, as the seeded instructor authors them.
  const instructor = await p.signIn(INSTRUCTOR.email, INSTRUCTOR.password);
  const image = (await p.db.environmentTemplate.findUniqueOrThrow({ where: { id: DEFAULT_TEMPLATE_ID } })).image;
  const fields = { courseId: p.courseId, ...smallTemplate(image) };
  const template = await p.mutate<{ id: string }>(instructor, "authoring.saveTemplate", { ...fields, warmPoolSize: 0 });
  const { labId } = await p.mutate<{ labId: string }>(instructor, "authoring.saveLab", {
    courseId: p.courseId,
    templateId: template.id,
    title: "Bench: warm pool",
    instructions: "Benchmark lab.",
    published: true,
    steps: [],
  });
  say(`  template ${template.id} (${image}, 128 MiB, 0.25 CPU, 64 pids), lab ${labId}`);

  const setPoolSize = (size: number) => p.mutate(instructor, "authoring.saveTemplate", { ...fields, templateId: template.id, warmPoolSize: size });

  const dockerPool = () => pooledContainers(docker, p.workerId);

  /**
   * Waits until the worker's pool holds exactly `size` ready containers with no fill under
   * way, and Docker agrees. A pool that stays off its size with no fill running after
   * `graceMs` is an anomaly: recorded, then the configuration is pushed once more.
   */
  async function settlePool(size: number, what: string, timeoutMs = 180_000, graceMs = 5_000) {
    const began = now();
    let pushedAgain = false;
    let dockerDisagreed = false;
    for (;;) {
      await p.pool.filled();
      if (p.pool.size === size) {
        const inDocker = await dockerPool();
        const running = inDocker.filter((container) => container.State === "running").length;
        if (inDocker.length === size && running === size) return now() - began;
        if (now() - began > graceMs && !dockerDisagreed) {
          dockerDisagreed = true;
          const message = `${what}: pool.size is ${size} but Docker holds ${inDocker.length} pooled containers (${running} running) for this worker`;
          anomalies.push(message);
          say(`  ANOMALY ${message}`);
        }
      } else if (now() - began > graceMs && !pushedAgain) {
        pushedAgain = true;
        const message =
          `${what}: pool size set to ${size}, but after ${formatMs(now() - began)} the worker's pool holds ${p.pool.size} ` +
          `(Docker: ${(await dockerPool()).length}) with no fill under way; pushed the configuration again (saveTemplate)`;
        anomalies.push(message);
        say(`  ANOMALY ${message}`);
        await setPoolSize(size);
      }
      if (now() - began > timeoutMs) throw new Error(`${what}: the pool did not settle at ${size} within ${timeoutMs} ms (it holds ${p.pool.size})`);
      await sleep(50);
    }
  }

  /** Removes every environment of the worker; then no environment container of it may remain. */
  async function removeAll(what: string) {
    const removed = await p.removeAllEnvironments();
    const left = (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${p.workerId}`] } })).filter(
      (container) => !container.Names.some((name) => name.startsWith(`/${POOL_PREFIX}`)),
    );
    if (left.length)
      anomalies.push(`${what}: ${left.length} environment container(s) left after removing ${removed}: ${left.map((c) => c.Names[0]).join(", ")}`);
    return removed;
  }

  const fromPoolOf = (environmentId: string) => isFromPool(p.db, environmentId);

  /** One fresh student at a time, `samples` after a warm-up; waits for the pool before each. */
  async function sequential(label: string, poolSize: number) {
    const phases: ShellPhases[] = [];
    let fromPool = 0;
    const loadBefore = load1();
    for (let index = 0; index <= options.samples; index++) {
      if (index === 1) p.driverTimings.reset();
      await settlePool(poolSize, `${label} sample ${index}`);
      const student = await p.newStudent();
      const shell = await platformShell(p, { labId, student, onEnvironment: ctx.track });
      await withTimeout(shell.prompt, 15_000, `${label} prompt`);
      const pooled = await fromPoolOf(shell.environmentId);
      await closePlatformShell(p, shell);
      if (index === 0) continue;
      if (pooled) fromPool++;
      phases.push(shell.phases);
      say(`  ${label} sample ${index}: ${formatMs(shell.phases.total)}${pooled ? " (from pool)" : ""}`);
    }
    return { phases, fromPool, driver: p.driverTimings.snapshot(), load: [loadBefore, load1()] as [number, number] };
  }

  /** `burstSize` students created first; then all start and attach at once. */
  async function burst(label: string): Promise<BurstResult> {
    const students = await inBatches(Array.from({ length: options.burstSize }), 10, () => p.newStudent());
    const loadBefore = load1();
    p.driverTimings.reset();
    const began = now();
    const settled = await Promise.allSettled(
      students.map(async (student) => {
        const shell: PlatformShell = await platformShell(p, { labId, student, timeoutMs: 180_000, onEnvironment: ctx.track });
        await withTimeout(shell.prompt, 60_000, `${label} prompt`);
        return { shell, fullPromptMs: now() - shell.startedAt };
      }),
    );
    const shells = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const errors = settled.flatMap((result) => (result.status === "rejected" ? [String((result.reason as Error)?.message ?? result.reason)] : []));
    const driver = p.driverTimings.snapshot();
    const wallMs = Math.max(...shells.map(({ shell }) => shell.startedAt + shell.phases.total)) - began;
    const fromPool = (await Promise.all(shells.map(({ shell }) => fromPoolOf(shell.environmentId)))).filter(Boolean).length;
    for (const { shell } of shells) shell.terminal.socket.close();
    const result: BurstResult = {
      students: students.length,
      ok: shells.length,
      failed: errors.length,
      errors: [...new Set(errors)].slice(0, 5),
      fromPool,
      wallMs,
      timeToPrompt: shells.map(({ shell }) => shell.phases.total),
      timeToFullPrompt: shells.map(({ fullPromptMs }) => fullPromptMs),
      startForLab: shells.map(({ shell }) => shell.phases.startForLab),
      driver,
      load: [loadBefore, load1()],
    };
    say(
      `  ${label}: ${result.ok}/${result.students} at a prompt (${result.fromPool} from the pool), wall ${formatMs(wallMs)}, ` +
        `p50 ${formatMs(percentile(result.timeToPrompt, 50))}, p95 ${formatMs(percentile(result.timeToPrompt, 95))}; load ${result.load[0]} -> ${result.load[1]}`,
    );
    say(`    worker's driver calls p50/p95 (n): ${driverLine(driver, DRIVER_CALLS)}`);
    if (result.failed) {
      const message = `${label}: ${result.failed} of ${result.students} students got no prompt: ${result.errors.join(" | ")}`;
      anomalies.push(message);
      say(`  ANOMALY ${message}`);
    }
    return result;
  }

  // (d) one fresh student, cold vs warm.
  say(`(d) warm pool vs cold start: 1 warm-up + ${options.samples} samples each, one fresh student at a time`);
  const cold = await sequential("cold (pool 0)", 0);
  await setPoolSize(options.warmPoolSize);
  const fillStarted = now();
  await settlePool(options.warmPoolSize, `filling the pool to ${options.warmPoolSize}`);
  say(`  pool of ${options.warmPoolSize} filled in ${formatMs(now() - fillStarted)}`);
  const warm = await sequential(`warm (pool ${options.warmPoolSize})`, options.warmPoolSize);
  await setPoolSize(0);
  await settlePool(0, "(d) draining the pool");
  await removeAll("(d)");

  // (e) a class starts at once, cold and from a full pool.
  say(`(e) class burst: ${options.burstSize} students start at once`);
  const coldBurst = await burst(`cold burst (pool 0)`);
  await removeAll("(e) cold burst");
  await setPoolSize(options.burstSize);
  const burstFillStarted = now();
  await settlePool(options.burstSize, `filling the pool to ${options.burstSize}`, 300_000);
  const burstFillMs = now() - burstFillStarted;
  say(`  pool of ${options.burstSize} filled in ${formatMs(burstFillMs)}`);
  const poolBurst = await burst(`pool burst (pool ${options.burstSize})`);
  // Off again straight away (the pool is refilling after the burst): it must drain.
  await setPoolSize(0);
  await removeAll("(e) pool burst");
  const drainMs = await settlePool(0, "draining the pool after the burst", 300_000);
  say(`  pool drained ${formatMs(drainMs)} after its size was set to 0`);

  // What the platform itself left in Docker for this worker.
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${p.workerId}`] } });
  const volumes = (await docker.listVolumes({ filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${p.workerId}`] } })).Volumes ?? [];
  const leftovers = { containers: containers.map((c) => `${c.Names[0]} (${c.State})`), volumes: volumes.map((v) => v.Name) };
  if (leftovers.containers.length || leftovers.volumes.length) {
    anomalies.push(
      `after removing every environment and draining the pool: ${leftovers.containers.length} container(s), ${leftovers.volumes.length} volume(s) left: ` +
        [...leftovers.containers, ...leftovers.volumes].slice(0, 10).join(", "),
    );
  }

  const totals = (phases: ShellPhases[]) => phases.map((phase) => phase.total);
  const phaseP50 = (phases: ShellPhases[], name: keyof ShellPhases) =>
    percentile(
      phases.map((phase) => phase[name]),
      50,
    );
  const n = options.burstSize;
  const figures: PoolFigure[] = [
    poolFigure("(d) fresh student: startForLab -> first prompt byte (p50)", percentile(totals(cold.phases), 50), percentile(totals(warm.phases), 50), {
      cold: cold.phases.length,
      pool: warm.phases.length,
    }),
    poolFigure(`(e) class of ${n} at once: wall time until all at first prompt`, coldBurst.wallMs, poolBurst.wallMs, {
      cold: coldBurst.ok,
      pool: poolBurst.ok,
    }),
    poolFigure(`(e) class of ${n} at once: time to first prompt (p50)`, percentile(coldBurst.timeToPrompt, 50), percentile(poolBurst.timeToPrompt, 50), {
      cold: coldBurst.ok,
      pool: poolBurst.ok,
    }),
    poolFigure(`(e) class of ${n} at once: time to first prompt (p95)`, percentile(coldBurst.timeToPrompt, 95), percentile(poolBurst.timeToPrompt, 95), {
      cold: coldBurst.ok,
      pool: poolBurst.ok,
    }),
  ];
  const lines = [
    `(d) pool size ${options.warmPoolSize}, waited until full before each sample; from the pool: cold ${cold.fromPool}/${cold.phases.length}, warm ${warm.fromPool}/${warm.phases.length}`,
    `(d) p50 by phase, cold | warm: startForLab ${formatMs(phaseP50(cold.phases, "startForLab"))} | ${formatMs(phaseP50(warm.phases, "startForLab"))}, ` +
      `attach -> first prompt byte ${formatMs(phaseP50(cold.phases, "attachToFirstByte"))} | ${formatMs(phaseP50(warm.phases, "attachToFirstByte"))}`,
    `(e) students at a prompt: cold ${coldBurst.ok}/${coldBurst.students}, pool ${poolBurst.ok}/${poolBurst.students} (${poolBurst.fromPool} from the pool); ` +
      `startForLab p50 cold ${formatMs(percentile(coldBurst.startForLab, 50))} | pool ${formatMs(percentile(poolBurst.startForLab, 50))}`,
    `(d) worker's driver calls p50/p95 (n), cold: ${driverLine(cold.driver, DRIVER_CALLS)}`,
    `(d) worker's driver calls p50/p95 (n), warm: ${driverLine(warm.driver, DRIVER_CALLS)}`,
    `(e) worker's driver calls p50/p95 (n), cold: ${driverLine(coldBurst.driver, DRIVER_CALLS)}`,
    `(e) worker's driver calls p50/p95 (n), pool: ${driverLine(poolBurst.driver, DRIVER_CALLS)}`,
    `host 1-min load average before -> after: (d) cold ${cold.load.join(" -> ")}, warm ${warm.load.join(" -> ")}; ` +
      `(e) cold ${coldBurst.load.join(" -> ")}, pool ${poolBurst.load.join(" -> ")} (${os.cpus().length} CPUs; other work on the host shows here)`,
    `(e) filling a pool of ${n} took ${formatMs(burstFillMs)}; after the burst it drained ${formatMs(drainMs)} after its size was set to 0`,
    `template: 128 MiB, 0.25 CPU, 64 pids; ratio = pool / cold (lower is better)`,
  ];
  return {
    figures,
    lines,
    anomalies,
    leftovers,
    details: {
      templateId: template.id,
      labId,
      warmStart: {
        poolSize: options.warmPoolSize,
        cold: { ...summarize(totals(cold.phases)), fromPool: cold.fromPool, phases: cold.phases, driver: cold.driver, load: cold.load },
        warm: { ...summarize(totals(warm.phases)), fromPool: warm.fromPool, phases: warm.phases, driver: warm.driver, load: warm.load },
      },
      classBurst: {
        students: n,
        poolFillMs: burstFillMs,
        drainMs,
        cold: { ...coldBurst, p50: percentile(coldBurst.timeToPrompt, 50), p95: percentile(coldBurst.timeToPrompt, 95) },
        pool: { ...poolBurst, p50: percentile(poolBurst.timeToPrompt, 50), p95: percentile(poolBurst.timeToPrompt, 95) },
      },
    },
  };
}
