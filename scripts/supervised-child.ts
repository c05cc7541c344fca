/**
 * A child process the launcher keeps running: when it dies on its own it is started
 * again after a backoff (1 s, doubling to 30 s; back to 1 s once it has run for a
 * minute), so a crashed worker costs the class a blink and never the platform. Students'
 * shells live in their containers under the PTY holder, so the new worker reattaches to them.
 */
import { spawn, type ChildProcess } from "node:child_process";

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

export interface SupervisedChild {
  readonly name: string;
  readonly pid: number | undefined;
  /** Ends the child (SIGTERM) and stops restarting it; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Runs `script` with node and tsx's loader, so the pid is the process doing the work. */
export function spawnScript(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script], { env, stdio: ["ignore", "inherit", "inherit"] });
}

export function supervise(name: string, start: () => ChildProcess, log: (line: string) => void = console.error): SupervisedChild {
  let child = start();
  let startedAt = Date.now();
  let backoffMs = FIRST_BACKOFF_MS;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const watch = (current: ChildProcess) => {
    current.once("exit", (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt >= HEALTHY_AFTER_MS) backoffMs = FIRST_BACKOFF_MS;
      log(`[platform] ${name} exited (${signal ?? code}); starting it again in ${backoffMs / 1000} s`);
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopping) return;
        child = start();
        startedAt = Date.now();
        log(`[platform] ${name} pid ${child.pid}`);
        watch(child);
      }, backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    });
  };
  watch(child);

  return {
    name,
    get pid() {
      return child.pid;
    },
    stop: async () => {
      stopping = true;
      clearTimeout(restartTimer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
