/**
 * Entry point of a server replica: configuration, database (embedded when no
 * DATABASE_URL), migrations, demo data (demo starts only) or the production check on
 * known credentials, Next.js, then one port for everything.
 */
import path from "node:path";
import next from "next";
import { formatConfig, wantsConfigHelp } from "../common/config-help";
import { rootLogger } from "../common/logger";
import { loadServerConfig, ServerConfig, serverOptionsFrom } from "./config";
import { createDatabase } from "./database/client";
import { EMBEDDED_POSTGRES_PORT, startEmbeddedPostgres, type EmbeddedDatabase } from "./database/embedded-postgres";
import { migrateDatabase } from "./database/migrate";
import { KnownCredentialsError, prepareStartupData } from "./database/startup-data";
import { createShellroomServer } from "./http-server";
import { BuildConfig } from "./images/build-config";

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
  try {
    await prepareStartupData(db, { demo: config.SHELLROOM_DEMO, production: config.NODE_ENV === "production" });
  } catch (error) {
    await db.$disconnect().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }

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

if (wantsConfigHelp()) {
  process.stdout.write(formatConfig("Shellroom server (node --import tsx server/main.ts)", [ServerConfig, BuildConfig], process.env));
  process.exit(0);
}

main().catch((error: unknown) => {
  // Said to the operator in plain words as well as in the JSON log.
  if (error instanceof KnownCredentialsError) process.stderr.write(`\n${error.message}\n\n`);
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, "server could not start");
  process.exit(1);
});
