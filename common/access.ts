/**
 * Who may do what, as pure rules over facts (a person's global role, their role in a course,
 * their relation to an environment). Every access decision in the server (tRPC rungs, the
 * terminal gateway, routers) and every page that hides what a person may not do asks here,
 * so "who counts as course staff" is written once. The server reads the facts through
 * server/auth/access.ts; a unit test fails if a role is compared to a literal anywhere else.
 */

/** The roles a person has everywhere (prisma/schema.prisma, enum GlobalRole). */
export const GLOBAL_ROLES = ["ADMIN", "INSTRUCTOR", "STUDENT"] as const;
export type GlobalRole = (typeof GLOBAL_ROLES)[number];

/** The roles a person has in one course (prisma/schema.prisma, enum CourseRole). */
export const COURSE_ROLES = ["INSTRUCTOR", "ASSISTANT", "STUDENT"] as const;
export type CourseRole = (typeof COURSE_ROLES)[number];
export type StaffRole = Exclude<CourseRole, "STUDENT">;

/** The signed-in person, as far as access goes. */
export interface Actor {
  id: string;
  role: GlobalRole;
}

/** Administrators manage users and act as the instructors of every course. */
export const isAdmin = (actor: Pick<Actor, "role">) => actor.role === "ADMIN";

/** Instructors and administrators may create courses; students may not. */
export const canCreateCourses = (actor: Pick<Actor, "role">) => actor.role !== "STUDENT";

/**
 * The role a person acts with in a course: their membership's, or the instructor's for an
 * administrator (of a course that exists); null for a stranger.
 */
export function courseRoleOf(actor: Pick<Actor, "role">, membership: CourseRole | null | undefined, courseExists: boolean): CourseRole | null {
  if (membership) return membership;
  return isAdmin(actor) && courseExists ? "INSTRUCTOR" : null;
}

/** Course staff: the course's instructors and assistants (an administrator acts as an instructor). */
export const isCourseStaff = (role: CourseRole | null | undefined): role is StaffRole => role === "INSTRUCTOR" || role === "ASSISTANT";

/** A student of the course (counts towards seats, gets progress rows, may raise a hand). */
export const isCourseStudent = (role: CourseRole | null | undefined): role is "STUDENT" => role === "STUDENT";

/** Only a course's instructors change its members' roles (assistants may not promote themselves). */
export const canChangeMemberRoles = (role: CourseRole | null | undefined) => role === "INSTRUCTOR";

/** Students see published labs; staff also see drafts. */
export const canSeeLab = (role: CourseRole | null | undefined, lab: { published: boolean }) => lab.published || isCourseStaff(role);

/** Once a workshop has ended, students cannot start or reset; staff still can. */
export const canStartAfterWorkshopEnded = (role: CourseRole | null | undefined) => isCourseStaff(role);

/** Everyone's progress in a lab (the table, the CSV): course staff. */
export const canSeeEveryonesProgress = (role: CourseRole | null | undefined) => isCourseStaff(role);

/**
 * A workspace's files (a .tar): its owner, and staff of its course (an administrator counts).
 * `courseRole` is the person's membership in the environment's course, if any.
 */
export const canDownloadWorkspace = (actor: Actor, environment: { userId: string }, courseRole: CourseRole | null | undefined) =>
  environment.userId === actor.id || isCourseStaff(courseRoleOf(actor, courseRole, true));

/** A lab's workspaces as one archive: course staff, as for everyone's progress. */
export const canDownloadClassWorkspaces = (role: CourseRole | null | undefined) => isCourseStaff(role);

/** The live room, bulk actions, templates, labs, join links: course staff (the tRPC staff rung). */
export const canManageCourse = (role: CourseRole | null | undefined) => isCourseStaff(role);

/**
 * Watching a course's students (their terminals, the live room's socket): its staff, and an
 * administrator even when enrolled in it with another role. `courseRole` is what courseRoleOf
 * answers (null: a stranger, or no such course). The tRPC staff rung is stricter for that
 * administrator (their membership decides there); both are kept as they were.
 */
export const canWatchStudents = (actor: Pick<Actor, "role">, courseRole: CourseRole | null | undefined) =>
  courseRole != null && (isAdmin(actor) || isCourseStaff(courseRole));

/** How a person may attach to an environment's terminals: its owner types, course staff watch. */
export type EnvironmentAccess = "owner" | "watch";

/**
 * The owner; otherwise staff of its course (an administrator counts) watch; otherwise nobody.
 * `courseRole` is the person's membership in the environment's course, if any.
 */
export function environmentAccess(actor: Actor, environment: { userId: string }, courseRole: CourseRole | null | undefined): EnvironmentAccess | null {
  if (environment.userId === actor.id) return "owner";
  return canWatchStudents(actor, courseRoleOf(actor, courseRole, true)) ? "watch" : null;
}

/** The owner types; a watcher types only while holding the keyboard. */
export const canTypeIn = (access: EnvironmentAccess, holdsKeyboard: boolean) => access === "owner" || holdsKeyboard;

/** The owner's window sets a terminal's size (a watcher's would resize the student's screen). */
export const canResize = (access: EnvironmentAccess | null) => access === "owner";

/** Only the owner closes a terminal tab. */
export const canCloseTerminal = (access: EnvironmentAccess | null) => access === "owner";

/** Taking the keyboard is for staff who watch (the owner has it already). */
export const canTakeKeyboard = (access: EnvironmentAccess | null) => access === "watch";

/**
 * What an API token may be granted. `read` covers every read (courses, members, environments,
 * progress); `progress:read` only the progress export; each `:write` one kind of change. No
 * scope implies a write.
 */
export const API_SCOPES = ["read", "progress:read", "courses:write", "labs:write", "environments:write"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Whether a scope lets its holder change anything (the policy test holds every mutation to one). */
export const isWriteScope = (scope: ApiScope) => scope.endsWith(":write");

/**
 * A token calls only procedures that name the scope they need (tRPC meta `scope`), and only
 * with that scope (or `read` for a read); what the token's person may do is decided as for
 * them, by the rules above. So its rights are the intersection of its scopes and its person's.
 * Procedures that name no scope (sign-in, passwords, tokens themselves) are for people only.
 */
export function tokenMayCall(granted: readonly string[], required: ApiScope | undefined): boolean {
  if (!required) return false;
  if (granted.includes(required)) return true;
  return !isWriteScope(required) && granted.includes("read");
}

/** A token is revoked by the person it acts as, or by an administrator (any token, service tokens included). */
export const canRevokeToken = (actor: Actor, token: { userId: string }) => token.userId === actor.id || isAdmin(actor);

/** A service account acts as an administrator (every course) or an instructor (the courses it creates or is added to). */
export const SERVICE_ACCOUNT_ROLES = ["ADMIN", "INSTRUCTOR"] as const satisfies readonly GlobalRole[];

/** A course's webhooks: its staff; webhooks for every course: administrators. */
export const canManageWebhooks = (actor: Pick<Actor, "role">, courseRole: CourseRole | null | undefined, everyCourse: boolean) =>
  everyCourse ? isAdmin(actor) : isCourseStaff(courseRole);

/**
 * What runs inside an environment, seen from the browser (a preview of its web server, its
 * services' logs): the owner and whoever may watch it (course staff); nobody else.
 */
export const canSeeEnvironmentApps = (access: EnvironmentAccess | null): access is EnvironmentAccess => access !== null;
