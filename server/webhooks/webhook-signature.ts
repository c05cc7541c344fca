/**
 * Webhook signatures as Stripe writes them: `Shellroom-Signature: t=<unix seconds>,v1=<hex>`,
 * where v1 is HMAC-SHA256(secret, "<t>.<raw body>"). The timestamp is inside the MAC, so a
 * receiver that refuses old timestamps refuses replays too.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "shellroom-signature";
export const EVENT_HEADER = "shellroom-event";
export const DELIVERY_HEADER = "shellroom-delivery";
/** How old a signature a receiver should still accept (the default of verifyWebhookSignature). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

const macOf = (secret: string, timestamp: number, body: string) => createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

export function signWebhook(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${macOf(secret, timestamp, body)}`;
}

/** For receivers (and the tests that play one): true when `header` signs `body` with `secret`, recently enough. */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secret: string,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
  now = Date.now(),
): boolean {
  const fields = new Map((header ?? "").split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestamp = Number(fields.get("t"));
  const given = fields.get("v1") ?? "";
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  return timingSafeEqual(Buffer.from(given, "hex"), Buffer.from(macOf(secret, timestamp, body), "hex"));
}
