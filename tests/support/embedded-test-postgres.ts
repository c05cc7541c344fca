/** Runs an embedded Postgres for the test suite when no local server answers. */
import { startEmbeddedPostgres } from "../../server/database/embedded-postgres";

const port = Number(process.argv[2] ?? 54330);
// One data folder per port, so a test run and a bench run never share one.
const database = await startEmbeddedPostgres(`.data/embedded-${port}`, port, (line) => console.error(line));
console.log(database.url);
const stop = () => void database.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
