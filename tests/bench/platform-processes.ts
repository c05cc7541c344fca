/**
 * The platform as separate processes, the way scripts/platform.ts runs it: a server
 * (tests/bench/server-process.ts: server/main.ts without Next.js; BENCH_SERVER_ENTRY=server/main.ts
 * runs the real entry in production mode, which needs a build in .next/) and
 * runtime-worker/main.ts, each `node --import tsx` so the pid is the process doing the
 * work. Used where a figure needs the server measured on its own (RSS under flood), not
 * sharing a Node process with the worker and the bench's clients.
 *
 * They get their own database (recreated and migrated here; the server seeds its demo data
 * into it) and their own Redis prefix, so their lifecycle sweep and the bench's in-process
 * platform cannot mark each other's workers lost. The worker's workspace quota is off, like
 * the in-process bench worker's (plain Docker volumes). Only the processes started here are
 * ever signalled, by their pid.
 *
 * BENCH_CPU_PROF_DIR=<dir> runs both with `node --cpu-prof` (Node refuses it in NODE_OPTIONS): each
 * writes its threads' .cpuprofile files under <dir>/<logName>-server and -worker when it exits on the
 * SIGTERM of stop(), to see where a phase's CPU goes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { workerTokenFor } from "../../server/workers/worker-credentials";
import { sleep } from "./measure";

const projectRoot = path.resolve(import.meta.dirname, "../..");

export interface PlatformProcesses {
  url: string;
  databaseUrl: string;
  workerId: string;
  serverPid: number;
  workerPid: number;
  /** The server's entry script. */
  serverEntry: string;
  /** Where each process's stdout and stderr went. */
  logs: { server: string; worker: string };
  /** SIGTERM to both (worker first), SIGKILL to whichever has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** A process's resident set size in bytes (VmRSS of /proc/<pid>/status); undefined once it is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a project script with node and tsx's loader; resolves with its stdout. */
function runScript(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited with ${code}: ${err.slice(-500)}`))));
  });
}

function tail(file: string, chars = 1500) {
  try {
    return readFileSync(file, "utf8").slice(-chars);
  } catch {
    return "";
  }
}

/** Resolves when the process exits (at once if it already has). */
const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()));

export async function startPlatformProcesses(options: {
  /** Any database URL on the Postgres server to use; the processes get `databaseName` on it. */
  benchDatabaseUrl: string;
  databaseName: string;
  redisUrl: string | undefined;
  workerId: string;
  logDir: string;
  /** Called with each process as soon as it is spawned (so an abort can stop it). */
  onSpawn?(child: ChildProcess): void;
  /** Settings of the phase on top of the defaults here (e.g. the worker's capacity, trusted proxies). */
  serverEnv?: Record<string, string | undefined>;
  workerEnv?: Record<string, string | undefined>;
  /** Log files are .data/<logName>-server-process.log and -worker-process.log ("bench" unless told). */
  logName?: string;
}): Promise<PlatformProcesses> {
  const databaseUrl = (await runScript("tests/support/prepare-database.ts", [options.benchDatabaseUrl, options.databaseName])).trim().split("\n").pop()!;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const workerSecret = randomBytes(32).toString("hex");
  const logName = options.logName ?? "bench";
  const logs = { server: path.join(options.logDir, `${logName}-server-process.log`), worker: path.join(options.logDir, `${logName}-worker-process.log`) };
  const children: ChildProcess[] = [];
  const serverEntry = process.env.BENCH_SERVER_ENTRY ?? "tests/bench/server-process.ts";

  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  // A folder per process and Node's own file names: tsx's loader thread writes a profile too, and a fixed name would overwrite the main thread's.
  const profile = (name: string) => (profileDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profileDir, `${logName}-${name}`)}`] : []);

  const run = (script: string, logFile: string, env: Record<string, string | undefined>) => {
    const fd = openSync(logFile, "w");
    const name = script.startsWith("runtime-worker/") ? "worker" : "server";
    const child = spawn(process.execPath, [...profile(name), "--import", "tsx", script], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: process.env.BENCH_PROCESS_LOG_LEVEL ?? "warn", ...env },
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    children.push(child);
    options.onSpawn?.(child);
    return child;
  };

  async function stop(graceMs = 15_000) {
    // The worker first: the server stays up while it says goodbye.
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
      child.kill("SIGTERM");
      const done = await Promise.race([exited(child).then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        child.kill("SIGKILL");
        await exited(child);
      }
    }
  }

  try {
    const server = run(serverEntry, logs.server, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: options.redisUrl,
      SHELLROOM_REDIS_PREFIX: `shellroom-${options.workerId}`,
      PORT: String(port),
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      SHELLROOM_PUBLIC_URL: undefined,
      SHELLROOM_WORKER_SECRET: workerSecret,
      // The bench's database holds the demo accounts: the real entry refuses those in production unless this is a demo.
      SHELLROOM_DEMO: "1",
      ...options.serverEnv,
    });
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (server.exitCode !== null || server.signalCode !== null)
        throw new Error(`the server process exited (${server.exitCode ?? server.signalCode}): ${tail(logs.server)}`);
      if (Date.now() > deadline) throw new Error(`the server process did not answer /healthz within 180 s: ${tail(logs.server)}`);
      if (
        await fetch(`${url}/healthz`).then(
          (response) => response.ok,
          () => false,
        )
      )
        break;
      await sleep(300);
    }
    const worker = run("runtime-worker/main.ts", logs.worker, {
      SHELLROOM_SERVER_URL: url,
      SHELLROOM_WORKER_ID: options.workerId,
      SHELLROOM_WORKER_NAME: options.workerId,
      SHELLROOM_WORKER_TOKEN: workerTokenFor(workerSecret, options.workerId),
      SHELLROOM_WORKSPACE_QUOTA: "off",
      SHELLROOM_WORKER_HTTP_PORT: undefined,
      DATABASE_URL: undefined,
      ...options.workerEnv,
    });
    return { url, databaseUrl, workerId: options.workerId, serverPid: server.pid!, workerPid: worker.pid!, serverEntry, logs, stop };
  } catch (error) {
    await stop(5_000);
    throw error;
  }
}
