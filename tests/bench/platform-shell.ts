/**
 * A student's way to a shell on the platform, timed: tRPC environment.startForLab, the
 * /terminal socket, terminal:attach, and the first prompt byte. Shared by every figure
 * that starts environments (cold start, warm pool, class burst).
 */
import type { QueuedReply } from "./bench-http";
import type { BenchPlatform } from "./bench-platform";
import type { PlatformTerminal } from "./browser-socket";
import { now } from "./measure";

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ShellPhases {
  /** startForLab called -> first prompt byte on the socket (the figure). */
  total: number;
  startForLab: number;
  socketConnect: number;
  attachToFirstByte: number;
  attachReply: number;
}

export interface PlatformShell {
  terminal: PlatformTerminal;
  environmentId: string;
  /** Resolves once the screen or the output shows "$ ". */
  prompt: Promise<void>;
  /** performance.now() when startForLab was called. */
  startedAt: number;
  phases: ShellPhases;
}

/**
 * What a student's browser does with the platform: the in-process bench platform is one,
 * the separate processes' students (tests/bench/join-students.ts) are another.
 */
export interface StudentSide extends Pick<BenchPlatform, "startEnvironment" | "connect" | "attach" | "terminal"> {
  newStudent(): Promise<{ cookie: string }>;
}

export interface ShellOptions {
  /** The demo lab unless told. */
  labId?: string;
  /** A student made beforehand (a burst makes them all before the clock starts). */
  student?: { cookie: string };
  /** For attach and the first prompt byte (30 s). */
  timeoutMs?: number;
  /** Called with the environment id as soon as startForLab returns (for cleanup lists). */
  onEnvironment?: (environmentId: string) => void;
  /** Called with each QUEUED reply of startForLab (the start is asked again every second). */
  onQueued?: (reply: QueuedReply) => void;
}

/**
 * A fresh student's environment, attached. `phases.total` runs from startForLab to the
 * first prompt byte; `prompt` resolves once the screen or the output shows "$ ".
 */
export async function platformShell(p: StudentSide, options: ShellOptions = {}): Promise<PlatformShell> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const student = options.student ?? (await p.newStudent());
  const started = now();
  const environmentId = await p.startEnvironment(student.cookie, options.labId, options.onQueued);
  options.onEnvironment?.(environmentId);
  const startedForLab = now();
  const socket = await p.connect(student.cookie);
  const connected = now();
  const terminal = p.terminal(socket, environmentId);
  let seen = "";
  let markPrompt = () => undefined as void;
  const prompt = new Promise<void>((resolve) => {
    markPrompt = resolve;
  });
  const firstOutput = new Promise<number>((resolve) => {
    const stop = terminal.onData((chunk) => {
      resolve(now());
      seen += Buffer.from(chunk).toString("latin1");
      if (seen.includes("$ ")) {
        stop();
        markPrompt();
      }
    });
  });
  const attached = p.attach(socket, environmentId, timeoutMs).then((reply) => {
    if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
    const at = now();
    if (reply.screen.includes("$ ")) markPrompt();
    return { reply, at };
  });
  attached.catch(() => undefined); // awaited below; a timeout first must not leave it unhandled
  // The attach reply's screen may already show the prompt; otherwise the first output chunk counts.
  const promptFromScreen = attached.then(({ reply, at }) => (reply.screen.includes("$ ") ? at : firstOutput));
  promptFromScreen.catch(() => undefined);
  const firstPrompt = await withTimeout(Promise.race([firstOutput, promptFromScreen]), timeoutMs, "platform first prompt");
  const { at: attachedAt } = await attached;
  return {
    terminal,
    environmentId,
    prompt,
    startedAt: started,
    phases: {
      total: firstPrompt - started,
      startForLab: startedForLab - started,
      socketConnect: connected - startedForLab,
      attachToFirstByte: firstPrompt - connected,
      attachReply: attachedAt - connected,
    },
  };
}

/** A fresh student's environment, attached and at its prompt. */
export async function platformAtPrompt(p: StudentSide, options: ShellOptions = {}) {
  const shell = await platformShell(p, options);
  await withTimeout(shell.prompt, 15_000, "platform prompt");
  return shell;
}

export async function closePlatformShell(p: BenchPlatform, shell: { terminal: PlatformTerminal; environmentId: string }) {
  shell.terminal.socket.close();
  await p.removeEnvironment(shell.environmentId);
}
