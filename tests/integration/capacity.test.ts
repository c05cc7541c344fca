/**
 * The capacity model against the real platform: placement counts templates' memory
 * reservations (64 MiB by default), not their limits (512 MiB), and a host short of real
 * memory takes nothing new, saying why with a code the admission queue decides on: a start
 * with no room (or under pressure) waits in the queue; with no live worker at all it is refused.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const MIB = 1024 ** 2;
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const harness of harnesses) await harness.close();
});

/** Polls until the server holds a memory report from the harness worker (the first beat may race its registration). */
async function untilMemoryReported(harness: Harness) {
  for (let attempt = 0; attempt < 300; attempt++) {
    if ((await harness.server.directory.heartbeats.memory([harness.workerId])).has(harness.workerId)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the worker never reported its host's memory");
}

describe("placement counts reservations, not limits", () => {
  const room = 5;
  let harness: Harness;

  it("a worker with room for N reservations takes N environments whose limits add up to far more", { timeout: 240_000 }, async () => {
    // Allocatable: five reservations of the demo template (64 MiB each). Its limit is 512 MiB:
    // counting limits, not even one would fit; the five limits add up to 2.5 GiB, ten times the room.
    harness = await startHarness({ worker: { capacity: { maxEnvironments: 50, memoryBytes: room * 64 * MIB } } });
    harnesses.push(harness);
    const template = await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } }).template();
    expect(template!.memoryReservationMb).toBe(64);
    expect(template!.memoryMb).toBe(512);
    await untilMemoryReported(harness);

    const students = [];
    for (let index = 0; index < room; index++) {
      const student = await harness.newStudent(`Student ${index}`);
      const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      students.push({ ...student, environmentId: started.body.result.data.environmentId as string });
    }
    const placed = await harness.db.environment.findMany({ where: { workerId: harness.workerId, state: "RUNNING" } });
    expect(placed).toHaveLength(room);
    // Each still has its full limit: the kernel's cap is the template's, not the reservation.
    expect(
      (
        await runInEnvironment(
          harness.driver,
          students[0]!.environmentId,
          "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
        )
      ).output.trim(),
    ).toBe(String(512 * MIB));

    // The next does not fit the reservations (placement says NO_ROOM): it waits in the queue.
    await expect(harness.server.directory.pick({ reservationBytes: 64 * MIB })).rejects.toMatchObject({ code: "NO_ROOM" });
    const late = await harness.newStudent("Late student");
    const queued = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: late.cookie });
    expect(queued.status, JSON.stringify(queued.body)).toBe(200);
    expect(queued.body.result.data).toMatchObject({ state: "QUEUED", position: 1 });
    const lateId = queued.body.result.data.environmentId as string;

    // One stops: its reservation is free again, and the late student is admitted by the server.
    const stopped = await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: students[0]!.cookie });
    expect(stopped.status).toBe(200);
    await expect.poll(async () => (await harness.db.environment.findUniqueOrThrow({ where: { id: lateId } })).state, { timeout: 60_000 }).toBe("RUNNING");

    // And the first student's resume (on the worker holding their workspace) must fit too: it waits.
    const resumed = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: students[0]!.cookie });
    expect(resumed.status).toBe(200);
    expect(resumed.body.result.data).toMatchObject({ state: "QUEUED", position: 1 });
    expect(await harness.db.environment.count({ where: { workerId: harness.workerId, state: "RUNNING" } })).toBe(room);
  });
});

describe("memory pressure", () => {
  it("a worker under memory pressure takes no new environment: placement says MEMORY_PRESSURE and the start waits", { timeout: 120_000 }, async () => {
    // The floor is set above anything this host has available: its real MemAvailable, as the
    // worker reads it, is below the floor, so the host is "short of memory" however idle it is.
    const harness = await startHarness({ worker: { memoryFloorBytes: 2 ** 50 } });
    harnesses.push(harness);
    await untilMemoryReported(harness);
    const reported = (await harness.server.directory.heartbeats.memory([harness.workerId])).get(harness.workerId)!;
    expect(reported.availableBytes).toBeGreaterThan(0);
    expect(reported.floorBytes).toBe(2 ** 50);

    await expect(harness.server.directory.pick({ reservationBytes: 64 * MIB })).rejects.toMatchObject({
      code: "MEMORY_PRESSURE",
      message: expect.stringMatching(/short of memory/),
    });
    const student = await harness.newStudent("Student under pressure");
    const queued = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(queued.status).toBe(200);
    expect(queued.body.result.data).toMatchObject({ state: "QUEUED", position: 1 });
    // Nothing was placed or started: the reservations alone would have admitted it.
    expect(await harness.db.environment.count({ where: { workerId: harness.workerId } })).toBe(0);
    expect(await harness.driver.list()).toEqual([]);

    // With no live worker at all nothing would ever admit a start: it is refused, with that code.
    await harness.worker.close();
    await expect.poll(() => harness.server.directory.liveIds(), { timeout: 30_000 }).toEqual([]);
    const alone = await harness.newStudent("Student with no machine");
    const refused = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: alone.cookie });
    expect(refused.status).toBe(503);
    expect(refused.body.error.data.placement).toBe("NO_LIVE_WORKER");
    expect(refused.body.error.message).toMatch(/No machine is available/);
  });
});
