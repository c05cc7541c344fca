import { PassThrough } from "node:stream";
import { expect, it } from "vitest";
import { TerminalSession } from "../../runtime-worker/terminals/terminal-session";
import type { ShellProcess } from "../../runtime-worker/driver";

it("a flood of output faster than the screen mirror parses is slowed down, not dropped, and never crashes the worker", { timeout: 30_000 }, async () => {
  const stream = new PassThrough();
  const shell: ShellProcess = { stream, resize: async () => undefined, exited: () => new Promise(() => undefined) };
  let relayed = 0;
  let pausedSeen = false;
  const session = new TerminalSession(shell, { cols: 120, rows: 32 }, (chunk) => {
    relayed += chunk.length;
    pausedSeen ||= stream.isPaused();
  });
  const uncaught: Error[] = [];
  const onUncaught = (error: Error) => uncaught.push(error);
  process.on("uncaughtException", onUncaught);

  // 60 MB written at once, ignoring backpressure, as a fast `cat` would: more than xterm's
  // 50 MB pending-write limit if nothing held it back.
  const chunk = Buffer.from(`${"A".repeat(76)}\r\n`.repeat(800));
  const total = Math.ceil(60e6 / chunk.length) * chunk.length;
  for (let written = 0; written < total; written += chunk.length) stream.write(chunk);

  await expect.poll(() => relayed, { timeout: 25_000, interval: 100 }).toBe(total);
  process.off("uncaughtException", onUncaught);
  expect(uncaught).toEqual([]);
  expect(pausedSeen).toBe(true);
  const snapshot = await session.snapshot();
  expect(snapshot.offset).toBe(total);
  expect(snapshot.screen).toContain("AAAA");
});
