/**
 * Runs a step's check script inside the student's container, as the student: it sees
 * exactly what the student sees and nothing else. Exit 0 passes. The script is stopped
 * at its time limit (inside the container by coreutils' timeout, and from outside as a
 * backstop), and its output is capped so a chatty script cannot flood the server.
 */
import type { CheckRequest } from "../../protocol/worker-messages";
import type { RuntimeDriver } from "../driver";

export const CHECK_OUTPUT_LIMIT = 16 * 1024;
/** coreutils' timeout exits 124 when it stopped the command (137 if it had to KILL). */
const TIMED_OUT_CODES = new Set([124, 137]);
const GRACE_SECONDS = 2;

export interface CheckOutcome {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
}

export async function runCheck(driver: RuntimeDriver, request: CheckRequest): Promise<CheckOutcome> {
  const command = ["timeout", "--kill-after", `${GRACE_SECONDS}s`, `${request.timeoutSeconds}s`, "bash", "-c", request.script];
  const process = await driver.exec(request.environmentId, command, { cols: 120, rows: 40 });
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  process.stream.on("data", (chunk: Buffer) => {
    if (size >= CHECK_OUTPUT_LIMIT) {
      truncated = true;
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  // stdin stays open: half-closing a hijacked TTY exec closes the whole connection. A
  // check that waits for input simply meets its time limit.

  let backstop: NodeJS.Timeout | undefined;
  const overdue = new Promise<"overdue">((resolve) => {
    backstop = setTimeout(() => resolve("overdue"), (request.timeoutSeconds + GRACE_SECONDS + 3) * 1000);
  });
  const finished = await Promise.race([process.exited(), overdue]);
  clearTimeout(backstop);
  if (finished === "overdue") process.stream.destroy();

  let output = Buffer.concat(chunks).toString("utf8").slice(0, CHECK_OUTPUT_LIMIT).replace(/\r\n/g, "\n");
  if (truncated) output += "\n[output truncated]";
  const exitCode = finished === "overdue" ? null : finished;
  const timedOut = finished === "overdue" || (exitCode !== null && TIMED_OUT_CODES.has(exitCode));
  return { exitCode, output, timedOut };
}
