/**
 * Staff with a course's live room open refetch when one of its environments changes state,
 * whoever changed it (a student, the sweep, reconcile, a lost worker): the lifecycle's change
 * event is the one source, so no code path has to remember to nudge.
 */
import type { Database } from "../database/client";
import type { EnvironmentChange } from "../environments/lifecycle";
import type { LiveRoomChannel } from "./live-room-channel";

/** An environment never changes lab, so its course is remembered (a class starting is 2 changes each). */
const REMEMBERED_COURSES = 10_000;

export function nudgeOnEnvironmentChange(db: Database, live: Pick<LiveRoomChannel, "changed">) {
  const courseOf = new Map<string, string>();
  return async (change: EnvironmentChange) => {
    let courseId = courseOf.get(change.environmentId);
    if (!courseId) {
      const environment = await db.environment.findUnique({ where: { id: change.environmentId }, select: { lab: { select: { courseId: true } } } });
      if (!environment) return;
      courseId = environment.lab.courseId;
      if (courseOf.size >= REMEMBERED_COURSES) courseOf.clear();
      courseOf.set(change.environmentId, courseId);
    }
    live.changed(courseId);
  };
}
