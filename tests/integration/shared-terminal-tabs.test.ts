/**
 * A student's terminal tabs against real parts (server with the Redis adapter, a worker on the
 * real Docker engine, a database of its own): opening and closing tabs as their owner and as
 * watching staff, a tab closed while it opens, and malformed messages. Socket.io clients play
 * the browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserError, BrowserReply, TerminalTabs } from "../../protocol/browser-contract";
import { nextEvent, waitForOutput, type Harness } from "../support/platform-harness";
import { runArgvInEnvironment } from "../support/run-in-environment";
import { sharedTerminalSockets, startSharedTerminal } from "../support/shared-terminal-sockets";
import { request } from "../support/socket-request";

let harness: Harness;
let instructorCookie: string;
let student: { userId: string; cookie: string };
let environmentId: string;

beforeAll(async () => {
  ({ harness, instructorCookie, student, environmentId } = await startSharedTerminal());
});

afterAll(async () => {
  await harness?.close();
});

const { attach, attached } = sharedTerminalSockets(() => ({ harness, environmentId }));

describe("tabs", () => {
  it("the owner opens and closes tabs; every viewer hears of it; watchers can neither close a tab nor open one", async () => {
    const { socket: first } = await attached(student.cookie);
    const { socket: second } = await attached(student.cookie);
    const hasSecond = (tabs: TerminalTabs) => tabs.environmentId === environmentId && tabs.terminals.includes("t-second");
    const openedTabs = [nextEvent<TerminalTabs>(first, "terminal:tabs", hasSecond), nextEvent<TerminalTabs>(second, "terminal:tabs", hasSecond)];

    const opened = await attach(second, { environmentId, terminalId: "t-second" });
    expect(opened).toMatchObject({ ok: true, mode: "owner", terminals: ["main", "t-second"] });
    for (const tabs of await Promise.all(openedTabs)) expect(tabs).toEqual({ environmentId, terminals: ["main", "t-second"] });
    // A new shell of its own.
    const pids = waitForOutput(second, /TABPID=\d+/);
    second.emit("terminal:input", { environmentId, terminalId: "t-second", data: "echo TABPID=$$\r" });
    await pids;

    // Staff may watch the tab but not close it.
    const { socket: staff, reply: watching } = await attached(instructorCookie, { terminalId: "t-second" });
    expect(watching).toMatchObject({ mode: "watch", terminals: ["main", "t-second"] });
    const staffClose = await request<BrowserReply>(staff, "terminal:close", { environmentId, terminalId: "t-second" });
    expect(staffClose).toEqual({ ok: false, code: "forbidden", error: "Only the terminal's owner can close it." });
    expect(harness.worker.environments.terminalIds(environmentId)).toEqual(["main", "t-second"]);

    const withoutSecond = (tabs: TerminalTabs) => tabs.environmentId === environmentId && !tabs.terminals.includes("t-second");
    const closedTabs = [nextEvent<TerminalTabs>(first, "terminal:tabs", withoutSecond), nextEvent<TerminalTabs>(second, "terminal:tabs", withoutSecond)];
    expect(await request<BrowserReply>(second, "terminal:close", { environmentId, terminalId: "t-second" })).toEqual({ ok: true });
    for (const tabs of await Promise.all(closedTabs)) expect(tabs).toEqual({ environmentId, terminals: ["main"] });
    // Its shell is gone (hung up), not merely detached.
    await expect.poll(async () => (await runArgvInEnvironment(harness.driver, environmentId, ["pgrep", "-f", "shellroom-tab=t-second$"])).exitCode).toBe(1);

    // A watcher looking at a tab that is not open gets the open ones instead, and no shell is started.
    const late = await harness.terminalSocket(instructorCookie);
    for (const terminalId of ["t-second", "t-never-opened"]) {
      const reply = await attach(late, { environmentId, terminalId });
      expect(reply).toEqual({ ok: false, code: "terminal_closed", error: "This terminal is not open; the student has others.", terminals: ["main"] });
    }
    expect(harness.worker.environments.terminalIds(environmentId)).toEqual(["main"]);
    const check = await harness.terminalSocket(student.cookie);
    expect(await attach(check, { environmentId })).toMatchObject({ ok: true, terminals: ["main"] });

    // With every tab closed, there is nothing to offer.
    expect(await request<BrowserReply>(check, "terminal:close", { environmentId, terminalId: "main" })).toEqual({ ok: true });
    await expect.poll(() => harness.worker.environments.terminalIds(environmentId)).toEqual([]);
    expect(await attach(late, { environmentId })).toEqual({ ok: false, code: "terminal_closed", error: "The student has no terminal open here right now." });
    expect(harness.worker.environments.terminalIds(environmentId)).toEqual([]);

    for (const socket of [first, second, staff, late, check]) socket.close();
  });
});

describe("a tab closed while it opens", () => {
  it("closing a tab whose shell is still starting ends that shell once it is up, and the tab goes away", async () => {
    const { socket } = await attached(student.cookie);
    const gone = nextEvent<TerminalTabs>(socket, "terminal:tabs", (tabs) => tabs.environmentId === environmentId && !tabs.terminals.includes("t-quick"));
    // The close leaves right behind the attach, as a click on a tab's x just after "+" does.
    const opening = attach(socket, { environmentId, terminalId: "t-quick" });
    const closing = request<BrowserReply>(socket, "terminal:close", { environmentId, terminalId: "t-quick" });
    await opening;
    expect(await closing).toEqual({ ok: true });
    await gone;
    await expect.poll(() => harness.worker.environments.terminalIds(environmentId)).not.toContain("t-quick");
    await expect.poll(async () => (await runArgvInEnvironment(harness.driver, environmentId, ["pgrep", "-f", "shellroom-tab=t-quick$"])).exitCode).toBe(1);
    socket.close();
  });
});

describe("malformed messages", () => {
  it("malformed control/ack/close/room messages are answered in words and never crash the gateway", async () => {
    const { socket } = await attached(student.cookie);
    const huge = "x".repeat(100_000);
    const cases: Array<[string, unknown[]]> = [
      [
        "terminal:control",
        [
          null,
          42,
          "take",
          [],
          {},
          { environmentId },
          { environmentId, take: "yes" },
          { environmentId: huge, take: true },
          { environmentId: "../../etc", take: true },
          { take: true },
        ],
      ],
      [
        "terminal:close",
        [null, "main", {}, { environmentId }, { environmentId, terminalId: "../main" }, { environmentId, terminalId: huge }, { environmentId, terminalId: 7 }],
      ],
      ["room:join", [null, {}, { courseId: 5 }, { courseId: huge }, { courseId: "a b" }, ["course"]]],
    ];
    for (const [event, payloads] of cases) {
      for (const payload of payloads) {
        const reply = await request<BrowserReply>(socket, event, payload);
        expect(reply.ok, `${event} ${JSON.stringify(payload).slice(0, 80)}`).toBe(false);
        if (!reply.ok) expect(reply.error.startsWith(`Malformed ${event}:`)).toBe(true);
      }
    }
    // Without an acknowledgement the answer is a terminal:error naming the event.
    for (const event of ["terminal:control", "terminal:close", "room:join"]) {
      const error = nextEvent<BrowserError>(socket, "terminal:error");
      socket.emit(event, { nonsense: huge });
      expect(await error).toEqual({ event, error: expect.stringMatching(new RegExp(`^Malformed ${event}:`)), code: "invalid_request" });
    }
    // Acks are answer-less: bad ones (and lying ones) are dropped.
    for (const payload of [
      null,
      "ack",
      { environmentId },
      { environmentId, offset: -1 },
      { environmentId, offset: "12" },
      { environmentId, offset: 1e300 },
      { environmentId, terminalId: "main", offset: Number.MAX_SAFE_INTEGER },
      { environmentId: huge, offset: 1 },
      { environmentId, terminalId: "nope", offset: 5 },
    ]) {
      socket.emit("terminal:ack", payload);
    }
    // A valid control request from the owner is refused (it is for watchers), not crashed on.
    expect(await request<BrowserReply>(socket, "terminal:control", { environmentId, take: true })).toEqual({
      ok: false,
      code: "not_attached",
      error: "Watch this terminal before taking its keyboard.",
    });

    // Still connected, and still serving this socket's terminal.
    expect(socket.connected).toBe(true);
    const alive = waitForOutput(socket, /still-alive-7/);
    socket.emit("terminal:input", { environmentId, data: "echo still-alive-$((3+4))\r" });
    await alive;
    expect((await fetch(`${harness.url}/healthz`)).status).toBe(200);
    socket.close();
  });
});
