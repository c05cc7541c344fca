/**
 * The `shellroom` command line (bin/shellroom.mjs). Commands that run where the server runs
 * use its database directly (DATABASE_URL, or the embedded Postgres under SHELLROOM_DATA_DIR);
 * `lab push` and `progress export` work from anywhere through the API with a token
 * (SHELLROOM_URL and SHELLROOM_TOKEN).
 */
import { parseArgs } from "node:util";
import { CourseTitle } from "../../common/forms/courses";
import { Email } from "../../common/forms/accounts";
import { createCourse, joinLinkOf } from "../courses/new-course";
import type { Database } from "../database/client";
import { CommandError, createAdmin, openDatabase, setPassword } from "./admin";
import { apiTarget, callApi, readLabFolder } from "./api-client";
import { configLines } from "./show-config";
import { workerCommand } from "./worker-commands";
import { createPasswordReset } from "../auth/password-reset";

const USAGE = `usage: shellroom <command>

On the server (database: DATABASE_URL, or the embedded one under SHELLROOM_DATA_DIR):
  admin create --email <email> [--name <name>] [--password-stdin]   the first (or another) administrator
  password reset <email> [--password-stdin]                         a one-time reset link (1 hour); or the new password from stdin
  course create <title> [--instructor <email>]                      a course; prints its join link
  worker list | cordon|drain|uncordon <worker id>                   placement's view of workers; cordon or drain one
  config                                                            the effective configuration, secrets masked

From anywhere (SHELLROOM_URL and SHELLROOM_TOKEN, or --url and --token):
  lab push <folder> --course <course id> [--template <template id>]  create or update the lab of that folder (needs labs:write)
  progress export <course id> [--lab <lab id>]                      progress as CSV on stdout (needs progress:read or read)`;

const OPTIONS = {
  email: { type: "string" },
  name: { type: "string" },
  "password-stdin": { type: "boolean" },
  instructor: { type: "string" },
  course: { type: "string" },
  template: { type: "string" },
  lab: { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Runs `work` on the server's database, closing it (and an embedded Postgres started for it) afterwards. */
async function onDatabase(work: (db: Database) => Promise<void>) {
  const database = await openDatabase();
  try {
    await work(database.db);
  } finally {
    await database.close();
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new CommandError(`${what} is missing.\n\n${USAGE}`);
  return value;
}

async function courseCreate(title: string, flags: Flags) {
  const parsed = CourseTitle.safeParse(title);
  if (!parsed.success) throw new CommandError(`title: ${parsed.error.issues[0]?.message}`);
  await onDatabase(async (db) => {
    let instructorId: string | null = null;
    if (flags.instructor) {
      const email = Email.parse(flags.instructor);
      const instructor = await db.user.findUnique({ where: { email }, select: { id: true } });
      if (!instructor) throw new CommandError(`No account uses ${email}.`);
      instructorId = instructor.id;
    }
    const course = await createCourse(db, { title: parsed.data, instructorId });
    const publicUrl = process.env.SHELLROOM_PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`;
    console.log(`Created course "${parsed.data}" (${course.id}).`);
    console.log(`Join link: ${joinLinkOf(publicUrl, course.joinCode!)}`);
  });
}

async function labPush(folder: string, flags: Flags) {
  const courseId = required(flags.course, "--course <course id>");
  const target = apiTarget(flags);
  const files = await readLabFolder(folder);
  const pushed = await callApi<{ labId: string; steps: number; created: boolean }>(target, "POST", `/courses/${encodeURIComponent(courseId)}/labs`, {
    files,
    ...(flags.template ? { templateId: flags.template } : {}),
  });
  console.log(`${pushed.created ? "Created" : "Updated"} lab ${pushed.labId} (${pushed.steps} step${pushed.steps === 1 ? "" : "s"}).`);
}

async function progressExport(courseId: string, flags: Flags) {
  const target = apiTarget(flags);
  const route = flags.lab ? `/labs/${encodeURIComponent(flags.lab)}/progress` : `/courses/${encodeURIComponent(courseId)}/progress`;
  const exported = await callApi<{ csv: string }>(target, "GET", route);
  process.stdout.write(exported.csv);
}

async function resetLink(db: Database, email: string) {
  const user = await db.user.findUnique({ where: { email: Email.parse(email) }, select: { id: true } });
  if (!user) throw new CommandError(`No account uses ${email}.`);
  const link = await createPasswordReset(db, user.id, null);
  const publicUrl = process.env.SHELLROOM_PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`;
  console.log(`Reset link for ${email} (works once, until ${link.expiresAt.toISOString()}): ${new URL(link.path, publicUrl).href}`);
}

function showConfig() {
  const { lines, problems } = configLines();
  for (const line of lines) console.log(line);
  if (problems > 0) throw new CommandError(`${problems} setting(s) would stop the server from starting.`);
}

async function run(positionals: string[], flags: Flags) {
  const [command, sub, argument] = positionals;
  const key = `${command ?? ""} ${sub ?? ""}`.trim();
  switch (command === "config" ? "config" : key) {
    case "admin create":
      return onDatabase((db) => createAdmin(db, flags));
    case "password reset": {
      const email = required(argument ?? flags.email, "<email>");
      // With --password-stdin the password is set here; otherwise the person sets it through a one-time link.
      if (flags["password-stdin"]) return onDatabase((db) => setPassword(db, { email, "password-stdin": true }));
      return onDatabase((db) => resetLink(db, email));
    }
    case "course create":
      return courseCreate(required(positionals.slice(2).join(" ") || undefined, "<title>"), flags);
    case "lab push":
      return labPush(required(argument, "<folder>"), flags);
    case "progress export":
      return progressExport(required(argument ?? flags.course, "<course id>"), flags);
    case "worker list":
    case "worker cordon":
    case "worker drain":
    case "worker uncordon":
      return onDatabase(async (db) => {
        for (const line of await workerCommand(db, [sub!, ...(argument ? [argument] : [])])) console.log(line);
      });
    case "config":
      return showConfig();
    default:
      console.error(USAGE);
      process.exit(2);
  }
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: OPTIONS });
if (values.help) console.log(USAGE);
else {
  await run(positionals, values).catch((error: unknown) => {
    console.error(error instanceof CommandError ? error.message : `shellroom: ${(error as Error).message}`);
    process.exit(1);
  });
}
