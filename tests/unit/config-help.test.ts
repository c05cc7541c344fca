// Every environment variable the server and the worker validate at boot is described (what --print-config
// shows), secrets never print, and a bad value is named before the process does anything.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { configEntries, defaultOf, formatConfig, maskValue } from "../../common/config-help";
import { WorkerEnv } from "../../runtime-worker/config";
import { ServerConfig } from "../../server/config";
import { BuildConfig } from "../../server/images/build-config";

const schemas: Record<string, z.ZodObject> = { ServerConfig, BuildConfig, WorkerEnv };

describe("configuration help", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`describes every variable of ${name}`, () => {
      const undescribed = configEntries(schema, {})
        .filter((entry) => !entry.description?.trim())
        .map((entry) => entry.name);
      expect(undescribed).toEqual([]);
    });
  }

  it("masks secrets and the password inside a URL", () => {
    expect(maskValue("SHELLROOM_WORKER_SECRET", "s".repeat(40))).toBe("********");
    expect(maskValue("SHELLROOM_WORKER_TOKEN", "t".repeat(20))).toBe("********");
    expect(maskValue("DATABASE_URL", "postgres://shellroom:hunter2@db:5432/shellroom")).toBe("postgres://shellroom:********@db:5432/shellroom");
    expect(maskValue("REDIS_URL", "redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    const text = formatConfig("server", [ServerConfig], { SHELLROOM_WORKER_SECRET: "s".repeat(40), DATABASE_URL: "postgres://u:hunter2@db/x" });
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("s".repeat(40));
  });

  it("shows defaults through preprocess and transform wrappers", () => {
    expect(defaultOf(ServerConfig.shape.PORT)).toBe(3000);
    expect(defaultOf(ServerConfig.shape.SHELLROOM_DEMO)).toBe("");
    expect(defaultOf(WorkerEnv.shape.SHELLROOM_BUILD_CONCURRENCY)).toBe(1);
    expect(defaultOf(WorkerEnv.shape.SHELLROOM_WORKER_MEMORY_BYTES)).toBeUndefined();
  });

  it("names each bad or missing value", () => {
    const entries = configEntries(WorkerEnv, { SHELLROOM_SERVER_URL: "not a url", SHELLROOM_TERMINAL_OUTPUT_RATE: "10", SHELLROOM_BUILD_MIRRORS: "bad host" });
    const problems = Object.fromEntries(entries.filter((entry) => entry.problem).map((entry) => [entry.name, entry.problem]));
    expect(Object.keys(problems).sort()).toEqual([
      "SHELLROOM_BUILD_MIRRORS",
      "SHELLROOM_SERVER_URL",
      "SHELLROOM_TERMINAL_OUTPUT_RATE",
      "SHELLROOM_WORKER_TOKEN",
    ]);
    expect(problems.SHELLROOM_WORKER_TOKEN).toMatch(/required/);
    expect(
      WorkerEnv.safeParse({ SHELLROOM_SERVER_URL: "http://127.0.0.1:3000", SHELLROOM_WORKER_TOKEN: "t".repeat(20), SHELLROOM_BUILD_CONCURRENCY: "" }).success,
    ).toBe(true);
  });
});
