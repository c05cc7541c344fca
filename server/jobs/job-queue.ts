/**
 * The durable job queue: pg-boss in its own schema of the platform's database. Jobs that
 * must survive a restart (image builds) or run once across replicas (the lifecycle sweep)
 * go through it; pg-boss hands each job to one replica and fails, at expiry, a job whose
 * replica died while running it.
 */
import PgBoss from "pg-boss";
import type { Logger } from "../../common/logger";
import { databaseUrlOf, type Database } from "../database/client";

export const JOB_SCHEMA = "pgboss";

export type JobQueue = PgBoss;

export async function startJobQueue(db: Database, log: Logger): Promise<JobQueue> {
  const connectionString = databaseUrlOf(db);
  if (!connectionString) throw new Error("The job queue needs the database's connection string (create the client with createDatabase).");
  const boss = new PgBoss({
    connectionString,
    schema: JOB_SCHEMA,
    application_name: "shellroom-jobs",
    max: 4, // its own small pool beside Prisma's
    schedule: false, // no cron: replicas enqueue timed jobs themselves, deduplicated per time slot
    supervise: true, // expiry of jobs whose replica died, and archiving
  });
  boss.on("error", (error: Error) => log.error({ err: error.message }, "job queue error"));
  await boss.start();
  return boss;
}

/** Stops taking jobs; jobs still running after `timeoutMs` are failed (and dead-lettered). */
export async function stopJobQueue(boss: JobQueue, timeoutMs = 5000): Promise<void> {
  await boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
}
