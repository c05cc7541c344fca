/**
 * The server's access policy: the rules of common/access.ts (re-exported here, so server code
 * imports one module), plus the one loader that reads the facts they need from the database.
 * tRPC rungs (server/trpc/trpc.ts), the terminal gateway and routers decide through it.
 */
import type { Database } from "../database/client";
import { courseRoleOf, type Actor, type CourseRole } from "../../common/access";

export * from "../../common/access";

/** The role `actor` acts with in the course (membership, or instructor for an admin); null for a stranger or no such course. */
export async function loadCourseRole(db: Database, actor: Actor, courseId: string): Promise<CourseRole | null> {
  const membership = await db.courseMember.findUnique({ where: { courseId_userId: { courseId, userId: actor.id } }, select: { role: true } });
  // Only an admin without a membership needs to know whether the course exists.
  const courseExists = !membership && courseRoleOf(actor, null, true) !== null ? (await db.course.count({ where: { id: courseId } })) > 0 : false;
  return courseRoleOf(actor, membership?.role, courseExists);
}
