/**
 * The operator's limits for instructors' image builds, read once at boot (zod: a malformed
 * value fails with its name). Each build's container gets them on every worker.
 */
import { z } from "zod";
import type { BuildLimits } from "../../protocol/worker-messages";

export const BuildConfig = z.object({
  SHELLROOM_BUILD_MEMORY_MB: z.coerce.number().int().min(32).max(65_536).default(2048).describe("memory of a build step's container (no swap on top)"),
  SHELLROOM_BUILD_CPUS: z.coerce.number().min(0.1).max(64).default(1).describe("CPUs a build step may use"),
  SHELLROOM_BUILD_PIDS: z.coerce.number().int().min(16).max(100_000).default(512).describe("processes a build step may run at once"),
  SHELLROOM_BUILD_TIMEOUT_MINUTES: z.coerce
    .number()
    .min(0.05)
    .max(24 * 60)
    .default(20)
    .describe("a build running longer is stopped and fails"),
});

export function buildLimitsFrom(env: Record<string, string | undefined> = process.env): BuildLimits {
  const parsed = BuildConfig.safeParse(Object.fromEntries(Object.keys(BuildConfig.shape).map((key) => [key, env[key] || undefined])));
  if (!parsed.success) {
    throw new Error(`Invalid build configuration: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  const config = parsed.data;
  return {
    memoryBytes: config.SHELLROOM_BUILD_MEMORY_MB * 1024 * 1024,
    nanoCpus: Math.round(config.SHELLROOM_BUILD_CPUS * 1e9),
    pidsLimit: config.SHELLROOM_BUILD_PIDS,
    timeoutMs: Math.round(config.SHELLROOM_BUILD_TIMEOUT_MINUTES * 60_000),
  };
}
