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
import type { Socket } from "socket.io-client";
import { LABEL_MANAGED, LABEL_WORKER, POOL_PREFIX } from "../../runtime-worker/docker/container-config";
import { createDatabase, type Database } from "../../server/database/client";
import { DEFAULT_TEMPLATE_ID, DEMO_JOIN_CODE } from "../../server/database/seed";
import { containerShapeOf } from "../../server/environments/template-spec";
import { signInOverHttp, trpcMutation } from "./bench-http";
import { engineMemory, memAvailable } from "./engine-memory";
import { joiningStudents, joinWorkshop, studentAddress, type JoinedStudent } from "./join-students";
import { formatMs, inBatches, now, percentile, sleep } from "./measure";
import { platformAtPrompt, platformShell, withTimeout, type PlatformShell, type StudentSide } from "./platform-shell";
import { freePort, readRss, startPlatformProcesses, type PlatformProcesses } from "./platform-processes";
import { INSTRUCTOR, isFromPool } from "./pool-bench";
import { echoMarker, measureEcho } from "./terminal-link";
import { DELETE_CONCURRENCY, errorText, load1, tally, WORKSPACE_QUOTA } from "./class-bench-common";
import type { ClassBenchContext, ClassBenchOptions, ClassBenchResult, ClassBurst, IdleResult, JoinFigures } from "./class-bench-common";
import { rawClasses } from "./class-raw-burst";
import { burstLine, classReport } from "./class-report";
import { waitForPool, waitForSpares, waitForWorker } from "./class-worker-waits";

/** Room for M idle environments, the bystander and stragglers: the worker's place count (not its memory). */
const workerMaxEnvironments = (options: ClassBenchOptions) => Math.max(400, options.idleEnvironments + options.size + 10);

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

  const rawClass = rawClasses(ctx, options, anomalies);

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

    return classReport(options, anomalies, { coldJoins, cold, raw, pool, poolRefused, idle, template });
  } finally {
    for (const socket of sockets) socket.close();
    if (labId && joined.size) await deleteEnvironments([...joined], "cleanup").catch((error) => anomalies.push(`cleanup: ${errorText(error)}`));
    await db.$disconnect().catch(() => undefined);
    await processes.stop();
  }
}
