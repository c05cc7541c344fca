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

const TEMPLATE_DATABASE = "shellroom_it_template";

declare module "vitest" {
  export interface ProvidedContext {
    postgresServerUrl: string;
    redisUrl: string;
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
}
