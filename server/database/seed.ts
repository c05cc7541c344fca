/**
 * Demo data, idempotent: running it twice changes nothing. Only a demo start seeds it
 * (SHELLROOM_DEMO=1, which `npm run platform` sets): these passwords are in the README.
 * Demo users have fixed ids, so one whose email was changed is still recognised, never
 * created a second time, and still caught by the production check (startup-data.ts).
 */
import { hashPassword } from "../auth/passwords";
import type { Database } from "./client";

export const DEMO_LOGINS = [
  { id: "demo-admin", email: "admin@shellroom.local", password: "shellroom-admin", displayName: "Ada Admin", role: "ADMIN" },
  { id: "demo-instructor", email: "instructor@shellroom.local", password: "shellroom-instructor", displayName: "Ines Instructor", role: "INSTRUCTOR" },
  { id: "demo-student", email: "student@shellroom.local", password: "shellroom-student", displayName: "Sam Student", role: "STUDENT" },
] as const;

export const DEMO_COURSE_SLUG = "intro-unix-shell";
export const DEMO_LAB_SLUG = "first-steps";
export const DEFAULT_TEMPLATE_ID = "default-template";
/** The demo workshop's join link is /join/demo-workshop (rotatable like any other). */
export const DEMO_JOIN_CODE = "demo-workshop";

const LAB_INSTRUCTIONS = `# First steps in the shell

Your terminal on the right is a real Linux machine of your own. Nothing you do here can
break anything: experiment freely.

Files you create in \`~/workspace\` stay there when you come back tomorrow.
`;

const STEPS = [
  { title: "Say hello", body: "Type `echo hello` and press Enter. The shell prints what you give it.", hint: "Mind the space after echo." },
  { title: "Where am I?", body: "Run `pwd` to print your working directory, then `ls -la` to list what is in it." },
  {
    title: "Make a file",
    body: "Create a file with `echo 'my first file' > notes.txt`, then read it back with `cat notes.txt`.",
    checkScript: 'test -s ~/workspace/notes.txt || { echo "~/workspace/notes.txt is missing or empty."; exit 1; }',
  },
];

export async function seedDemoData(db: Database) {
  const users = new Map<string, string>();
  for (const login of DEMO_LOGINS) {
    // By id first: an email changed since does not make a second demo account. By email
    // for databases seeded before demo users had fixed ids.
    const existing = (await db.user.findUnique({ where: { id: login.id } })) ?? (await db.user.findUnique({ where: { email: login.email } }));
    const user =
      existing ??
      (await db.user.create({
        data: { id: login.id, email: login.email, displayName: login.displayName, role: login.role, passwordHash: await hashPassword(login.password) },
      }));
    users.set(login.role, user.id);
  }

  const course = await db.course.upsert({
    where: { slug: DEMO_COURSE_SLUG },
    create: {
      slug: DEMO_COURSE_SLUG,
      title: "Intro to the Unix shell",
      joinCode: DEMO_JOIN_CODE,
      description: "Find your way around a Linux shell: files, pipes and processes.",
    },
    update: {},
  });
  const template = await db.environmentTemplate.upsert({
    where: { id: DEFAULT_TEMPLATE_ID },
    create: { id: DEFAULT_TEMPLATE_ID, courseId: course.id, name: "Debian bookworm (default)", image: "shellroom/default:1" },
    update: {},
  });
  const lab = await db.lab.upsert({
    where: { courseId_slug: { courseId: course.id, slug: DEMO_LAB_SLUG } },
    create: {
      courseId: course.id,
      templateId: template.id,
      slug: DEMO_LAB_SLUG,
      title: "First steps in the shell",
      instructions: LAB_INSTRUCTIONS,
      published: true,
      steps: { create: STEPS.map((step, position) => ({ ...step, position })) },
    },
    update: {},
  });
  const roles = [
    ["INSTRUCTOR", "INSTRUCTOR"],
    ["STUDENT", "STUDENT"],
  ] as const;
  for (const [globalRole, courseRole] of roles) {
    const userId = users.get(globalRole)!;
    await db.courseMember.upsert({
      where: { courseId_userId: { courseId: course.id, userId } },
      create: { courseId: course.id, userId, role: courseRole },
      update: {},
    });
  }
  return { courseId: course.id, labId: lab.id };
}
