/**
 * Server configuration, validated once at boot: a missing or malformed variable fails
 * fast with its name instead of surfacing later as `undefined`.
 */
import { z } from "zod";

export const ServerConfig = z.object({
  HOST: z.string().default("127.0.0.1").describe("interface to listen on"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe("0 picks a free port (tests)"),
  DATABASE_URL: z.string().startsWith("postgres").optional().describe("Postgres; unset runs an embedded Postgres under .data/"),
  REDIS_URL: z.string().startsWith("redis").optional().describe("Redis for multi-replica pub/sub; unset runs single-node"),
  SHELLROOM_REDIS_PREFIX: z.string().regex(/^[\w.-]{1,64}$/).default("shellroom").describe("key/channel prefix on Redis; replicas of one deployment share it"),
  SHELLROOM_WORKER_TOKEN: z.string().min(16, "SHELLROOM_WORKER_TOKEN must be at least 16 characters").describe("secret workers present when they dial in"),
  SHELLROOM_PUBLIC_URL: z.url().optional().describe("the origin browsers use, e.g. https://shellroom.example.edu; checked against Origin"),
  SHELLROOM_DATA_DIR: z.string().default(".data").describe("embedded Postgres and other local state"),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
});
export type ServerConfig = z.infer<typeof ServerConfig>;

export function loadServerConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = ServerConfig.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid server configuration:\n${problems}`);
  }
  return parsed.data;
}

/** The parts of the server's options that come straight from its configuration. */
export function serverOptionsFrom(config: ServerConfig) {
  return {
    workerToken: config.SHELLROOM_WORKER_TOKEN,
    redisUrl: config.REDIS_URL,
    redisKeyPrefix: config.SHELLROOM_REDIS_PREFIX,
    publicUrl: config.SHELLROOM_PUBLIC_URL,
  };
}
