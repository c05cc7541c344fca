/** What the terminals-under-load phase (tests/bench/terminal-load-bench.ts) is given by the bench, and its options. */
import os from "node:os";
import type { ChildProcess } from "node:child_process";
import type Docker from "dockerode";
import type { BenchPlatform } from "./bench-platform";
import type { RawShell } from "./raw-docker";

export interface TerminalLoadOptions {
  /** (f) terminals active at once, each its own student and environment. */
  concurrentTerminals: number;
  /** (f) echo samples per terminal. */
  echoSamplesPerTerminal: number;
  /** (g), (h) flood duration. */
  floodSeconds: number;
}

export interface RawHandle {
  shell: RawShell;
  id: string;
}

export interface TerminalLoadContext {
  platform: BenchPlatform;
  docker: Docker;
  say(message: string): void;
  /** Records an environment id for the final sweep. */
  track(environmentId: string): void;
  /** A raw container with an exec shell (recorded for the sweep), and its removal. */
  rawShell(): Promise<RawHandle>;
  closeRawShell(raw: RawHandle): Promise<void>;
  /** Adds a worker id whose containers and volumes the final sweep removes. */
  addWorkerId(workerId: string): void;
  /** Registers a process this run started, for the final cleanup to stop (by its pid) if still running. */
  addProcess(child: ChildProcess): void;
  benchDatabaseUrl: string;
  redisUrl: string | undefined;
  runId: string;
  logDir: string;
}

export const load1 = () => Number(os.loadavg()[0]!.toFixed(1));
export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
