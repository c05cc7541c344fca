/**
 * Production-safe defaults, against real Postgres: a production start creates nothing with
 * a known password and refuses to run with one; the admin command makes the first admin;
 * the embedded Postgres gets a generated password. The server entry and the admin command
 * run as real processes.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { rootLogger } from "../../common/logger";
import { createDatabase, type Database } from "../../server/database/client";
import { startEmbeddedPostgres } from "../../server/database/embedded-postgres";
import { migrateDatabase } from "../../server/database/migrate";
import { DEMO_JOIN_CODE, DEMO_LOGINS, seedDemoData } from "../../server/database/seed";
import { knownCredentials, prepareStartupData } from "../../server/database/startup-data";
import { createShellroomServer } from "../../server/http-server";
import { cloneTestDatabase } from "../support/platform-harness";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** An empty, migrated database: what a fresh production install starts from. */
async function freshDatabase(): Promise<{ url: string; db: Database }> {
  const serverUrl = inject("postgresServerUrl");
  const name = `shellroom_it_fresh_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const db = createDatabase(url);
  cleanups.push(async () => {
    await db.$disconnect();
    const cleanup = new pg.Client({ connectionString: serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  });
  await migrateDatabase(url);
  return { url, db };
}

/** The demo database every integration test starts from (seeded by the global setup). */
async function demoDatabase(): Promise<{ url: string; db: Database }> {
  const database = await cloneTestDatabase();
  const db = createDatabase(database.url);
  cleanups.push(async () => {
    await db.$disconnect();
    await database.drop();
  });
  return { url: database.url, db };
}

/** Runs a project script as its own process; resolves with its exit code and output. */
function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "warn", ...env } as unknown as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

/** A server (tRPC over HTTP) on `db`, for signing in the way a browser would. */
async function serveOver(db: Database) {
  const log = rootLogger.child({ test: "production-start" });
  log.level = "warn";
  // Both names of the worker credential option, whichever this server takes (it is being renamed).
  const options = { db, workerToken: "p".repeat(32), workerSecret: "p".repeat(32), log, sweepIntervalMs: 0 };
  const server = await createShellroomServer(options as unknown as Parameters<typeof createShellroomServer>[0]);
  const url = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  const call = async (procedure: string, input: unknown, method: "GET" | "POST" = "POST") => {
    const response =
      method === "GET"
        ? await fetch(`${url}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`)
        : await fetch(`${url}/api/trpc/${procedure}`, { method, headers: { "content-type": "application/json", origin: url }, body: JSON.stringify(input) });
    return { status: response.status, body: (await response.json()) as any, headers: response.headers };
  };
  return { url, call };
}

const SERVER_ENV = { SHELLROOM_WORKER_TOKEN: "w".repeat(32), SHELLROOM_WORKER_SECRET: "w".repeat(32), PORT: "0", NODE_ENV: "production" };

describe("a production start", () => {
  it("without the demo flag creates no demo account, and the demo logins and join link do not work", async () => {
    const { db } = await freshDatabase();
    await prepareStartupData(db, { demo: false, production: true });
    expect(await db.user.count()).toBe(0);
    expect(await db.course.count()).toBe(0);

    const { call } = await serveOver(db);
    for (const login of DEMO_LOGINS) {
      expect((await call("auth.signIn", { email: login.email, password: login.password })).status, login.email).toBe(401);
    }
    expect((await call("join.preview", { code: DEMO_JOIN_CODE }, "GET")).status).toBe(404);
  });

  it("refuses to run while an account has a demo password (even one whose email changed), and says how to fix it", { timeout: 180_000 }, async () => {
    const { url, db } = await demoDatabase();
    // The demo admin became someone's real admin by changing only the email.
    await db.user.update({ where: { id: "demo-admin" }, data: { email: "head@school.example" } });

    const started = await runScript("server/main.ts", [], { ...SERVER_ENV, DATABASE_URL: url });
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(/Refusing to start in production/);
    expect(started.stderr).toMatch(/head@school\.example still has the demo password/);
    expect(started.stderr).toMatch(/npm run admin -- retire-demo/);

    // The fix it names works: nothing known is left, and the real admin gets a password of their own.
    const retired = await runScript("server/cli/admin.ts", ["retire-demo"], { DATABASE_URL: url });
    expect(retired.code, retired.stderr).toBe(0);
    expect(await knownCredentials(db)).toEqual([]);
    await expect(prepareStartupData(db, { demo: false, production: true })).resolves.toBeUndefined();
  });

  it("of the demo does not create the demo admin again after its email changed", async () => {
    const { db } = await demoDatabase();
    await db.user.update({ where: { id: "demo-admin" }, data: { email: "owner@school.example" } });
    await prepareStartupData(db, { demo: true, production: true });
    expect(await db.user.count({ where: { email: "admin@shellroom.local" } })).toBe(0);
    expect(await db.user.count({ where: { role: "ADMIN" } })).toBe(1);
    await seedDemoData(db);
    expect(await db.user.count({ where: { role: "ADMIN" } })).toBe(1);
  });
});

describe("the admin command", () => {
  // Three CLI runs, each a fresh Node with tsx compiling the server's modules: on a loaded 2-core
  // host (a fresh clone's CI, integration files in parallel) that passed 60 s once; the deadline is generous.
  it("creates a first admin who can sign in, with a password from stdin or one generated and printed once", { timeout: 240_000 }, async () => {
    const { url, db } = await freshDatabase();
    const piped = await runScript(
      "server/cli/admin.ts",
      ["create-admin", "--email", "Root@School.example", "--name", "Head of IT", "--password-stdin"],
      { DATABASE_URL: url },
      "a long and private passphrase\n",
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).not.toMatch(/passphrase/);

    const generated = await runScript("server/cli/admin.ts", ["create-admin", "--email", "second@school.example"], { DATABASE_URL: url });
    expect(generated.code, generated.stderr).toBe(0);
    const password = /Password \(shown once, keep it safe\): (\S+)/.exec(generated.stdout)?.[1];
    expect(password).toBeTruthy();

    const again = await runScript("server/cli/admin.ts", ["create-admin", "--email", "root@school.example"], { DATABASE_URL: url });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already/);

    const { call } = await serveOver(db);
    const first = await call("auth.signIn", { email: "root@school.example", password: "a long and private passphrase" });
    expect(first.status).toBe(200);
    expect(first.body.result.data).toMatchObject({ role: "ADMIN", displayName: "Head of IT" });
    const second = await call("auth.signIn", { email: "second@school.example", password });
    expect(second.body.result.data).toMatchObject({ role: "ADMIN" });
  });
});

describe("the embedded Postgres", () => {
  it("runs with a generated password kept 0600 under the data folder, not a constant", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "shellroom-embedded-"));
    // Reachable by the postgres OS user (when run as root), so the cluster lives right here.
    chmodSync(dataDir, 0o755);
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const embedded = await startEmbeddedPostgres(dataDir, 54300 + Math.floor(Math.random() * 80), () => undefined);
    cleanups.push(() => embedded.stop());
    const file = path.join(dataDir, "postgres-password");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, "utf8").trim();
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(new URL(embedded.url).password).toBe(password);

    const connect = async (url: string) => {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        return (await client.query("select 1 as ok")).rows[0].ok as number;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    expect(await connect(embedded.url)).toBe(1);
    const withOldConstant = new URL(embedded.url);
    withOldConstant.password = "shellroom-embedded";
    await expect(connect(withOldConstant.toString())).rejects.toThrow(/password/);
  });
});
