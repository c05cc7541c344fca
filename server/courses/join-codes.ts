/** Workshop join codes: short, unguessable, easy to read out loud in a room. */
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

export function generateJoinCode(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  // 64 random bits, shown in two groups: "k3x9-a7qm2pd4wz" style.
  const code = encodeBase32LowerCaseNoPadding(bytes);
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export type JoinStatus = "open" | "disabled" | "expired" | "full";

export function joinStatus(
  course: { joinEnabled: boolean; joinExpiresAt: Date | null; joinSeatLimit: number | null },
  studentCount: number,
  now = new Date(),
): JoinStatus {
  if (!course.joinEnabled) return "disabled";
  if (course.joinExpiresAt && course.joinExpiresAt <= now) return "expired";
  if (course.joinSeatLimit !== null && studentCount >= course.joinSeatLimit) return "full";
  return "open";
}

export const JOIN_REFUSALS: Record<Exclude<JoinStatus, "open">, string> = {
  disabled: "This join link has been turned off. Ask your instructor for a new one.",
  expired: "This join link has expired. Ask your instructor for a new one.",
  full: "This workshop is full: every seat is taken. Ask your instructor to add seats.",
};
