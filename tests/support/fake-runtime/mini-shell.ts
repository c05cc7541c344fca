/**
 * The few shell commands the fake runtime understands, for terminals and scripts alike:
 * `echo` (quotes removed, so `echo "a""b"` prints `ab` and a test can tell the answer
 * from the typed line), `exit [n]`, `true`, `false`, `:`; `;` separates commands. Anything
 * else is "command not found" (127), as in a real shell.
 */

export interface LineOutcome {
  /** What the line printed, lines ending in "\n". */
  output: string;
  /** The status of its last command ($?). */
  status: number;
  /** Set when the line ran `exit`: the shell ends with this code. */
  exit?: number;
}

const unquote = (word: string) => word.replace(/["']/g, "");

export function runLine(line: string, lastStatus: number): LineOutcome {
  let output = "";
  let status = lastStatus;
  for (const command of line.split(";")) {
    const [name, ...args] = command.trim().split(/\s+/).filter(Boolean).map(unquote);
    if (name === undefined) continue;
    if (name === "echo") {
      output += `${args.join(" ")}\n`;
      status = 0;
    } else if (name === "exit") {
      const code = args[0] === undefined ? status : Number.parseInt(args[0], 10);
      return { output, status, exit: Number.isNaN(code) ? 2 : code & 0xff };
    } else if (name === "true" || name === ":") {
      status = 0;
    } else if (name === "false") {
      status = 1;
    } else {
      output += `sh: ${name}: command not found\n`;
      status = 127;
    }
  }
  return { output, status };
}

/** Runs a whole script (a setup script, a check): its output and exit code. */
export function runScriptText(script: string): { output: string; exitCode: number } {
  let output = "";
  let status = 0;
  for (const line of script.split("\n")) {
    const outcome = runLine(line, status);
    output += outcome.output;
    status = outcome.status;
    if (outcome.exit !== undefined) return { output, exitCode: outcome.exit };
  }
  return { output, exitCode: status };
}
