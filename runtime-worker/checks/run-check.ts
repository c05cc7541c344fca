/**
 * Runs instructor scripts (a step's check, a template's setup) inside the student's
 * container without trusting anything the student controls:
 * - the script travels on stdin, never in argv or a file, so `ps` and the student's
 *   files never show it (stdin of another user's process is not theirs to read);
 * - a check runs as its own uid (CHECKER_UID, in the student's group): it reads the
 *   student's ordinary files but the student cannot signal, trace or impersonate it;
 *   its shell and `timeout` are execute-only copies (CHECKER_TOOLS), so even the
 *   student's program that a check runs (as the checker) cannot trace or read them;
 * - the environment is rebuilt from nothing (`env -i`): fixed PATH, no dotfiles
 *   (--noprofile --norc, no BASH_ENV/ENV), no Python user site or script-folder imports,
 *   no git global config from the student's home.
 * Exit 0 passes. The script is stopped at its time limit (inside the container by
 * coreutils' timeout, and from outside as a backstop), and its output is capped so a
 * chatty script cannot flood the server.
 */
import type { CheckRequest } from "../../protocol/worker-messages";
import { CHECKER_DIR, CHECKER_TOOLS, CHECKER_UID, STUDENT_GID, STUDENT_UID } from "../docker/container-config";
import type { RuntimeDriver } from "../driver";

export const CHECK_OUTPUT_LIMIT = 16 * 1024;
/** coreutils' timeout exits 124 when it stopped the command (137 if it had to KILL). */
const TIMED_OUT_CODES = new Set([124, 137]);
const GRACE_SECONDS = 2;
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Who runs a script. "checker": a step's check (untrusting, cannot write the student's
 * files). "student": the template's setup (instructor content that prepares the student's
 * files, so they must belong to the student) and platform housekeeping such as hanging up
 * a tab's shell; still with a clean environment, so the student's dotfiles do not apply.
 */
export type ScriptRunner = "checker" | "student";

export interface CheckOutcome {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
}

/**
 * Reads the whole script from stdin, then gives the script /dev/null as its stdin (a
 * command in it that reads input must not eat the rest of the script) and runs it. HOME
 * is the student's home from the image's (read-only) passwd, so checks can keep saying
 * ~/workspace/file.txt; nothing in that home is executed or read as configuration.
 */
const readAndRun = (homeOfUid: string) =>
  `script="$(cat)" || exit 125; exec </dev/null; HOME="$(getent passwd ${homeOfUid} | cut -d: -f6)"; export HOME="\${HOME:-/}"; eval "$script"`;

function environmentFor(runner: ScriptRunner) {
  return [
    `PATH=${SYSTEM_PATH}`,
    "LANG=C.UTF-8",
    "TERM=dumb",
    ...(runner === "checker" ? [`TMPDIR=${CHECKER_DIR}`, `XDG_CONFIG_HOME=${CHECKER_DIR}/.config`, `XDG_CACHE_HOME=${CHECKER_DIR}/.cache`] : []),
    "PYTHONNOUSERSITE=1",
    // Python 3.11+: the script's folder (or the working directory) is not put on sys.path,
    // so a json.py in the student's workspace cannot stand in for the standard library.
    "PYTHONSAFEPATH=1",
    "PYTHONDONTWRITEBYTECODE=1",
    ...(runner === "checker" ? ["GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"] : []),
  ];
}

/** The command line of a script run: the same for every script, so it shows nothing. */
export function scriptCommand(runner: ScriptRunner, timeoutSeconds: number): string[] {
  const tool = (name: string) => (runner === "checker" ? `${CHECKER_TOOLS}/${name}` : name);
  return [
    "/usr/bin/env",
    "-i",
    ...environmentFor(runner),
    tool("timeout"),
    "--kill-after",
    `${GRACE_SECONDS}s`,
    `${timeoutSeconds}s`,
    tool("bash"),
    "--noprofile",
    "--norc",
    "-c",
    readAndRun(runner === "checker" ? String(STUDENT_UID) : '"$(id -u)"'),
  ];
}

/** Copies bash and timeout to CHECKER_TOOLS as root, mode 0711, once per container (atomic renames). */
const PREPARE_TOOLS = `set -e; d=${CHECKER_TOOLS}; [ -x "$d/bash" ] && [ -x "$d/timeout" ] && exit 0; mkdir -p -m 0755 "$d"
for tool in bash timeout; do cp "$(command -v "$tool")" "$d/.$tool.$$"; chmod 0711 "$d/.$tool.$$"; mv -f "$d/.$tool.$$" "$d/$tool"; done`;

async function prepareCheckerTools(driver: RuntimeDriver, environmentId: string) {
  const prepare = await driver.runScript(environmentId, ["/usr/bin/env", "-i", `PATH=${SYSTEM_PATH}`, "/bin/sh", "-c", PREPARE_TOOLS], {
    user: "0:0",
    input: "",
  });
  let output = "";
  prepare.output.on("data", (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-2000)));
  const exitCode = await prepare.exited();
  if (exitCode !== 0) throw new Error(`The check could not be prepared in this environment (exit ${exitCode}): ${output.trim()}`);
}

/** The exec user: a numeric uid:gid for the checker (no passwd entry needed), the container's own user otherwise. */
export function scriptUser(runner: ScriptRunner): string | undefined {
  return runner === "checker" ? `${CHECKER_UID}:${STUDENT_GID}` : undefined;
}

/** A step's check, as the checker. */
export function runCheck(driver: RuntimeDriver, request: CheckRequest): Promise<CheckOutcome> {
  return runScript(driver, request, "checker");
}

export async function runScript(driver: RuntimeDriver, request: CheckRequest, runner: ScriptRunner): Promise<CheckOutcome> {
  if (runner === "checker") await prepareCheckerTools(driver, request.environmentId);
  const process = await driver.runScript(request.environmentId, scriptCommand(runner, request.timeoutSeconds), {
    user: scriptUser(runner),
    input: request.script,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  process.output.on("data", (chunk: Buffer) => {
    if (size >= CHECK_OUTPUT_LIMIT) {
      truncated = true;
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });

  let backstop: NodeJS.Timeout | undefined;
  const overdue = new Promise<"overdue">((resolve) => {
    backstop = setTimeout(() => resolve("overdue"), (request.timeoutSeconds + GRACE_SECONDS + 3) * 1000);
  });
  const finished = await Promise.race([process.exited(), overdue]);
  clearTimeout(backstop);
  if (finished === "overdue") process.abandon();

  let output = Buffer.concat(chunks).toString("utf8").slice(0, CHECK_OUTPUT_LIMIT).replace(/\r\n/g, "\n");
  if (truncated) output += "\n[output truncated]";
  const exitCode = finished === "overdue" ? null : finished;
  const timedOut = finished === "overdue" || (exitCode !== null && TIMED_OUT_CODES.has(exitCode));
  return { exitCode, output, timedOut };
}
