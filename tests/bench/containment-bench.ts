/**
 * (i) Containment: a bystander's keystroke echo while one student does the heaviest legal
 * thing a terminal allows and another runs a fork bomb, against the same bystander's echo
 * when the host is quiet, measured in the same run. Server and worker run as separate
 * processes (tests/bench/platform-processes.ts), as deployed; browsers are socket.io clients.
 *
 * The abuser: a truecolour flood (dense escape sequences for the worker's screen mirror),
 * resizes as fast as a socket may send them, and a second socket attaching again and again
 * (a snapshot each time), played by a browser process of its own (tests/bench/abuser-process.ts).
 * The bomber: `:(){ :|:& };:` at its pids limit. The bystander's echo is measured quiet, under
 * the abuser, under both, under the bomb alone, and quiet again (the quiet figure is both quiet runs).
 * The bar: p99 under abuse below 2x the quiet p99. It reports; it asserts nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Socket } from "socket.io-client";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase } from "../../server/database/client";
import { DEMO_COURSE_SLUG, DEMO_LAB_SLUG } from "../../server/database/seed";
import { trpcMutation } from "./bench-http";
import { attachTerminal, openTerminalSocket, terminalLink, type PlatformTerminal } from "./browser-socket";
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
  /** Each kind of abuse alone. */
  parts: { flood: { p50: number; p99: number; samples: number }; bomb: { p50: number; p99: number; samples: number } };
  abuse: { resizesSent: number; attachesSent: number; attachesRefused: number; floodBytesSeen: number };
  anomalies: string[];
}

/** A dense truecolour line, repeated by `yes` as fast as the terminal takes it. */
const FORK_BOMB = ":(){ :|:& };:\r";
const projectRoot = path.resolve(import.meta.dirname, "../..");
/** What the abusing student does (BENCH_CONTAINMENT_ABUSE, default all three): to see which one costs. */
const ABUSE = new Set((process.env.BENCH_CONTAINMENT_ABUSE ?? "flood,resizes,attaches").split(",").map((part) => part.trim()));

const mutate = <T>(url: string, cookie: string, procedure: string, input: unknown) => trpcMutation<T>(url, { cookie }, procedure, input);

export async function runContainmentBench(ctx: ContainmentContext, options: { echoSamples: number; abuseSeconds: number }): Promise<ContainmentResult> {
  const anomalies: string[] = [];
  const workerId = `bench-contain-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const processes = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl,
    databaseName: "shellroom_bench_containment",
    redisUrl: ctx.redisUrl,
    workerId,
    logDir: ctx.logDir,
    onSpawn: (child) => ctx.addProcess(child),
  });
  const { url } = processes;
  ctx.say(`  server pid ${processes.serverPid}, worker pid ${processes.workerPid} at ${url}`);
  const sockets: Socket[] = [];
  const students: Array<{ cookie: string; environmentId?: string }> = [];
  let labId = "";
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
    for (const [index, student] of students.entries()) {
      for (;;) {
        try {
          student.environmentId = (await mutate<{ environmentId: string }>(url, student.cookie, "environment.startForLab", { labId })).environmentId;
          break;
        } catch (error) {
          if (now() > deadline) throw error;
          await sleep(500); // the worker dials in a few seconds after it starts
        }
      }
      if (index === 1) continue; // the abuser's browser is its own process (below)
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
    const [bystander, bomber] = links as [PlatformTerminal, PlatformTerminal];

    ctx.say(`(i) bystander echo, quiet: ${options.echoSamples} samples`);
    const quietBefore = await measureEcho(bystander, options.echoSamples);

    /** The bystander's echo for about `abuseSeconds` (at least echoSamples samples). */
    const echoUnder = async (what: string) => {
      const started = now();
      const samples: number[] = [];
      try {
        while (now() - started < options.abuseSeconds * 1000 || samples.length < options.echoSamples) {
          samples.push(...(await measureEcho(bystander, Math.min(50, options.echoSamples), 5)));
          if (now() - started > options.abuseSeconds * 4000) break;
        }
      } catch (error) {
        anomalies.push(`(i) the bystander's echo failed under ${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
      ctx.say(`  under ${what}: p50 ${formatMs(percentile(samples, 50))}, p99 ${formatMs(percentile(samples, 99))} (${samples.length} samples)`);
      return samples;
    };

    // The abuser's browser is a process of its own at the lowest CPU priority: in a class it is
    // another machine, and its own work (sending thousands of attaches) is not the platform's.
    const abuser = spawn(
      "nice",
      [
        "-n",
        "19",
        process.execPath,
        "--import",
        "tsx",
        "tests/bench/abuser-process.ts",
        JSON.stringify({
          url,
          cookie: students[1]!.cookie,
          environmentId: students[1]!.environmentId,
          flood: ABUSE.has("flood"),
          resizes: ABUSE.has("resizes"),
          attaches: ABUSE.has("attaches"),
        }),
      ],
      { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    ctx.addProcess(abuser);
    let abuserOut = "";
    abuser.stdout!.on("data", (chunk: Buffer) => {
      abuserOut += chunk.toString();
    });
    const abuserExited = new Promise<void>((resolve) => abuser.once("exit", () => resolve()));
    const readyBy = now() + 60_000;
    while (!abuserOut.includes("ready") && now() < readyBy && abuser.exitCode === null) await sleep(100);
    if (!abuserOut.includes("ready")) throw new Error("the abuser's browser process did not start");
    await sleep(2_000); // the flood and the loops at full strength
    ctx.say(
      `  abuse for ${options.abuseSeconds} s each: a truecolour flood + resize loop + attach loop (one student), then also a fork bomb (another), then the fork bomb alone`,
    );
    const flooded = await echoUnder("flood + resize + attach loops");
    bomber.write(FORK_BOMB);
    await sleep(2_000);
    const both = await echoUnder("all of it and a fork bomb next door");
    abuser.kill("SIGTERM");
    await abuserExited;
    const abuse = { resizesSent: 0, attachesSent: 0, attachesRefused: 0, floodBytesSeen: 0 };
    try {
      const counts = JSON.parse(abuserOut.trim().split("\n").at(-1)!) as {
        floodBytes: number;
        resizesSent: number;
        attachesSent: number;
        attachesRefused: number;
      };
      Object.assign(abuse, {
        resizesSent: counts.resizesSent,
        attachesSent: counts.attachesSent,
        attachesRefused: counts.attachesRefused,
        floodBytesSeen: counts.floodBytes,
      });
    } catch {
      anomalies.push("(i) the abuser's browser process reported no counts");
    }
    const bombed = await echoUnder("the fork bomb alone");
    // The bomb ends with its environment: stopping it ends every process in it.
    await mutate(url, students[2]!.cookie, "environment.stop", { labId }).catch((error) => anomalies.push(`(i) stopping the fork bomb: ${String(error)}`));
    await sleep(2_000);

    ctx.say("  bystander echo, quiet again");
    const quietAfter = await measureEcho(bystander, options.echoSamples);
    const quiet = [...quietBefore, ...quietAfter];
    const figures = (samples: number[]) => ({ p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length });
    return {
      quiet: figures(quiet),
      abused: figures(both),
      p99Ratio: both.length ? percentile(both, 99) / percentile(quiet, 99) : Number.NaN,
      parts: { flood: figures(flooded), bomb: figures(bombed) },
      abuse,
      anomalies,
    };
  } finally {
    for (const socket of sockets) socket.close();
    for (const student of students) {
      if (student.environmentId)
        await mutate(url, student.cookie, "environment.delete", { labId }).catch((error) => anomalies.push(`(i) environment.delete: ${String(error)}`));
    }
    await processes.stop();
  }
}

export function containmentLines(result: ContainmentResult): string[] {
  return [
    `bystander echo p50: quiet ${formatMs(result.quiet.p50)}, under abuse ${formatMs(result.abused.p50)}`,
    `bystander echo p99: quiet ${formatMs(result.quiet.p99)}, under abuse ${formatMs(result.abused.p99)}: ${result.p99Ratio.toFixed(2)}x (bar: < 2x)`,
    `  each alone: flood + resize + attach loops p50 ${formatMs(result.parts.flood.p50)} p99 ${formatMs(result.parts.flood.p99)} (${(result.parts.flood.p99 / result.quiet.p99).toFixed(2)}x); ` +
      `fork bomb p50 ${formatMs(result.parts.bomb.p50)} p99 ${formatMs(result.parts.bomb.p99)} (${(result.parts.bomb.p99 / result.quiet.p99).toFixed(2)}x)`,
    `abuse: ${result.abuse.resizesSent} resizes and ${result.abuse.attachesSent} attaches sent (${result.abuse.attachesRefused} refused), ` +
      `${(result.abuse.floodBytesSeen / 1e6).toFixed(1)} MB of truecolour output delivered, a fork bomb at its pids limit next door`,
    `samples: quiet ${result.quiet.samples}, under abuse ${result.abused.samples}`,
  ];
}
