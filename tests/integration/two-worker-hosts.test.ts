/**
 * Two worker hosts: the harness worker on the default engine, and a second worker process
 * on a second dockerd (its own data root and socket). New environments go where there is
 * the most room, so a class spreads across both by capacity.
 */
import { spawn, type ChildProcess } from "node:child_process";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const secondHost = process.env.SHELLROOM_SECOND_DOCKER_HOST;
let harness: Harness;
let secondWorker: ChildProcess;
let secondDriver: DockerDriver;
const secondWorkerId = `host-b-${Date.now().toString(36)}`;

beforeAll(async () => {
  if (!secondHost) throw new Error("SHELLROOM_SECOND_DOCKER_HOST is not set: scripts/test.sh starts the second engine (scripts/ensure-second-docker.sh)");
  harness = await startHarness({ redis: false });
  // Reservations as large as the limits (512 MiB), so memory binds on host A as well as slots.
  const { templateId } = await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } });
  await harness.db.environmentTemplate.update({ where: { id: templateId }, data: { memoryReservationMb: 512 } });
  // Used by the test only to look at host B (and clean it up); the worker process drives it.
  const dockerB = new Docker({ socketPath: secondHost.replace("unix://", "") });
  secondDriver = new DockerDriver(dockerB, secondWorkerId, await WorkspaceVolumes.open(dockerB));
  secondWorker = spawn(process.execPath, ["--import", "tsx", "runtime-worker/main.ts"], {
    env: {
      ...process.env,
      DOCKER_HOST: secondHost,
      SHELLROOM_SERVER_URL: harness.url,
      SHELLROOM_WORKER_TOKEN: harness.workerTokenFor(secondWorkerId),
      SHELLROOM_WORKER_ID: secondWorkerId,
      SHELLROOM_WORKER_NAME: "host B",
      SHELLROOM_WORKER_MAX_ENVIRONMENTS: "8",
      SHELLROOM_WORKER_MEMORY_BYTES: String(8 * 1024 ** 3),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let attempt = 0; attempt < 300 && (await harness.db.worker.findUnique({ where: { id: secondWorkerId } }))?.status !== "ONLINE"; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});
afterAll(async () => {
  const onB = (await harness?.db.environment.findMany({ where: { workerId: secondWorkerId } })) ?? [];
  for (const environment of onB) await secondDriver.remove(environment.id, { removeVolume: true, volumeName: environment.volumeName }).catch(() => undefined);
  if (secondWorker && secondWorker.exitCode === null) {
    secondWorker.kill("SIGTERM");
    await new Promise((resolve) => secondWorker.once("exit", resolve));
  }
  await harness?.close();
});

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
