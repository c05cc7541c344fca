/**
 * Once per integration run: the default image exists, and a migrated, seeded template
 * database is ready; each test file clones it (CREATE DATABASE ... TEMPLATE) so files
 * can run in parallel without seeing each other's workers or environments.
 */
import Docker from "dockerode";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { ensureDefaultImage } from "../../runtime-worker/images/base-image";
import { createDatabase } from "../../server/database/client";
import { migrateDatabase } from "../../server/database/migrate";
import { seedDemoData } from "../../server/database/seed";

/** Per run, so two runs on one Postgres (two developers, CI beside a session) never share it. */
const TEMPLATE_DATABASE = `shellroom_it_template_${process.pid}`;

declare module "vitest" {
  export interface ProvidedContext {
    postgresServerUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  await ensureDefaultImage(new Docker(), () => undefined);

  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  const templateUrl = serverUrl.replace(/\/[^/]*$/, `/${TEMPLATE_DATABASE}`);
  await migrateDatabase(templateUrl);
  const db = createDatabase(templateUrl);
  await seedDemoData(db);
  await db.$disconnect();

  project.provide("postgresServerUrl", serverUrl);
  project.provide("redisUrl", redisUrl);
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  return async () => {
    const cleanup = new pg.Client({ connectionString: serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await cleanup.end();
  };
}
