/**
 * Runs one command inside an environment through the RuntimeDriver (a real exec with a
 * TTY, as a student's terminal gets) and returns what it printed and its exit code.
 */
import type { RuntimeDriver, ShellProcess } from "../../runtime-worker/driver";

export interface CommandResult {
  /** Everything the command wrote to its TTY, with carriage returns removed. */
  output: string;
  exitCode: number | null;
}

const TERMINAL = { cols: 200, rows: 50 };
const DEFAULT_TIMEOUT_MS = 45_000;

/** `bash -lc command` as the environment's user: what a student would type. */
export async function runInEnvironment(
  driver: RuntimeDriver,
  environmentId: string,
  command: string,
  options: { timeoutMs?: number } = {},
): Promise<CommandResult> {
  const shell = await driver.exec(environmentId, ["bash", "-lc", command], TERMINAL);
  return collect(shell, command, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** Runs argv directly (no shell in between), e.g. to count shells without adding one. */
export async function runArgvInEnvironment(
  driver: RuntimeDriver,
  environmentId: string,
  argv: string[],
  options: { timeoutMs?: number } = {},
): Promise<CommandResult> {
  const shell = await driver.exec(environmentId, argv, TERMINAL);
  return collect(shell, argv.join(" "), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** Collects the TTY stream until the process ends (exited() waits for the stream's end). */
async function collect(shell: ShellProcess, label: string, timeoutMs: number): Promise<CommandResult> {
  const chunks: Buffer[] = [];
  shell.stream.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  const text = () => Buffer.concat(chunks).toString("utf8").replace(/\r/g, "");
  // Stdin stays open (the driver attaches it), so nothing but the process's exit ends
  // the stream; a command that hangs fails the test instead of hanging it.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      shell.stream.destroy();
      reject(new Error(`"${label}" did not finish within ${timeoutMs} ms; output so far:\n${text()}`));
    }, timeoutMs);
  });
  try {
    const exitCode = await Promise.race([shell.exited(), timedOut]);
    return { output: text(), exitCode };
  } finally {
    clearTimeout(timer);
  }
}
