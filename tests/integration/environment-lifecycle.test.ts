/**
 * The environment lifecycle against real parts: idle culling, lifetime warning and expiry,
 * a worker killed with SIGKILL (marked lost, then adopted on restart with files intact),
 * and orphan containers removed on reconcile.
 */
import { spawn, type ChildProcess } from "node:child_process";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply, EnvironmentNotice } from "../../protocol/browser-contract";
import { containerCreateOptions } from "../../runtime-worker/docker/container-config";
import { nextEvent, startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let instructor: string;
beforeAll(async () => {
  harness = await startHarness();
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  await harness?.close();
});

async function startedEnvironment(name: string) {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  return { student, environmentId: started.body.result.data.environmentId as string };
}

async function attached(cookie: string, environmentId: string) {
  const socket = await harness.terminalSocket(cookie);
  const reply = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
  expect(reply.ok).toBe(true);
  return socket;
}

const nextNotice = (socket: Socket) => new Promise<EnvironmentNotice>((resolve) => socket.once("environment:notice", resolve));

describe("idle and lifetime limits", () => {
  it("an idle environment is stopped with its files kept, the student is told, and it resumes with the same files", async () => {
    const { student, environmentId } = await startedEnvironment("Idle Student");
    await runInEnvironment(harness.driver, environmentId, "echo still-here > ~/workspace/idle.txt");
    const socket = await attached(student.cookie, environmentId);
    const notice = nextNotice(socket);
    // Two hours without activity. A heartbeat already on its way may still report the
    // shell's first prompt as activity (correctly keeping it alive); then age it again.
    await expect
      .poll(
        async () => {
          await harness.db.environment.update({ where: { id: environmentId }, data: { lastActivityAt: new Date(Date.now() - 2 * 60 * 60_000) } });
          await harness.server.sweeper.sweep();
          return (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe("STOPPED");
    expect(await notice).toMatchObject({ kind: "stopped", message: expect.stringMatching(/without activity/) });
    expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).toMatchObject({ state: "STOPPED", stopReason: "IDLE" });
    // The container is gone; only the workspace volume is kept.
    expect(await harness.driver.state(environmentId)).toBe("missing");
    const { containerId: before } = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(before).toBeNull();

    await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/idle.txt")).output).toContain("still-here");
  });

  it("staff with the live room open are nudged when the sweep stops an environment, and the transition is counted", async () => {
    const { environmentId } = await startedEnvironment("Quietly Idle");
    const staff = await harness.terminalSocket(instructor);
    expect(await new Promise((resolve) => staff.emit("room:join", { courseId: harness.courseId }, resolve))).toEqual({ ok: true });
    const nudged = nextEvent<{ courseId: string }>(staff, "room:changed");
    await expect
      .poll(
        async () => {
          await harness.db.environment.update({ where: { id: environmentId }, data: { lastActivityAt: new Date(Date.now() - 2 * 60 * 60_000) } });
          await harness.server.sweeper.sweep();
          return (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe("STOPPED");
    // Nothing in the sweep speaks to the live room: the lifecycle's change event does.
    expect(await nudged).toEqual({ courseId: harness.courseId });
    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(/shellroom_environment_transitions_total\{from="RUNNING",to="STOPPED",reason="IDLE"\} [1-9]/);
    expect(metrics).toMatch(/shellroom_environment_transitions_total\{from="STARTING",to="RUNNING",reason="none"\} [1-9]/);
    staff.close();
  });

  it("warns once a few minutes before the lifetime limit, can be extended by staff, and stops at the limit", async () => {
    const { student, environmentId } = await startedEnvironment("Timed Student");
    const socket = await attached(student.cookie, environmentId);
    await harness.db.environment.update({ where: { id: environmentId }, data: { expiresAt: new Date(Date.now() + 3 * 60_000) } });

    let notice = nextNotice(socket);
    await harness.server.sweeper.sweep();
    expect(await notice).toMatchObject({ kind: "warning", message: expect.stringMatching(/stops in 3 minutes/) });
    const warned = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(warned.warnedAt).not.toBeNull();
    await harness.server.sweeper.sweep();
    expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).warnedAt).toEqual(warned.warnedAt);

    notice = nextNotice(socket);
    const extended = await harness.trpc("environment.extend", { courseId: harness.courseId, environmentId, minutes: 30 }, { cookie: instructor });
    expect(extended.status).toBe(200);
    expect(await notice).toMatchObject({ kind: "info", message: "Your instructor gave you 30 more minutes." });
    const byStudent = await harness.trpc("environment.extend", { courseId: harness.courseId, environmentId, minutes: 30 }, { cookie: student.cookie });
    expect(byStudent.status).toBe(403);

    await harness.db.environment.update({ where: { id: environmentId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    notice = nextNotice(socket);
    await harness.server.sweeper.sweep();
    expect(await notice).toMatchObject({ kind: "stopped", message: expect.stringMatching(/time limit/) });
    expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).toMatchObject({ state: "STOPPED", stopReason: "EXPIRED" });
  });
});

describe("worker failure and recovery", () => {
  const workerId = `killable-${Date.now().toString(36)}`;
  let child: ChildProcess | undefined;

  const startWorkerProcess = () => {
    const process_ = spawn(process.execPath, ["--import", "tsx", "runtime-worker/main.ts"], {
      env: {
        ...process.env,
        SHELLROOM_SERVER_URL: harness.url,
        SHELLROOM_WORKER_TOKEN: harness.workerTokenFor(workerId),
        SHELLROOM_WORKER_ID: workerId,
        SHELLROOM_WORKER_MAX_ENVIRONMENTS: "500",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child = process_;
    return process_;
  };
  const workerStatus = async () => (await harness.db.worker.findUnique({ where: { id: workerId } }))?.status;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    const environments = await harness.db.environment.findMany({ where: { workerId } });
    for (const environment of environments) await harness.driver.remove(environment.id, { removeVolume: true }).catch(() => undefined);
  });

  it(
    "a worker killed with SIGKILL is marked lost; restarted, it adopts its containers and the terminal works with files intact",
    { timeout: 120_000 },
    async () => {
      startWorkerProcess();
      await expect.poll(workerStatus, { timeout: 30_000 }).toBe("ONLINE");
      // The new worker has the most free room, so the scheduler places the student there.
      const { student, environmentId } = await startedEnvironment("Resilient Student");
      expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).workerId).toBe(workerId);
      await runInEnvironment(harness.driver, environmentId, "echo survived > ~/workspace/kept.txt");

      child!.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
      // Lost once its heartbeat is older than the window (20 s); the sweep notices.
      await expect
        .poll(
          async () => {
            await harness.server.sweeper.sweep();
            return workerStatus();
          },
          { timeout: 40_000, interval: 1000 },
        )
        .toBe("LOST");
      expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state).toBe("INTERRUPTED");
      const meanwhile = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
      expect(meanwhile.status).toBe(503);
      expect(meanwhile.body.error.message).toMatch(/offline right now\. It is kept safe/);

      startWorkerProcess();
      await expect
        .poll(async () => (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state, { timeout: 30_000 })
        .toBe("RUNNING");
      const resumed = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
      expect(resumed.status).toBe(200);
      const socket = await attached(student.cookie, environmentId);
      const output = waitForOutput(socket, /survived/);
      socket.emit("terminal:input", { environmentId, data: "cat ~/workspace/kept.txt\r" });
      await output;
    },
  );

  it("containers that no environment owns are removed when the worker reconciles", { timeout: 60_000 }, async () => {
    const docker = new Docker();
    const orphanId = `orphan${Date.now().toString(36)}`;
    const options = containerCreateOptions(
      {
        environmentId: orphanId,
        image: "shellroom/default:1",
        network: "none",
        workingDir: "/home/student/workspace",
        user: "student",
        ownerId: "nobody",
        limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 100_000_000, pidsLimit: 32 },
        setupScript: null,
      },
      workerId,
    );
    await docker.createVolume({ Name: `shellroom-ws-${orphanId}` });
    await (await docker.createContainer(options)).start();
    expect(await harness.driver.state(orphanId)).toBe("running");

    // Reconnect the worker: reconcile runs on every (re)connection.
    child!.kill("SIGTERM");
    await new Promise((resolve) => child!.once("exit", resolve));
    startWorkerProcess();
    await expect
      .poll(async () => (await docker.listContainers({ all: true, filters: { name: [`shellroom-env-${orphanId}`] } })).length, { timeout: 30_000 })
      .toBe(0);
    // Its volume goes right after it (polled: the worker removes the container first).
    const volumeState = () =>
      docker
        .getVolume(`shellroom-ws-${orphanId}`)
        .inspect()
        .then(
          () => "present",
          () => "gone",
        );
    await expect.poll(volumeState, { timeout: 30_000 }).toBe("gone");
  });
});
