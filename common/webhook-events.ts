/** The events a webhook may ask for (none chosen: all of them). Shared by the server, which sends them, and the pages that manage webhooks. */
export const WEBHOOK_EVENTS = ["student.joined", "step.passed", "lab.completed", "environment.stopped"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
