/**
 * Runaways, against the real parts: a real fork bomb in a real container (a small pids and
 * CPU limit so it is quick and cheap), the worker's real samples, the server's decision.
 * Every test leaves no bomb behind, even when it fails: the host is shared.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply, BrowserReply, EnvironmentNotice } from "../../protocol/browser-contract";
import { KILLED_NOTICE } from "../../server/live/runaway-watch";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

/** Small, so a fork bomb fills it at once; the CPU limit keeps it from loading the host. */
const PIDS_LIMIT = 24;
/** A runaway once at the pids limit this long; stopped once this long. */
const RUNAWAY_AFTER_MS = 3000;
const STOP_AFTER_MS = 25_000;
const FORK_BOMB = "bomb() { bomb | bomb & }; bomb\r";

let harness: Harness;
let instructorCookie: string;
const bombs = new Set<string>();

beforeAll(async () => {
  harness = await startHarness({ server: { runaway: { pidsAfterMs: RUNAWAY_AFTER_MS, minSamples: 2, stopAfterMs: STOP_AFTER_MS } } });
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  await harness.db.environmentTemplate.updateMany({
    where: { labs: { some: { id: harness.labId } } },
    data: { pidsLimit: PIDS_LIMIT, cpuMillis: 250, warmPoolSize: 0 },
  });
}, 60_000);

// A bomb a failed test left running would slow every other test on the host: end it now.
afterEach(async () => {
  for (const environmentId of bombs) await harness.driver.remove(environmentId, { removeVolume: false }).catch(() => undefined);
  bombs.clear();
});

afterAll(async () => {
  await harness?.close();
});

type Card = {
  userId: string;
  environment: {
    id: string;
    state: string;
    stopReason: string | null;
    containerId?: string;
    usage: { pids: number; pidsLimit: number } | null;
    runaway: { reason: string; since: string } | null;
  } | null;
};

async function cardOf(userId: string): Promise<Card | undefined> {
  const response = await harness.trpc("live.overview", { courseId: harness.courseId }, { cookie: instructorCookie, method: "GET" });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body.result.data.students as Card[]).find((card) => card.userId === userId);
}

function collect<T>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (message: T) => seen.push(message));
  return seen;
}

/** A student with a running environment, a file in the workspace and an attached shell. */
async function studentWithShell(name: string) {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId: string = started.body.result.data.environmentId;
  const socket = await harness.terminalSocket(student.cookie);
  const notices = collect<EnvironmentNotice>(socket, "environment:notice");
  const exits = collect<{ terminalId: string }>(socket, "terminal:exit");
  const reply = (await socket.timeout(20_000).emitWithAck("terminal:attach", { environmentId, cols: 80, rows: 24 })) as AttachReply;
  expect(reply).toMatchObject({ ok: true, mode: "owner" });
  const written = waitForOutput(socket, /written-2/);
  socket.emit("terminal:input", { environmentId, data: "echo kept-through-the-bomb > ~/workspace/kept.txt && echo written-$((1+1))\r" });
  await written;
  return { ...student, environmentId, socket, notices, exits };
}

describe("a fork bomb", () => {
  let student: Awaited<ReturnType<typeof studentWithShell>>;

  it("a fork bomb is flagged as a runaway in the live room, and the student is told", { timeout: 120_000 }, async () => {
    student = await studentWithShell("Fiona Forkbomb");
    const staff = await harness.terminalSocket(instructorCookie);
    expect(await staff.timeout(20_000).emitWithAck("room:join", { courseId: harness.courseId })).toEqual({ ok: true } satisfies BrowserReply);
    const nudges = collect(staff, "room:changed");
    expect((await cardOf(student.userId))!.environment!.runaway).toBeNull();

    bombs.add(student.environmentId);
    student.socket.emit("terminal:input", { environmentId: student.environmentId, data: FORK_BOMB });

    // The worker samples, the server counts consecutive readings at the limit.
    await expect.poll(async () => (await cardOf(student.userId))!.environment!.runaway, { timeout: 60_000, interval: 500 }).toMatchObject({ reason: "pids" });
    const card = (await cardOf(student.userId))!;
    expect(card.environment!.usage!.pidsLimit).toBe(PIDS_LIMIT);
    expect(card.environment!.usage!.pids).toBeGreaterThanOrEqual(PIDS_LIMIT * 0.9);
    expect(nudges.length).toBeGreaterThan(0);
    // The student is told, in the same channel as every other notice about their environment.
    await expect
      .poll(() => student.notices.filter((notice) => notice.kind === "warning").map((notice) => notice.message), { timeout: 20_000 })
      .toContainEqual(expect.stringMatching(/process limit/));
    expect(student.notices.filter((notice) => /process limit/.test(notice.message))).toHaveLength(1);
    staff.close();
    bombs.delete(student.environmentId); // the next test ends it (or its afterEach does)
  });

  it("Kill processes ends every process of a runaway, keeping the container and the workspace; only staff may", { timeout: 120_000 }, async () => {
    if (!student) throw new Error("the previous test did not start the bomb");
    bombs.add(student.environmentId);
    const { environmentId } = student;
    const before = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });

    const byStudent = await harness.trpc("live.killProcesses", { courseId: harness.courseId, environmentId }, { cookie: student.cookie });
    expect(byStudent.status).toBe(403);

    // The pids limit is exhausted right now: whatever ends the bomb must not need a new process inside.
    const killed = await harness.trpc("live.killProcesses", { courseId: harness.courseId, environmentId }, { cookie: instructorCookie });
    expect(killed.status, JSON.stringify(killed.body)).toBe(200);
    expect(killed.body.result.data).toEqual({ killed: true });

    // Told why, and their shell ended (Enter opens a new one).
    await expect.poll(() => student.notices.map((notice) => notice.message), { timeout: 20_000 }).toContain(KILLED_NOTICE);
    await expect.poll(() => student.exits.length, { timeout: 20_000 }).toBeGreaterThan(0);

    // The flag goes and the process count comes down to the container's own two (init, sleep).
    await expect
      .poll(
        async () => {
          const environment = (await cardOf(student.userId))!.environment!;
          return { runaway: environment.runaway, calm: environment.usage !== null && environment.usage.pids < 5 };
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual({ runaway: null, calm: true });

    const after = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(after).toMatchObject({ state: "RUNNING", containerId: before.containerId });
    expect(await harness.driver.state(environmentId)).toBe("running");
    expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/kept.txt")).output).toContain("kept-through-the-bomb");
    const audit = await harness.db.auditEvent.findFirst({ where: { action: "environment.processes_killed", subjectId: environmentId } });
    expect(audit).not.toBeNull();

    // The student's terminal opens a new shell in the same environment.
    const reattached = (await student.socket.timeout(20_000).emitWithAck("terminal:attach", { environmentId, cols: 80, rows: 24 })) as AttachReply;
    expect(reattached).toMatchObject({ ok: true });
    const echoed = waitForOutput(student.socket, /alive-again-3/);
    student.socket.emit("terminal:input", { environmentId, data: "echo alive-again-$((1+2))\r" });
    await echoed;
    student.socket.close();
    await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: student.cookie });
    bombs.delete(environmentId);
  });

  it("a runaway left alone is stopped after the operator's time, files kept, and the student is told why", { timeout: 150_000 }, async () => {
    const student = await studentWithShell("Uma Unattended");
    bombs.add(student.environmentId);
    student.socket.emit("terminal:input", { environmentId: student.environmentId, data: FORK_BOMB });

    await expect
      .poll(async () => (await harness.db.environment.findUniqueOrThrow({ where: { id: student.environmentId } })).state, {
        timeout: STOP_AFTER_MS + 90_000,
        interval: 1000,
      })
      .toBe("STOPPED");
    expect(await harness.db.environment.findUniqueOrThrow({ where: { id: student.environmentId } })).toMatchObject({
      stopReason: "RUNAWAY",
      containerId: null,
    });
    expect(await harness.driver.state(student.environmentId)).toBe("missing");
    await expect
      .poll(() => student.notices.filter((notice) => notice.kind === "stopped").map((notice) => notice.message), { timeout: 20_000 })
      .toContainEqual(expect.stringMatching(/process limit.*files are kept/i));
    bombs.delete(student.environmentId);

    // Started again, the workspace is there.
    const restarted = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(restarted.status).toBe(200);
    expect((await runInEnvironment(harness.driver, student.environmentId, "cat ~/workspace/kept.txt")).output).toContain("kept-through-the-bomb");
    student.socket.close();
  });
});
