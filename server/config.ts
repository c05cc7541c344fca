/**
 * Server configuration, validated once at boot: a missing or malformed variable fails
 * fast with its name instead of surfacing later as `undefined`.
 */
import path from "node:path";
import proxyAddr from "proxy-addr";
import { z } from "zod";
import { LogLevel } from "../common/logger";
import { OidcProvidersSetting } from "./auth/oidc/provider-config";

/** "1"/"true" or "0"/"false"; anything else is a mistake worth failing on. */
const Flag = z
  .enum(["1", "0", "true", "false", ""])
  .default("")
  .transform((value) => value === "1" || value === "true");

export const ServerConfig = z.object({
  HOST: z.string().default("127.0.0.1").describe("interface to listen on"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe("0 picks a free port (tests)"),
  DATABASE_URL: z.string().startsWith("postgres").optional().describe("Postgres; unset runs an embedded Postgres under .data/"),
  REDIS_URL: z.string().startsWith("redis").optional().describe("Redis for multi-replica pub/sub; unset runs single-node"),
  SHELLROOM_REDIS_PREFIX: z
    .string()
    .regex(/^[\w.-]{1,64}$/)
    .default("shellroom")
    .describe("key/channel prefix on Redis; replicas of one deployment share it"),
  // A shared SHELLROOM_WORKER_TOKEN is not read by the server any more: each worker has its own.
  SHELLROOM_WORKER_SECRET: z
    .string({
      error:
        "SHELLROOM_WORKER_SECRET is required: each worker's own token is derived from it (a shared SHELLROOM_WORKER_TOKEN is no longer read by the server; give each worker the token `npm run admin -- worker-token <id>` prints)",
    })
    .min(32, "SHELLROOM_WORKER_SECRET must be at least 32 characters")
    .describe("the secret each worker's own token is derived from (npm run admin -- worker-token <id>)"),
  SHELLROOM_PUBLIC_URL: z.url().optional().describe("the origin browsers use, e.g. https://shellroom.example.edu; checked against Origin"),
  SHELLROOM_REPLICA_URL: z
    .url()
    .regex(/^https?:\/\//, "an http:// or https:// URL")
    .optional()
    .describe(
      "this replica's address as the other replicas reach it (streams to a worker connected elsewhere), e.g. http://10.0.1.11:3000; unset: http://HOST:PORT",
    ),
  SHELLROOM_DATA_DIR: z.string().default(".data").describe("embedded Postgres and other local state"),
  SHELLROOM_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((list) => {
      try {
        proxyAddr.compile(list);
        return true;
      } catch {
        return false;
      }
    }, "list addresses, CIDR ranges or loopback/linklocal/uniquelocal, separated by commas")
    .describe("reverse proxies whose X-Forwarded-For is believed; unset: the client is the socket's peer"),
  SHELLROOM_METRICS_TOKEN: z
    .string()
    .min(16, "SHELLROOM_METRICS_TOKEN must be at least 16 characters")
    .optional()
    .describe("bearer token a Prometheus scraper sends for /metrics; unset: /metrics answers only requests from this machine"),
  SHELLROOM_DEMO: Flag.describe("1 seeds the demo accounts (known passwords) and the demo join code; npm run platform sets it"),
  SHELLROOM_RUNAWAY_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(20)
    .describe("an environment at its pids limit this long is flagged as a runaway in the live room"),
  SHELLROOM_RUNAWAY_CPU_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 3600)
    .default(300)
    .describe("the same at its CPU limit (longer: a compile saturates a core legitimately)"),
  SHELLROOM_RUNAWAY_STOP_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(15)
    .describe("a runaway this long is stopped, files kept; 0 never stops one"),
  SHELLROOM_PREPARE_LEAD_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(15)
    .describe("minutes before a session's start its warm pools fill to the expected seats"),
  SHELLROOM_BULK_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe("environments an action on everyone (reset all, ...) works on at once"),
  SHELLROOM_QUEUE_ABANDON_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(60)
    .describe("a student waiting in the admission queue whose page has not asked for its place this long leaves the queue (the page was closed)"),
  SHELLROOM_EXPORT_DIR: z
    .string()
    .min(1)
    .optional()
    .describe("where workspace exports are kept (students' files: a folder only the server reads); unset: exports/ under SHELLROOM_DATA_DIR"),
  SHELLROOM_EXPORT_KEEP: z.coerce.number().int().min(1).max(100).default(3).describe("exports kept per environment (older ones are deleted)"),
  SHELLROOM_SNAPSHOT_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(0)
    .describe("export each workspace used since its last export this often, so a lost host's workspaces can be restored; 0 (default): never"),
  SHELLROOM_OIDC_PROVIDERS: OidcProvidersSetting.describe(
    'single sign-on: a JSON array of OpenID Providers, each {"id","name","issuer","clientId","clientSecret", optional "allowedDomains":[...], "claims":{"name","email","groups"}, "groupCourses":{"<group>":"<course slug>"}}; the redirect URI to register is <public URL>/api/auth/oidc/<id>/callback',
  ),
  SHELLROOM_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "an smtp:// or smtps:// URL")
    .optional()
    .describe("mail server for password reset links, e.g. smtps://user:pass@mail.example.edu:465; unset: only administrators make reset links"),
  SHELLROOM_SMTP_FROM: z.string().default("Shellroom <no-reply@localhost>").describe("the From of the mail Shellroom sends"),
  NODE_ENV: z
    .enum(["development", "production", "test"])
    .default("development")
    .describe("production serves the built pages and refuses to start with known (demo) credentials"),
  LOG_LEVEL: LogLevel,
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
    workerSecret: config.SHELLROOM_WORKER_SECRET,
    redisUrl: config.REDIS_URL,
    redisKeyPrefix: config.SHELLROOM_REDIS_PREFIX,
    publicUrl: config.SHELLROOM_PUBLIC_URL,
    replicaUrl: config.SHELLROOM_REPLICA_URL,
    runaway: {
      pidsAfterMs: config.SHELLROOM_RUNAWAY_SECONDS * 1000,
      cpuAfterMs: config.SHELLROOM_RUNAWAY_CPU_SECONDS * 1000,
      stopAfterMs: config.SHELLROOM_RUNAWAY_STOP_MINUTES * 60_000,
    },
    bulkConcurrency: config.SHELLROOM_BULK_CONCURRENCY,
    prepareLeadMinutes: config.SHELLROOM_PREPARE_LEAD_MINUTES,
    admissionQueue: { abandonAfterMs: config.SHELLROOM_QUEUE_ABANDON_SECONDS * 1000 },
    trustedProxies: config.SHELLROOM_TRUSTED_PROXIES,
    metricsToken: config.SHELLROOM_METRICS_TOKEN,
    exports: {
      dir: config.SHELLROOM_EXPORT_DIR ?? path.join(config.SHELLROOM_DATA_DIR, "exports"),
      keep: config.SHELLROOM_EXPORT_KEEP,
      snapshotMinutes: config.SHELLROOM_SNAPSHOT_MINUTES,
    },
    oidcProviders: config.SHELLROOM_OIDC_PROVIDERS,
    smtp: config.SHELLROOM_SMTP_URL ? { url: config.SHELLROOM_SMTP_URL, from: config.SHELLROOM_SMTP_FROM } : undefined,
  };
}
