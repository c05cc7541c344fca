/**
 * Shared terminals against real parts (server with the Redis adapter, a worker on the real
 * Docker engine, a database of its own): what course staff watching a student's terminal
 * receive (filtered, length-preserving output) and what they may do (nothing, until they take
 * the keyboard). Tabs and malformed messages are in shared-terminal-tabs.test.ts. Socket.io
 * clients play the browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { BrowserError, BrowserReply, ControlChange } from "../../protocol/browser-contract";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { nextEvent, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { sharedTerminalSockets, startSharedTerminal } from "../support/shared-terminal-sockets";
import { request } from "../support/socket-request";

const INSTRUCTOR_NAME = "Ines Instructor";

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

/** Every output chunk a socket receives for one terminal, by offset. */
function recordOutput(socket: Socket, terminalId = "main") {
  const chunks = new Map<number, Buffer>();
  socket.on("terminal:output", (message: { environmentId: string; terminalId: string; data: Uint8Array | ArrayBuffer; offset: number }) => {
    if (message.environmentId !== environmentId || message.terminalId !== terminalId) return;
    chunks.set(message.offset, Buffer.from(message.data as Uint8Array));
  });
  return {
    chunks,
    /** All bytes in offset order, as latin1 so every byte is one character. */
    bytes: () => Buffer.concat([...chunks.entries()].sort(([a], [b]) => a - b).map(([, data]) => data)).toString("latin1"),
  };
}

const NUL = 0x00;
const CAN = 0x18;

describe("what a watcher sees", () => {
  it("OSC 52 from a student's shell never reaches the instructor: viewers get the same bytes at the same offsets, with sequences blanked", async () => {
    const owner = await harness.terminalSocket(student.cookie);
    const ownerOutput = recordOutput(owner);
    const ownerReply = await attach(owner, { environmentId });
    expect(ownerReply).toMatchObject({ ok: true, mode: "owner", controller: null });

    const staff = await harness.terminalSocket(instructorCookie);
    const staffOutput = recordOutput(staff);
    const staffReply = await attach(staff, { environmentId });
    expect(staffReply).toMatchObject({ ok: true, mode: "watch", terminals: ["main"], controller: null });

    const secret = Buffer.from("top-secret-clip").toString("base64");
    const split = Buffer.from("split-secret").toString("base64");
    const c1 = Buffer.from("c1-secret").toString("base64");
    const ownerDone = waitForOutput(owner, /osc-done-42/);
    const staffDone = waitForOutput(staff, /osc-done-42/);
    // Built by the shell, so the echoed command line never contains what we look for.
    owner.emit("terminal:input", {
      environmentId,
      data:
        `printf '\\033]%d;c;%s\\a' 52 "$(printf top-secret-clip | base64)"; t=evil; printf '\\033]0;%s-title\\a' "$t"; printf '\\033[6n'; ` +
        // The same, split across output chunks (the viewer already has the ESC when the rest comes).
        `printf '\\033'; sleep 0.3; printf ']%d;c;%s\\a' 52 "$(printf split-secret | base64)"; printf '\\033['; sleep 0.3; printf '6n'; ` +
        // OSC 52 as a UTF-8 C1 control (U+009D), ended by ST as a C1 control (U+009C).
        `printf '\\302\\235%d;c;%s\\302\\234' 52 "$(printf c1-secret | base64)"; echo "osc-done-$((6*7))"\r`,
    });
    await Promise.all([ownerDone, staffDone]);

    const raw = ownerOutput.bytes();
    expect(raw).toContain(`\x1b]52;c;${secret}\x07`);
    expect(raw).toContain("\x1b]0;evil-title\x07");
    expect(raw).toContain("\x1b[6n");
    expect(raw).toContain(`]52;c;${split}\x07`);
    expect(raw).toContain(`\xc2\x9d52;c;${c1}\xc2\x9c`);

    const viewed = staffOutput.bytes();
    expect(viewed).toContain("osc-done-42");
    expect(viewed).not.toContain("]52;");
    expect(viewed).not.toContain(secret);
    expect(viewed).not.toContain(split);
    expect(viewed).not.toContain(c1);
    expect(viewed).not.toContain("\xc2\x9d");
    expect(viewed).not.toContain("evil-title");
    expect(viewed).not.toContain("\x1b[6n");
    // No OSC of any kind (the prompt's title included) gets through.
    expect(viewed).not.toContain("\x1b]");

    // Same offsets, same lengths: every chunk the viewer got is the owner's chunk at that
    // offset, differing only where bytes were replaced by NUL or CAN; and nothing is missing.
    const staffOffsets = [...staffOutput.chunks.keys()].sort((a, b) => a - b);
    expect(staffOffsets.length).toBeGreaterThan(0);
    let expectedNext = staffOffsets[0]!;
    let replaced = 0;
    for (const offset of staffOffsets) {
      expect(offset, "viewer chunks are contiguous").toBe(expectedNext);
      const viewedChunk = staffOutput.chunks.get(offset)!;
      const rawChunk = ownerOutput.chunks.get(offset);
      expect(rawChunk, `the owner got a chunk at offset ${offset}`).toBeDefined();
      expect(viewedChunk.byteLength).toBe(rawChunk!.byteLength);
      for (let i = 0; i < viewedChunk.length; i++) {
        if (viewedChunk[i] === rawChunk![i]) continue;
        replaced++;
        expect([NUL, CAN], `byte ${offset + i}`).toContain(viewedChunk[i]);
      }
      expectedNext = offset + viewedChunk.byteLength;
    }
    expect(replaced).toBeGreaterThanOrEqual(`\x1b]52;c;${secret}\x07\x1b]0;evil-title\x07\x1b[6n`.length);

    // A fresh watcher is repainted from the screen, filtered the same way.
    const again = await harness.terminalSocket(instructorCookie);
    const repainted = await attach(again, { environmentId });
    if (!repainted.ok) throw new Error(repainted.error);
    expect(repainted.mode).toBe("watch");
    expect(repainted.screen).toContain("osc-done-42");
    for (const hidden of [secret, split, c1]) expect(repainted.screen).not.toContain(hidden);
    expect(repainted.screen).not.toContain("evil-title");
    expect(repainted.screen).not.toContain("\x1b]");

    for (const socket of [owner, staff, again]) socket.close();
  });

  it("a watcher cannot type or resize until they take the keyboard; the student's terminal is unaffected", async () => {
    const { socket: owner } = await attached(student.cookie, { cols: 80, rows: 24 });
    const { socket: staff } = await attached(instructorCookie);

    // With an acknowledgement, the refusal is the reply; without one, a terminal:error.
    const refused = await request<BrowserReply>(staff, "terminal:input", { environmentId, data: "echo staff-was-here > ~/workspace/staff.txt\r" });
    expect(refused).toEqual({ ok: false, code: "forbidden", error: expect.stringMatching(/take the keyboard/) });
    const error = nextEvent<BrowserError>(staff, "terminal:error");
    staff.emit("terminal:input", { environmentId, data: "echo staff-was-here > ~/workspace/staff.txt\r" });
    expect(await error).toEqual({ event: "terminal:input", code: "forbidden", error: expect.stringMatching(/take the keyboard/) });

    staff.emit("terminal:resize", { environmentId, cols: 33, rows: 11 });
    // Handled in order: once this is answered, the resize above has been dealt with.
    expect((await request<BrowserReply>(staff, "terminal:input", { environmentId, data: "x" })).ok).toBe(false);

    const size = waitForOutput(owner, /SIZE=\d+x\d+/);
    owner.emit("terminal:input", { environmentId, data: "echo SIZE=$(stty size | tr ' ' x)\r" });
    expect(/SIZE=(\d+x\d+)/.exec(await size)![1]).toBe("24x80");
    const file = await runInEnvironment(harness.driver, environmentId, "test -e ~/workspace/staff.txt && echo present || echo absent");
    expect(file.output.trim()).toBe("absent");

    owner.close();
    staff.close();
  });

  it("taking the keyboard lets staff type, tells the student who it is, and giving it back ends it", async () => {
    const { socket: owner } = await attached(student.cookie);
    const { socket: staff } = await attached(instructorCookie);

    let control = nextEvent<ControlChange>(owner, "environment:control");
    expect(await request<BrowserReply>(staff, "terminal:control", { environmentId, take: true })).toEqual({ ok: true });
    expect(await control).toEqual({ environmentId, controller: INSTRUCTOR_NAME });

    const typed = waitForOutput(owner, /typed-by-staff-42/);
    staff.emit("terminal:input", { environmentId, data: "echo typed-by-staff-$((2*21))\r" });
    await typed;

    // A reload sees who holds the keyboard.
    const reload = await harness.terminalSocket(student.cookie);
    const reloaded = await attach(reload, { environmentId });
    expect(reloaded).toMatchObject({ ok: true, mode: "owner", controller: INSTRUCTOR_NAME });
    reload.close();
    const taken = await harness.db.auditEvent.findFirst({ where: { action: "environment.keyboard_taken", subjectId: environmentId } });
    expect(taken?.courseId).toBe(harness.courseId);

    control = nextEvent<ControlChange>(owner, "environment:control");
    expect(await request<BrowserReply>(staff, "terminal:control", { environmentId, take: false })).toEqual({ ok: true });
    expect(await control).toEqual({ environmentId, controller: null });
    const refused = await request<BrowserReply>(staff, "terminal:input", { environmentId, data: "echo too-late\r" });
    expect(refused).toEqual({ ok: false, code: "forbidden", error: expect.stringMatching(/take the keyboard/) });

    // Staff who close the page while holding the keyboard give it back.
    const { socket: leaving } = await attached(instructorCookie);
    control = nextEvent<ControlChange>(owner, "environment:control");
    expect(await request<BrowserReply>(leaving, "terminal:control", { environmentId, take: true })).toEqual({ ok: true });
    expect(await control).toEqual({ environmentId, controller: INSTRUCTOR_NAME });
    control = nextEvent<ControlChange>(owner, "environment:control");
    leaving.close();
    expect(await control).toEqual({ environmentId, controller: null });
    const afterLeaving = await harness.terminalSocket(student.cookie);
    expect(await attach(afterLeaving, { environmentId })).toMatchObject({ ok: true, controller: null });

    for (const socket of [owner, staff, afterLeaving]) socket.close();
  });

  it("an assistant demoted to student while holding the keyboard can no longer type", async () => {
    const assistant = await harness.db.user.create({ data: { displayName: "Andy Assistant", role: "STUDENT" } });
    await harness.db.courseMember.create({ data: { courseId: harness.courseId, userId: assistant.id, role: "ASSISTANT" } });
    const token = generateSessionToken();
    await createSession(harness.db, token, assistant.id);
    const { socket: owner } = await attached(student.cookie);
    const { socket: staff, reply } = await attached(`${SESSION_COOKIE}=${token}`);
    expect(reply.mode).toBe("watch");
    expect(await request<BrowserReply>(staff, "terminal:control", { environmentId, take: true })).toEqual({ ok: true });
    const typed = waitForOutput(owner, /assistant-typed-3/);
    staff.emit("terminal:input", { environmentId, data: "echo assistant-typed-$((1+2))\r" });
    await typed;

    const disconnected = new Promise<void>((resolve) => staff.once("disconnect", () => resolve()));
    const demoted = await harness.trpc(
      "course.setMemberRole",
      { courseId: harness.courseId, userId: assistant.id, role: "STUDENT" },
      { cookie: instructorCookie },
    );
    expect(demoted.status).toBe(200);
    // The live connection that carried the old rights is closed by the server…
    await disconnected;
    staff.emit("terminal:input", { environmentId, data: "touch ~/workspace/typed-after-demotion\r" });
    // …and a new one is authorized under the new role: no watching, no keyboard.
    const again = await harness.terminalSocket(`${SESSION_COOKIE}=${token}`);
    expect(await attach(again, { environmentId })).toEqual({ ok: false, code: "forbidden", error: "You cannot open this terminal." });
    expect((await request<BrowserReply>(again, "terminal:control", { environmentId, take: true })).ok).toBe(false);
    const input = await request<BrowserReply>(again, "terminal:input", { environmentId, data: "touch ~/workspace/typed-after-demotion\r" });
    expect(input.ok).toBe(false);
    again.close();
    const file = await runInEnvironment(harness.driver, environmentId, "test -e ~/workspace/typed-after-demotion && echo present || echo absent");
    expect(file.output.trim()).toBe("absent");
    owner.close();
    staff.close();
  });

  it("a student cannot take another student's keyboard or watch them", async () => {
    const other = await harness.newStudent("Other Student");
    const socket = await harness.terminalSocket(other.cookie);
    expect(await attach(socket, { environmentId })).toEqual({ ok: false, code: "forbidden", error: "You cannot open this terminal." });
    const control = await request<BrowserReply>(socket, "terminal:control", { environmentId, take: true });
    expect(control.ok).toBe(false);
    const input = await request<BrowserReply>(socket, "terminal:input", { environmentId, data: "touch ~/workspace/intruder\r" });
    expect(input).toEqual({ ok: false, code: "not_attached", error: expect.stringMatching(/Attach to this terminal/) });
    expect(await harness.db.auditEvent.count({ where: { action: "environment.keyboard_taken", actorId: other.userId } })).toBe(0);
    const file = await runInEnvironment(harness.driver, environmentId, "test -e ~/workspace/intruder && echo present || echo absent");
    expect(file.output.trim()).toBe("absent");
    socket.close();
  });
});
