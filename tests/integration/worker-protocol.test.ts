/**
 * The worker is as strict with the server's messages as the server is with browsers':
 * every request is parsed, a bad one is answered in words, and the worker keeps serving.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RequestContract } from "../../protocol/contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import { createLogger } from "../../common/logger";
import { WorkerMessages } from "../../protocol/worker-contract";
import { startHarness, type Harness } from "../support/platform-harness";
import { until } from "../support/until";

/** What the server and worker logged, as parsed lines (the malformed-message test reads it). */
const logged: Array<Record<string, unknown>> = [];
let harness: Harness;
beforeAll(async () => {
  const log = createLogger({ write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  log.level = "warn";
  harness = await startHarness({ redis: false, log });
});
afterAll(async () => {
  await harness?.close();
});

it("answers malformed requests with an error and keeps serving", async () => {
  const garbage: Array<[RequestContract, unknown]> = [
    [WorkerRequests.startEnvironment, { environmentId: "x", image: "shellroom/default:1" }],
    [WorkerRequests.startEnvironment, "rm -rf /"],
    [WorkerRequests.openTerminal, { environmentId: "../etc", terminalId: "main", cols: 80, rows: 24 }],
    [WorkerRequests.removeEnvironment, { environmentId: "a", removeVolume: "yes" }],
    [WorkerRequests.resizeTerminal, null],
    // Keystrokes are read by a hand-written guard first: what it refuses is still answered in the schema's words.
    [WorkerRequests.terminalInput, { environmentId: "x", terminalId: "main", data: 5 }],
    [WorkerRequests.terminalInput, { environmentId: "x", terminalId: "main", data: "ls\r", acks: [{ environmentId: "x", terminalId: "main", offset: -1 }] }],
  ];
  for (const [contract, payload] of garbage) {
    // Sent as it is: the server's types would not let these through, the worker must not either.
    const reply = (await harness.server.workers.request(harness.workerId, contract, payload, 5000)) as { ok: boolean; code?: string; error?: string };
    expect(reply).toMatchObject({ ok: false, code: "invalid_request", error: expect.stringMatching(new RegExp(`^invalid ${contract.event}`)) });
  }
  // A well-formed request still works afterwards.
  const environmentId = `wp${Date.now()}`;
  const started = await harness.server.workers.request(
    harness.workerId,
    WorkerRequests.startEnvironment,
    {
      environmentId,
      image: "shellroom/default:1",
      network: "none",
      workingDir: "/home/student/workspace",
      user: "student",
      ownerId: "owner",
      limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 64 },
    },
    30_000,
  );
  expect(started.ok).toBe(true);
  await harness.driver.remove(environmentId, { removeVolume: true });
});

it("reports a missing image in words instead of failing silently", async () => {
  const environmentId = `wp${Date.now()}b`;
  const reply = await harness.server.workers.request(
    harness.workerId,
    WorkerRequests.startEnvironment,
    {
      environmentId,
      image: "shellroom/does-not-exist:1",
      network: "none",
      workingDir: "/home/student/workspace",
      user: "student",
      ownerId: "owner",
      limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 64 },
    },
    30_000,
  );
  expect(reply).toEqual({ ok: false, code: "failed", error: 'The image "shellroom/does-not-exist:1" does not exist on this worker.' });
  await harness.driver.remove(environmentId, { removeVolume: true });
});

it("logs a worker's malformed messages with their event, and keeps the worker", async () => {
  const link = harness.worker.socket;
  link.emit(WorkerMessages.heartbeat.event, { runningEnvironments: "many" });
  link.emit(WorkerMessages.terminalTabs.event, { environmentId: "../etc", terminalIds: [] });
  const dropped = () => logged.filter((line) => line.msg === "dropped a worker's message that did not match its contract").map((line) => line.event);
  await until("the malformed messages logged", () => dropped().length >= 2);
  expect(dropped()).toEqual(expect.arrayContaining([WorkerMessages.heartbeat.event, WorkerMessages.terminalTabs.event]));
  // The worker is still served: a request goes through.
  expect(await harness.server.workers.request(harness.workerId, WorkerRequests.listTerminals, { environmentId: "none" }, 5000)).toEqual({
    ok: true,
    terminalIds: [],
  });
});

it("records a heartbeat's terminal activity for this worker's environments only, and never back in time", async () => {
  const { db } = harness;
  const { templateId } = await db.lab.findUniqueOrThrow({ where: { id: harness.labId }, select: { templateId: true } });
  const environmentWith = async (workerId: string | null, lastActivityAt: Date | null) => {
    const user = await db.user.create({ data: { displayName: "Activity", role: "STUDENT" } });
    return (await db.environment.create({ data: { userId: user.id, labId: harness.labId, templateId, workerId, lastActivityAt } })).id;
  };
  const hourAgo = new Date(Date.now() - 60 * 60_000);
  const inAMinute = new Date(Date.now() + 60_000);
  const [never, old, later, elsewhere] = [
    await environmentWith(harness.workerId, null),
    await environmentWith(harness.workerId, hourAgo),
    await environmentWith(harness.workerId, inAMinute),
    await environmentWith(null, hourAgo),
  ];
  const typedAt = Date.now() - 2_000;
  harness.worker.socket.emit(WorkerMessages.heartbeat.event, {
    runningEnvironments: 0,
    openTerminals: 0,
    activity: { [never]: typedAt + 500, [old]: typedAt, [later]: typedAt, [elsewhere]: typedAt },
  });
  const activityOf = async (id: string) => (await db.environment.findUniqueOrThrow({ where: { id } })).lastActivityAt?.getTime() ?? null;
  await until("the activity recorded", async () => (await activityOf(old)) === typedAt);
  // The beat's earliest time stands for all of its environments (none is recorded active later than it was).
  expect(await activityOf(never)).toBe(typedAt);
  // Not moved back, and not recorded for an environment placed on no (or another) worker.
  expect(await activityOf(later)).toBe(inAMinute.getTime());
  expect(await activityOf(elsewhere)).toBe(hourAgo.getTime());
  await db.environment.deleteMany({ where: { id: { in: [never, old, later, elsewhere] } } });
});
