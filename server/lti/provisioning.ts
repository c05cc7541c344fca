/**
 * What a verified launch makes true in Shellroom: the LMS user is an account (found by
 * platform and `sub`, never by email), the LMS course is a Shellroom course (created on its
 * first launch, or the one an operator linked it to), the person is a member with the role
 * the LMS gives them, and the resource link knows its lab and its gradebook column.
 */
import type { Database } from "../database/client";
import { slugFrom } from "../courses/course-slugs";
import { isCourseStudent, type CourseRole } from "../auth/access";
import { Bounds } from "../../common/input-bounds";
import { CLAIM, CUSTOM_LAB, SCOPE, courseRoleForLtiRoles, displayNameOf, type LaunchClaims } from "./claims";

export interface ProvisionedLaunch {
  userId: string;
  courseId: string;
  courseCreated: boolean;
  role: CourseRole;
  /** The LtiContext row. */
  contextId: string;
  /** The lab the resource link opens, when it has one. */
  labId: string | null;
}

function isUniqueViolation(error: unknown) {
  return typeof error === "object" && error !== null && (error as { code?: string }).code === "P2002";
}

/** The account of a platform's user: found by (platform, sub), or made (with the role STUDENT everywhere). */
export async function accountFor(db: Database, platformId: string, subject: string, profile: { name: string; email?: string }): Promise<string> {
  const found = await db.ltiIdentity.findUnique({ where: { platformId_subject: { platformId, subject } } });
  if (found) {
    await db.user.update({ where: { id: found.userId }, data: { displayName: profile.name } });
    if (profile.email !== undefined && profile.email !== found.email) await db.ltiIdentity.update({ where: { id: found.id }, data: { email: profile.email } });
    return found.userId;
  }
  try {
    const user = await db.user.create({
      data: { displayName: profile.name, ltiIdentities: { create: { platformId, subject, email: profile.email } } },
    });
    return user.id;
  } catch (error) {
    // Two launches of a new user at once: the other made the account.
    if (!isUniqueViolation(error)) throw error;
    return (await db.ltiIdentity.findUniqueOrThrow({ where: { platformId_subject: { platformId, subject } } })).userId;
  }
}

const customText = (custom: Record<string, unknown> | undefined, name: string) => {
  const value = custom?.[name];
  return typeof value === "string" && value.length > 0 && value.length <= 64 ? value : undefined;
};

function courseTitle(context: LaunchClaims[typeof CLAIM.context]): string {
  const title = (context.title || context.label || "").trim().slice(0, Bounds.courseTitle.max);
  return title.length >= Bounds.courseTitle.min ? title : "LMS course";
}

/**
 * The Shellroom course of an LMS context: the one it was linked to (by its first launch, or
 * by an operator: `npm run admin -- lti link`), or a new course with the LMS course's title.
 * A launch never links an existing course by itself: its Instructor would become that
 * course's instructor.
 */
async function courseForContext(db: Database, platformId: string, claims: LaunchClaims): Promise<{ contextId: string; courseId: string; created: boolean }> {
  const context = claims[CLAIM.context];
  const membershipsUrl = claims[CLAIM.nrps]?.context_memberships_url;
  const existing = await db.ltiContext.findUnique({ where: { platformId_contextId: { platformId, contextId: context.id } } });
  if (existing) {
    await db.ltiContext.update({
      where: { id: existing.id },
      data: { title: context.title ?? existing.title, membershipsUrl: membershipsUrl ?? existing.membershipsUrl },
    });
    return { contextId: existing.id, courseId: existing.courseId, created: false };
  }
  const title = courseTitle(context);
  const course = await db.course.create({ data: { title, slug: slugFrom(title), description: "Created from the LMS." } });
  try {
    const row = await db.ltiContext.create({ data: { platformId, contextId: context.id, courseId: course.id, title: context.title ?? "", membershipsUrl } });
    return { contextId: row.id, courseId: course.id, created: true };
  } catch (error) {
    // Two first launches at once: keep the other's course (and drop the one made here).
    if (!isUniqueViolation(error)) throw error;
    await db.course.delete({ where: { id: course.id } });
    const row = await db.ltiContext.findUniqueOrThrow({ where: { platformId_contextId: { platformId, contextId: context.id } } });
    return { contextId: row.id, courseId: row.courseId, created: false };
  }
}

/** Links an LMS course to an existing Shellroom course (an operator's decision), before or after its first launch. */
export async function linkContext(db: Database, platformId: string, contextId: string, courseId: string) {
  return db.ltiContext.upsert({
    where: { platformId_contextId: { platformId, contextId } },
    create: { platformId, contextId, courseId },
    update: { courseId },
  });
}

/** Enrols the user with the role the LMS gives (the LMS is the truth for its members' roles). */
export async function enrol(db: Database, courseId: string, userId: string, role: CourseRole) {
  await db.courseMember.upsert({
    where: { courseId_userId: { courseId, userId } },
    create: { courseId, userId, role },
    update: { role },
  });
}

/**
 * The resource link's row: its lab (a custom parameter naming a lab of this course, else
 * what it was linked to before) and its AGS line item when the platform lets Shellroom post scores.
 */
async function recordResourceLink(db: Database, platformId: string, contextId: string, courseId: string, claims: LaunchClaims) {
  const link = claims[CLAIM.resourceLink];
  if (!link) return null;
  const named = customText(claims[CLAIM.custom], CUSTOM_LAB);
  const namedLab = named ? await db.lab.findFirst({ where: { id: named, courseId }, select: { id: true } }) : null;
  const ags = claims[CLAIM.ags];
  const lineItemUrl = ags?.lineitem && ags.scope.includes(SCOPE.score) ? ags.lineitem : null;
  return db.ltiResourceLink.upsert({
    where: { platformId_linkId: { platformId, linkId: link.id } },
    create: { platformId, linkId: link.id, contextId, title: link.title ?? "", labId: namedLab?.id ?? null, lineItemUrl },
    update: { title: link.title ?? undefined, lineItemUrl: lineItemUrl ?? undefined, ...(namedLab ? { labId: namedLab.id } : {}) },
  });
}

export async function provisionLaunch(db: Database, platformId: string, claims: LaunchClaims): Promise<ProvisionedLaunch> {
  const userId = await accountFor(db, platformId, claims.sub, { name: displayNameOf(claims), email: claims.email });
  const { contextId, courseId, created } = await courseForContext(db, platformId, claims);
  const role = courseRoleForLtiRoles(claims[CLAIM.roles]);
  await enrol(db, courseId, userId, role);
  const link = await recordResourceLink(db, platformId, contextId, courseId, claims);
  // A student's scores on this link's lab go to its line item (server/lti/grades.ts).
  if (link?.lineItemUrl && link.labId && isCourseStudent(role)) {
    await db.ltiGradeSync.upsert({
      where: { userId_resourceLinkId: { userId, resourceLinkId: link.id } },
      create: { userId, resourceLinkId: link.id },
      update: {},
    });
  }
  return { userId, courseId, courseCreated: created, role, contextId, labId: link?.labId ?? null };
}
