/**
 * The class on one host (issue #11), product-shaped: the server and the worker as separate
 * processes (tests/bench/platform-processes.ts), students as a browser plays them over HTTP
 * and socket.io (tests/bench/join-students.ts): the workshop join link, then at once
 * environment.startForLab, the /terminal socket, terminal:attach, the prompt, one echo.
 *  (k) a class of N cold beside a raw Docker burst of N (create, start, exec a login shell,
 *      one echo; all at once), same run, rounds alternating which goes first;
 *  (l) a class of N from a full pool: the demo lab's template set to a pool of N the way an
 *      instructor prepares a class (live.prepare, "Prepare for N students"), waited until the worker reports N ready;
 *  (m) M environments placed and idle (each a student at a prompt with the page open): host
 *      memory per environment (MemAvailable, the engine's processes and each container's
 *      shim, read from /proc) and a bystander's echo p99 while they idle against before.
 * Times run from the burst's start (one clock for everyone) to each student's "$ ". A QUEUED
 * reply of startForLab (the admission queue) is counted and asked again every second.
 * It reports; it asserts nothing. Every environment it made is deleted through the API; the
 * bench's sweep removes whatever is left under this phase's worker id.
 */
import type { ChildProcess } from "node:child_process";

const WORKSPACE_QUOTA = process.env.BENCH_WORKSPACE_QUOTA === "off" ? "off" : "on";
import os from "node:os";
import type Docker from "dockerode";
import type { Socket } from "socket.io-client";
import { LABEL_MANAGED, LABEL_WORKER, POOL_PREFIX } from "../../runtime-worker/docker/container-config";
import { createDatabase, type Database } from "../../server/database/client";
import { DEFAULT_TEMPLATE_ID, DEMO_JOIN_CODE } from "../../server/database/seed";
import { containerShapeOf } from "../../server/environments/template-spec";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { signInOverHttp, trpcMutation } from "./bench-http";
import { engineMemory, memAvailable, type EngineMemory } from "./engine-memory";
import { joiningStudents, joinWorkshop, studentAddress, type JoinedStudent } from "./join-students";
import { figure, formatMiB, formatMs, inBatches, now, percentile, renderTable, sleep, type Figure } from "./measure";
import { platformAtPrompt, platformShell, withTimeout, type PlatformShell, type StudentSide } from "./platform-shell";
import { freePort, readRss, startPlatformProcesses, type PlatformProcesses } from "./platform-processes";
import { INSTRUCTOR, isFromPool, pooledContainers } from "./pool-bench";
import { rawBurst, removeRaw } from "./raw-docker";
import { echoMarker, measureEcho } from "./terminal-link";

export interface ClassBenchOptions {
  /** Students in the class bursts (k) and (l). */
  size: number;
  /** Environments placed and idle in (m). */
  idleEnvironments: number;
  /** (k) rounds; each runs a raw burst and a platform class, alternating which goes first. */
  rounds: number;
  /** (m) environments started at a time while placing them. */
  idleConcurrency: number;
  /** (m) the bystander's echo samples, before and while they idle. */
  echoSamples: number;
  /** (m) seconds between the last placement and the measurements (the starts' aftermath passes). */
  settleSeconds: number;
}

export interface ClassBenchContext {
  docker: Docker;
  say(message: string): void;
  runId: string;
  benchDatabaseUrl: string;
  redisUrl: string | undefined;
  logDir: string;
  /** The raw baseline's worker id (the bench's sweep removes its containers) and its ids' prefix. */
  rawWorkerId: string;
  /** Records a raw container's environment id for the final sweep. */
  track(environmentId: string): void;
  addWorkerId(workerId: string): void;
  addProcess(child: ChildProcess): void;
}

/** Room for M idle environments, the bystander and stragglers: the worker's place count (not its memory). */
const workerMaxEnvironments = (options: ClassBenchOptions) => Math.max(400, options.idleEnvironments + options.size + 10);
/** Deletions sent at a time through the API between parts. */
const DELETE_CONCURRENCY = 8;

export interface JoinFigures {
  students: number;
  ok: number;
  errors: string[];
  wallMs: number;
  p50: number;
  p95: number;
}

export interface ClassBurst {
  side: "platform" | "raw";
  students: number;
  ok: number;
  errors: string[];
  /** Burst began -> the last "$ " seen. */
  wallMs: number;
  /** Per student at a prompt: burst began -> "$ ". */
  toPrompt: number[];
  /** Per student: one keystroke's echo at the prompt. */
  echo: number[];
  /** startForLab replies that said QUEUED, and the students who got one. */
  queuedReplies: number;
  queuedStudents: number;
  /** Students handed a pooled container. */
  fromPool: number;
  load: [number, number];
}

export interface IdleResult {
  placed: number;
  errors: string[];
  queuedReplies: number;
  placeMs: number;
  memory: {
    availableBefore: number;
    availableAfter: number;
    engineBefore: EngineMemory;
    engineAfter: EngineMemory;
    serverRss: [number, number];
    workerRss: [number, number];
    /** This process: the students' browsers (socket.io clients), not the host's cost of an environment. */
    benchRss: [number, number];
  };
  bystanderEcho: { quiet: number[]; idle: number[] };
}

export interface ClassBenchResult {
  figures: Figure[];
  lines: string[];
  anomalies: string[];
  details: Record<string, unknown>;
}

const load1 = () => Number(os.loadavg()[0]!.toFixed(1));
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** Distinct messages with how often each came, at most five. */
const tally = (errors: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const error of errors) counts.set(error.slice(0, 200), (counts.get(error.slice(0, 200)) ?? 0) + 1);
  return [...counts].slice(0, 5).map(([message, count]) => `${count}x ${message}`);
};

export async function runClassBench(ctx: ClassBenchContext, options: ClassBenchOptions): Promise<ClassBenchResult> {
  const { say, docker } = ctx;
  const anomalies: string[] = [];
  const workerId = `bench-class-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const metricsPort = await freePort();
  const processes: PlatformProcesses = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl,
    databaseName: "shellroom_bench_class",
    redisUrl: ctx.redisUrl,
    workerId,
    logDir: ctx.logDir,
    logName: "bench-class",
    onSpawn: (child) => ctx.addProcess(child),
    // One machine plays the whole class: each student joins from an address of its own (X-Forwarded-For, believed from loopback only).
    serverEnv: { SHELLROOM_TRUSTED_PROXIES: "loopback" },
    workerEnv: {
      // As deployed: size-limited workspaces (loop-mounted ext4) unless BENCH_WORKSPACE_QUOTA=off.
      SHELLROOM_WORKSPACE_QUOTA: WORKSPACE_QUOTA,
      SHELLROOM_WORKER_MAX_ENVIRONMENTS: String(workerMaxEnvironments(options)),
      SHELLROOM_WORKER_HTTP_PORT: String(metricsPort),
      SHELLROOM_WORKER_HTTP_HOST: "127.0.0.1",
    },
  });
  const { url } = processes;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  say(`  server pid ${processes.serverPid}, worker pid ${processes.workerPid} (${workerId}, at most ${workerMaxEnvironments(options)} environments) at ${url}`);
  const db: Database = createDatabase(processes.databaseUrl);
  /** The sockets of the students' open pages (closed at the end). */
  const sockets = new Set<Socket>();
  let labId = "";
  let studentNumber = 0;
  /** Students whose environment is not deleted yet. */
  const joined = new Set<JoinedStudent>();

  /** Deletes the students' environments through the API (environment.delete, as the page's button does). */
  async function deleteEnvironments(students: readonly JoinedStudent[], what: string) {
    const began = now();
    const failures: string[] = [];
    await inBatches(students, DELETE_CONCURRENCY, async (student) => {
      try {
        await trpcMutation(url, { cookie: student.cookie }, "environment.delete", { labId });
        joined.delete(student);
      } catch (error) {
        failures.push(errorText(error));
      }
    });
    if (failures.length) anomalies.push(`${what}: ${failures.length} environment.delete call(s) failed: ${tally(failures).join(" | ")}`);
    const left = (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${workerId}`] } })).filter(
      (container) => !container.Names.some((name) => name.startsWith(`/${POOL_PREFIX}`)),
    );
    if (left.length)
      anomalies.push(
        `${what}: ${left.length} environment container(s) left after deleting through the API: ${left
          .slice(0, 5)
          .map((c) => c.Names[0])
          .join(", ")}`,
      );
    say(`  ${what}: ${students.length} environments deleted in ${formatMs(now() - began)}`);
  }

  /** `count` students open the join link at once, each from its own address. */
  async function joinClass(count: number, what: string): Promise<{ students: JoinedStudent[]; figures: JoinFigures }> {
    const first = studentNumber + 1;
    studentNumber += count;
    const began = now();
    const settled = await Promise.allSettled(
      Array.from({ length: count }, (_, index) => joinWorkshop(url, DEMO_JOIN_CODE, `Bench Student ${first + index}`, studentAddress(first + index))),
    );
    const students = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const errors = settled.flatMap((result) => (result.status === "rejected" ? [errorText(result.reason)] : []));
    for (const student of students) joined.add(student);
    const times = students.map((student) => student.joinMs);
    const figures = { students: count, ok: students.length, errors, wallMs: now() - began, p50: percentile(times, 50), p95: percentile(times, 95) };
    say(
      `  ${what}: ${students.length}/${count} joined through the link at once in ${formatMs(figures.wallMs)} (p95 ${formatMs(figures.p95)})` +
        `${errors.length ? `; ${errors.length} failed: ${tally(errors).join(" | ")}` : ""}`,
    );
    if (errors.length) anomalies.push(`${what}: ${errors.length} of ${count} joins failed: ${tally(errors).join(" | ")}`);
    return { students, figures };
  }

  const side: StudentSide = joiningStudents(url, DEMO_JOIN_CODE);

  /** The students, joined already, start at once: startForLab, socket, attach, "$ ", one echo each. */
  async function platformClass(label: string, students: readonly JoinedStudent[]): Promise<ClassBurst> {
    let queuedReplies = 0;
    const queued = new Set<number>();
    const shells: PlatformShell[] = [];
    const loadBefore = load1();
    const began = now();
    const settled = await Promise.allSettled(
      students.map(async (student, index) => {
        const shell = await platformShell(side, {
          labId,
          student,
          timeoutMs: 300_000,
          onQueued: () => {
            queuedReplies += 1;
            queued.add(index);
          },
        });
        shells.push(shell);
        sockets.add(shell.terminal.socket);
        await withTimeout(shell.prompt, 120_000, "prompt");
        const toPrompt = now() - began;
        const echo = await echoMarker(shell.terminal, `q${index.toString(36)}z`, 30_000);
        return { shell, toPrompt, echo };
      }),
    );
    const done = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const errors = settled.flatMap((result) => (result.status === "rejected" ? [errorText(result.reason)] : []));
    const loadAfter = load1();
    const fromPool = (await Promise.all(done.map(({ shell }) => isFromPool(db, shell.environmentId)))).filter(Boolean).length;
    for (const shell of shells) {
      shell.terminal.socket.close();
      sockets.delete(shell.terminal.socket);
    }
    const result: ClassBurst = {
      side: "platform",
      students: students.length,
      ok: done.length,
      errors,
      wallMs: done.length ? Math.max(...done.map((entry) => entry.toPrompt)) : Number.NaN,
      toPrompt: done.map((entry) => entry.toPrompt),
      echo: done.map((entry) => entry.echo),
      queuedReplies,
      queuedStudents: queued.size,
      fromPool,
      load: [loadBefore, loadAfter],
    };
    say(`  ${label}: ${burstLine(result)}`);
    if (errors.length) anomalies.push(`${label}: ${errors.length} of ${students.length} students got no prompt or echo: ${tally(errors).join(" | ")}`);
    return result;
  }

  let rawCounter = 0;
  /** N containers with the lab template's options at once, as (j) and the raw figures make them; one echo each. */
  async function rawClass(label: string, template: EnvironmentSpec["limits"] & { image: string; workingDir: string; user: string }): Promise<ClassBurst> {
    const ids = Array.from({ length: options.size }, () => `${ctx.rawWorkerId}-class-${rawCounter++}`);
    ids.forEach(ctx.track);
    const specs: EnvironmentSpec[] = ids.map((environmentId) => ({
      environmentId,
      ownerId: "bench-baseline",
      image: template.image,
      network: "none",
      workingDir: template.workingDir,
      user: template.user,
      limits: { memoryBytes: template.memoryBytes, nanoCpus: template.nanoCpus, pidsLimit: template.pidsLimit },
    }));
    const loadBefore = load1();
    let echoIndex = 0;
    const burst = await rawBurst(docker, specs, ctx.rawWorkerId, {
      timeoutMs: 300_000,
      afterPrompt: (shell) => echoMarker(shell, `q${(echoIndex++).toString(36)}z`, 30_000),
    });
    const loadAfter = load1();
    for (const shell of burst.shells) shell.close();
    await inBatches(ids, DELETE_CONCURRENCY, (id) => removeRaw(docker, id).catch((error) => anomalies.push(`${label}: removing ${id}: ${errorText(error)}`)));
    const result: ClassBurst = {
      side: "raw",
      students: options.size,
      ok: burst.toPrompt.length,
      errors: burst.failures,
      wallMs: burst.wallMs,
      toPrompt: burst.toPrompt,
      echo: burst.after,
      queuedReplies: 0,
      queuedStudents: 0,
      fromPool: 0,
      load: [loadBefore, loadAfter],
    };
    say(`  ${label}: ${burstLine(result)}`);
    if (burst.failures.length) anomalies.push(`${label}: ${burst.failures.length} of ${options.size} raw shells failed: ${tally(burst.failures).join(" | ")}`);
    return result;
  }

  /** (m): the bystander's quiet echo, then M students at a prompt, then memory and the bystander's echo among them. */
  async function placeIdle(): Promise<IdleResult> {
    const errors: string[] = [];
    let queuedReplies = 0;
    const [bystanderStudent] = (await joinClass(1, "the bystander")).students;
    if (!bystanderStudent) throw new Error("the bystander could not join");
    const bystander = await platformAtPrompt(side, { labId, student: bystanderStudent, timeoutMs: 120_000 });
    sockets.add(bystander.terminal.socket);
    // Idle means idle: the worker's stock of spare workspaces refills after every burst (and after (l)); both
    // measurements wait for it, so neither the echo nor the memory figures measure the refill.
    if (WORKSPACE_QUOTA === "on") say(`  the worker's spare workspaces settled at ${await waitForSpares(metricsUrl, 300_000)}`);
    const quiet = await measureEcho(bystander.terminal, options.echoSamples);
    say(`  bystander echo before: p50 ${formatMs(percentile(quiet, 50))}, p99 ${formatMs(percentile(quiet, 99))} (${quiet.length} samples)`);

    const containerIds = async () =>
      new Set((await docker.listContainers({ filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${workerId}`] } })).map((c) => c.Id));
    const availableBefore = memAvailable();
    const engineBefore = engineMemory(await containerIds());
    const serverRssBefore = readRss(processes.serverPid) ?? Number.NaN;
    const workerRssBefore = readRss(processes.workerPid) ?? Number.NaN;
    const benchRssBefore = process.memoryUsage.rss();

    const placeBegan = now();
    const first = studentNumber + 1;
    studentNumber += options.idleEnvironments;
    let placed = 0;
    await inBatches(Array.from({ length: options.idleEnvironments }), options.idleConcurrency, async (_, index) => {
      try {
        const student = await joinWorkshop(url, DEMO_JOIN_CODE, `Bench Student ${first + index}`, studentAddress(first + index));
        joined.add(student);
        const shell = await platformAtPrompt(side, {
          labId,
          student,
          timeoutMs: 120_000,
          onQueued: () => {
            queuedReplies += 1;
          },
        });
        sockets.add(shell.terminal.socket);
        placed += 1;
        if (placed % 50 === 0) say(`  ${placed} placed (${formatMs(now() - placeBegan)})`);
      } catch (error) {
        errors.push(errorText(error));
      }
    });
    const placeMs = now() - placeBegan;
    say(
      `  ${placed}/${options.idleEnvironments} placed and at a prompt in ${formatMs(placeMs)}${errors.length ? `; ${errors.length} failed: ${tally(errors).join(" | ")}` : ""}`,
    );
    if (errors.length) anomalies.push(`(m) ${errors.length} of ${options.idleEnvironments} environments were not placed: ${tally(errors).join(" | ")}`);
    await sleep(options.settleSeconds * 1000);
    if (WORKSPACE_QUOTA === "on") say(`  the worker's spare workspaces settled at ${await waitForSpares(metricsUrl, 300_000)}`);

    const availableAfter = memAvailable();
    const engineAfter = engineMemory(await containerIds());
    const memory = {
      availableBefore,
      availableAfter,
      engineBefore,
      engineAfter,
      serverRss: [serverRssBefore, readRss(processes.serverPid) ?? Number.NaN] as [number, number],
      workerRss: [workerRssBefore, readRss(processes.workerPid) ?? Number.NaN] as [number, number],
      benchRss: [benchRssBefore, process.memoryUsage.rss()] as [number, number],
    };
    const idleEcho = await measureEcho(bystander.terminal, options.echoSamples).catch((error) => {
      anomalies.push(`(m) the bystander's echo among ${placed} idle failed: ${errorText(error)}`);
      return [] as number[];
    });
    say(`  bystander echo among ${placed} idle: p50 ${formatMs(percentile(idleEcho, 50))}, p99 ${formatMs(percentile(idleEcho, 99))}`);
    return { placed, errors, queuedReplies, placeMs, memory, bystanderEcho: { quiet, idle: idleEcho } };
  }

  function report(parts: {
    coldJoins: JoinFigures[];
    cold: ClassBurst[];
    raw: ClassBurst[];
    pool: { joins: JoinFigures; burst: ClassBurst; fillMs: number; drainMs: number } | undefined;
    poolRefused: string | undefined;
    idle: IdleResult;
    template: { memoryMb: number; memoryReservationMb: number; cpuMillis: number; pidsLimit: number };
  }): ClassBenchResult {
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

  try {
    await waitForWorker(db, workerId, metricsUrl);
    const template = await db.environmentTemplate.findUniqueOrThrow({ where: { id: DEFAULT_TEMPLATE_ID } });
    const shape = containerShapeOf(template);
    const rawTemplate = { image: shape.image, workingDir: shape.workingDir, user: shape.user, ...shape.limits };

    // (k) a class of N cold, beside a raw burst of N.
    say(
      `(k) class of ${options.size} cold (join link, then startForLab + attach + prompt + echo, all at once) beside a raw Docker burst of ${options.size}, ` +
        `${options.rounds} round(s), alternating which goes first`,
    );
    const coldJoins: JoinFigures[] = [];
    const cold: ClassBurst[] = [];
    const raw: ClassBurst[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? (["raw", "platform"] as const) : (["platform", "raw"] as const);
      for (const which of order) {
        if (WORKSPACE_QUOTA === "on") say(`  the worker's spare workspaces settled at ${await waitForSpares(metricsUrl, 300_000)}`);
        if (which === "raw") {
          raw.push(await rawClass(`raw burst of ${options.size} (round ${round + 1})`, rawTemplate));
          continue;
        }
        const { students, figures } = await joinClass(options.size, `class of ${options.size} (round ${round + 1})`);
        coldJoins.push(figures);
        labId ||= students[0]?.firstLabId ?? "";
        if (!labId) throw new Error("no student could join: the class has no lab to start");
        cold.push(await platformClass(`cold class of ${options.size} (round ${round + 1})`, students));
        await deleteEnvironments(students, `(k) round ${round + 1}`);
      }
    }

    // (l) a class of N from a full pool, prepared the way an instructor prepares a class.
    say(`(l) class of ${options.size} from a full pool: the instructor presses "Prepare for ${options.size} students" in the live room`);
    const instructor = await signInOverHttp(url, INSTRUCTOR.email, INSTRUCTOR.password);
    const setPoolSize = (size: number) =>
      size > 0
        ? trpcMutation(url, { cookie: instructor }, "live.prepare", { courseId: template.courseId, seats: size })
        : trpcMutation(url, { cookie: instructor }, "live.stopPreparing", { courseId: template.courseId });
    let pool: { joins: JoinFigures; burst: ClassBurst; fillMs: number; drainMs: number } | undefined;
    let poolRefused: string | undefined;
    try {
      await setPoolSize(options.size);
    } catch (error) {
      poolRefused = errorText(error);
      anomalies.push(`(l) the instructor could not set the pool to ${options.size}: ${poolRefused}`);
      say(`  ANOMALY the pool of ${options.size} was refused: ${poolRefused}`);
    }
    if (!poolRefused) {
      const fillBegan = now();
      await waitForPool(options.size, metricsUrl, docker, workerId, 900_000);
      const fillMs = now() - fillBegan;
      say(`  the worker reports ${options.size} pooled, ready to the shell, ${formatMs(fillMs)} after the instructor saved`);
      const { students, figures: joins } = await joinClass(options.size, `pool class of ${options.size}`);
      await waitForPool(options.size, metricsUrl, docker, workerId, 120_000);
      const burst = await platformClass(`class of ${options.size} from the pool`, students);
      await setPoolSize(0);
      const drainBegan = now();
      await deleteEnvironments(students, "(l)");
      await waitForPool(0, metricsUrl, docker, workerId, 300_000);
      const drainMs = now() - drainBegan;
      pool = { joins, burst, fillMs, drainMs };
    }

    // (m) M environments placed and idle, a bystander typing among them.
    say(
      `(m) ${options.idleEnvironments} environments placed and idle (${options.idleConcurrency} started at a time, each with its page open); a bystander's echo before and while they idle`,
    );
    const idle = await placeIdle();

    return report({ coldJoins, cold, raw, pool, poolRefused, idle, template });
  } finally {
    for (const socket of sockets) socket.close();
    if (labId && joined.size) await deleteEnvironments([...joined], "cleanup").catch((error) => anomalies.push(`cleanup: ${errorText(error)}`));
    await db.$disconnect().catch(() => undefined);
    await processes.stop();
  }
}

/** A growth in MiB with its sign: "+0.4 MiB", "-0.2 MiB". */
const signedMiB = (bytes: number) => `${bytes >= 0 ? "+" : ""}${formatMiB(bytes)}`;

/** "95/100 at a prompt (3 from the pool), wall 12.3 s, p50 .., p95 ..; echo p95 ..; load a -> b". */
function burstLine(burst: ClassBurst): string {
  return (
    `${burst.ok}/${burst.students} at a prompt${burst.side === "platform" ? ` (${burst.fromPool} from the pool, ${burst.queuedStudents} queued)` : ""}, ` +
    `wall ${formatMs(burst.wallMs)}, p50 ${formatMs(percentile(burst.toPrompt, 50))}, p95 ${formatMs(percentile(burst.toPrompt, 95))}; ` +
    `echo p95 ${formatMs(percentile(burst.echo, 95))}; errors ${burst.errors.length}; load ${burst.load[0]} -> ${burst.load[1]}`
  );
}

/** Waits until the worker is ready (its /readyz) and the server has its record. */
async function waitForWorker(db: Database, workerId: string, metricsUrl: string, timeoutMs = 120_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${metricsUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready && (await db.worker.findUnique({ where: { id: workerId } }))?.status === "ONLINE") return;
    if (now() > deadline) throw new Error(`the worker ${workerId} was not ready within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** The worker's own count of pooled containers ready to the shell (its /metrics). */
async function reportedGauge(metricsUrl: string, name: string): Promise<number> {
  const text = await fetch(`${metricsUrl}/metrics`).then((response) => response.text());
  const match = new RegExp(`^${name}(?:\\{\\})?\\s+(\\d+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}
const reportedPoolSize = (metricsUrl: string) => reportedGauge(metricsUrl, "shellroom_worker_pool_size");

/**
 * Waits until the worker's stock of spare workspaces (spare-workspaces.ts) stops growing: a
 * worker prepares them after it starts and after every burst, and a round measured while it
 * refills would measure the refill too (on either side). Returns the stock it settled at.
 */
async function waitForSpares(metricsUrl: string, timeoutMs: number) {
  const deadline = now() + timeoutMs;
  let last = -1;
  let steady = 0;
  for (;;) {
    const spares = await reportedGauge(metricsUrl, "shellroom_worker_spare_workspaces").catch(() => Number.NaN);
    steady = spares === last ? steady + 1 : 0;
    last = spares;
    // Steady for longer than the worker waits after a take before it refills (10 s).
    if (steady >= 24 || now() > deadline) return spares;
    await sleep(500);
  }
}

/** Waits until the worker reports `size` pooled and Docker holds exactly that many, running. */
async function waitForPool(size: number, metricsUrl: string, docker: Docker, workerId: string, timeoutMs: number) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const reported = await reportedPoolSize(metricsUrl).catch(() => Number.NaN);
    if (reported === size) {
      const inDocker = await pooledContainers(docker, workerId);
      if (inDocker.length === size && inDocker.every((container) => container.State === "running")) return;
    }
    if (now() > deadline) throw new Error(`the pool did not reach ${size} within ${timeoutMs / 1000} s (the worker reports ${reported})`);
    await sleep(500);
  }
}

export function classLines(result: ClassBenchResult): string[] {
  return [renderTable(result.figures), "", ...result.lines];
}
