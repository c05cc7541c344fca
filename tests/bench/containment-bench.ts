/**
 * (i) Containment: a bystander's keystroke echo while one student does the heaviest legal
 * thing a terminal allows and another runs a fork bomb, against the same bystander's echo
 * when the host is quiet, measured in the same run. Server and worker run as separate
 * processes (tests/bench/platform-processes.ts), as deployed; browsers are socket.io clients.
 *
 * The abuser: a truecolour flood (dense escape sequences for the worker's screen mirror),
 * resizes as fast as a socket may send them, and a second socket attaching again and again
 * (a snapshot each time). The bomber: `:(){ :|:& };:` at its pids limit. The bystander's
 * echo is measured quiet, under both, and quiet again (the quiet figure is both quiet runs).
 * The bar: p99 under abuse below 2x the quiet p99. It reports; it asserts nothing.
 */
import type { ChildProcess } from "node:child_process";
import type { Socket } from "socket.io-client";
import { BrowserToServer } from "../../protocol/browser-messages";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase } from "../../server/database/client";
import { DEMO_COURSE_SLUG, DEMO_LAB_SLUG } from "../../server/database/seed";
import { attachTerminal, openTerminalSocket, terminalLink, type PlatformTerminal } from "./bench-platform";
import { formatMs, now, percentile, sleep } from "./measure";
import { startPlatformProcesses } from "./platform-processes";
import { measureEcho, waitForOutput } from "./terminal-link";

export interface ContainmentContext {
  say(message: string): void;
  runId: string;
  benchDatabaseUrl: string;
  redisUrl: string | undefined;
  logDir: string;
  addWorkerId(workerId: string): void;
  addProcess(child: ChildProcess): void;
}

export interface ContainmentResult {
  quiet: { p50: number; p99: number; samples: number };
  abused: { p50: number; p99: number; samples: number };
  /** abused p99 / quiet p99: the bar is < 2. */
  p99Ratio: number;
  abuse: { resizesSent: number; attachesSent: number; attachesRefused: number; floodBytesSeen: number };
  anomalies: string[];
}

/** A dense truecolour line, repeated by `yes` as fast as the terminal takes it. */
const TRUECOLOUR_FLOOD = `yes "$(for i in $(seq 1 40); do printf '\\033[38;2;%d;%d;%dm#\\033[48;2;%d;40;90mX' $i $((i*3)) $((i*5)) $i; done)"\r`;
const FORK_BOMB = ":(){ :|:& };:\r";

async function mutate<T>(url: string, cookie: string, procedure: string, input: unknown): Promise<T> {
  const response = await fetch(`${url}/api/trpc/${procedure}`, {
    method: "POST", headers: { "content-type": "application/json", cookie, origin: url }, body: JSON.stringify(input),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${procedure} failed (${response.status}): ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { result: { data: T } }).result.data;
}

export async function runContainmentBench(ctx: ContainmentContext, options: { echoSamples: number; abuseSeconds: number }): Promise<ContainmentResult> {
  const anomalies: string[] = [];
  const workerId = `bench-contain-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const processes = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl, databaseName: "shellroom_bench_containment", redisUrl: ctx.redisUrl, workerId,
    logDir: ctx.logDir, onSpawn: (child) => ctx.addProcess(child),
  });
  const { url } = processes;
  ctx.say(`  server pid ${processes.serverPid}, worker pid ${processes.workerPid} at ${url}`);
  const sockets: Socket[] = [];
  const students: Array<{ cookie: string; environmentId?: string }> = [];
  let labId = "";
  const stops: Array<() => void> = [];
  try {
    // Three students of the demo course, each with a session (as after signing in).
    const db = createDatabase(processes.databaseUrl);
    try {
      const course = await db.course.findUniqueOrThrow({ where: { slug: DEMO_COURSE_SLUG } });
      labId = (await db.lab.findUniqueOrThrow({ where: { courseId_slug: { courseId: course.id, slug: DEMO_LAB_SLUG } } })).id;
      for (const name of ["Bystander", "Abuser", "Bomber"]) {
        const user = await db.user.create({ data: { displayName: `Bench ${name}`, role: "STUDENT" } });
        await db.courseMember.create({ data: { courseId: course.id, userId: user.id, role: "STUDENT" } });
        const token = generateSessionToken();
        await createSession(db, token, user.id);
        students.push({ cookie: `${SESSION_COOKIE}=${token}` });
      }
    } finally {
      await db.$disconnect();
    }

    const deadline = now() + 120_000;
    const links: PlatformTerminal[] = [];
    for (const student of students) {
      for (;;) {
        try {
          student.environmentId = (await mutate<{ environmentId: string }>(url, student.cookie, "environment.startForLab", { labId })).environmentId;
          break;
        } catch (error) {
          if (now() > deadline) throw error;
          await sleep(500); // the worker dials in a few seconds after it starts
        }
      }
      const socket = await openTerminalSocket(url, student.cookie);
      sockets.push(socket);
      const link = terminalLink(socket, student.environmentId);
      const prompt = waitForOutput(link, /\$ /, 30_000);
      const reply = await attachTerminal(socket, student.environmentId);
      if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
      if (!reply.screen.includes("$ ")) await prompt;
      else prompt.catch(() => undefined);
      links.push(link);
    }
    const [bystander, abuser, bomber] = links as [PlatformTerminal, PlatformTerminal, PlatformTerminal];
    const abuserEnvironment = students[1]!.environmentId!;

    ctx.say(`(i) bystander echo, quiet: ${options.echoSamples} samples`);
    const quietBefore = await measureEcho(bystander, options.echoSamples);

    ctx.say(`  abuse for ${options.abuseSeconds} s: truecolour flood + resize loop + attach loop in one environment, a fork bomb in another`);
    const abuse = { resizesSent: 0, attachesSent: 0, attachesRefused: 0, floodBytesSeen: 0 };
    const stopCounting = abuser.onData((chunk) => { abuse.floodBytesSeen += chunk.byteLength; });
    stops.push(stopCounting);
    abuser.write(TRUECOLOUR_FLOOD);
    bomber.write(FORK_BOMB);
    let abusing = true;
    const resizeLoop = (async () => {
      for (let i = 0; abusing; i++) {
        const size = i % 2 ? { cols: 500, rows: 100 } : { cols: 80, rows: 24 }; // the largest screen allowed, and back
        abuser.socket.emit(BrowserToServer.resize, { environmentId: abuserEnvironment, terminalId: "main", ...size });
        abuse.resizesSent += 1;
        await sleep(5);
      }
    })();
    const attacher = await openTerminalSocket(url, students[1]!.cookie);
    sockets.push(attacher);
    const attachLoop = (async () => {
      while (abusing) {
        abuse.attachesSent += 1;
        const reply = await attachTerminal(attacher, abuserEnvironment, 30_000).catch(() => null);
        if (!reply?.ok) abuse.attachesRefused += 1;
      }
    })();
    await sleep(3_000); // let every kind of abuse reach full strength
    const abusedStarted = now();
    const abused: number[] = [];
    try {
      while (now() - abusedStarted < options.abuseSeconds * 1000 || abused.length < options.echoSamples) {
        abused.push(...(await measureEcho(bystander, Math.min(50, options.echoSamples), 5)));
        if (now() - abusedStarted > options.abuseSeconds * 4000) break;
      }
    } catch (error) {
      anomalies.push(`(i) the bystander's echo failed under abuse: ${error instanceof Error ? error.message : String(error)}`);
    }
    abusing = false;
    await Promise.all([resizeLoop, attachLoop]);
    abuser.write("\x03");
    // The bomb ends with its environment: stopping it ends every process in it.
    await mutate(url, students[2]!.cookie, "environment.stop", { labId }).catch((error) => anomalies.push(`(i) stopping the fork bomb: ${String(error)}`));
    await sleep(2_000);

    ctx.say("  bystander echo, quiet again");
    const quietAfter = await measureEcho(bystander, options.echoSamples);
    const quiet = [...quietBefore, ...quietAfter];
    const result: ContainmentResult = {
      quiet: { p50: percentile(quiet, 50), p99: percentile(quiet, 99), samples: quiet.length },
      abused: { p50: percentile(abused, 50), p99: percentile(abused, 99), samples: abused.length },
      p99Ratio: abused.length ? percentile(abused, 99) / percentile(quiet, 99) : Number.NaN,
      abuse,
      anomalies,
    };
    ctx.say(`  quiet p50 ${formatMs(result.quiet.p50)} p99 ${formatMs(result.quiet.p99)}; under abuse p50 ${formatMs(result.abused.p50)} p99 ${formatMs(result.abused.p99)} (${abused.length} samples)`);
    return result;
  } finally {
    for (const stop of stops) stop();
    for (const socket of sockets) socket.close();
    for (const student of students) {
      if (student.environmentId) await mutate(url, student.cookie, "environment.delete", { labId }).catch((error) => anomalies.push(`(i) environment.delete: ${String(error)}`));
    }
    await processes.stop();
  }
}

export function containmentLines(result: ContainmentResult): string[] {
  return [
    `bystander echo p50: quiet ${formatMs(result.quiet.p50)}, under abuse ${formatMs(result.abused.p50)}`,
    `bystander echo p99: quiet ${formatMs(result.quiet.p99)}, under abuse ${formatMs(result.abused.p99)}: ${result.p99Ratio.toFixed(2)}x (bar: < 2x)`,
    `abuse: ${result.abuse.resizesSent} resizes and ${result.abuse.attachesSent} attaches sent (${result.abuse.attachesRefused} refused), ` +
      `${(result.abuse.floodBytesSeen / 1e6).toFixed(1)} MB of truecolour output delivered, a fork bomb at its pids limit next door`,
    `samples: quiet ${result.quiet.samples}, under abuse ${result.abused.samples}`,
  ];
}
