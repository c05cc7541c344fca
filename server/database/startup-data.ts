/**
 * What a start does with data. A demo start (SHELLROOM_DEMO=1) seeds the demo; any other
 * start seeds nothing. A production start also refuses to run while a known credential
 * would let anyone in: a demo password (they are printed in the README) or the demo
 * workshop's join link.
 */
import { verifyPassword } from "../auth/passwords";
import type { Database } from "./client";
import { DEMO_JOIN_CODE, DEMO_LOGINS, seedDemoData } from "./seed";

export class KnownCredentialsError extends Error {
  constructor(readonly problems: string[]) {
    super(
      [
        "Refusing to start in production while known credentials would let anyone in:",
        ...problems.map((problem) => `  - ${problem}`),
        "Fix: `npm run admin -- retire-demo` removes the demo passwords and turns the demo join link off;",
        "then `npm run admin -- set-password --email <email>` gives an account a password of its own,",
        "and `npm run admin -- create-admin --email <email>` creates an administrator.",
        "To run the demo on purpose, set SHELLROOM_DEMO=1.",
      ].join("\n"),
    );
    this.name = "KnownCredentialsError";
  }
}

/** Accounts still on a demo password (found by fixed id or demo email), and the demo join link if it is on. */
export async function knownCredentials(db: Database): Promise<string[]> {
  const problems: string[] = [];
  for (const login of DEMO_LOGINS) {
    const users = await db.user.findMany({ where: { OR: [{ id: login.id }, { email: login.email }] }, select: { email: true, passwordHash: true } });
    for (const user of users) {
      if (user.passwordHash && (await verifyPassword(user.passwordHash, login.password))) {
        problems.push(`the account ${user.email ?? login.id} still has the demo password "${login.password}"`);
      }
    }
  }
  const demoCourse = await db.course.findFirst({ where: { joinCode: DEMO_JOIN_CODE, joinEnabled: true }, select: { title: true } });
  if (demoCourse) problems.push(`the course "${demoCourse.title}" can still be joined at /join/${DEMO_JOIN_CODE}`);
  return problems;
}

export async function prepareStartupData(db: Database, mode: { demo: boolean; production: boolean }): Promise<void> {
  if (mode.demo) {
    await seedDemoData(db);
    return;
  }
  if (!mode.production) return;
  const problems = await knownCredentials(db);
  if (problems.length > 0) throw new KnownCredentialsError(problems);
}
