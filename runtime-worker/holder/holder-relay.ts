/**
 * Reaching a running shell without `docker exec`: the worker runs the holder binary's
 * `handover` on its own host, inside the container's network namespace only (nsenter --net,
 * as nobody), where the holder listens on an abstract socket. It connects and hands the
 * connected socket to the worker over Node's IPC channel (a passed handle), then leaves. An
 * attach is then one short-lived local process instead of a round trip through dockerd,
 * containerd and runc (what a class of a hundred taking pooled environments at once waits
 * on), and every keystroke and echo goes straight between the worker and the holder: before,
 * a relay process stayed between them for the attach's life, two more reads and two more
 * writes per keystroke each way (issue #13's bench).
 *
 * Only for an engine on this host (container pids are this kernel's) and a worker allowed
 * to enter namespaces (root); the driver falls back to an exec otherwise.
 */
import { spawn } from "node:child_process";
import { Socket } from "node:net";
import { Duplex } from "node:stream";
import type { TerminalSize } from "../../protocol/ids";
import type { ShellProcess } from "../driver";
import { HolderFrameDecoder, inputFrames, resizeFrame, type HolderEvent } from "./holder-frames";

/** handover's exit status when no holder listens under the name (holder.h EXIT_NO_HOLDER). */
const EXIT_NO_HOLDER = 3;
/** nobody: the hand-over needs no rights once inside the namespace. */
const NOBODY = "65534";

/** No holder listens for this terminal (not started yet, or its shell ended): start one through an exec. */
export class NoHolderListening extends Error {
  override name = "NoHolderListening";
}

/** The hand-over did not reach a holder; `lasting` when it cannot run here at all (no nsenter, no right to enter namespaces). */
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
export async function attachThroughRelay(target: RelayTarget): Promise<ShellProcess> {
  const deadline = Date.now() + (target.timeoutMs ?? 15_000);
  const socket = await handOver(target, deadline);
  return attachOver(socket, target, deadline);
}

/** Runs `handover` in the container's network namespace; resolves with the holder's connected socket, now this process's. */
function handOver(target: RelayTarget, deadline: number): Promise<Socket> {
  const child = spawn(
    "nsenter",
    ["--target", String(target.containerPid), "--net", "--setuid", NOBODY, "--setgid", NOBODY, "--", target.binary, "handover", target.terminalId],
    { stdio: ["ignore", "ignore", "pipe", "ipc"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString("utf8");
  });
  return new Promise<Socket>((resolve, reject) => {
    let done = false;
    const finish = (result: Socket | Error) => {
      if (done) {
        if (result instanceof Socket) result.destroy();
        return;
      }
      done = true;
      clearTimeout(timer);
      if (result instanceof Socket) return resolve(result);
      child.kill("SIGTERM");
      reject(result);
    };
    const timer = setTimeout(() => finish(new RelayUnavailable("the PTY holder's hand-over did not answer in time")), Math.max(0, deadline - Date.now()));
    child.once("message", (_message: unknown, handle: unknown) =>
      finish(handle instanceof Socket ? handle : new RelayUnavailable("the hand-over passed no socket")),
    );
    child.once("error", (error: NodeJS.ErrnoException) => finish(new RelayUnavailable(`the hand-over could not start: ${error.message}`, true)));
    child.once("close", (code) => {
      if (code === EXIT_NO_HOLDER) finish(new NoHolderListening(`no PTY holder listens for ${target.terminalId}`));
      else
        finish(
          new RelayUnavailable(
            `the hand-over ended (${code ?? "signal"}) before passing the holder's socket: ${stderr.trim().slice(0, 300)}`,
            LASTING.test(stderr),
          ),
        );
    });
  });
}

/**
 * Speaks the holder's frames on its socket: resolves once its replay has arrived (the shell's
 * recent output and where it starts), with the live output following on `stream`, handed over paused.
 */
function attachOver(socket: Socket, target: RelayTarget, deadline: number): Promise<ShellProcess> {
  const decoder = new HolderFrameDecoder();
  let exitCode: number | null = null;
  let replay: { offset: number; remaining: number; chunks: Buffer[] } | null = null;

  const stream = new Duplex({
    read: () => {
      socket.resume();
    },
    write: (chunk: Buffer, _encoding, callback) => {
      if (!socket.writable) return callback();
      socket.write(inputFrames(chunk), () => callback());
    },
    final: (callback) => {
      socket.end();
      callback();
    },
    destroy: (error, callback) => {
      socket.destroy();
      callback(error);
    },
  });
  stream.pause();
  // The socket's end can race our own shutdown: its close says what matters.
  socket.on("error", () => undefined);
  const closed = new Promise<number | null>((resolve) => socket.once("close", () => resolve(exitCode)));

  return new Promise<ShellProcess>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) {
        stream.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error("the PTY holder did not send its replay in time")), Math.max(0, deadline - Date.now()));

    const deliver = (data: Buffer) => {
      if (!stream.push(data)) socket.pause();
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
            if (!socket.writable) return done();
            socket.write(resizeFrame(size.cols, size.rows), () => done());
          });
        void resize(target.size);
        resolve({ stream, history, resize, exited: () => closed });
      }
    };

    socket.on("data", (chunk: Buffer) => {
      try {
        for (const event of decoder.push(chunk)) handle(event);
      } catch (error) {
        fail(error as Error);
      }
    });
    socket.once("close", () => {
      if (!settled) return fail(new RelayUnavailable("the PTY holder closed its socket before its replay"));
      stream.push(null);
    });
  });
}
