/**
 * What a course sends to its webhooks: a student joined, a step passed, a lab completed, an
 * environment stopped. Each event becomes one delivery row per matching webhook (the
 * course's and the global ones) and one job on the durable queue (webhook-delivery.ts).
 * Emitting never fails the action that caused it: problems are logged.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { EnvironmentChange } from "../environments/lifecycle";

import type { WebhookEvent } from "../../common/webhook-events";
export { WEBHOOK_EVENTS, type WebhookEvent } from "../../common/webhook-events";

/** The body every delivery carries: `data` depends on the event. */
export interface WebhookPayload {
  id: string;
  event: WebhookEvent;
  createdAt: string;
  courseId: string;
  data: Record<string, string | number | boolean | null>;
}

/** Hands a stored delivery to whatever sends it (the job queue). */
export type DeliveryQueue = (deliveryId: string) => Promise<void>;

export class WebhookEvents {
  private queue: DeliveryQueue | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  /** Deliveries wait in the table until a queue is attached. */
  attach(queue: DeliveryQueue) {
    this.queue = queue;
  }

  async studentJoined(courseId: string, userId: string) {
    await this.safely("student.joined", async () => {
      const user = await this.db.user.findUniqueOrThrow({ where: { id: userId }, select: { displayName: true, email: true } });
      await this.emit("student.joined", courseId, { userId, displayName: user.displayName, email: user.email });
    });
  }

  /** After a check: "step.passed" the first time it passes, "lab.completed" when that makes every checked step passed. */
  async stepChecked(check: { courseId: string; labId: string; stepId: string; userId: string; passed: boolean; passedBefore: boolean }) {
    if (!check.passed || check.passedBefore) return;
    await this.safely("step.passed", async () => {
      const { courseId, labId, stepId, userId } = check;
      await this.emit("step.passed", courseId, { userId, labId, stepId });
      const [checkedSteps, passed] = await Promise.all([
        this.db.labStep.count({ where: { labId, checkScript: { not: null } } }),
        this.db.stepResult.count({ where: { labId, userId, passed: true, step: { checkScript: { not: null } } } }),
      ]);
      if (checkedSteps > 0 && passed >= checkedSteps) await this.emit("lab.completed", courseId, { userId, labId, checksPassed: passed, checks: checkedSteps });
    });
  }

  /** A lifecycle listener: every move into STOPPED. */
  readonly onEnvironmentChange = (change: EnvironmentChange) => {
    if (change.to !== "STOPPED") return;
    void this.safely("environment.stopped", async () => {
      const environment = await this.db.environment.findUnique({
        where: { id: change.environmentId },
        select: { userId: true, labId: true, lab: { select: { courseId: true } } },
      });
      if (!environment) return;
      await this.emit("environment.stopped", environment.lab.courseId, {
        environmentId: change.environmentId,
        userId: environment.userId,
        labId: environment.labId,
        reason: change.reason,
      });
    });
  };

  private async emit(event: WebhookEvent, courseId: string, data: WebhookPayload["data"]) {
    const hooks = await this.db.webhook.findMany({
      where: { active: true, OR: [{ courseId }, { courseId: null }], AND: [{ OR: [{ events: { isEmpty: true } }, { events: { has: event } }] }] },
      select: { id: true },
    });
    if (hooks.length === 0) return;
    const payload: WebhookPayload = { id: randomUUID(), event, createdAt: new Date().toISOString(), courseId, data };
    for (const hook of hooks) {
      const delivery = await this.db.webhookDelivery.create({ data: { webhookId: hook.id, event, payload: { ...payload } }, select: { id: true } });
      await this.queue?.(delivery.id);
    }
  }

  private async safely(event: WebhookEvent, work: () => Promise<void>) {
    try {
      await work();
    } catch (error) {
      this.log.error({ event, err: (error as Error).message }, "a webhook event could not be queued");
    }
  }
}
