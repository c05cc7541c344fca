/**
 * The audit trail: who signed in, joined, changed a role, or opened a student's
 * environment as staff. Recording never fails the action it describes.
 */
import type { Logger } from "../common/logger";
import type { Database } from "./database/client";

export type AuditAction =
  | "auth.sign_in"
  | "auth.sign_in_failed"
  | "auth.sign_up"
  | "auth.sign_out_everywhere"
  | "auth.password_set"
  | "auth.password_reset_link_created"
  | "auth.password_reset"
  | "auth.lti_launch"
  | "course.created"
  | "course.join"
  | "course.join_link_changed"
  | "user.role_changed"
  | "environment.staff_access"
  | "environment.access_refused"
  | "environment.processes_killed"
  | "environment.keyboard_taken"
  | "environment.keyboard_released"
  | "course.broadcast"
  | "course.workshop_ended"
  | "course.workshop_reopened"
  | "course.prepare"
  | "api_token.created"
  | "api_token.revoked"
  | "webhook.created"
  | "webhook.removed"
  | "workspace.downloaded"
  | "workspace.restored"
  | "worker.scheduling_changed";

export interface AuditEntry {
  action: AuditAction;
  actorId?: string | null;
  subjectType?: string;
  subjectId?: string;
  courseId?: string | null;
  ip?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

/** How long repeats of one kind of event by one actor are folded into one row. */
export const REPEAT_WINDOW_MS = 10 * 60_000;
/** Actors tracked at once; the oldest are forgotten first (their next event is simply written). */
const MAX_TRACKED_REPEATS = 10_000;

export class AuditLog {
  /** `${action}:${actor}` -> until when repeats are only counted, and how many were. */
  private readonly repeats = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  /**
   * For events a client can trigger at will (a refused attach): the first of each kind per
   * actor per window is written; the rest are counted, and the count rides on the next
   * window's first row (`repeatsNotRecorded`). Per replica, so at most one row per replica.
   */
  async recordBounded(entry: AuditEntry, windowMs = REPEAT_WINDOW_MS) {
    const key = `${entry.action}:${entry.actorId ?? `ip ${entry.ip ?? "unknown"}`}`;
    const now = Date.now();
    const previous = this.repeats.get(key);
    if (previous && previous.until > now) {
      previous.suppressed += 1;
      return;
    }
    this.repeats.delete(key);
    if (this.repeats.size >= MAX_TRACKED_REPEATS) this.forgetOldest(now);
    this.repeats.set(key, { until: now + windowMs, suppressed: 0 });
    const suppressed = previous?.suppressed ?? 0;
    await this.record(suppressed > 0 ? { ...entry, details: { ...entry.details, repeatsNotRecorded: suppressed } } : entry);
  }

  private forgetOldest(now: number) {
    for (const [key, window] of this.repeats) if (window.until <= now) this.repeats.delete(key);
    // Insertion order is age order: drop the oldest tenth if all are still live.
    if (this.repeats.size >= MAX_TRACKED_REPEATS) {
      let drop = Math.ceil(MAX_TRACKED_REPEATS / 10);
      for (const key of this.repeats.keys()) {
        if (drop-- <= 0) break;
        this.repeats.delete(key);
      }
    }
  }

  async record(entry: AuditEntry) {
    try {
      await this.db.auditEvent.create({ data: { ...entry, details: entry.details ?? undefined } });
    } catch (error) {
      this.log.error({ action: entry.action, err: (error as Error).message }, "could not record audit event");
    }
  }
}
