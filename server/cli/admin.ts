/**
 * Operator commands, run where the server runs (`npm run admin -- <command>`):
 *
 *   create-admin --email <email> [--name <name>] [--password-stdin]
 *   set-password --email <email> [--password-stdin]
 *   retire-demo
 *   lti add|list|remove|rotate-keys|roster ...   (server/cli/lti-commands.ts)
 *   worker <list | cordon <id> | uncordon <id> | drain <id>>
 *
 * Without --password-stdin a password is generated and printed once. The database is
 * DATABASE_URL, or the embedded Postgres under SHELLROOM_DATA_DIR (the running one, or
 * started for the command). Migrations are applied first, so create-admin works on a
 * fresh install before the server's first start.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { hashPassword, verifyPassword } from "../auth/passwords";
import { invalidateAllSessions } from "../auth/sessions";
import { generateJoinCode } from "../courses/join-codes";
import { createDatabase, type Database } from "../database/client";
import { EMBEDDED_POSTGRES_PORT, runningEmbeddedPostgres, startEmbeddedPostgres } from "../database/embedded-postgres";
import { migrateDatabase } from "../database/migrate";
import { DEMO_JOIN_CODE, DEMO_LOGINS } from "../database/seed";
import { knownCredentials } from "../database/startup-data";
import { DisplayName, Email, NewPassword } from "../../common/forms/accounts";
import { workerTokenCommand } from "./worker-token";
import { LTI_USAGE, LtiCommandError, ltiCommand } from "./lti-commands";
import { WORKER_USAGE, workerCommand } from "./worker-commands";

const USAGE = `usage: npm run admin -- <command>
  create-admin --email <email> [--name <name>] [--password-stdin]   a new administrator
  set-password --email <email> [--password-stdin]                   a new password (signs the account out everywhere)
  retire-demo                                                       removes demo passwords, turns the demo join link off
  worker-token <worker id>                                          the token that worker presents (needs SHELLROOM_WORKER_SECRET)
${LTI_USAGE}
  ${WORKER_USAGE.padEnd(66)}cordon (no new placements), drain (move at next start), open again
Without --password-stdin a password is generated and printed once.`;

export class CommandError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** The password to set, and whether to print it (only when we made it up). */
async function choosePassword(fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(15).toString("base64url"), generated: true };
  const parsed = NewPassword.safeParse(await readStdin());
  if (!parsed.success) throw new CommandError(`password: ${parsed.error.issues[0]?.message}`);
  return { password: parsed.data, generated: false };
}

function parsedEmail(value: string | undefined): string {
  const parsed = Email.safeParse(value ?? "");
  if (!parsed.success) throw new CommandError(`--email: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function createAdmin(db: Database, options: { email?: string; name?: string; "password-stdin"?: boolean }) {
  const email = parsedEmail(options.email);
  const name = DisplayName.safeParse(options.name ?? "Administrator");
  if (!name.success) throw new CommandError(`--name: ${name.error.issues[0]?.message}`);
  if (await db.user.findUnique({ where: { email } })) {
    throw new CommandError(`An account with ${email} exists already. Use set-password for it, or choose another email.`);
  }
  const { password, generated } = await choosePassword(Boolean(options["password-stdin"]));
  await db.user.create({ data: { email, displayName: name.data, role: "ADMIN", passwordHash: await hashPassword(password) } });
  console.log(`Created administrator ${email}.`);
  if (generated) console.log(`Password (shown once, keep it safe): ${password}`);
}

export async function setPassword(db: Database, options: { email?: string; "password-stdin"?: boolean }) {
  const email = parsedEmail(options.email);
  const user = await db.user.findUnique({ where: { email } });
  if (!user) throw new CommandError(`No account uses ${email}.`);
  const { password, generated } = await choosePassword(Boolean(options["password-stdin"]));
  await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password) } });
  // Whoever knew the old password is signed out (live sockets follow within the server's recheck).
  await invalidateAllSessions(db, user.id);
  console.log(`Set a new password for ${email}; its sessions were ended.`);
  if (generated) console.log(`Password (shown once, keep it safe): ${password}`);
}

async function retireDemo(db: Database) {
  for (const login of DEMO_LOGINS) {
    const users = await db.user.findMany({ where: { OR: [{ id: login.id }, { email: login.email }] } });
    for (const user of users) {
      if (!user.passwordHash || !(await verifyPassword(user.passwordHash, login.password))) continue;
      await db.user.update({ where: { id: user.id }, data: { passwordHash: null } });
      await invalidateAllSessions(db, user.id);
      console.log(`Removed the demo password of ${user.email ?? user.id} (set-password gives it a new one).`);
    }
  }
  const courses = await db.course.updateManyAndReturn({
    where: { joinCode: DEMO_JOIN_CODE },
    data: { joinCode: generateJoinCode(), joinEnabled: false },
    select: { title: true },
  });
  for (const course of courses) console.log(`Turned off the demo join link of "${course.title}" (its staff can open a new one).`);
  const left = await knownCredentials(db);
  if (left.length > 0) throw new CommandError(`Still known: ${left.join("; ")}`);
  console.log("No demo credentials are left.");
}

/** DATABASE_URL, the embedded Postgres the server runs, or one started for this command. */
export async function openDatabase(): Promise<{ db: Database; close(): Promise<void> }> {
  const env = z.object({ DATABASE_URL: z.string().startsWith("postgres").optional(), SHELLROOM_DATA_DIR: z.string().default(".data") }).parse(process.env);
  let url = env.DATABASE_URL ?? (await runningEmbeddedPostgres(env.SHELLROOM_DATA_DIR));
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres(env.SHELLROOM_DATA_DIR, EMBEDDED_POSTGRES_PORT, (line) => console.error(line));
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  await migrateDatabase(url);
  const db = createDatabase(url);
  return {
    db,
    close: async () => {
      await db.$disconnect();
      await stopEmbedded?.();
    },
  };
}

async function main() {
  if (process.argv[2] === "lti") return ltiCommand(process.argv.slice(3), openDatabase); // its own options
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { email: { type: "string" }, name: { type: "string" }, "password-stdin": { type: "boolean" }, help: { type: "boolean" } },
  });
  const [command] = positionals;
  if (command === "worker-token") return console.log(workerTokenCommand(positionals.slice(1))); // no database needed
  const commands: Record<string, (db: Database) => Promise<void>> = {
    "create-admin": (db) => createAdmin(db, values),
    "set-password": (db) => setPassword(db, values),
    "retire-demo": (db) => retireDemo(db),
    worker: async (db) => {
      try {
        for (const line of await workerCommand(db, positionals.slice(1))) console.log(line);
      } catch (error) {
        throw new CommandError((error as Error).message);
      }
    },
  };
  const run = command ? commands[command] : undefined;
  if (values.help || !run) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const database = await openDatabase();
  try {
    await run(database.db);
  } finally {
    await database.close();
  }
}

// Run as `npm run admin`; the `shellroom` command line imports the commands instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof CommandError || error instanceof LtiCommandError ? error.message : `admin command failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
