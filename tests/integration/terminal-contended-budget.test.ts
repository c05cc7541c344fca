/**
 * A flood beside a class: while another student on the same worker types, a terminal's output
 * is held to the tighter contended budget (runtime-worker/terminals/output-budget.ts); once
 * nobody else has typed for a few seconds, it flows at the full budget again. Real server,
 * worker, Docker; two students, as a class has them.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { BrowserOutput } from "../../protocol/browser-contract";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { studentAtTerminal } from "../support/student-terminal";

const CONTENDED_RATE = 128 * 1024;
const CONTENDED_BURST = 256 * 1024;
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    // The full budget far above what the platform carries here; the contended one far below.
    terminalOutput: {
      bytesPerSecond: 256 * 1024 ** 2,
      burstBytes: 256 * 1024 ** 2,
      contended: { bytesPerSecond: CONTENDED_RATE, burstBytes: CONTENDED_BURST },
    },
  });
});
afterAll(async () => {
  await harness?.close();
});

it("a flood is held to the contended budget while another student types, and flows again once they stop", { timeout: 240_000 }, async () => {
  const typist = await studentAtTerminal(harness, "Typing Student");
  const flooder = await studentAtTerminal(harness, "Flooding Student");
  const typed = waitForOutput(typist.socket, /typist-ready-42/, 30_000);
  typist.socket.emit("terminal:input", { environmentId: typist.environmentId, data: "echo typist-ready-$((6*7))\r" });
  await typed;
  // The typist goes on typing (a keystroke every 300 ms, well inside the typing window) until told to stop.
  let typing = true;
  const keepTyping = (async () => {
    while (typing) {
      typist.socket.emit("terminal:input", { environmentId: typist.environmentId, data: ":\r" });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();

  let bytes = 0;
  flooder.socket.on("terminal:output", (message: BrowserOutput) => {
    bytes += message.data.byteLength;
  });
  const began = performance.now();
  flooder.socket.emit("terminal:input", { environmentId: flooder.environmentId, data: "yes shellroom-contended-line\r" });
  try {
    await expect.poll(() => bytes, { timeout: 90_000, interval: 100 }).toBeGreaterThan(CONTENDED_BURST + 4 * CONTENDED_RATE);
    const seconds = (performance.now() - began) / 1000;
    // `yes` writes tens of MB a second and the full budget would pass them: what got through is the
    // contended burst plus its rate (and what was in flight), never more; load only makes it less.
    expect(bytes).toBeLessThanOrEqual(CONTENDED_BURST + CONTENDED_RATE * seconds + 256 * 1024);
  } finally {
    typing = false;
    await keepTyping;
  }

  // Nobody else types now: past the typing window the flood flows at the full budget. 16 MiB in 60 s
  // is more than the contended budget could ever pass (256 KiB + 60 s x 128 KiB/s, under 8 MiB).
  const before = bytes;
  await expect.poll(() => bytes - before, { timeout: 60_000, interval: 200 }).toBeGreaterThan(16 * 1024 * 1024);

  // After a flood the marker may come in a repaint (a client a window behind is repainted, not sent the backlog).
  const back = waitForOutput(flooder.socket, /contended-done-42/, 60_000, { repaints: true });
  flooder.socket.emit("terminal:input", { environmentId: flooder.environmentId, data: "\x03" });
  flooder.socket.emit("terminal:input", { environmentId: flooder.environmentId, data: "echo contended-done-$((6*7))\r" });
  await back;
  typist.socket.close();
  flooder.socket.close();
});
