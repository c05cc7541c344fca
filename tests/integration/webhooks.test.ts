/**
 * Webhooks against a running platform and a real HTTP receiver on loopback: each event
 * arrives signed (the receiver verifies it with the secret), a failing receiver gets the
 * delivery again with backoff until it answers, and one that never answers is marked failed.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_JOIN_CODE } from "../../server/database/seed";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from "../../server/webhooks/webhook-signature";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { until } from "../support/until";

interface Received {
  event: string;
  delivery: string;
  verified: boolean;
  body: { event: string; courseId: string; data: Record<string, unknown> };
}

/** A receiver that answers 500 to the first `failures` requests of each delivery, then 204. */
async function startReceiver(secret: string, failures: number) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const delivery = String(req.headers[DELIVERY_HEADER]);
      const attempt = (attempts.get(delivery) ?? 0) + 1;
      attempts.set(delivery, attempt);
      received.push({
        event: String(req.headers[EVENT_HEADER]),
        delivery,
        verified: verifyWebhookSignature(req.headers[SIGNATURE_HEADER] as string, raw, secret),
        body: JSON.parse(raw),
      });
      res.writeHead(attempt <= failures ? 500 : 204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let harness: Harness;
let instructorCookie: string;
const receivers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  harness = await startHarness({ server: { webhookDelivery: { retryLimit: 3, retryDelaySeconds: 1, timeoutMs: 5000, allowInternal: true } } });
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await harness?.close();
});

async function addWebhook(url: string, events: string[], secret?: string) {
  const created = await harness.trpc("webhook.create", { courseId: harness.courseId, url, events, secret }, { cookie: instructorCookie });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body.result.data as { id: string; secret: string };
}

describe("webhooks", () => {
  it("a student joining is delivered signed, and retried with backoff until the receiver takes it", async () => {
    const secret = "whsec_test_secret_for_joins";
    const receiver = await startReceiver(secret, 2);
    receivers.push(receiver);
    const hook = await harness.trpc(
      "webhook.create",
      { courseId: harness.courseId, url: receiver.url, events: ["student.joined"], secret },
      { cookie: instructorCookie },
    );
    expect(hook.status).toBe(200);

    const joined = await harness.trpc("join.join", { code: DEMO_JOIN_CODE, displayName: "Webhook Joiner" });
    expect(joined.status).toBe(200);

    const delivery = await until(
      "the delivery to be taken after two failures",
      async () => {
        const row = await harness.db.webhookDelivery.findFirst({ where: { webhookId: hook.body.result.data.id } });
        return row?.status === "DELIVERED" ? row : null;
      },
      60_000,
      250,
    );
    expect(delivery.attempts).toBe(3);
    expect(delivery.lastStatusCode).toBe(204);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.every((request) => request.verified && request.event === "student.joined" && request.delivery === delivery.id)).toBe(true);
    expect(receiver.received[0]!.body).toMatchObject({ event: "student.joined", courseId: harness.courseId, data: { displayName: "Webhook Joiner" } });
  });

  it("a receiver that never answers well gets every retry, and the delivery is marked failed", async () => {
    const receiver = await startReceiver("unused", Number.POSITIVE_INFINITY);
    receivers.push(receiver);
    const hook = await addWebhook(receiver.url, ["student.joined"]);
    await harness.newStudent("Ignored"); // not through a join: no event
    expect((await harness.trpc("join.join", { code: DEMO_JOIN_CODE, displayName: "Second Joiner" })).status).toBe(200);
    const failed = await until(
      "the delivery to fail for good",
      async () => {
        const row = await harness.db.webhookDelivery.findFirst({ where: { webhookId: hook.id } });
        return row?.status === "FAILED" ? row : null;
      },
      60_000,
      250,
    );
    expect(failed.attempts).toBe(4); // the first and three retries
    expect(failed.lastStatusCode).toBe(500);
    expect(receiver.received).toHaveLength(4);
  });

  it("a step passed, the lab completed and the environment stopped are delivered", async () => {
    const secret = "whsec_test_secret_for_progress";
    const receiver = await startReceiver(secret, 0);
    receivers.push(receiver);
    await addWebhook(receiver.url, ["step.passed", "lab.completed", "environment.stopped"], secret);
    const student = await harness.newStudent("Webhook Student");
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(started.body.result.data.state).toBe("RUNNING");
    const environment = await harness.db.environment.findUniqueOrThrow({ where: { userId_labId: { userId: student.userId, labId: harness.labId } } });
    await runInEnvironment(harness.driver, environment.id, "echo notes > ~/workspace/notes.txt");
    const step = await harness.db.labStep.findFirstOrThrow({ where: { labId: harness.labId, checkScript: { not: null } } });
    const checked = await harness.trpc("step.check", { labId: harness.labId, stepId: step.id }, { cookie: student.cookie });
    expect(checked.body.result.data.passed).toBe(true);
    expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: student.cookie })).status).toBe(200);

    await until("three events", () => receiver.received.length >= 3, 60_000, 250);
    const events = receiver.received.map((request) => request.event).sort();
    expect(events).toEqual(["environment.stopped", "lab.completed", "step.passed"]);
    for (const request of receiver.received) {
      expect(request.verified).toBe(true);
      expect(request.body.data).toMatchObject({ userId: student.userId });
    }
    expect(receiver.received.find((request) => request.event === "environment.stopped")!.body.data).toMatchObject({
      environmentId: environment.id,
      reason: "USER",
    });
  });
});
