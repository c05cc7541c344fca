/**
 * Bounded everything between the browser and the PTY, against the real parts (server,
 * worker, Docker, Postgres, Redis): an input flood into a shell that does not read, a
 * screen larger than a message, parallel attaches past the tab limit, oversized sizes,
 * and attach/resize loops. Socket.io clients play the browsers; the worker runs in this
 * process, so what it holds can be read directly.
 */
import xtermHeadless from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply, BrowserError, BrowserReply, ScreenPart } from "../../protocol/browser-contract";
import { WORKER_INPUT_LIMIT } from "../../protocol/worker-messages";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runArgvInEnvironment } from "../support/run-in-environment";
import { until } from "../support/until";

const { Terminal } = xtermHeadless;

let harness: Harness;
/** Two students with an environment each, on the harness's one worker. */
let alice: { cookie: string; environmentId: string };
let bob: { cookie: string; environmentId: string };

const attach = (socket: Socket, environmentId: string, terminalId = "main", size = { cols: 100, rows: 30 }) =>
  new Promise<AttachReply & { code?: string }>((resolve) => socket.emit("terminal:attach", { environmentId, terminalId, ...size }, resolve));

async function attached(socket: Socket, environmentId: string, terminalId = "main") {
  const reply = await attach(socket, environmentId, terminalId);
  if (!reply.ok) throw new Error(reply.error);
  return reply;
}

/** A round trip through the server: everything emitted before it has been handled. */
const roundTrip = (socket: Socket) => new Promise<BrowserReply>((resolve) => socket.emit("terminal:close", { environmentId: "" }, resolve));

/** Types a command and waits for its marked output (the marker is split so the echo never matches). */
async function run(socket: Socket, environmentId: string, command: string, terminalId = "main") {
  const marker = Math.random().toString(36).slice(2, 8);
  // Generous: the large screen below is megabytes of output, and the box may be busy with other files' floods.
  // A test process that busy falls a window behind and is repainted instead: the marker may be in the repaint.
  const seen = waitForOutput(socket, new RegExp(`${marker}-done`), 120_000, { repaints: true });
  socket.emit("terminal:input", { environmentId, terminalId, data: `${command}; echo ${marker}"-done"\r` });
  return seen;
}

async function startEnvironment(name: string) {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  return { cookie: student.cookie, environmentId: started.body.result.data.environmentId as string };
}

/** Tabs with a shell in an environment: the distinct tags on its processes (a tab may run several). */
async function shellsIn(environmentId: string) {
  const { output } = await runArgvInEnvironment(harness.driver, environmentId, ["pgrep", "-a", "-f", "shellroom-tab="]);
  return new Set(
    output
      .split("\n")
      .map((line) => /shellroom-tab=([a-z0-9-]+)$/.exec(line.trim())?.[1])
      .filter(Boolean),
  ).size;
}

beforeAll(async () => {
  harness = await startHarness();
  alice = await startEnvironment("Alice Containment");
  bob = await startEnvironment("Bob Containment");
});

afterAll(async () => {
  await harness?.close();
});

describe("sizes and rates", () => {
  it("oversized cols/rows are refused with a code", async () => {
    const socket = await harness.terminalSocket(alice.cookie);
    for (const size of [
      { cols: 600, rows: 30 },
      { cols: 100, rows: 300 },
      { cols: 400, rows: 200 },
    ]) {
      const reply = await attach(socket, alice.environmentId, "main", size);
      expect(reply.ok, JSON.stringify(size)).toBe(false);
      expect(reply.code).toBe("invalid_request");
    }
    await attached(socket, alice.environmentId);
    const refused = new Promise<BrowserError>((resolve) => socket.once("terminal:error", resolve));
    socket.emit("terminal:resize", { environmentId: alice.environmentId, terminalId: "main", cols: 300, rows: 200 });
    expect(await refused).toMatchObject({ event: "terminal:resize", code: "invalid_request" });
    expect((await run(socket, alice.environmentId, "stty size")).replace(/\r/g, "")).toContain("30 100\n");
  });

  it("an attach/resize loop is rate limited without disconnecting anyone", async () => {
    const bystander = await harness.terminalSocket(bob.cookie);
    await attached(bystander, bob.environmentId);
    const workerSocketId = harness.worker.socket.id;
    let workerDisconnects = 0;
    harness.worker.socket.on("disconnect", () => {
      workerDisconnects += 1;
    });
    const bystanderEvents: string[] = [];
    bystander.on("terminal:exit", () => bystanderEvents.push("exit"));
    bystander.on("disconnect", () => bystanderEvents.push("disconnect"));

    const looper = await harness.terminalSocket(alice.cookie);
    const replies = await Promise.all(Array.from({ length: 60 }, () => attach(looper, alice.environmentId)));
    const limited = replies.filter((reply) => !reply.ok && reply.code === "rate_limited").length;
    expect(limited).toBeGreaterThan(0);
    expect(replies.filter((reply) => reply.ok).length).toBeGreaterThan(0);
    expect(replies.every((reply) => reply.ok || reply.code === "rate_limited")).toBe(true);

    const resizeCodes: (string | undefined)[] = [];
    looper.on("terminal:error", (error: BrowserError) => {
      if (error.event === "terminal:resize") resizeCodes.push(error.code);
    });
    for (let index = 0; index < 100; index++) {
      looper.emit("terminal:resize", { environmentId: alice.environmentId, terminalId: "main", cols: 80 + (index % 40), rows: 24 + (index % 20) });
    }
    await roundTrip(looper);
    expect(resizeCodes.length).toBeGreaterThan(0);
    expect(new Set(resizeCodes)).toEqual(new Set(["rate_limited"]));

    // Nobody was disconnected: the looper, the bystander and the worker are all still there.
    expect(looper.connected).toBe(true);
    expect((await run(bystander, bob.environmentId, "echo bystander-$((6*7))")).includes("bystander-42")).toBe(true);
    expect(bystanderEvents).toEqual([]);
    expect(workerDisconnects).toBe(0);
    expect(harness.worker.socket.id).toBe(workerSocketId);
    // Once the bucket refills, the looper attaches again.
    await until("an attach after the limit", async () => (await attach(looper, alice.environmentId)).ok);
  });

  it("parallel attaches with new terminal ids never open more than 8 shells", async () => {
    const socket = await harness.terminalSocket(alice.cookie);
    await attached(socket, alice.environmentId);
    const before = harness.worker.environments.terminalIds(alice.environmentId).length;
    const ids = Array.from({ length: 12 }, (_, index) => `race-${index}`);
    const replies = await Promise.all(ids.map((terminalId) => attach(socket, alice.environmentId, terminalId)));
    const opened = replies.filter((reply) => reply.ok).length;
    expect(opened).toBe(8 - before);
    for (const reply of replies) if (!reply.ok) expect(reply.error).toMatch(/at most 8 terminals/);
    expect(harness.worker.environments.terminalIds(alice.environmentId).length).toBe(8);
    expect(await shellsIn(alice.environmentId)).toBe(8);
    for (const terminalId of ids) {
      await new Promise((resolve) => socket.emit("terminal:close", { environmentId: alice.environmentId, terminalId }, resolve));
    }
    await until("the race tabs to close", () => harness.worker.environments.terminalIds(alice.environmentId).length === before);
  });
});

describe("a screen larger than a message", () => {
  it(
    "a shell that printed a screen larger than a message can still be attached, and other students on that worker keep their terminals",
    { timeout: 240_000 },
    async () => {
      const bystander = await harness.terminalSocket(bob.cookie);
      await attached(bystander, bob.environmentId);
      const bystanderEvents: string[] = [];
      bystander.on("terminal:exit", () => bystanderEvents.push("exit"));
      bystander.on("disconnect", () => bystanderEvents.push("disconnect"));
      const workerSocketId = harness.worker.socket.id;

      // Every worker message, as it leaves: none may come near socket.io's 1 MB limit.
      let largestWorkerPacket = 0;
      const measure = (packet: { data?: unknown }) => {
        // MessagePack frames are bytes (a string only for engine.io's own packets).
        const size = typeof packet.data === "string" ? packet.data.length : ArrayBuffer.isView(packet.data) ? packet.data.byteLength : 0;
        largestWorkerPacket = Math.max(largestWorkerPacket, size);
      };
      harness.worker.socket.io.engine.on("packetCreate", measure);

      // ~1,100 lines of truecolour text: every cell its own foreground and background colour.
      const typist = await harness.terminalSocket(alice.cookie);
      await attached(typist, alice.environmentId, "big");
      const script =
        'awk \'BEGIN{for(i=1;i<=1100;i++){s="";for(j=0;j<90;j++){s=s sprintf("\\033[38;2;%d;%d;%dm\\033[48;2;%d;%d;%dm%c",(i*7+j)%256,(j*13)%256,(i+j*3)%256,(j*5)%256,(i*11)%256,(i+j)%256,65+j%26)}print s "\\033[0m line-" i}}\'';
      await run(typist, alice.environmentId, script, "big");
      typist.close();

      const viewer = await harness.terminalSocket(alice.cookie);
      const parts: ScreenPart[] = [];
      viewer.on("terminal:screen-part", (part: ScreenPart) => parts.push(part));
      const reply = await attach(viewer, alice.environmentId, "big");
      harness.worker.socket.io.engine.off("packetCreate", measure);
      if (!reply.ok) throw new Error(reply.error);
      expect(reply.screenParts).toBeGreaterThan(1);
      expect(parts.map((part) => part.index)).toEqual(Array.from({ length: reply.screenParts! - 1 }, (_, index) => index));
      expect(parts.every((part) => part.screenId === reply.screenId)).toBe(true);
      const screen = parts.map((part) => part.data).join("") + reply.screen;
      for (const part of parts) expect(JSON.stringify(part).length).toBeLessThan(256 * 1024);
      expect(largestWorkerPacket).toBeGreaterThan(0);
      expect(largestWorkerPacket).toBeLessThan(256 * 1024);

      // The pieces make the screen: its last lines are there, as they were printed.
      const mirror = new Terminal({ cols: 100, rows: 30, allowProposedApi: true });
      await new Promise<void>((resolve) => mirror.write(screen, resolve));
      const lines = Array.from(
        { length: mirror.rows },
        (_, row) => mirror.buffer.active.getLine(mirror.buffer.active.viewportY + row)?.translateToString(true) ?? "",
      );
      expect(lines.join("\n")).toMatch(/line-1100/);
      mirror.dispose();

      // Nobody else on the worker noticed.
      expect(harness.worker.socket.id).toBe(workerSocketId);
      expect((await run(bystander, bob.environmentId, "echo still-$((6*7))")).includes("still-42")).toBe(true);
      expect(bystanderEvents).toEqual([]);
      await new Promise((resolve) => viewer.emit("terminal:close", { environmentId: alice.environmentId, terminalId: "big" }, resolve));
    },
  );
});

describe("an input flood", () => {
  it("an input flood to a shell that does not read keeps the worker's memory bounded", async () => {
    const flooder = await harness.terminalSocket(bob.cookie);
    await attached(flooder, bob.environmentId, "flood");
    const refusals = new Map<string, number>();
    flooder.on("terminal:error", (error: BrowserError) => {
      if (error.event === "terminal:input") refusals.set(error.code ?? "none", (refusals.get(error.code ?? "none") ?? 0) + 1);
    });
    flooder.emit("terminal:input", { environmentId: bob.environmentId, terminalId: "flood", data: "sleep 100000\r" });
    await until("sleep to run", async () => (await runArgvInEnvironment(harness.driver, bob.environmentId, ["pgrep", "-f", "^sleep 100000$"])).exitCode === 0);

    const line = `${"x".repeat(1023)}\r`;
    const message = { environmentId: bob.environmentId, terminalId: "flood", data: line.repeat(64) };
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let peakWorkerInput = 0;
    let sent = 0;
    const floodUntil = Date.now() + 10_000;
    while (Date.now() < floodUntil) {
      for (let index = 0; index < 16; index++) flooder.emit("terminal:input", message);
      sent += 16 * message.data.length;
      await roundTrip(flooder);
      peakWorkerInput = Math.max(peakWorkerInput, harness.worker.environments.pendingInputBytes);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    console.log(
      `input flood: sent ${Math.round(sent / 2 ** 20)} MiB; worker held at most ${Math.round(peakWorkerInput / 1024)} KiB; RSS grew ${Math.round((peakRss - rssBefore) / 2 ** 20)} MiB; refusals ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
    expect(sent).toBeGreaterThan(32 * 1024 * 1024);
    // The worker holds at most its per-terminal limit; the rest was refused with a code.
    expect(peakWorkerInput).toBeLessThanOrEqual(WORKER_INPUT_LIMIT + 64 * 1024);
    expect((refusals.get("input_busy") ?? 0) + (refusals.get("rate_limited") ?? 0)).toBeGreaterThan(0);
    expect(refusals.get("none") ?? 0).toBe(0);
    // Server, worker and this test share the process: a generous bound, far below what was sent.
    expect(peakRss - rssBefore).toBeLessThan(Math.min(200 * 1024 * 1024, sent / 2));

    // Ctrl-C still reaches the shell that was flooded: sleep ends.
    flooder.emit("terminal:input", { environmentId: bob.environmentId, terminalId: "flood", data: "\x03" });
    await until(
      "Ctrl-C to end sleep",
      async () => (await runArgvInEnvironment(harness.driver, bob.environmentId, ["pgrep", "-f", "^sleep 100000$"])).exitCode === 1,
    );

    // Another student on the worker still types as usual.
    const bystander = await harness.terminalSocket(alice.cookie);
    await attached(bystander, alice.environmentId);
    expect((await run(bystander, alice.environmentId, "echo unaffected-$((6*7))")).includes("unaffected-42")).toBe(true);
    await new Promise((resolve) => flooder.emit("terminal:close", { environmentId: bob.environmentId, terminalId: "flood" }, resolve));
  });
});
