/**
 * The access policy (common/access.ts, read through server/auth/access.ts) as a table: who
 * (global role, course role, relation to an environment) may do what. Then a scan: no file
 * but the policy compares a course or global role to a literal, so the rules stay in one place.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  canChangeMemberRoles,
  canCloseTerminal,
  canSeeEnvironmentApps,
  canCreateCourses,
  canDownloadClassWorkspaces,
  canDownloadWorkspace,
  canManageCourse,
  canResize,
  canSeeEveryonesProgress,
  canSeeLab,
  canStartAfterWorkshopEnded,
  canTakeKeyboard,
  canTypeIn,
  canWatchStudents,
  courseRoleOf,
  environmentAccess,
  isAdmin,
  isCourseStaff,
  isCourseStudent,
  type Actor,
  type CourseRole,
} from "../../server/auth/access";

interface Person {
  who: string;
  actor: Actor;
  /** Their membership in the course, if any. */
  membership: CourseRole | null;
}

const OWNER_ID = "student-1";
const people: Person[] = [
  { who: "the student who owns the environment", actor: { id: OWNER_ID, role: "STUDENT" }, membership: "STUDENT" },
  { who: "another student of the course", actor: { id: "student-2", role: "STUDENT" }, membership: "STUDENT" },
  { who: "an assistant", actor: { id: "assistant", role: "STUDENT" }, membership: "ASSISTANT" },
  { who: "an assistant demoted to student", actor: { id: "demoted", role: "STUDENT" }, membership: "STUDENT" },
  { who: "an instructor of the course", actor: { id: "instructor", role: "INSTRUCTOR" }, membership: "INSTRUCTOR" },
  { who: "an instructor of another course", actor: { id: "stranger-instructor", role: "INSTRUCTOR" }, membership: null },
  { who: "a student of another course", actor: { id: "stranger", role: "STUDENT" }, membership: null },
  { who: "an administrator", actor: { id: "admin", role: "ADMIN" }, membership: null },
  { who: "an administrator enrolled as a student", actor: { id: "admin-student", role: "ADMIN" }, membership: "STUDENT" },
];

/** What each person may do, in the course and with the owner's environment. */
interface Expectation {
  courseRole: CourseRole | null;
  staff: boolean;
  changeRoles: boolean;
  seeDraftLab: boolean;
  startAfterEnd: boolean;
  environment: "owner" | "watch" | null;
  createCourses: boolean;
  admin: boolean;
}

/** Someone outside the course may do none of it; each person below says only where they differ. */
const OUTSIDER: Expectation = {
  courseRole: null,
  staff: false,
  changeRoles: false,
  seeDraftLab: false,
  startAfterEnd: false,
  environment: null,
  createCourses: false,
  admin: false,
};
/** What course staff (assistants and up) may do beyond a student. */
const STAFF = { staff: true, seeDraftLab: true, startAfterEnd: true, environment: "watch" } as const;

const expected: Record<string, Expectation> = {
  "the student who owns the environment": { ...OUTSIDER, courseRole: "STUDENT", environment: "owner" },
  "another student of the course": { ...OUTSIDER, courseRole: "STUDENT" },
  "an assistant": { ...OUTSIDER, ...STAFF, courseRole: "ASSISTANT" },
  "an assistant demoted to student": { ...OUTSIDER, courseRole: "STUDENT" },
  "an instructor of the course": { ...OUTSIDER, ...STAFF, courseRole: "INSTRUCTOR", changeRoles: true, createCourses: true },
  "an instructor of another course": { ...OUTSIDER, createCourses: true },
  "a student of another course": OUTSIDER,
  "an administrator": { ...OUTSIDER, ...STAFF, courseRole: "INSTRUCTOR", changeRoles: true, createCourses: true, admin: true },
  // Their membership decides in the tRPC rungs; the terminal gateway lets any administrator watch (as before).
  "an administrator enrolled as a student": { ...OUTSIDER, courseRole: "STUDENT", environment: "watch", createCourses: true, admin: true },
};

describe.each(people)("$who", ({ who, actor, membership }) => {
  const want = expected[who]!;
  const courseRole = courseRoleOf(actor, membership, true);

  it("acts in the course with the expected role", () => expect(courseRole).toBe(want.courseRole));
  it("is course staff (manages the course, sees everyone's progress) or not", () => {
    expect(isCourseStaff(courseRole)).toBe(want.staff);
    expect(canManageCourse(courseRole)).toBe(want.staff);
    expect(canSeeEveryonesProgress(courseRole)).toBe(want.staff);
    expect(isCourseStudent(courseRole)).toBe(want.courseRole === "STUDENT");
  });
  it("changes members' roles or not", () => expect(canChangeMemberRoles(courseRole)).toBe(want.changeRoles));
  it("sees a published lab if in the course, a draft only as staff", () => {
    expect(canSeeLab(courseRole, { published: true })).toBe(true);
    expect(canSeeLab(courseRole, { published: false })).toBe(want.seeDraftLab);
  });
  it("starts after the workshop ended or not", () => expect(canStartAfterWorkshopEnded(courseRole)).toBe(want.startAfterEnd));
  it("creates courses, administers, or not", () => {
    expect(canCreateCourses(actor)).toBe(want.createCourses);
    expect(isAdmin(actor)).toBe(want.admin);
  });
  it("reaches the owner's environment as expected", () => {
    const access = environmentAccess(actor, { userId: OWNER_ID }, membership);
    expect(access).toBe(want.environment);
    expect(canResize(access)).toBe(want.environment === "owner");
    expect(canCloseTerminal(access)).toBe(want.environment === "owner");
    expect(canTakeKeyboard(access)).toBe(want.environment === "watch");
    // Previews and service logs: exactly who reaches the environment at all.
    expect(canSeeEnvironmentApps(access)).toBe(want.environment !== null);
    if (access) {
      // A watcher types only while holding the keyboard; the owner always.
      expect(canTypeIn(access, false)).toBe(access === "owner");
      expect(canTypeIn(access, true)).toBe(true);
    }
  });
  it("downloads the owner's workspace (its owner, course staff) and a lab's class archive (staff) or not", () => {
    expect(canDownloadWorkspace(actor, { userId: OWNER_ID }, courseRole)).toBe(want.environment === "owner" || want.staff);
    expect(canDownloadClassWorkspaces(courseRole)).toBe(want.staff);
  });
  it("watches the course's students (the live room's socket) or not", () => {
    expect(canWatchStudents(actor, courseRole)).toBe(want.environment === "watch" || (want.staff && want.environment === "owner"));
  });
});

it("an administrator acts in no course that does not exist", () => {
  const admin: Actor = { id: "admin", role: "ADMIN" };
  expect(courseRoleOf(admin, null, false)).toBeNull();
  expect(canWatchStudents(admin, courseRoleOf(admin, null, false))).toBe(false);
});

// ---- The scan: role literals are compared only in the policy. ----

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCANNED = ["app", "common", "protocol", "server", "runtime-worker", "scripts"];
/**
 * Files that may name roles next to each other or compare them, and why:
 * the policy itself, and the demo data (it creates an instructor and a student).
 * UI labels (`{ ADMIN: "Administrator" }`), the admin page's options and Prisma filters like
 * `where: { role: "STUDENT" }` (who is counted) do not match the scan and need no entry.
 */
const ALLOWED = new Set([
  "common/access.ts", // the rules
  "server/database/seed.ts", // demo users and memberships, by role
]);
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIPPED_DIRECTORIES = new Set(["node_modules", "generated", ".next", ".data"]);

const ROLE = `"(?:ADMIN|INSTRUCTOR|ASSISTANT|STUDENT)"`;
const DECISIONS: Array<[RegExp, string]> = [
  [new RegExp(`[!=]==?\\s*${ROLE}|${ROLE}\\s*[!=]==?`, "g"), "compares a role to a literal"],
  [new RegExp(`\\bcase\\s+${ROLE}`, "g"), "switches on a role"],
  [new RegExp(`\\[\\s*${ROLE}\\s*,\\s*${ROLE}`, "g"), "lists roles"],
  [/\brole\w*\s*:\s*\{\s*(?:in|notIn|not)\s*:/gi, "filters by a role list"],
];

/** Places in a file's text that decide on a role by its name. */
export function roleDecisions(text: string): Array<{ line: number; what: string }> {
  const found: Array<{ line: number; what: string }> = [];
  for (const [pattern, what] of DECISIONS) {
    for (const match of text.matchAll(pattern)) found.push({ line: text.slice(0, match.index).split("\n").length, what });
  }
  return found;
}

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) files.push(...(await sourceFiles(full)));
    } else if (SOURCE.test(entry.name)) files.push(full);
  }
  return files;
}

describe("the scan finds role decisions", () => {
  it.each([
    'if (ctx.auth.user.role !== "ADMIN") throw forbidden;',
    'const staff = role === "INSTRUCTOR" || role === "ASSISTANT";',
    'if ("STUDENT" === membership.role) return;',
    'switch (role) { case "ASSISTANT": return true; }',
    "db.courseMember.findMany({ where: { role: { in: staffRoles } } })",
    'const STAFF = ["INSTRUCTOR", "ASSISTANT"];',
    'z.enum(["ADMIN", "INSTRUCTOR", "STUDENT"])',
  ])("%s", (source) => expect(roleDecisions(source)).not.toEqual([]));

  it.each([
    'const ROLE_NAMES = { INSTRUCTOR: "Instructor", ASSISTANT: "Assistant", STUDENT: "Student" } as const;',
    'db.courseMember.count({ where: { courseId, role: "STUDENT" } })',
    '{ value: "ADMIN", label: "Administrator" },',
    'if (state === "RUNNING") return;',
    "if (!isCourseStaff(ctx.course.role)) throw forbidden;",
  ])("leaves alone %s", (source) => expect(roleDecisions(source)).toEqual([]));
});

it("no file but the access policy decides on a role by its name", async () => {
  const offenders: string[] = [];
  for (const directory of SCANNED) {
    for (const file of await sourceFiles(path.join(ROOT, directory))) {
      const relative = path.relative(ROOT, file).split(path.sep).join("/");
      if (ALLOWED.has(relative)) continue;
      for (const decision of roleDecisions(await readFile(file, "utf8"))) offenders.push(`${relative}:${decision.line}: ${decision.what}`);
    }
  }
  expect(offenders, "ask common/access.ts (server code: server/auth/access.ts) instead").toEqual([]);
});

it("the policy is where the decisions are (the scan would see them)", async () => {
  expect(roleDecisions(await readFile(path.join(ROOT, "common/access.ts"), "utf8"))).not.toEqual([]);
});
