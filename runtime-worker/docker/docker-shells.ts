/**
 * The processes the Docker driver runs inside containers: terminal shells (through the PTY
 * holder when the container has it, via its relay or an exec) and scripts (checks, setup,
 * hang-ups) with their output demultiplexed.
 */
import { PassThrough, type Duplex } from "node:stream";
import type Docker from "dockerode";
import type { TerminalSize } from "../../protocol/ids";
import type { ScriptProcess, ShellProcess } from "../driver";
import { HOLDER_BINARY, HOLDER_MOUNT, type HolderBinary } from "../holder/holder-volume";
import { readHolderPreamble } from "../holder/holder-preamble";
import { attachThroughRelay, NoHolderListening, RelayUnavailable } from "../holder/holder-relay";
import { LABEL_HELD_SHELL, containerName } from "./container-config";
import { inspectContainer, statusOf } from "./docker-support";

/**
 * The exec's process has already ended: 404/409, or (Docker 20.10) a 500 "container not
 * running - cannot resize a stopped container" when a short command exits before the
 * first resize arrives.
 */
const processGone = (error: unknown) =>
  statusOf(error) === 404 || statusOf(error) === 409 || (statusOf(error) === 500 && /not running|stopped container/i.test(String((error as Error).message)));

/** Colours and UTF-8 whatever the image says (the browser renders both); the size for programs that read it at start. */
const shellEnvironment = (size: TerminalSize) => [`COLUMNS=${size.cols}`, `LINES=${size.rows}`, "TERM=xterm-256color", "COLORTERM=truecolor", "LANG=C.UTF-8"];

/** An exec's exit code once its stream has ended (null when Docker no longer knows it). */
async function exitCodeOf(exec: Docker.Exec, ended: Promise<void>): Promise<number | null> {
  await ended;
  try {
    return (await exec.inspect()).ExitCode ?? null;
  } catch {
    return null;
  }
}

/** How long after its container started a held shell may still be getting ready to listen. */
const HELD_SHELL_GRACE_MS = 5_000;

/**
 * The relay enters a container's namespaces from this host: the engine must be on this host
 * (a unix socket: its pids are this kernel's) and the worker root. SHELLROOM_DIRECT_ATTACH=0
 * turns it off (every attach is then an exec, as before).
 */
export function relayPossible(docker: Docker) {
  if (process.env.SHELLROOM_DIRECT_ATTACH === "0") return false;
  // socketPath: a path, or dockerode's finder of the default one; an engine over TCP has none.
  const modem = docker.modem as { socketPath?: unknown };
  return (typeof modem.socketPath === "string" || typeof modem.socketPath === "function") && process.getuid?.() === 0;
}

export class DockerShells {
  constructor(
    private readonly docker: Docker,
    /** The compiled PTY holder: shells then outlive the worker. Without it they end with it. */
    private readonly holder: HolderBinary | undefined,
    /** Attach to running shells through the holder's relay instead of an exec (see holder-relay.ts). */
    private directAttach: boolean,
  ) {}

  /**
   * A terminal's shell through the PTY holder when the container has it: the first attach
   * starts the shell, later ones (after a worker restart too) reattach to the same
   * processes and get the shell's recent output to repaint from. Containers made before
   * the holder existed get a plain exec, which ends with the worker.
   */
  async attachShell(environmentId: string, terminalId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    const info = await inspectContainer(this.docker, environmentId);
    if (!info?.Mounts.some((mount) => mount.Destination === HOLDER_MOUNT)) return this.exec(environmentId, command, size);
    if (this.directAttach && this.holder && info.State.Running && info.State.Pid > 0) {
      // The container's own command starts this shell: right after the start it may not listen yet.
      const startedAt = Date.parse(info.State.StartedAt);
      const waitUntil =
        info.Config.Labels?.[LABEL_HELD_SHELL] === terminalId && Date.now() - startedAt < HELD_SHELL_GRACE_MS ? startedAt + HELD_SHELL_GRACE_MS : 0;
      for (;;) {
        try {
          return await attachThroughRelay({ binary: this.holder.binary, containerPid: info.State.Pid, terminalId, size });
        } catch (error) {
          // No holder (a new tab; a shell that ended): the exec below starts it. A relay that cannot run here is not tried again.
          if (error instanceof RelayUnavailable && error.lasting) this.directAttach = false;
          if (!(error instanceof NoHolderListening) || Date.now() > waitUntil) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
    const shell = await this.exec(environmentId, [HOLDER_BINARY, "attach", terminalId, String(size.cols), String(size.rows), "--", ...command], size);
    try {
      return { ...shell, history: await readHolderPreamble(shell.stream) };
    } catch (error) {
      shell.stream.destroy();
      throw error;
    }
  }

  async exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    const container = this.docker.getContainer(containerName(environmentId));
    const exec = await container.exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: shellEnvironment(size),
    });
    // With Tty the hijacked stream is raw (no stdout/stderr multiplexing to undo).
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    // Listen before the first await: a short command can end (and its stream close)
    // while the initial resize is in flight, and a missed "close" would hang exited().
    const ended = new Promise<void>((resolve) => {
      if (stream.readableEnded || stream.destroyed) return resolve();
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
    });
    const resize = async (next: TerminalSize) => {
      try {
        await exec.resize({ h: next.rows, w: next.cols });
      } catch (error) {
        if (!processGone(error)) throw error;
      }
    };
    try {
      await resize(size);
    } catch (error) {
      stream.destroy(); // do not leave a half-opened exec behind
      throw error;
    }
    return {
      stream,
      resize,
      exited: () => exitCodeOf(exec, ended),
    };
  }

  async runScript(environmentId: string, command: string[], options: { user?: string; input: string }): Promise<ScriptProcess> {
    const exec = await this.docker.getContainer(containerName(environmentId)).exec({
      Cmd: command,
      User: options.user,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    const output = new PassThrough();
    const ended = new Promise<void>((resolve) => {
      const end = () => {
        output.end();
        resolve();
      };
      stream.once("end", end);
      stream.once("close", end);
      stream.once("error", end);
    });
    this.docker.modem.demuxStream(stream, output, output);
    // Without a TTY, closing our side ends the process's stdin and leaves its output flowing.
    stream.end(options.input);
    return {
      output,
      abandon: () => stream.destroy(),
      exited: () => exitCodeOf(exec, ended),
    };
  }
}
