/**
 * Staff with a course's live room open refetch when one of its environments changes state,
 * whoever changed it (a student, the sweep, reconcile, a lost worker): the lifecycle's change
 * event is the one source, so no code path has to remember to nudge.
 */
import type { Database } from "../database/client";
import type { EnvironmentChange } from "../environments/lifecycle";
import type { LiveRoomChannel } from "./live-room-channel";

export function nudgeOnEnvironmentChange(db: Database, live: Pick<LiveRoomChannel, "changed">) {
  return async (change: EnvironmentChange) => {
    const environment = await db.environment.findUnique({ where: { id: change.environmentId }, select: { lab: { select: { courseId: true } } } });
    if (environment) live.changed(environment.lab.courseId);
  };
}
