/**
 * The worker is as strict with the server's messages as the server is with browsers':
 * every request is parsed, a bad one is answered in words, and the worker keeps serving.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ServerToWorker, type StartEnvironmentReply, type WorkerReply } from "../../protocol/worker-messages";
import { startHarness, type Harness } from "../support/platform-harness";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ redis: false });
});
afterAll(async () => {
  await harness?.close();
});

it("answers malformed requests with an error and keeps serving", async () => {
  const garbage: Array<[string, unknown]> = [
    [ServerToWorker.startEnvironment, { environmentId: "x", image: "shellroom/default:1" }],
    [ServerToWorker.startEnvironment, "rm -rf /"],
    [ServerToWorker.openTerminal, { environmentId: "../etc", terminalId: "main", cols: 80, rows: 24 }],
    [ServerToWorker.removeEnvironment, { environmentId: "a", removeVolume: "yes" }],
    [ServerToWorker.resizeTerminal, null],
  ];
  for (const [event, payload] of garbage) {
    const reply = await harness.server.workers.request<WorkerReply>(harness.workerId, event, payload, 5000);
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error).toMatch(new RegExp(`^invalid ${event}`));
  }
  // A well-formed request still works afterwards.
  const environmentId = `wp${Date.now()}`;
  const started = await harness.server.workers.request<StartEnvironmentReply>(
    harness.workerId,
    ServerToWorker.startEnvironment,
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
  const reply = await harness.server.workers.request<StartEnvironmentReply>(
    harness.workerId,
    ServerToWorker.startEnvironment,
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
  expect(reply).toEqual({ ok: false, error: 'The image "shellroom/does-not-exist:1" does not exist on this worker.' });
  await harness.driver.remove(environmentId, { removeVolume: true });
});
