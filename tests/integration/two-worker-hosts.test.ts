/**
 * Two worker hosts: the harness worker on the default engine, and a second worker on a host of
 * its own (tests/support/worker-host.ts: its own network namespace, reaching the server over a
 * veth, and its own dockerd and data root). New environments go where there is the most room,
 * so a class spreads across both by capacity.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { joinHostWorker } from "../support/host-worker";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { startWorkerHost, type TestWorkerHost } from "../support/worker-host";

let harness: Harness;
let hostB: TestWorkerHost;
let secondDriver: DockerDriver;
const secondWorkerId = `host-b-${Date.now().toString(36)}`;

beforeAll(async () => {
  hostB = await startWorkerHost({ name: "host-b" });
  harness = await startHarness({ redis: false });
  await harness.listenOn(hostB.serverAddress);
  // Reservations as large as the limits (512 MiB), so memory binds on host A as well as slots.
  const { templateId } = await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } });
  await harness.db.environmentTemplate.update({ where: { id: templateId }, data: { memoryReservationMb: 512 } });
  // Used by the test only to look into host B's containers (no workspace volumes: its worker owns those).
  secondDriver = new DockerDriver(hostB.docker, secondWorkerId);
  await joinHostWorker(harness, hostB, { workerId: secondWorkerId, name: "host B", maxEnvironments: 8, memoryBytes: 8 * 1024 ** 3 });
}, 300_000);
afterAll(async () => {
  // Host B's containers, workspaces and engine go with it.
  await hostB?.close();
  await harness?.close();
}, 120_000);

it("20 environments spread across both hosts by capacity, each running on the host it was placed on", { timeout: 180_000 }, async () => {
  // Host A (harness worker): 20 slots but 8 GiB, i.e. room for 16 reservations of 512 MiB;
  // host B: 8 slots. Each placement goes to the host with the larger free share, so 20
  // students split 2:1 by capacity: 13 on A, 7 on B.
  const placements: Record<string, string[]> = {};
  const startOne = async (index: number) => {
    const student = await harness.newStudent(`Class member ${index}`);
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(started.status).toBe(200);
    const environmentId = started.body.result.data.environmentId;
    const { workerId } = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    (placements[workerId!] ??= []).push(environmentId);
  };
  for (let index = 0; index < 20; index++) await startOne(index);
  expect(placements[harness.workerId]?.length).toBe(13);
  expect(placements[secondWorkerId]?.length).toBe(7);

  // Each environment really runs on its own host's engine, and only there.
  const onB = placements[secondWorkerId]![0]!;
  expect(await secondDriver.state(onB)).toBe("running");
  expect(await harness.driver.state(onB)).toBe("missing");
  expect((await runInEnvironment(secondDriver, onB, "id -un")).output.trim()).toBe("student");

  // Four more fill both hosts exactly (A by memory, B by slots); the next waits in the admission queue.
  for (let index = 20; index < 24; index++) await startOne(index);
  expect([placements[harness.workerId]?.length, placements[secondWorkerId]?.length]).toEqual([16, 8]);
  await expect(harness.server.directory.pick({ reservationBytes: 64 * 1024 ** 2 })).rejects.toMatchObject({ code: "NO_ROOM" });
  const late = await harness.newStudent("Late student");
  const queued = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: late.cookie });
  expect(queued.status).toBe(200);
  expect(queued.body.result.data).toMatchObject({ state: "QUEUED", position: 1 });
});
