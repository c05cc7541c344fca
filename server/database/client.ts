import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../generated/prisma/client";

export type Database = PrismaClient;

/** Prisma over the pg driver adapter: no native query engine is needed. */
export function createDatabase(url: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 10 }) });
}
