/**
 * A server replica for the bench, as its own process: server/main.ts without Next.js (and
 * without the embedded Postgres). Same configuration (server/config.ts), same
 * createShellroomServer: tRPC, the socket.io gateways with flow control, the Redis
 * adapter, the scheduler and the lifecycle sweep. Pages are the one thing missing, and the
 * bench never asks for one; leaving Next.js out keeps the process from depending on a
 * build in .next/ (which other work in the same checkout may be rewriting) and keeps its
 * RSS about the server itself. BENCH_SERVER_ENTRY=server/main.ts runs the real entry instead.
 */
import { rootLogger } from "../../common/logger";
import { loadServerConfig, serverOptionsFrom } from "../../server/config";
import { createDatabase } from "../../server/database/client";
import { migrateDatabase } from "../../server/database/migrate";
import { seedDemoData } from "../../server/database/seed";
import { createShellroomServer } from "../../server/http-server";

const log = rootLogger.child({ component: "server" });
const config = loadServerConfig();
if (!config.DATABASE_URL) {
  log.fatal("DATABASE_URL must be set (the bench's server process runs no embedded Postgres)");
  process.exit(2);
}
await migrateDatabase(config.DATABASE_URL);
const db = createDatabase(config.DATABASE_URL);
await seedDemoData(db);
const server = await createShellroomServer({
  db,
  ...serverOptionsFrom(config),
  log,
});
const url = await server.listen(config.PORT, config.HOST);
log.info({ url, redis: Boolean(config.REDIS_URL) }, "Shellroom (bench server process, no pages) is listening");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close().catch(() => undefined);
  await db.$disconnect().catch(() => undefined);
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
