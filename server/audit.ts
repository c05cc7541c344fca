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
  | "course.created"
  | "course.join"
  | "course.join_link_changed"
  | "user.role_changed"
  | "environment.staff_access"
  | "environment.access_refused"
  | "environment.keyboard_taken"
  | "environment.keyboard_released"
  | "course.broadcast"
  | "course.workshop_ended"
  | "course.workshop_reopened";

export interface AuditEntry {
  action: AuditAction;
  actorId?: string | null;
  subjectType?: string;
  subjectId?: string;
  courseId?: string | null;
  ip?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

export class AuditLog {
  constructor(private readonly db: Database, private readonly log: Logger) {}

  async record(entry: AuditEntry) {
    try {
      await this.db.auditEvent.create({ data: { ...entry, details: entry.details ?? undefined } });
    } catch (error) {
      this.log.error({ action: entry.action, err: (error as Error).message }, "could not record audit event");
    }
  }
}
