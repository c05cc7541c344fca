/**
 * Reaching a running shell without `docker exec`: the worker runs the holder binary's
 * `relay` on its own host, inside the container's network namespace only (nsenter --net,
 * as nobody), where the holder listens on an abstract socket. An attach is then one
 * small local process instead of a round trip through dockerd, containerd and runc, which
 * is what a class of a hundred taking pooled environments at once waits on.
 *
 * Only for an engine on this host (container pids are this kernel's) and a worker allowed
 * to enter namespaces (root); the driver falls back to an exec otherwise.
 */
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import type { TerminalSize } from "../../protocol/ids";
import type { ShellProcess } from "../driver";
import { HolderFrameDecoder, inputFrames, resizeFrame, type HolderEvent } from "./holder-frames";

/** relay's exit status when no holder listens under the name (holder.h EXIT_NO_HOLDER). */
const EXIT_NO_HOLDER = 3;
/** nobody: the relay needs no rights once inside the namespace. */
const NOBODY = "65534";

/** No holder listens for this terminal (not started yet, or its shell ended): start one through an exec. */
export class NoHolderListening extends Error {
  override name = "NoHolderListening";
}

/** The relay did not reach a holder; `lasting` when it cannot run here at all (no nsenter, no right to enter namespaces). */
export class RelayUnavailable extends Error {
  override name = "RelayUnavailable";
  constructor(
    message: string,
    readonly lasting = false,
  ) {
    super(message);
  }
}

const LASTING = /operation not permitted|permission denied|not found/i;

export interface RelayTarget {
  /** The holder binary on this host. */
  binary: string;
  /** The container's init, as the engine reports it (State.Pid). */
  containerPid: number;
  terminalId: string;
  size: TerminalSize;
  timeoutMs?: number;
}

/**
 * Attaches to the holder of `terminalId` in the container: resolves once its replay has
 * arrived (the shell's recent output and where it starts), with the live output following
 * on `stream`, handed over paused.
 */
export function attachThroughRelay(target: RelayTarget): Promise<ShellProcess> {
  const child = spawn(
    "nsenter",
    ["--target", String(target.containerPid), "--net", "--setuid", NOBODY, "--setgid", NOBODY, "--", target.binary, "relay", target.terminalId],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const decoder = new HolderFrameDecoder();
  let stderr = "";
  let exitCode: number | null = null;
  let replay: { offset: number; remaining: number; chunks: Buffer[] } | null = null;

  const stream = new Duplex({
    read: () => {
      child.stdout.resume();
    },
    write: (chunk: Buffer, _encoding, callback) => {
      if (!child.stdin.writable) return callback();
      child.stdin.write(inputFrames(chunk), () => callback());
    },
    final: (callback) => {
      child.stdin.end();
      callback();
    },
    destroy: (error, callback) => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      callback(error);
    },
  });
  stream.pause();
  // The pipe's end can race our own shutdown: the stream's close says what matters.
  child.stdin.on("error", () => undefined);
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString("utf8");
  });

  const closed = new Promise<number | null>((resolve) => child.once("close", () => resolve(exitCode)));

  return new Promise<ShellProcess>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) {
        stream.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      child.kill("SIGTERM");
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error("the PTY holder did not answer its relay in time")), target.timeoutMs ?? 15_000);

    const deliver = (data: Buffer) => {
      if (!stream.push(data)) child.stdout.pause();
    };
    const handle = (event: HolderEvent) => {
      if (event.kind === "hello") {
        replay = { offset: event.offset, remaining: event.replayBytes, chunks: [] };
      } else if (event.kind === "exit") {
        exitCode = event.code;
      } else if (replay && replay.remaining > 0) {
        const part = event.data.subarray(0, replay.remaining);
        replay.chunks.push(part);
        replay.remaining -= part.length;
        if (event.data.length > part.length) deliver(event.data.subarray(part.length));
      } else {
        deliver(event.data);
      }
      if (!settled && replay && replay.remaining === 0) {
        settled = true;
        clearTimeout(timer);
        const history = { offset: replay.offset, replay: Buffer.concat(replay.chunks) };
        const resize = (size: TerminalSize) =>
          new Promise<void>((done) => {
            if (!child.stdin.writable) return done();
            child.stdin.write(resizeFrame(size.cols, size.rows), () => done());
          });
        void resize(target.size);
        resolve({ stream, history, resize, exited: () => closed });
      }
    };

    child.stdout.on("data", (chunk: Buffer) => {
      try {
        for (const event of decoder.push(chunk)) handle(event);
      } catch (error) {
        fail(error as Error);
      }
    });
    child.once("error", (error: NodeJS.ErrnoException) => fail(new RelayUnavailable(`the relay could not start: ${error.message}`, true)));
    child.once("close", (code) => {
      if (!settled) {
        if (code === EXIT_NO_HOLDER) fail(new NoHolderListening(`no PTY holder listens for ${target.terminalId}`));
        else
          fail(new RelayUnavailable(`the relay ended (${code ?? "signal"}) before the holder answered: ${stderr.trim().slice(0, 300)}`, LASTING.test(stderr)));
        return;
      }
      stream.push(null);
    });
  });
}
