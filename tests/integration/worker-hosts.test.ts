/**
 * A worker host that is another machine as far as the network goes: its own network namespace
 * reaching the server over a veth, its own dockerd and data root (tests/support/worker-host.ts).
 * A student's environment placed there runs on that host's engine; a third host joins the
 * running platform later on a network of its own; when host B disappears (its processes
 * killed, its netns deleted) the sweep marks it lost and its student is told, and host C's
 * student carries on.
 */
import type { ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { WORKER_LOST_MESSAGE } from "../../server/environments/lifecycle-sweeper";
import { WORKSPACE_OFFLINE } from "../../server/environments/start-path";
import { ip, namespacePids } from "../support/host-network";
import { hostWorkerSettings, joinHostWorker } from "../support/host-worker";
import { nextEvent, startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { until } from "../support/until";
import { startWorkerHost, type TestWorkerHost } from "../support/worker-host";

let harness: Harness;
let host: TestWorkerHost;
let worker: ChildProcess;
const hostWorkerId = `netns-host-${Date.now().toString(36)}`;
let student: { userId: string; cookie: string };
let environmentId: string;
let hostC: TestWorkerHost | undefined;
const hostCWorkerId = `netns-host-c-${Date.now().toString(36)}`;
let studentOnC: { userId: string; cookie: string };
let environmentOnC: string;

/** A worker on host `on`: 8 places, 4 GiB. */
const workerOn = (workerId: string, name: string) => ({ workerId, name, maxEnvironments: 8, memoryBytes: 4 * 1024 ** 3 });

beforeAll(async () => {
  host = await startWorkerHost({ name: "host-b" });
  // The harness's own worker has no room for a 64 MiB reservation, so placement must choose the host.
  harness = await startHarness({ redis: false, worker: { capacity: { maxEnvironments: 20, memoryBytes: 32 * 1024 ** 2 } } });
  // The server also listens on the host's side of the veth: the only way the host can reach it.
  await harness.listenOn(host.serverAddress);
  worker = await joinHostWorker(harness, host, workerOn(hostWorkerId, "host B (own netns)"));
}, 300_000);

afterAll(async () => {
  await hostC?.close();
  await host?.close();
  await harness?.close();
}, 120_000);

it("a worker in a host of its own joins over the veth, and a student's environment runs on that host's engine", { timeout: 180_000 }, async () => {
  expect(await namespacePids(host.name)).toContain(worker.pid);

  student = await harness.newStudent("Student on host B");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  environmentId = started.body.result.data.environmentId;
  const record = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
  expect(record).toMatchObject({ state: "RUNNING", workerId: hostWorkerId });

  // Its container is on the host's engine, and not on the machine's default one.
  const onHost = await host.docker.listContainers({ filters: { label: [`${LABEL_ENVIRONMENT}=${environmentId}`] } });
  expect(onHost.map((container) => container.State)).toEqual(["running"]);
  expect(await harness.driver.state(environmentId)).toBe("missing");

  // The student's shell works through the host's worker, over the veth.
  const socket = await harness.terminalSocket(student.cookie);
  const reply = await new Promise<{ ok: boolean }>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
  expect(reply).toMatchObject({ ok: true });
  const seen = waitForOutput(socket, /[\r\n]42\r\n/, 30_000);
  socket.emit("terminal:input", { environmentId, data: "echo $((6*7))\r" });
  await seen;

  // Its workspace is the size-limited image the host's worker mounted, seen by the host's engine
  // (they share the host's mount namespace): about the template's 1 GiB, not this machine's disk.
  const sized = waitForOutput(socket, /size=(\d+)k/, 30_000);
  socket.emit("terminal:input", { environmentId, data: 'df -k . | awk \'NR==2 { print "size=" $2 "k" }\'\r' });
  const kib = Number(/size=(\d+)k/.exec(await sized)![1]);
  expect(kib).toBeGreaterThan(512 * 1024);
  expect(kib).toBeLessThan(1100 * 1024);
  socket.close();
});

it("a third host joins the running platform later, on a network of its own, and the next student lands there", { timeout: 240_000 }, async () => {
  hostC = await startWorkerHost({ name: "host-c" });
  await harness.listenOn(hostC.serverAddress);
  // The operator's check, run on the host with the worker's settings, finds nothing missing.
  const check = await hostC.runScript("runtime-worker/cli.ts", ["check"], hostWorkerSettings(harness, hostC, workerOn(hostCWorkerId, "host C")));
  expect(check.output).toMatch(/\[(ok|warn)\] +Server +http:\/\/10\.231\./);
  expect(check.output).toMatch(/\[ok\] +Default image +present/);
  expect({ code: check.code, verdict: check.output.trim().split("\n").at(-1) }).toEqual({ code: 0, verdict: expect.stringMatching(/^Ready/) });
  await joinHostWorker(harness, hostC, workerOn(hostCWorkerId, "host C (own netns)"));

  // Each host reaches the server over its own veth, and not the other host: there is no route.
  await expect(ip("-n", hostC.name, "route", "get", host.address)).rejects.toThrow(/unreachable/i);
  expect((await ip("-n", hostC.name, "route", "get", hostC.serverAddress)).stdout).toContain(hostC.serverAddress);

  // Host C is the emptiest: the next student is placed there, on its engine.
  studentOnC = await harness.newStudent("Student on host C");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: studentOnC.cookie });
  environmentOnC = started.body.result.data.environmentId;
  expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentOnC } })).toMatchObject({ state: "RUNNING", workerId: hostCWorkerId });
  const onC = await hostC.docker.listContainers({ filters: { label: [`${LABEL_ENVIRONMENT}=${environmentOnC}`] } });
  expect(onC.map((container) => container.State)).toEqual(["running"]);
});

it("a host that vanishes is marked lost within the heartbeat window, and its student is told in plain words", { timeout: 180_000 }, async () => {
  expect(environmentId).toBeDefined();
  // The student has their terminal open when the machine goes.
  const socket = await harness.terminalSocket(student.cookie);
  const reply = await new Promise<{ ok: boolean }>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
  expect(reply).toMatchObject({ ok: true });
  const told = nextEvent<{ environmentId: string; kind: string; message: string }>(
    socket,
    "environment:notice",
    (notice) => notice.kind === "stopped",
    120_000,
  );

  await host.vanish();
  expect(await namespacePids(host.name)).toEqual([]);

  // The sweep (run here by hand; every 15 s in production) finds no heartbeat for 20 s.
  await until(
    "the vanished host to be marked lost",
    async () => {
      await harness.server.sweeper.sweep();
      return (await harness.db.worker.findUniqueOrThrow({ where: { id: hostWorkerId } })).status === "LOST";
    },
    90_000,
    1000,
  );

  // Only host B's students: host C and its student carry on.
  expect(await harness.db.worker.findUniqueOrThrow({ where: { id: hostCWorkerId } })).toMatchObject({ status: "ONLINE" });
  expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentOnC } })).toMatchObject({ state: "RUNNING" });

  // The open terminal is told at once, in words; the environment's record says the same.
  expect(await told).toEqual({ environmentId, kind: "stopped", message: WORKER_LOST_MESSAGE });
  socket.close();
  const mine = await harness.trpc("environment.mine", { labId: harness.labId }, { cookie: student.cookie, method: "GET" });
  expect(mine.body.result.data).toMatchObject({ id: environmentId, state: "INTERRUPTED", stopReason: "WORKER_LOST", error: WORKER_LOST_MESSAGE });

  // Starting again cannot move the workspace (it is on the lost host's disk): the student is told to wait, not shown a stack trace.
  const again = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(JSON.stringify(again.body)).toContain(WORKSPACE_OFFLINE);
});

it("a host that cannot start leaves no namespace or directory behind", { timeout: 60_000 }, async () => {
  const leftovers = async () => [
    ...(await ip("netns", "list")).stdout.split("\n").filter((line) => line.startsWith("shr-doomed-")),
    ...(await readdir("/var/lib")).filter((entry) => entry.startsWith("shr-doomed-")),
    ...(await readdir("/run")).filter((entry) => entry.startsWith("shr-doomed-")),
  ];
  // An engine runtime that does not exist: the host fails after its netns, veth and directories were made.
  process.env.SHELLROOM_DOCKER_RUNTIME = "no-such-runtime";
  try {
    await expect(startWorkerHost({ name: "doomed" })).rejects.toThrow(/SHELLROOM_DOCKER_RUNTIME/);
  } finally {
    delete process.env.SHELLROOM_DOCKER_RUNTIME;
  }
  expect(await leftovers()).toEqual([]);
});
