/**
 * One interactive shell seen from a client: the platform's socket.io terminal or a raw
 * dockerode exec stream. The echo and throughput measurements run unchanged on both.
 */
import { now, sleep } from "./measure";

export interface TerminalLink {
  write(data: string): void;
  /** Subscribes to output bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
}

const latin1 = (chunk: Uint8Array) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");

/** Resolves once the output seen since the call matches `pattern`. */
export function waitForOutput(link: TerminalLink, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text.slice(-300))}`));
    }, timeoutMs);
    const stop = link.onData((chunk) => {
      text += latin1(chunk);
      if (pattern.test(text)) {
        clearTimeout(timer);
        stop();
        resolve(text);
      }
    });
  });
}

const ECHO_CHAR = "x";
const ECHO_BYTE = ECHO_CHAR.charCodeAt(0);

/** Sends one character and resolves with the time until its echo arrives. */
function echoOnce(link: TerminalLink, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no echo within ${timeoutMs} ms`));
    }, timeoutMs);
    let started = 0;
    const stop = link.onData((chunk) => {
      if (!chunk.includes(ECHO_BYTE)) return;
      const elapsed = now() - started;
      clearTimeout(timer);
      stop();
      resolve(elapsed);
    });
    started = now();
    link.write(ECHO_CHAR);
  });
}

/**
 * Keystroke echo round trips, sequential. The shell runs `cat > /dev/null`: the TTY
 * (kernel line discipline, canonical mode) echoes each character; cat prints nothing.
 * The shell must be at its prompt when this is called; it is back at it afterwards.
 */
export async function measureEcho(link: TerminalLink, samples: number, warmup = 20): Promise<number[]> {
  const lineEnd = waitForOutput(link, /\n/);
  link.write("cat > /dev/null\r");
  await lineEnd;
  // Let bash hand the TTY back to cooked mode before typing (readline keeps echo off).
  await sleep(300);
  const times: number[] = [];
  for (let index = 0; index < warmup + samples; index++) {
    // Keep the canonical line buffer short (outside the timed part).
    if (index > 0 && index % 100 === 0) {
      const newline = waitForOutput(link, /\n/);
      link.write("\r");
      await newline;
    }
    const elapsed = await echoOnce(link);
    if (index >= warmup) times.push(elapsed);
  }
  const prompt = waitForOutput(link, /\$ /);
  link.write("\x03"); // Ctrl-C ends cat
  await prompt;
  return times;
}

export interface ThroughputResult {
  bytes: number;
  ms: number;
  bytesPerSecond: number;
  /** CPU time this Node process spent meanwhile (user + system), in ms. */
  processCpuMs: number;
}

/** Runs `head -c <n> /dev/zero | base64` then a marker, and counts the bytes received until the marker. */
export function measureThroughput(link: TerminalLink, zeroBytes: number, timeoutMs = 120_000): Promise<ThroughputResult> {
  // The typed command shows `BENCH_$((6*7))_DONE`; only the shell's output holds BENCH_42_DONE.
  const marker = "BENCH_42_DONE";
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let tail = "";
    const cpuBefore = process.cpuUsage();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`throughput run did not finish within ${timeoutMs} ms (${bytes} bytes received)`));
    }, timeoutMs);
    const started = now();
    const stop = link.onData((chunk) => {
      bytes += chunk.byteLength;
      // The marker is followed by at most a prompt: the end of the output is enough to look at.
      tail = (tail + latin1(chunk.byteLength > 512 ? chunk.subarray(chunk.byteLength - 512) : chunk)).slice(-576);
      if (!tail.includes(marker)) return;
      const ms = now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      clearTimeout(timer);
      stop();
      resolve({ bytes, ms, bytesPerSecond: bytes / (ms / 1000), processCpuMs: (cpu.user + cpu.system) / 1000 });
    });
    link.write(`head -c ${zeroBytes} /dev/zero | base64; echo BENCH_$((6*7))_DONE\r`);
  });
}
