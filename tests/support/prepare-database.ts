/**
 * Recreates a named test database on the given Postgres server and applies migrations.
 * Usage: tsx tests/support/prepare-database.ts <server-url> <database-name>
 * Prints the database URL.
 */
import pg from "pg";
import { migrateDatabase } from "../../server/database/migrate";

const [serverUrl, name] = process.argv.slice(2);
if (!serverUrl || !name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: prepare-database.ts <postgres-server-url> <database_name>");
  process.exit(2);
}
const admin = new pg.Client({ connectionString: `${serverUrl.replace(/\/[^/]*$/, "")}/postgres` });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${name}`);
await admin.end();
const url = `${serverUrl.replace(/\/[^/]*$/, "")}/${name}`;
await migrateDatabase(url);
console.log(url);
