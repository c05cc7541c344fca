/** Runs an embedded Postgres for the test suite when no local server answers. */
import { startEmbeddedPostgres } from "../../server/database/embedded-postgres";

const port = Number(process.argv[2] ?? 54330);
const database = await startEmbeddedPostgres(".data/test", port, (line) => console.error(line));
console.log(database.url);
const stop = () => void database.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
