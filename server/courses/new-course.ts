/** A new course with its join code and its first instructor: the course router and the command line both make them here. */
import type { Database } from "../database/client";
import type { CourseKind } from "../../generated/prisma/client";
import { slugFrom } from "./course-slugs";
import { generateJoinCode } from "./join-codes";

export interface NewCourse {
  title: string;
  description?: string;
  kind?: CourseKind;
  startsAt?: Date | null;
  endsAt?: Date | null;
  /** Its first instructor (a course made on the command line may have none yet). */
  instructorId: string | null;
}

export function createCourse(db: Database, course: NewCourse) {
  return db.course.create({
    data: {
      title: course.title,
      description: course.description,
      kind: course.kind,
      startsAt: course.startsAt,
      endsAt: course.endsAt,
      slug: slugFrom(course.title),
      joinCode: generateJoinCode(),
      ...(course.instructorId ? { members: { create: { userId: course.instructorId, role: "INSTRUCTOR" } } } : {}),
    },
    select: { id: true, joinCode: true },
  });
}

/** The link students open to join (/join/<code>). */
export const joinLinkOf = (publicUrl: string, joinCode: string) => `${new URL(publicUrl).origin}/join/${joinCode}`;
