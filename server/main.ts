/**
 * Entry point of a server replica: configuration, database (embedded when no
 * DATABASE_URL), migrations, demo data, Next.js, then one port for everything.
 */
import path from "node:path";
import next from "next";
import { rootLogger } from "../common/logger";
import { loadServerConfig, serverOptionsFrom } from "./config";
import { createDatabase } from "./database/client";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./database/embedded-postgres";
import { migrateDatabase } from "./database/migrate";
import { seedDemoData } from "./database/seed";
import { createShellroomServer } from "./http-server";

const EMBEDDED_POSTGRES_PORT = 54329;
const log = rootLogger.child({ component: "server" });

async function main() {
  const config = loadServerConfig();
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.SHELLROOM_DATA_DIR, EMBEDDED_POSTGRES_PORT, (line) => log.info(line));
    databaseUrl = embedded.url;
    log.info({ port: EMBEDDED_POSTGRES_PORT }, "embedded Postgres running");
  }
  await migrateDatabase(databaseUrl);
  const db = createDatabase(databaseUrl);
  if (process.env.SHELLROOM_SEED !== "0") await seedDemoData(db);

  const dev = config.NODE_ENV !== "production";
  const pages = next({ dev, dir: path.resolve(import.meta.dirname, ".."), hostname: config.HOST, port: config.PORT });
  await pages.prepare();
  const handle = pages.getRequestHandler();

  const server = await createShellroomServer({
    db,
    ...serverOptionsFrom(config),
    log,
    pages: (req, res) => handle(req, res),
  });
  const url = await server.listen(config.PORT, config.HOST);
  log.info({ url, redis: Boolean(config.REDIS_URL), embeddedPostgres: Boolean(embedded) }, "Shellroom is listening");

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info("stopping");
    await server.close().catch(() => undefined);
    await db.$disconnect().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, "server could not start");
  process.exit(1);
});
