/**
 * What an attach through the PTY holder says before the live output: a fixed header
 * ("SRHOLD1 <offset, 16 hex> <replay length, 8 hex>\n") and then the replayed bytes, the
 * tail of everything the shell has written, the first of them at byte `offset`. The
 * worker's screen mirror is rebuilt from the replay, and offsets continue where the
 * shell really is, so browsers resume without loss or duplication after a worker restart.
 */
import type { Duplex } from "node:stream";

export interface ShellHistory {
  /** Byte offset (since the shell started) of the first replayed byte. */
  offset: number;
  /** The shell's most recent output, up to its current end. */
  replay: Buffer;
}

const HEADER = /^SRHOLD1 ([0-9a-f]{16}) ([0-9a-f]{8})\n/;
const HEADER_BYTES = "SRHOLD1 ".length + 16 + 1 + 8 + 1;
/** The holder keeps 256 KiB; anything claiming more is not our holder. */
const MAX_REPLAY = 256 * 1024;

/** Reads the preamble off `stream`; what follows it stays in the stream, in order. */
export function readHolderPreamble(stream: Duplex, timeoutMs = 15_000): Promise<ShellHistory> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let header: { offset: number; length: number } | null = null;
    const finish = (error: Error | null, history?: ShellHistory, rest?: Buffer) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.pause();
      if (rest && rest.length > 0) stream.unshift(rest);
      if (error) reject(error);
      else resolve(history!);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!header) {
        if (buffered.length < HEADER_BYTES) return;
        const match = HEADER.exec(buffered.subarray(0, HEADER_BYTES).toString("latin1"));
        if (!match) return finish(new Error(`the PTY holder answered with something else: ${JSON.stringify(buffered.subarray(0, 80).toString("utf8"))}`));
        header = { offset: parseInt(match[1]!, 16), length: parseInt(match[2]!, 16) };
        if (header.length > MAX_REPLAY) return finish(new Error("the PTY holder claimed an oversized replay"));
        buffered = buffered.subarray(HEADER_BYTES);
      }
      if (buffered.length < header.length) return;
      finish(null, { offset: header.offset, replay: Buffer.from(buffered.subarray(0, header.length)) }, buffered.subarray(header.length));
    };
    const onEnd = () => finish(new Error(`the shell ended before its holder answered: ${JSON.stringify(buffered.toString("utf8").slice(0, 200))}`));
    const onError = (error: Error) => finish(error);
    const timer = setTimeout(() => finish(new Error("the PTY holder did not answer in time")), timeoutMs);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}
