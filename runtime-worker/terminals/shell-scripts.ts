/**
 * The shell commands the worker runs inside a container for a tab: the tagged login shell, and
 * the scripts that find, hang up and signal a tab's processes by that tag. Kept apart from the
 * terminal host so the lifecycle (the warm pool's shell, the setup) can use them too.
 */
import type { ShellToStart } from "../driver";

/**
 * A login shell, so the image's profile and the student's .bashrc apply. The argument
 * (bash's $1 with -s) tags the process with its terminal: Docker does not end an exec
 * when its connection closes, so closing a tab hangs up the tagged shell explicitly.
 */
export const shellCommand = (terminalId: string) => ["/bin/bash", "-l", "-s", `shellroom-tab=${terminalId}`];
/**
 * The tab's tagged processes: its shell and holder. PID 1 is left out: for a shell the
 * container's own command started, docker-init's command line carries the tag too.
 */
const taggedProcesses = (terminalId: string) => `pgrep -f -- 'shellroom-tab=${terminalId}$' | grep -vx 1`;
export const hangUpScript = (terminalId: string) => `${taggedProcesses(terminalId)} | xargs -r kill -HUP 2>/dev/null || true`;
/** The environment's first terminal: the one every lab page opens. */
export const MAIN_TERMINAL = "main";
/**
 * The warm pool starts the main terminal's shell in each container ahead of time, at the
 * size a terminal opens with (the attach then resizes it), so that taking a pooled
 * container costs a rename and an attach whose replay already holds the prompt.
 */
export const POOLED_MAIN_SHELL: ShellToStart = { terminalId: MAIN_TERMINAL, command: shellCommand(MAIN_TERMINAL), size: { cols: 80, rows: 24 } };
/**
 * Hangs up the tagged shell and waits (up to ~10 s) until it and its holder are gone, so
 * that the next attach starts a new one instead of reattaching to the ending one.
 */
export const hangUpAndWaitScript = (terminalId: string) => `${hangUpScript(terminalId)}
for i in $(seq 200); do ${taggedProcesses(terminalId)} >/dev/null || exit 0; sleep 0.05; done
exit 1`;
/** What the terminal would send for these keys, had its input queue room for them. */
export const SIGNAL_OF_KEY: Record<string, string> = { "\x03": "INT", "\x1c": "QUIT", "\x1a": "TSTP" };
/**
 * Signals the foreground job of a tab's terminal directly, as the tty would: the process
 * group in front on the terminal of a tagged process, when that is not the process itself
 * (the shell at its prompt, or the holder's own terminal, is left alone).
 */
export const signalScript = (terminalId: string, signal: string) =>
  `for pid in $(${taggedProcesses(terminalId)}); do ps -o pgid=,tpgid= -p "$pid"; done` +
  ` | awk '$2 > 0 && $1 != $2 { print $2 }' | sort -u | while read -r group; do kill -${signal} -- "-$group"; done; true`;
