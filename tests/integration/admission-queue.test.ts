/**
 * The admission queue against the real platform (server, worker, Docker, Postgres, Redis),
 * with a worker that has room for two: the students past capacity are queued with their
 * position, and each reaches a prompt as others stop, in the order they came, without
 * asking again and without an error. Also: asking again keeps the place, leaving the queue
 * moves those behind up, an abandoned entry leaves, the live room shows the queue, the order
 * holds across two replicas, and an entry that can go nowhere does not block the line.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { attachAtPrompt, startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const harness of harnesses) await harness.close();
});

type Student = { name: string; userId: string; cookie: string; environmentId?: string };

async function start(harness: Harness, student: Student) {
  const response = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  // Nobody is turned away: every start answers 200, running or queued.
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const result = response.body.result.data as { environmentId: string; state: "RUNNING" | "QUEUED"; position?: number; estimateSeconds?: number | null };
  student.environmentId = result.environmentId;
  return result;
}

const stateOf = async (harness: Harness, environmentId: string) =>
  (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId }, select: { state: true } })).state;

/** A student's terminal shows a prompt (what they see when it is their turn). */
async function atPrompt(harness: Harness, student: Student): Promise<Socket> {
  const socket = await harness.terminalSocket(student.cookie);
  await attachAtPrompt(socket, student.environmentId!);
  return socket;
}

describe("students past capacity wait in line and are admitted in order", () => {
  it(
    "2 places, 5 students: 3 queued at 1, 2, 3; each stop admits the next in arrival order, who reaches a prompt without asking again",
    { timeout: 300_000 },
    async () => {
      // The pump runs on events and on its timer; no entry is abandoned during this test.
      const harness = await startHarness({
        worker: { capacity: { maxEnvironments: 2, memoryBytes: 8 * 1024 ** 3 } },
        server: { admissionQueue: { abandonAfterMs: 30 * 60_000 } },
      });
      harnesses.push(harness);
      const instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
      const admissions: string[] = [];

      const students: Student[] = [];
      for (let index = 0; index < 5; index++) students.push({ name: `Student ${index}`, ...(await harness.newStudent(`Student ${index}`)) });
      const [s0, s1, s2, s3, s4] = students as [Student, Student, Student, Student, Student];

      expect((await start(harness, s0)).state).toBe("RUNNING");
      expect((await start(harness, s1)).state).toBe("RUNNING");
      const queued = [await start(harness, s2), await start(harness, s3), await start(harness, s4)];
      expect(queued.map(({ state, position }) => ({ state, position }))).toEqual([
        { state: "QUEUED", position: 1 },
        { state: "QUEUED", position: 2 },
        { state: "QUEUED", position: 3 },
      ]);
      for (const { estimateSeconds } of queued) expect(estimateSeconds === null || (Number.isInteger(estimateSeconds) && estimateSeconds! > 0)).toBe(true);
      // Nothing past capacity was placed.
      expect(await harness.db.environment.count({ where: { state: { in: ["STARTING", "RUNNING"] } } })).toBe(2);

      // Asking again keeps the place (the page does every few seconds): never back to the end of the line.
      const queuedAtBefore = (await harness.db.environment.findUniqueOrThrow({ where: { id: s3.environmentId! } })).queuedAt;
      expect(await start(harness, s3)).toMatchObject({ state: "QUEUED", position: 2 });
      expect((await harness.db.environment.findUniqueOrThrow({ where: { id: s3.environmentId! } })).queuedAt).toEqual(queuedAtBefore);

      // The live room shows the line: names, order, since when.
      const overview = await harness.trpc("live.overview", { courseId: harness.courseId }, { cookie: instructorCookie, method: "GET" });
      expect(overview.status).toBe(200);
      expect(
        overview.body.result.data.queue.map((entry: { name: string; position: number; environmentId: string }) => [
          entry.name,
          entry.position,
          entry.environmentId,
        ]),
      ).toEqual([
        ["Student 2", 1, s2.environmentId],
        ["Student 3", 2, s3.environmentId],
        ["Student 4", 3, s4.environmentId],
      ]);

      // Each stop frees a place; the next in line is admitted by the server and reaches a prompt.
      const order = [
        [s0, s2],
        [s1, s3],
        [s2, s4],
      ] as const;
      for (const [leaving, next] of order) {
        const stopped = await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: leaving.cookie });
        expect(stopped.status).toBe(200);
        await expect.poll(() => stateOf(harness, next.environmentId!), { timeout: 90_000, interval: 250 }).toBe("RUNNING");
        admissions.push(next.name);
        // Only the next: whoever is behind still waits.
        for (const waiting of [s2, s3, s4].filter((student) => !admissions.includes(student.name))) {
          expect(await stateOf(harness, waiting.environmentId!)).toBe("QUEUED");
        }
        const socket = await atPrompt(harness, next);
        const echoed = waitForOutput(socket, /queued-and-admitted/);
        socket.emit("terminal:input", { environmentId: next.environmentId, data: "echo queued-and-admitted\r" });
        await echoed;
        socket.close();
      }
      expect(admissions).toEqual(["Student 2", "Student 3", "Student 4"]);
      // Nobody failed, and the line is empty.
      expect(await harness.db.environment.count({ where: { state: { in: ["FAILED", "QUEUED"] } } })).toBe(0);

      // Later arrivals: three more wait; by now places have freed and starts were measured, so there is an estimate.
      const late: Student[] = [];
      for (let index = 0; index < 3; index++) late.push({ name: `Late ${index}`, ...(await harness.newStudent(`Late ${index}`)) });
      const [l0, l1, l2] = late as [Student, Student, Student];
      const lateQueued = [await start(harness, l0), await start(harness, l1), await start(harness, l2)];
      expect(lateQueued.map((entry) => entry.position)).toEqual([1, 2, 3]);
      for (const entry of lateQueued) expect(entry.estimateSeconds).toBeGreaterThan(0);
      expect(lateQueued[2]!.estimateSeconds!).toBeGreaterThanOrEqual(lateQueued[0]!.estimateSeconds!);

      // The second leaves the line: the third moves up, and the one who left is never admitted.
      const left = await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: l1.cookie });
      expect(left.status).toBe(200);
      expect(await harness.db.environment.findUniqueOrThrow({ where: { id: l1.environmentId! }, select: { state: true, stopReason: true } })).toEqual({
        state: "STOPPED",
        stopReason: "LEFT_QUEUE",
      });
      expect(await start(harness, l2)).toMatchObject({ state: "QUEUED", position: 2 });
      expect(await start(harness, l0)).toMatchObject({ state: "QUEUED", position: 1 });

      for (const [leaving, next] of [
        [s3, l0],
        [s4, l2],
      ] as const) {
        expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: leaving.cookie })).status).toBe(200);
        await expect.poll(() => stateOf(harness, next.environmentId!), { timeout: 90_000, interval: 250 }).toBe("RUNNING");
        expect((await runInEnvironment(harness.driver, next.environmentId!, "id -un")).output.trim()).toBe("student");
      }
      expect(await stateOf(harness, l1.environmentId!)).toBe("STOPPED");
      expect(await harness.db.environment.count({ where: { state: "FAILED" } })).toBe(0);
    },
  );
});

describe("abandoned places", () => {
  it("an entry whose page stopped asking leaves the queue; one whose page keeps asking stays", { timeout: 180_000 }, async () => {
    const harness = await startHarness({
      worker: { capacity: { maxEnvironments: 1, memoryBytes: 8 * 1024 ** 3 } },
      server: { admissionQueue: { abandonAfterMs: 3000, pumpIntervalMs: 500 } },
    });
    harnesses.push(harness);
    const running: Student = { name: "Running", ...(await harness.newStudent("Running")) };
    const gone: Student = { name: "Gone", ...(await harness.newStudent("Gone")) };
    const staying: Student = { name: "Staying", ...(await harness.newStudent("Staying")) };
    expect((await start(harness, running)).state).toBe("RUNNING");
    expect(await start(harness, gone)).toMatchObject({ state: "QUEUED", position: 1 });
    expect(await start(harness, staying)).toMatchObject({ state: "QUEUED", position: 2 });
    // Staff with the live room open: leaving the queue (no request made it) nudges them.
    const instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
    const staff = await harness.terminalSocket(instructorCookie);
    expect(await new Promise((resolve) => staff.emit("room:join", { courseId: harness.courseId }, resolve))).toEqual({ ok: true });
    let nudges = 0;
    staff.on("room:changed", () => {
      nudges += 1;
    });

    // "Staying"'s page keeps asking; "Gone"'s page was closed.
    await expect
      .poll(
        async () => {
          expect((await start(harness, staying)).state).toBe("QUEUED");
          return harness.db.environment.findUniqueOrThrow({ where: { id: gone.environmentId! }, select: { state: true, stopReason: true } });
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual({ state: "STOPPED", stopReason: "LEFT_QUEUE" });
    await expect.poll(() => nudges, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await start(harness, staying)).toMatchObject({ state: "QUEUED", position: 1 });

    // A place frees: the one still waiting is admitted, the one who left is not.
    expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: running.cookie })).status).toBe(200);
    await expect
      .poll(
        async () => {
          await start(harness, staying); // the page keeps asking meanwhile
          return stateOf(harness, staying.environmentId!);
        },
        { timeout: 90_000, interval: 500 },
      )
      .toBe("RUNNING");
    expect(await stateOf(harness, gone.environmentId!)).toBe("STOPPED");
  });
});

describe("two server replicas", () => {
  it(
    "students queued through either replica are admitted in arrival order; a resume whose worker is gone holds nobody back; ending the workshop empties the line",
    { timeout: 240_000 },
    async () => {
      const harness = await startHarness({
        worker: { capacity: { maxEnvironments: 1, memoryBytes: 8 * 1024 ** 3 } },
        server: { admissionQueue: { abandonAfterMs: 30 * 60_000 } },
      });
      harnesses.push(harness);
      const replica = await harness.startReplica();
      /** A call through the other replica. */
      const onReplica = async (path: string, student: Student) => {
        const response = await fetch(`${replica.url}/api/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie: student.cookie, origin: replica.url },
          body: JSON.stringify({ labId: harness.labId }),
        });
        const body = await response.json();
        expect(response.status, JSON.stringify(body)).toBe(200);
        return body.result.data;
      };
      const startOnReplica = async (student: Student) => {
        const result = (await onReplica("environment.startForLab", student)) as { environmentId: string; state: string; position?: number };
        student.environmentId = result.environmentId;
        return result;
      };
      const students: Student[] = [];
      for (let index = 0; index < 4; index++) students.push({ name: `Replica student ${index}`, ...(await harness.newStudent(`Replica student ${index}`)) });
      const [r0, q1, q2, q3] = students as [Student, Student, Student, Student];
      expect((await start(harness, r0)).state).toBe("RUNNING");
      expect(await startOnReplica(q1)).toMatchObject({ state: "QUEUED", position: 1 });
      expect(await start(harness, q2)).toMatchObject({ state: "QUEUED", position: 2 });
      expect(await startOnReplica(q3)).toMatchObject({ state: "QUEUED", position: 3 });

      const admitted: string[] = [];
      // Stops through one replica, then the other: the place frees wherever the student is connected.
      for (const [leaving, next, throughReplica] of [
        [r0, q1, true],
        [q1, q2, false],
        [q2, q3, true],
      ] as const) {
        if (throughReplica) await onReplica("environment.stop", leaving);
        else expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: leaving.cookie })).status).toBe(200);
        await expect.poll(() => stateOf(harness, next.environmentId!), { timeout: 90_000, interval: 250 }).toBe("RUNNING");
        admitted.push(next.name);
        for (const waiting of [q1, q2, q3].filter((student) => !admitted.includes(student.name))) {
          expect(await stateOf(harness, waiting.environmentId!)).toBe("QUEUED");
        }
      }
      expect(admitted).toEqual(["Replica student 1", "Replica student 2", "Replica student 3"]);
      expect(await harness.db.environment.count({ where: { state: "FAILED" } })).toBe(0);

      // A queued resume whose workspace's worker is gone cannot be admitted anywhere: it is
      // interrupted (as a direct start would be) and does not hold back those behind it.
      expect(await start(harness, q1)).toMatchObject({ state: "QUEUED", position: 1 }); // its workspace's worker is full
      await harness.db.worker.create({
        data: { id: `gone-${harness.workerId}`, name: "gone", status: "LOST", maxEnvironments: 10, memoryBytes: BigInt(8 * 1024 ** 3) },
      });
      await harness.db.environment.update({ where: { id: q1.environmentId! }, data: { workerId: `gone-${harness.workerId}` } });
      const behind: Student = { name: "Behind a lost workspace", ...(await harness.newStudent("Behind a lost workspace")) };
      expect((await start(harness, behind)).state).toBe("QUEUED");
      await expect
        .poll(() => harness.db.environment.findUniqueOrThrow({ where: { id: q1.environmentId! }, select: { state: true, error: true } }), { timeout: 30_000 })
        .toEqual({ state: "INTERRUPTED", error: expect.stringMatching(/offline right now/) });
      expect(await start(harness, behind)).toMatchObject({ state: "QUEUED", position: 1 });
      expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: q3.cookie })).status).toBe(200);
      await expect.poll(() => stateOf(harness, behind.environmentId!), { timeout: 90_000, interval: 250 }).toBe("RUNNING");

      // The workshop ends while someone waits: they leave the line with everyone else, never admitted.
      const waiting: Student = { name: "Waiting at the end", ...(await harness.newStudent("Waiting at the end")) };
      expect(await start(harness, waiting)).toMatchObject({ state: "QUEUED", position: 1 });
      const instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
      expect((await harness.trpc("live.endWorkshop", { courseId: harness.courseId }, { cookie: instructorCookie })).status).toBe(200);
      await expect
        .poll(() => harness.db.environment.findUniqueOrThrow({ where: { id: waiting.environmentId! }, select: { state: true, stopReason: true } }), {
          timeout: 60_000,
        })
        .toEqual({ state: "STOPPED", stopReason: "STAFF" });
      await expect.poll(() => stateOf(harness, behind.environmentId!), { timeout: 60_000 }).toBe("STOPPED");
    },
  );
});
