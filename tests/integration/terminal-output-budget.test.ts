/**
 * One student's flood costs the worker, the server and every watching browser a bounded
 * amount: each terminal's output is held to its budget (a burst, then a rate), however fast
 * the shell writes and however fast the browser acknowledges. Real server, worker, Docker.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { BrowserOutput } from "../../protocol/browser-contract";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { studentAtTerminal } from "../support/student-terminal";

const RATE = 256 * 1024;
const BURST = 512 * 1024;
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ terminalOutput: { bytesPerSecond: RATE, burstBytes: BURST } });
});
afterAll(async () => {
  await harness?.close();
});

it("a flood is held to the terminal's output budget, and Ctrl-C still ends it", { timeout: 120_000 }, async () => {
  const { socket, environmentId } = await studentAtTerminal(harness, "Flooding Student");

  let bytes = 0;
  socket.on("terminal:output", (message: BrowserOutput) => {
    bytes += message.data.byteLength;
  });
  const began = performance.now();
  socket.emit("terminal:input", { environmentId, data: "yes shellroom-budget-line\r" });
  // Long enough for the burst to be spent several times over.
  await expect.poll(() => bytes, { timeout: 60_000, interval: 100 }).toBeGreaterThan(BURST + 4 * RATE);
  const seconds = (performance.now() - began) / 1000;
  // `yes` alone writes tens of MB a second: what got through is the burst plus the rate (and one
  // message in flight), never more, whatever the host's load (load only makes it less).
  expect(bytes).toBeLessThanOrEqual(BURST + RATE * seconds + 256 * 1024);

  // After a flood the marker may come in a repaint (a client a window behind is repainted, not sent the backlog).
  const back = waitForOutput(socket, /budget-done-42/, 30_000, { repaints: true });
  socket.emit("terminal:input", { environmentId, data: "\x03" });
  socket.emit("terminal:input", { environmentId, data: "echo budget-done-$((6*7))\r" });
  await back;
  socket.close();
});
