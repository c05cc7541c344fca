/**
 * Fairness of the worker's screen mirrors: every terminal's headless xterm shares the
 * worker's one thread, through one scheduler that runs their work a slice at a time,
 * round-robin, and coalesces resizes. Real xterm mirrors; only the shell is a stand-in
 * (a stream the test writes "output" into). No timing assertions: progress is counted.
 */
import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import type { TerminalSize } from "../../protocol/ids";
import { ALONE_SLICE_BYTES, MirrorScheduler, SLICE_BYTES, type MirrorQueue } from "../../runtime-worker/terminals/mirror-scheduler";
import { MAX_SNAPSHOT_CHARS, TerminalSession } from "../../runtime-worker/terminals/terminal-session";

function fakeShell() {
  const resizes: TerminalSize[] = [];
  let exit: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => {
    exit = resolve;
  });
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return {
    shell: {
      stream,
      resize: async (size: TerminalSize) => {
        resizes.push(size);
      },
      exited: () => exited,
    },
    resizes,
    print: (text: string) => stream.push(Buffer.from(text)),
    end: () => exit(0),
  };
}

/** Dense truecolour text: every cell its own colour (the heaviest ordinary output to parse). */
function denseOutput(bytes: number) {
  let text = "";
  for (let index = 0; text.length < bytes; index++) {
    text += `\x1b[38;2;${index % 256};${(index * 7) % 256};${(index * 13) % 256}m${String.fromCharCode(65 + (index % 26))}`;
    if (index % 120 === 119) text += "\r\n";
  }
  return text;
}

describe("the mirror scheduler", () => {
  it("runs queues round-robin, a slice each, so a long queue never holds back a short one", async () => {
    const scheduler = new MirrorScheduler();
    const order: string[] = [];
    const budgets: Record<string, number[]> = {};
    const queue = (name: string, slices: number): MirrorQueue & { left: number } => ({
      left: slices,
      get hasWork() {
        return this.left > 0;
      },
      async runSlice(budget: number) {
        this.left -= 1;
        order.push(name);
        (budgets[name] ??= []).push(budget);
      },
    });
    const flood = queue("flood", 50);
    const quiet = queue("quiet", 1);
    const other = queue("other", 2);
    scheduler.wake(flood);
    scheduler.wake(quiet);
    scheduler.wake(other);
    await new Promise<void>((resolve) => {
      const check = () => (flood.left === 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(order.slice(0, 5)).toEqual(["flood", "quiet", "other", "flood", "other"]);
    expect(order.filter((name) => name === "flood")).toHaveLength(50);
    // Small slices while others wait; a big one for a terminal alone.
    expect(budgets.quiet).toEqual([SLICE_BYTES]);
    expect(budgets.flood!.at(-1)).toBe(ALONE_SLICE_BYTES);
  });

  it("keeps going when one terminal's slice fails", async () => {
    const scheduler = new MirrorScheduler();
    const ran: string[] = [];
    let brokenLeft = 1;
    scheduler.wake({
      get hasWork() {
        return brokenLeft > 0;
      },
      async runSlice() {
        brokenLeft = 0;
        throw new Error("disposed");
      },
    });
    let fineLeft = 1;
    const fine = {
      get hasWork() {
        return fineLeft > 0;
      },
      async runSlice() {
        fineLeft = 0;
        ran.push("fine");
      },
    };
    scheduler.wake(fine);
    await new Promise<void>((resolve) => {
      const check = () => (fineLeft === 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(ran).toEqual(["fine"]);
  });
});

describe("terminals sharing the worker's thread", () => {
  it("one terminal flooding and resizing does not stop another terminal's mirror from making progress", async () => {
    const scheduler = new MirrorScheduler();
    const flooder = fakeShell();
    const bystander = fakeShell();
    const flooding = new TerminalSession(flooder.shell, { cols: 200, rows: 50 }, () => undefined, { scheduler });
    const typing = new TerminalSession(bystander.shell, { cols: 80, rows: 24 }, () => undefined, { scheduler });

    const flood = denseOutput(64 * 1024);
    for (let index = 0; index < 48; index++) flooder.print(flood); // ~3 MiB queued for the mirror
    const resizes = Array.from({ length: 50 }, (_, index) => flooding.resize({ cols: 100 + index * 2, rows: 30 + (index % 20) }));
    await new Promise((resolve) => setImmediate(resolve));
    const queuedFlood = flooding.unparsedBytes;
    expect(queuedFlood).toBeGreaterThan(ALONE_SLICE_BYTES + 16 * SLICE_BYTES);

    bystander.print("student@shellroom:~$ echo bystander-echo\r\nbystander-echo\r\n");
    const seen = await typing.snapshot();
    expect(seen.screen).toContain("bystander-echo");
    // The bystander's screen was ready after a few of the flooder's slices, not after its flood
    // (the flooder's first slice, taken while it was alone, may have been a big one).
    expect(scheduler.turns.get(flooding) ?? 0).toBeLessThanOrEqual(3);
    expect(flooding.unparsedBytes).toBeGreaterThan(queuedFlood - ALONE_SLICE_BYTES - 3 * SLICE_BYTES);

    // The flood is parsed in the end, and the 50 resizes reflowed (and signalled the shell) at most twice.
    await Promise.all(resizes);
    // (The mirror held the shell past its high-water mark: the rest comes as it catches up.)
    const total = 48 * Buffer.byteLength(flood);
    let flooded = await flooding.snapshot();
    for (let attempt = 0; flooded.offset < total && attempt < 1000; attempt++) {
      await new Promise((resolve) => setImmediate(resolve));
      flooded = await flooding.snapshot();
    }
    expect(flooded.offset).toBe(total);
    expect(flooder.resizes.length).toBeLessThanOrEqual(2);
    expect(flooder.resizes.at(-1)).toEqual({ cols: 198, rows: 39 });
    flooder.end();
    bystander.end();
  });

  it("a resize loop reflows at most once per interval and the last size wins", async () => {
    const shell = fakeShell();
    const session = new TerminalSession(shell.shell, { cols: 80, rows: 24 }, () => undefined, { scheduler: new MirrorScheduler() });
    await Promise.all(Array.from({ length: 100 }, (_, index) => session.resize({ cols: 50 + index, rows: 20 + (index % 30) })));
    expect(shell.resizes.length).toBeLessThanOrEqual(2);
    expect(shell.resizes.at(-1)).toEqual({ cols: 149, rows: 29 });
    // A snapshot after a resize shows the screen at the new width.
    shell.print(`${"w".repeat(149)}\r\n`);
    const { screen } = await session.snapshot();
    expect(screen).toContain("w".repeat(149));
    shell.end();
  });

  it("a snapshot is capped in size however much the shell printed", async () => {
    const shell = fakeShell();
    const session = new TerminalSession(shell.shell, { cols: 200, rows: 50 }, () => undefined, { scheduler: new MirrorScheduler() });
    const flood = denseOutput(64 * 1024);
    for (let index = 0; index < 40; index++) shell.print(flood);
    await new Promise((resolve) => setImmediate(resolve));
    const { screen } = await session.snapshot();
    expect(screen.length).toBeGreaterThan(100_000);
    expect(screen.length).toBeLessThanOrEqual(MAX_SNAPSHOT_CHARS * 1.25);
    shell.end();
  });
});
