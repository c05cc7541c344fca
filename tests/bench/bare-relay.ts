/**
 * Starts a hop of the wire bench's floor (tests/bench/bare-relay-process.ts) as a process of its
 * own and waits for its port. Only the process started here is ever signalled, by its pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { stopperOf } from "./child-stop";

const projectRoot = path.resolve(import.meta.dirname, "../..");

export interface BareRelay {
  /** Its websocket address (ws://127.0.0.1:<port>). */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A relay to another relay's `upstream` url, or to a shell in the container named `container`. */
export function startBareRelay(to: { upstream: string } | { container: string }, onSpawn: (child: ChildProcess) => void): Promise<BareRelay> {
  const target = "upstream" in to ? ["--upstream", to.upstream] : ["--container", to.container];
  const child = spawn(process.execPath, ["--import", "tsx", "tests/bench/bare-relay-process.ts", ...target], {
    cwd: projectRoot,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  onSpawn(child);
  const stop = stopperOf(child);
  return new Promise((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve({ url: `ws://127.0.0.1:${message.port}`, pid: child.pid!, stop }));
    child.once("exit", (code) => reject(new Error(`the bare relay (${target.join(" ")}) exited before it listened (${code})`)));
  });
}
