/**
 * Terminal output under pressure, against the real parts: a flood with a stalled browser
 * (bounded memory, the others keep up, the stalled one is repainted once it catches up),
 * Ctrl-C under flood, a reload mid-output and a server restart (nothing lost, nothing
 * repeated). Socket.io clients play the browsers, acknowledging output as a page does.
 */
import xtermHeadless from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { BROWSER_OUTPUT_WINDOW } from "../../protocol/browser-messages";
import { type AttachReply, type BrowserOutput, type BrowserRepaint } from "../../protocol/browser-contract";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { until } from "../support/until";

const { Terminal } = xtermHeadless;

let harness: Harness;
let student: { userId: string; cookie: string };
let environmentId: string;

/** How far the process may grow while a flood runs (server and worker share this process). */
const FLOOD_RSS_BOUND_BYTES = 80 * 1024 * 1024;

const attach = async (socket: Socket, terminalId = "main") => {
  const reply = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, terminalId, cols: 100, rows: 30 }, resolve));
  if (!reply.ok) throw new Error(reply.error);
  return reply;
};

/** Counts what a socket receives for one terminal. */
function meter(socket: Socket, terminalId = "main") {
  const counts = { bytes: 0, messages: 0, lastAt: 0 };
  socket.on("terminal:output", (message: BrowserOutput) => {
    if (message.terminalId !== terminalId) return;
    counts.bytes += message.data.byteLength;
    counts.messages += 1;
    counts.lastAt = Date.now();
  });
  return counts;
}

/** Strips escapes and carriage returns: the text a reader sees. */
const readable = (text: string) =>
  text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b\][^\x07]*\x07/g, "")
    .replace(/\r/g, "");

beforeAll(async () => {
  // The floods here test flow control and memory at full speed, not the per-terminal output
  // budget (terminal-output-budget.test.ts does): the budget is lifted.
  harness = await startHarness({ terminalOutput: { bytesPerSecond: 1024 ** 3, burstBytes: 1024 ** 3 } });
  student = await harness.newStudent("Flow Student");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  environmentId = started.body.result.data.environmentId;
});

afterAll(async () => {
  await harness?.close();
});

describe("a flood of output", () => {
  let typist: Socket;
  let stalled: Socket;
  let typistMeter: ReturnType<typeof meter>;
  let stalledMeter: ReturnType<typeof meter>;
  let repaints: BrowserRepaint[];

  it("keeps memory bounded while one browser has stopped reading, and the other keeps up", async () => {
    typist = await harness.terminalSocket(student.cookie);
    stalled = await harness.terminalSocket(student.cookie, { acks: false });
    await attach(typist);
    await attach(stalled);
    typistMeter = meter(typist);
    stalledMeter = meter(stalled);
    repaints = [];
    stalled.on("terminal:repaint", (repaint: BrowserRepaint) => repaints.push(repaint));

    const baselineRss = process.memoryUsage().rss;
    typist.emit("terminal:input", { environmentId, data: "cat /dev/urandom | base64\r" });
    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    // Enough output to overwhelm any unbounded buffer: many times both flow windows.
    await until("128 MiB of flood at the reading browser", () => typistMeter.bytes > 128 * 1024 * 1024, 120_000);
    clearInterval(sampler);

    console.info(
      `flood: ${(typistMeter.bytes / 1024 / 1024).toFixed(0)} MiB relayed; RSS ${(baselineRss / 1024 / 1024).toFixed(0)} -> peak ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
    );
    expect(peakRss - baselineRss).toBeLessThan(FLOOD_RSS_BOUND_BYTES);
    // The stalled browser got at most its window (plus the message that crossed it), then nothing.
    expect(stalledMeter.bytes).toBeGreaterThan(0);
    expect(stalledMeter.bytes).toBeLessThan(BROWSER_OUTPUT_WINDOW + 256 * 1024);
    // The worker holds the shell rather than queue output the server has not taken.
    expect(harness.worker.environments.unacknowledgedOutputBytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it("stops when the student presses Ctrl-C, within a second", async () => {
    const pressedAt = Date.now();
    typist.emit("terminal:input", { environmentId, data: "\x03" });
    // Output has stopped once nothing arrives for a while; the last byte marks the stop.
    await until("the flood to stop", () => typistMeter.lastAt > 0 && Date.now() - typistMeter.lastAt > 500, 10_000);
    const stoppedAfterMs = typistMeter.lastAt - pressedAt;
    console.info(`Ctrl-C under flood: output stopped ${stoppedAfterMs} ms after the keypress`);
    expect(stoppedAfterMs).toBeLessThan(1000);
    const { output } = await runInEnvironment(harness.driver, environmentId, "pgrep -c base64 || true");
    expect(output.trim()).toBe("0");

    const prompt = waitForOutput(typist, /flood-over-42/, 15_000, { repaints: true });
    typist.emit("terminal:input", { environmentId, data: "echo flood-over-$((6*7))\r" });
    await prompt;
  });

  it("repaints the stalled browser once it has caught up, from where the screen is now", async () => {
    expect(repaints).toEqual([]);
    // The stalled page renders what it had, and says so: the server sends the screen.
    const received = stalledMeter.bytes;
    const caughtUp = new Promise<BrowserRepaint>((resolve) => stalled.once("terminal:repaint", resolve));
    // It acknowledges everything it was sent (offset beyond that is clamped by the server).
    stalled.emit("terminal:ack", { environmentId, terminalId: "main", offset: Number.MAX_SAFE_INTEGER });
    const repaint = await caughtUp;
    expect(repaint.environmentId).toBe(environmentId);
    expect(readable(repaint.screen)).toContain("flood-over-42");
    expect(repaint.offset).toBeGreaterThan(received);

    // From then on it gets live output again.
    const live = waitForOutput(stalled, /back-in-step/);
    typist.emit("terminal:input", { environmentId, data: "echo back-in-step\r" });
    await live;
    typist.close();
    stalled.close();
  });
});

describe("a reconnect", () => {
  it("after a reload mid-output repaints the last screen and resumes without losing or repeating a line", async () => {
    const first = await harness.terminalSocket(student.cookie);
    await attach(first);
    const started = waitForOutput(first, /tick-20\r\n/);
    first.emit("terminal:input", { environmentId, data: "clear; for i in $(seq 1 150); do echo tick-$i; sleep 0.02; done; echo ticks-done\r" });
    await started;
    first.close(); // the reload: the page goes away mid-output

    const second = await harness.terminalSocket(student.cookie);
    // What a page does: paint the screen, then append only output past its offset.
    const page = new Terminal({ cols: 100, rows: 30, scrollback: 1000, allowProposedApi: true });
    let position: number | null = null;
    const early: BrowserOutput[] = [];
    let finished = false;
    const render = (message: BrowserOutput) => {
      if (position === null) return void early.push(message);
      const end = message.offset + message.data.byteLength;
      if (end <= position) return;
      const fresh = new Uint8Array(message.data).subarray(Math.max(0, position - message.offset));
      position = end;
      if (new TextDecoder().decode(fresh).includes("ticks-done")) finished = true;
      page.write(fresh);
    };
    second.on("terminal:output", render);
    const reply = await attach(second);
    page.write(reply.screen);
    if (reply.screen.includes("ticks-done")) finished = true;
    position = reply.offset;
    for (const message of early) render(message);
    await until("the loop to finish", () => finished, 30_000);
    await new Promise<void>((resolve) => page.write("", resolve));

    const buffer = page.buffer.active;
    const lines = Array.from({ length: buffer.length }, (_, row) => buffer.getLine(row)?.translateToString(true).trim() ?? "").filter((line) =>
      /^tick-\d+$/.test(line),
    );
    expect(lines).toEqual(Array.from({ length: 150 }, (_, index) => `tick-${index + 1}`));
    page.dispose();
    second.close();
  });

  it("after a server restart reconnects to the same shell with nothing lost", async () => {
    const before = await harness.terminalSocket(student.cookie);
    await attach(before);
    const pid = waitForOutput(before, /SHELLPID=(\d+)/);
    // Output produced while the server is down must still be on the screen afterwards.
    before.emit("terminal:input", { environmentId, data: "echo SHELLPID=$$; sleep 2; echo written-while-server-was-down\r" });
    const shellPid = /SHELLPID=(\d+)/.exec(await pid)![1];

    await harness.restartServer();
    await until("the worker to reconnect", () => harness.worker.socket.connected, 30_000);

    const after = await until("a terminal socket on the new server", async () => {
      try {
        return await harness.terminalSocket(student.cookie);
      } catch {
        return null;
      }
    });
    const reply = await until(
      "the attach to succeed",
      async () => {
        const attempt = await new Promise<AttachReply>((resolve) => after.emit("terminal:attach", { environmentId, cols: 100, rows: 30 }, resolve));
        return attempt.ok ? attempt : null;
      },
      30_000,
    );
    const screen = readable(reply.screen);
    expect(screen).toContain(`SHELLPID=${shellPid}`);
    await until("the output written while the server was down", async () => {
      if (screen.includes("written-while-server-was-down")) return true;
      const again = await new Promise<AttachReply>((resolve) => after.emit("terminal:attach", { environmentId, cols: 100, rows: 30 }, resolve));
      return again.ok && readable(again.screen).includes("written-while-server-was-down");
    });
    const same = waitForOutput(after, /SHELLPID=(\d+)\r\n/);
    after.emit("terminal:input", { environmentId, data: "echo SHELLPID=$$\r" });
    expect(/SHELLPID=(\d+)/.exec(await same)![1]).toBe(shellPid);
    after.close();
  });
});
