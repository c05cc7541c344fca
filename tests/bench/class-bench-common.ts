/** What the class bench's parts share (tests/bench/class-bench.ts): its options, context and results, and small helpers. */
import type { ChildProcess } from "node:child_process";
import os from "node:os";
import type Docker from "dockerode";
import type { EngineMemory } from "./engine-memory";
import type { Figure } from "./measure";

/** As deployed: size-limited workspaces (loop-mounted ext4) unless BENCH_WORKSPACE_QUOTA=off. */
export const WORKSPACE_QUOTA = process.env.BENCH_WORKSPACE_QUOTA === "off" ? "off" : "on";

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

/** Deletions sent at a time through the API between parts. */
export const DELETE_CONCURRENCY = 8;

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

export const load1 = () => Number(os.loadavg()[0]!.toFixed(1));
export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** Distinct messages with how often each came, at most five. */
export const tally = (errors: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const error of errors) counts.set(error.slice(0, 200), (counts.get(error.slice(0, 200)) ?? 0) + 1);
  return [...counts].slice(0, 5).map(([message, count]) => `${count}x ${message}`);
};
