/**
 * A worker's lifecycle parts (EnvironmentManager, WarmPool) on the fake runtime, with what
 * they tell the server recorded: each terminal's output, exits and tab lists. The fast
 * tier's tests build on it instead of a Docker engine.
 */
import { randomBytes } from "node:crypto";
import { rootLogger } from "../../../common/logger";
import { EnvironmentSpec, type PoolTemplate, type TerminalRef } from "../../../protocol/worker-messages";
import { EnvironmentManager, POOLED_MAIN_SHELL, type TerminalEvents } from "../../../runtime-worker/environments";
import { WarmPool } from "../../../runtime-worker/pool/warm-pool";
import { FakeRuntimeDriver } from "./fake-runtime-driver";

export const template: PoolTemplate = {
  image: "shellroom/default:1",
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
};

/** A first start's spec (no workspace yet) of a fresh environment. */
export const freshSpec = (overrides: Partial<EnvironmentSpec> = {}) =>
  EnvironmentSpec.parse({ ...template, environmentId: `env-${randomBytes(4).toString("hex")}`, ownerId: "student-1", ...overrides });

export const quietLog = () => {
  const log = rootLogger.child({ test: "fast" });
  log.level = "silent";
  return log;
};

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export function fakeWorker(options: { startConcurrency?: number; pooled?: boolean; driver?: FakeRuntimeDriver } = {}) {
  const driver = options.driver ?? new FakeRuntimeDriver(`fake-${randomBytes(3).toString("hex")}`);
  const log = quietLog();
  const output = new Map<string, string>();
  const exits: Array<{ ref: TerminalRef; exitCode: number | null }> = [];
  const tabs = new Map<string, string[]>();
  const events: TerminalEvents = {
    link: (ref) => ({
      connected: true,
      send: (data, _offset, acked) => {
        output.set(keyOf(ref), (output.get(keyOf(ref)) ?? "") + Buffer.from(data).toString("utf8"));
        acked();
      },
    }),
    exit: (ref, exitCode) => exits.push({ ref, exitCode }),
    tabs: (environmentId, terminalIds) => tabs.set(environmentId, terminalIds),
  };
  const pool = options.pooled ? new WarmPool(driver, log, POOLED_MAIN_SHELL) : undefined;
  const manager = new EnvironmentManager(driver, events, log, pool, options.startConcurrency, {
    bytesPerSecond: 1024 * 1024 * 1024,
    burstBytes: 1024 * 1024 * 1024,
  });
  return {
    driver,
    manager,
    pool,
    exits,
    tabs,
    /** What a terminal has sent towards the server so far, as text. */
    output: (ref: TerminalRef) => output.get(keyOf(ref)) ?? "",
  };
}
