import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "../../server/webhooks/webhook-signature";

describe("webhook signatures", () => {
  const body = JSON.stringify({ event: "step.passed", data: { userId: "u1" } });
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const timestamp = now / 1000;

  it("a receiver with the secret verifies what was signed", () => {
    expect(verifyWebhookSignature(signWebhook("s3cret-s3cret-s3cret", body, timestamp), body, "s3cret-s3cret-s3cret", 300, now)).toBe(true);
  });

  it("another secret, a changed body or an old timestamp does not verify", () => {
    const header = signWebhook("s3cret-s3cret-s3cret", body, timestamp);
    expect(verifyWebhookSignature(header, body, "another-secret-here", 300, now)).toBe(false);
    expect(verifyWebhookSignature(header, body.replace("u1", "u2"), "s3cret-s3cret-s3cret", 300, now)).toBe(false);
    expect(verifyWebhookSignature(header, body, "s3cret-s3cret-s3cret", 300, now + 301_000)).toBe(false);
    expect(verifyWebhookSignature(undefined, body, "s3cret-s3cret-s3cret", 300, now)).toBe(false);
    expect(verifyWebhookSignature("t=abc,v1=zz", body, "s3cret-s3cret-s3cret", 300, now)).toBe(false);
  });
});
