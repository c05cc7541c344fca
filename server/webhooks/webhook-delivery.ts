/**
 * Sends stored webhook deliveries from the durable job queue: one job per delivery, POSTed
 * with its signature; a failure (no answer, or not 2xx) throws, so pg-boss tries again later
 * with exponential backoff, up to `retryLimit` times. Each attempt is recorded on the row.
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { JobQueue } from "../jobs/job-queue";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from "./webhook-signature";
import { postOutbound } from "./outbound-request";
import type { DeliveryQueue } from "./webhook-events";

export const WEBHOOK_QUEUE = "webhook-delivery";

export interface DeliveryPolicy {
  /** Attempts after the first. */
  retryLimit: number;
  /** Seconds before the first retry; each further retry waits about twice as long. */
  retryDelaySeconds: number;
  /** How long one attempt may take. */
  timeoutMs: number;
  /** Whether a webhook may reach loopback and private addresses (SHELLROOM_WEBHOOK_INTERNAL=allow); off: no SSRF into the server's network. */
  allowInternal: boolean;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  retryLimit: 8,
  retryDelaySeconds: 15,
  timeoutMs: 10_000,
  allowInternal: process.env.SHELLROOM_WEBHOOK_INTERNAL === "allow",
};

interface DeliveryJob {
  deliveryId: string;
}

class DeliveryFailed extends Error {}

/** Starts taking delivery jobs; answers the function that queues one. */
export async function attachWebhookDelivery(
  jobs: JobQueue,
  db: Database,
  log: Logger,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
): Promise<DeliveryQueue> {
  const options = {
    retryLimit: policy.retryLimit,
    retryDelay: policy.retryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: Math.ceil(policy.timeoutMs / 1000) + 60,
  };
  await jobs.createQueue(WEBHOOK_QUEUE, { name: WEBHOOK_QUEUE, ...options });
  await jobs.updateQueue(WEBHOOK_QUEUE, { name: WEBHOOK_QUEUE, ...options });
  await jobs.work<DeliveryJob>(WEBHOOK_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1, includeMetadata: true }, async ([job]) => {
    if (!job) return;
    await deliver(db, job.data.deliveryId, policy, job.retryCount >= job.retryLimit, log);
  });
  return async (deliveryId) => {
    await jobs.send(WEBHOOK_QUEUE, { deliveryId } satisfies DeliveryJob, { ...options, singletonKey: deliveryId });
  };
}

async function deliver(db: Database, deliveryId: string, policy: DeliveryPolicy, lastAttempt: boolean, log: Logger) {
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { webhook: { select: { url: true, secret: true, active: true } } },
  });
  if (!delivery || delivery.status !== "PENDING" || !delivery.webhook.active) return;
  const body = JSON.stringify(delivery.payload);
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    // Redirects are not followed (one could point anywhere): a 3xx counts as a failure.
    statusCode = await postOutbound({
      url: delivery.webhook.url,
      headers: {
        "content-type": "application/json",
        "user-agent": "Shellroom-Webhooks",
        [SIGNATURE_HEADER]: signWebhook(delivery.webhook.secret, body),
        [EVENT_HEADER]: delivery.event,
        [DELIVERY_HEADER]: delivery.id,
      },
      body,
      timeoutMs: policy.timeoutMs,
      allowInternal: policy.allowInternal,
    });
    if (statusCode < 200 || statusCode >= 300) error = `the receiver answered ${statusCode}`;
  } catch (cause) {
    error = (cause as Error).message;
  }
  const now = new Date();
  await db.webhookDelivery.update({
    where: { id: deliveryId },
    data: {
      attempts: { increment: 1 },
      lastAttemptAt: now,
      lastStatusCode: statusCode,
      lastError: error,
      ...(error ? (lastAttempt ? { status: "FAILED" } : {}) : { status: "DELIVERED", deliveredAt: now }),
    },
  });
  if (error) {
    log.warn({ deliveryId, event: delivery.event, err: error, lastAttempt }, "a webhook delivery failed");
    if (!lastAttempt) throw new DeliveryFailed(error); // pg-boss retries it later
  }
}
