import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../generated/prisma/client";

export type Database = PrismaClient;

const urls = new WeakMap<Database, string>();

/** Prisma over the pg driver adapter: no native query engine is needed. */
export function createDatabase(url: string): Database {
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 10 }) });
  urls.set(db, url);
  return db;
}

/** The connection string a client was made with (the durable job queue opens its own pool on it). */
export function databaseUrlOf(db: Database): string | undefined {
  return urls.get(db);
}
