/**
 * A browser (or raw Docker client) of the wire bench as a process of its own, seen from the
 * bench: it is started with an IPC channel, told which shells to open, then what to measure
 * on them; the bench reads its CPU time from /proc around each order. The process itself is
 * tests/bench/wire-client-process.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { ActiveEchoResult } from "./terminal-load-echo";
import type { ThroughputResult } from "./terminal-link";
import type { LinkOrder, LinkStats } from "./wire-links";

export type ClientOrder =
  | { op: "open"; links: LinkOrder[] }
  /** Sequential keystroke echoes on one link (measureEcho). */
  | { op: "echo"; link: number; samples: number; warmup: number; pauseMs?: number }
  | { op: "throughput"; link: number; bytes: number }
  /** Every link types at once (terminal-load-echo's activeEcho). */
  | { op: "activeEcho"; samplesPer: number }
  /** `cat /dev/urandom | base64` on a link until floodStop, which presses Ctrl-C and waits for the prompt. */
  | { op: "floodStart"; link: number }
  | { op: "floodStop"; link: number }
  | { op: "stats" };

export interface FloodCount {
  bytes: number;
  ms: number;
  bytesPerSecond: number;
}

/** Its links' stats, added up. */
export type ClientStats = LinkStats;

/** What each order answers. */
export interface ClientAnswers {
  open: number;
  echo: number[];
  throughput: ThroughputResult;
  activeEcho: ActiveEchoResult;
  floodStart: null;
  floodStop: FloodCount;
  stats: ClientStats;
}

export type ClientReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface WireClient {
  name: string;
  pid: number;
  call<O extends ClientOrder>(order: O, timeoutMs?: number): Promise<ClientAnswers[O["op"]]>;
  /** Closes its links and waits for it to exit (SIGKILL, by its pid, after 10 s). */
  stop(): Promise<void>;
}

const projectRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Starts a client process. `nice`: at the lowest CPU priority (a flooding student's browser
 * is another machine: its own work must not slow the processes being measured).
 */
export function startWireClient(name: string, options: { nice?: boolean; onSpawn(child: ChildProcess): void }): Promise<WireClient> {
  const node = [process.execPath, "--import", "tsx", "tests/bench/wire-client-process.ts"];
  const [command, ...args] = options.nice ? ["nice", "-n", "19", ...node] : node;
  const child = spawn(command!, args, { cwd: projectRoot, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  options.onSpawn(child);
  let nextId = 1;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("message", (message: ClientReply | { ready: true }) => {
    if ("ready" in message) return;
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.ok) entry?.resolve(message.value);
    else entry?.reject(new Error(`${name}: ${message.error}`));
  });
  void exited.then(() => {
    for (const entry of waiting.values()) entry.reject(new Error(`${name}: the client process exited (${child.exitCode ?? child.signalCode})`));
    waiting.clear();
  });
  const client: WireClient = {
    name,
    pid: child.pid!,
    call(order, timeoutMs = 600_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: ${order.op} got no answer within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as never);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, ...order });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!gone) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(client));
    child.once("exit", (code) => reject(new Error(`${name}: the client process exited before it was ready (${code})`)));
  });
}
