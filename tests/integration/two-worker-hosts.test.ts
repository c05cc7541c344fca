/**
 * Two worker hosts: the harness worker on the default engine and a second worker on a
 * second dockerd (its own data root and socket). New environments go where there is the
 * most room, so a class spreads across both by capacity.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { startWorker, type RunningWorker } from "../../runtime-worker/worker";
import { rootLogger } from "../../common/logger";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const secondHost = process.env.SHELLROOM_SECOND_DOCKER_HOST;
let harness: Harness;
let secondWorker: RunningWorker;
let secondDriver: DockerDriver;
const secondWorkerId = `host-b-${Date.now().toString(36)}`;

beforeAll(async () => {
  if (!secondHost) throw new Error("SHELLROOM_SECOND_DOCKER_HOST is not set: scripts/test.sh starts the second engine (scripts/ensure-second-docker.sh)");
  harness = await startHarness({ redis: false });
  secondDriver = new DockerDriver(new Docker({ socketPath: secondHost.replace("unix://", "") }), secondWorkerId);
  const log = rootLogger.child({ test: "host-b" });
  log.level = "warn";
  secondWorker = startWorker({
    serverUrl: harness.url,
    handshake: { token: harness.workerToken, workerId: secondWorkerId, name: "host B", capacity: { maxEnvironments: 8, memoryBytes: 8 * 1024 ** 3 } },
    driver: secondDriver, log, heartbeatMs: 1000,
  });
  await secondWorker.connected();
  for (let attempt = 0; attempt < 100 && (await harness.db.worker.findUnique({ where: { id: secondWorkerId } }))?.status !== "ONLINE"; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});
afterAll(async () => {
  const onB = await harness?.db.environment.findMany({ where: { workerId: secondWorkerId } }) ?? [];
  for (const environment of onB) await secondDriver.remove(environment.id, { removeVolume: true, volumeName: environment.volumeName }).catch(() => undefined);
  await secondWorker?.close();
  await harness?.close();
});

it("20 environments spread across both hosts by capacity, each running on the host it was placed on", { timeout: 180_000 }, async () => {
  // Host A (harness worker): 20 slots but 8 GiB, i.e. room for 16 environments of 512 MiB;
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

  // Four more fill both hosts exactly (A by memory, B by slots); the next is told so in words.
  for (let index = 20; index < 24; index++) await startOne(index);
  expect([placements[harness.workerId]?.length, placements[secondWorkerId]?.length]).toEqual([16, 8]);
  const late = await harness.newStudent("Late student");
  const refused = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: late.cookie });
  expect(refused.status).toBe(503);
  expect(refused.body.error.message).toMatch(/No machine has room/);
});
