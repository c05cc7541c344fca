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
 * Puts the shell into `cat > /dev/null`: the TTY (kernel line discipline, canonical mode)
 * echoes each character; cat prints nothing. The shell must be at its prompt.
 */
export async function enterEchoMode(link: TerminalLink) {
  const lineEnd = waitForOutput(link, /\n/);
  link.write("cat > /dev/null\r");
  await lineEnd;
  // Let bash hand the TTY back to cooked mode before typing (readline keeps echo off).
  await sleep(300);
}

/** Ends the line in echo mode (keeps the canonical line buffer short; not timed). */
export async function newLineInEchoMode(link: TerminalLink, timeoutMs = 15_000) {
  const newline = waitForOutput(link, /\n/, timeoutMs);
  link.write("\r");
  await newline;
}

/** Ctrl-C ends cat: back at the prompt. */
export async function leaveEchoMode(link: TerminalLink, timeoutMs = 15_000) {
  const prompt = waitForOutput(link, /\$ /, timeoutMs);
  link.write("\x03");
  await prompt;
}

/**
 * Keystroke echo round trips, sequential (`pauseMs` between them: 0, back to back), in echo mode (see enterEchoMode).
 * The shell must be at its prompt when this is called; it is back at it afterwards.
 */
export async function measureEcho(link: TerminalLink, samples: number, warmup = 20, pauseMs = 0): Promise<number[]> {
  await enterEchoMode(link);
  const times: number[] = [];
  for (let index = 0; index < warmup + samples; index++) {
    // Keep the canonical line buffer short (outside the timed part).
    if (index > 0 && index % 100 === 0) await newLineInEchoMode(link);
    // A typist's pace: the processes go idle between keystrokes, and whatever waits on a timer fires.
    if (pauseMs > 0) await sleep(pauseMs);
    const elapsed = await echoOnce(link);
    if (index >= warmup) times.push(elapsed);
  }
  await leaveEchoMode(link);
  return times;
}

/**
 * Types `marker` (one input message, as a fast typist's burst or a paste) and resolves
 * with the time until all of it has echoed back. The marker must not occur in what the
 * terminal prints otherwise (in echo mode it prints nothing else).
 */
export function echoMarker(link: TerminalLink, marker: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no echo of ${JSON.stringify(marker)} within ${timeoutMs} ms; got ${JSON.stringify(text.slice(-100))}`));
    }, timeoutMs);
    let started = 0;
    const stop = link.onData((chunk) => {
      text += latin1(chunk);
      if (!text.includes(marker)) return;
      const elapsed = now() - started;
      clearTimeout(timer);
      stop();
      resolve(elapsed);
    });
    started = now();
    link.write(marker);
  });
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

export interface FloodResult {
  /** Output bytes received between the command and the Ctrl-C keypress. */
  bytes: number;
  /** Command sent -> Ctrl-C sent. */
  ms: number;
  bytesPerSecond: number;
  /** Ctrl-C sent -> the last output byte (output counts as stopped after `quietMs` of silence). */
  stopMs: number;
  /** Output bytes received after the Ctrl-C keypress. */
  bytesAfterCtrlC: number;
  /** The prompt came back after the Ctrl-C. */
  promptBack: boolean;
  /** CPU time this Node process spent during the flood (user + system), in ms. */
  processCpuMs: number;
}

/**
 * Floods the terminal with `cat /dev/urandom | base64` for `seconds`, counting the bytes
 * received; then types Ctrl-C and measures until the output stops (the last byte before
 * `quietMs` of silence). The shell must be at its prompt.
 */
export function measureFlood(link: TerminalLink, seconds: number, options: { quietMs?: number; stopTimeoutMs?: number } = {}): Promise<FloodResult> {
  const quietMs = options.quietMs ?? 500;
  const stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let bytesAfter = 0;
    let ctrlCAt = 0;
    let lastByteAt = 0;
    let tail = "";
    let quietTimer: NodeJS.Timeout | undefined;
    const cpuBefore = process.cpuUsage();
    const finish = () => {
      clearTimeout(quietTimer);
      clearTimeout(giveUp);
      stop();
      const cpu = process.cpuUsage(cpuBefore);
      const ms = ctrlCAt - started;
      resolve({
        bytes,
        ms,
        bytesPerSecond: bytes / (ms / 1000),
        stopMs: Math.max(0, lastByteAt - ctrlCAt),
        bytesAfterCtrlC: bytesAfter,
        promptBack: tail.includes("$ "),
        processCpuMs: (cpu.user + cpu.system) / 1000, // base64 never prints a "$"
      });
    };
    const stop = link.onData((chunk) => {
      if (!ctrlCAt) {
        bytes += chunk.byteLength;
        return;
      }
      bytesAfter += chunk.byteLength;
      lastByteAt = now();
      tail = (tail + latin1(chunk.byteLength > 256 ? chunk.subarray(chunk.byteLength - 256) : chunk)).slice(-256);
      clearTimeout(quietTimer);
      quietTimer = setTimeout(finish, quietMs);
    });
    const started = now();
    link.write("cat /dev/urandom | base64\r");
    const giveUp = setTimeout(
      () => {
        clearTimeout(quietTimer);
        stop();
        reject(new Error(`the output did not stop within ${stopTimeoutMs} ms of the Ctrl-C (${bytesAfter} bytes since)`));
      },
      seconds * 1000 + stopTimeoutMs,
    );
    setTimeout(() => {
      ctrlCAt = now();
      lastByteAt = ctrlCAt;
      link.write("\x03");
      quietTimer = setTimeout(finish, quietMs);
    }, seconds * 1000);
  });
}
