/**
 * Prisma CLI configuration. Prisma 6.19 with the JavaScript schema engine: the native
 * engine cannot be downloaded here. The pg client below reports the catalog types
 * `name` and `"char"` as text, which the WASM engine cannot otherwise decode.
 */
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

/** Reports catalog columns of type `name` / `"char"` as text, which the engine can decode. */
class CatalogTextClient extends pg.Client {
  // pg's Pool calls query(text, values, callback); the adapter's own calls use promises.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloaded query() cannot be restated in one signature
  override query(...args: any[]): any {
    const relabel = (result: pg.QueryResult | undefined) => {
      for (const field of result?.fields ?? []) {
        if (field.dataTypeID === NAME_OID || field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
      }
      return result;
    };
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (error: Error | null, result: pg.QueryResult) => last(error, relabel(result));
    }
    const pending = (super.query as (...a: unknown[]) => unknown)(...args);
    return pending instanceof Promise ? pending.then(relabel) : pending;
  }
}

function poolConfig(url: string): pg.PoolConfig {
  // Discrete fields: with a shadow database, pg would let a connectionString override `database`.
  const parsed = new URL(url);
  return {
    Client: CatalogTextClient,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password) || undefined,
    database: parsed.pathname.slice(1),
    idleTimeoutMillis: 100,
  };
}

// `prisma generate` needs no database; any well-formed URL keeps the CLI on the JS engine.
process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/shellroom";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: async () => new PrismaPg(poolConfig(process.env.DATABASE_URL!)),
});
