/** Ending a process the bench started, by its own handle (never by name). */
import type { ChildProcess } from "node:child_process";
import { sleep } from "./measure";

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export function stopperOf(child: ChildProcess, graceMs = 10_000): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
    child.kill("SIGKILL");
    await exited;
  };
}
