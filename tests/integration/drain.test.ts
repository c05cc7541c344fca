/**
 * Cordon, drain and restore across two worker hosts: the harness worker (host A, the default
 * engine) and a worker on a host of its own (host B, tests/support/worker-host.ts: its own
 * network namespace reaching the server over a veth, its own dockerd and data root). A drained
 * host keeps what runs there until it stops; the next start moves the student, files included.
 * A host that vanishes (its netns gone) leaves its students with the plain message until an
 * administrator restores their workspace from its export onto another host.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { workerCommand } from "../../server/cli/worker-commands";
import { WORKER_LOST_MESSAGE } from "../../server/environments/lifecycle-sweeper";
import { WORKSPACE_OFFLINE } from "../../server/environments/start-path";
import { ip, namespacePids } from "../support/host-network";
import { joinHostWorker } from "../support/host-worker";
import { nextEvent, startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { until } from "../support/until";
import { startWorkerHost, type TestWorkerHost } from "../support/worker-host";

let harness: Harness;
let host: TestWorkerHost;
let worker: ChildProcess;
const hostBWorkerId = `host-b-${Date.now().toString(36)}`;
/** Host B's worker id, and a driver on its engine for looking into its containers (its worker owns the workspaces). */
let hostB: { workerId: string; driver: DockerDriver };
let admin: string;

beforeAll(async () => {
  host = await startWorkerHost({ name: "drain-b" });
  harness = await startHarness({ redis: false });
  // The server also listens on the host's side of the veth: the only way host B reaches it.
  await harness.listenOn(host.serverAddress);
  worker = await joinHostWorker(harness, host, { workerId: hostBWorkerId, name: "host B (own netns)" });
  hostB = { workerId: hostBWorkerId, driver: new DockerDriver(host.docker, hostBWorkerId) };
  admin = await harness.signIn("admin@shellroom.local", "shellroom-admin");
}, 300_000);
afterAll(async () => {
  try {
    // Host B's containers, workspaces, engine and netns go with it (what is left once it vanished).
    await host?.close();
  } finally {
    await harness?.close();
  }
}, 120_000);

const setScheduling = async (workerId: string, scheduling: "OPEN" | "CORDONED" | "DRAINING") => {
  const response = await harness.trpc("admin.setWorkerScheduling", { workerId, scheduling }, { cookie: admin });
  expect(response.status).toBe(200);
};

/** Starts the student's environment; where it runs. */
async function start(cookie: string) {
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId: string = started.body.result.data.environmentId;
  return harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
}

it("a student's next start after a drain lands on another worker with their files; what ran kept running until it stopped", { timeout: 240_000 }, async () => {
  const hostA = harness.workerId;
  // Host B cordoned: the student lands on host A.
  await setScheduling(hostB.workerId, "CORDONED");
  const student = await harness.newStudent("Drained Student");
  const first = await start(student.cookie);
  expect(first.workerId).toBe(hostA);
  expect((await runInEnvironment(harness.driver, first.id, "mkdir -p src && echo 'kept across hosts' > src/notes.txt && echo ok")).output.trim()).toBe("ok");

  // Host B opens; host A drains (from the command line, as an operator would).
  await setScheduling(hostB.workerId, "OPEN");
  expect(await workerCommand(harness.db, ["drain", hostA])).toEqual([expect.stringMatching(/now draining/)]);
  expect((await harness.db.worker.findUniqueOrThrow({ where: { id: hostA } })).scheduling).toBe("DRAINING");

  // Running environments keep running: a page reload finds it where it is.
  expect((await start(student.cookie)).workerId).toBe(hostA);
  expect(await harness.driver.state(first.id)).toBe("running");
  // Nothing new goes to a draining host.
  const newcomer = await harness.newStudent("Newcomer");
  expect((await start(newcomer.cookie)).workerId).toBe(hostB.workerId);

  // Stopped, then started again: it moves to host B, files and all, and the record follows.
  await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: student.cookie });
  const moved = await start(student.cookie);
  // Counted on host B from its claim (movingToWorkerId) until the copy re-pointed it.
  expect(moved).toMatchObject({ id: first.id, workerId: hostB.workerId, state: "RUNNING", movingToWorkerId: null });
  expect(moved.volumeName).not.toBe(first.volumeName);
  expect(await hostB.driver.state(first.id)).toBe("running");
  expect(
    (await runInEnvironment(hostB.driver, first.id, "cat src/notes.txt; id -un")).output
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
  ).toEqual(["kept across hosts", "student"]);
  // Host A lets go of its copy.
  await until(
    "the old workspace removed from host A",
    async () => (await harness.driver.exportWorkspace({ ...specOf(first), volumeName: first.volumeName })) === null,
  );

  await workerCommand(harness.db, ["uncordon", hostA]);
  expect((await harness.db.worker.findUniqueOrThrow({ where: { id: hostA } })).scheduling).toBe("OPEN");
});

it(
  "after a host dies, an administrator restores a workspace from its export onto another host and the student's files are back",
  { timeout: 240_000 },
  async () => {
    // The student lands on host B (host A cordoned for the start).
    await setScheduling(hostB.workerId, "OPEN");
    await setScheduling(harness.workerId, "CORDONED");
    const student = await harness.newStudent("Stranded Student");
    const placed = await start(student.cookie);
    expect(placed.workerId).toBe(hostB.workerId);
    await setScheduling(harness.workerId, "OPEN");
    expect((await runInEnvironment(hostB.driver, placed.id, "echo 'survives the host' > essay.txt && echo ok")).output.trim()).toBe("ok");

    // Exported before the host dies (an administrator's "export now"; snapshots do the same on a timer).
    const exported = await harness.trpc("admin.exportWorkerWorkspaces", { workerId: hostB.workerId }, { cookie: admin });
    expect(exported.status).toBe(200);
    expect(exported.body.result.data.exported).toBeGreaterThanOrEqual(1);

    // The student has their terminal open when the machine goes.
    const socket = await harness.terminalSocket(student.cookie);
    const attached = await new Promise<{ ok: boolean }>((resolve) => socket.emit("terminal:attach", { environmentId: placed.id, cols: 80, rows: 24 }, resolve));
    expect(attached).toMatchObject({ ok: true });
    const told = nextEvent<{ environmentId: string; kind: string; message: string }>(
      socket,
      "environment:notice",
      (notice) => notice.kind === "stopped",
      120_000,
    );

    // The host vanishes (its processes killed, its veth and netns deleted); once its heartbeat is
    // stale the sweep marks it lost and the student is told, plainly.
    expect(await namespacePids(host.name)).toContain(worker.pid);
    await host.vanish();
    expect(await namespacePids(host.name)).toEqual([]);
    expect((await ip("netns", "list")).stdout).not.toContain(host.name);
    await until(
      "host B marked lost",
      async () => {
        await harness.server.sweeper.sweep();
        return (await harness.db.worker.findUniqueOrThrow({ where: { id: hostB.workerId } })).status === "LOST";
      },
      90_000,
      1000,
    );
    expect(await told).toEqual({ environmentId: placed.id, kind: "stopped", message: WORKER_LOST_MESSAGE });
    socket.close();
    const mine = await harness.trpc("environment.mine", { labId: harness.labId }, { cookie: student.cookie, method: "GET" });
    expect(mine.body.result.data).toMatchObject({ id: placed.id, state: "INTERRUPTED", stopReason: "WORKER_LOST", error: WORKER_LOST_MESSAGE });
    // Starting again cannot move the workspace (it was on the vanished host's disk): the student is told to wait.
    const refused = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(refused.status).toBe(503);
    expect(refused.body.error.message).toBe(WORKSPACE_OFFLINE);

    // The admin page lists it with its export; the restore puts it on host A.
    const stranded = await harness.trpc("admin.strandedWorkspaces", undefined, { cookie: admin, method: "GET" });
    expect(stranded.body.result.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: placed.id, workerId: hostB.workerId, latestExport: expect.objectContaining({}) })]),
    );
    const restored = await harness.trpc("admin.restoreWorkspace", { environmentId: placed.id, workerId: harness.workerId }, { cookie: admin });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);

    const back = await start(student.cookie);
    expect(back).toMatchObject({ id: placed.id, workerId: harness.workerId, state: "RUNNING" });
    expect((await runInEnvironment(harness.driver, placed.id, "cat essay.txt")).output.trim()).toBe("survives the host");
  },
);

/** Enough of a spec to ask a driver whether it still holds an environment's workspace. */
function specOf(environment: { id: string; userId: string }) {
  return {
    environmentId: environment.id,
    ownerId: environment.userId,
    image: "shellroom/default:1",
    limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 },
    network: "none" as const,
    workingDir: "/home/student/workspace",
    user: "student",
  };
}
