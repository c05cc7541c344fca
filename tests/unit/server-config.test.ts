import { describe, expect, it } from "vitest";
import { loadServerConfig } from "../../server/config";

describe("server configuration", () => {
  it("fails fast and names the missing worker secret", () => {
    expect(() => loadServerConfig({})).toThrow(/SHELLROOM_WORKER_SECRET/);
  });
  it("does not take the old shared worker token for the secret, and says what replaces it", () => {
    expect(() => loadServerConfig({ SHELLROOM_WORKER_TOKEN: "y".repeat(32) })).toThrow(/worker-token <id>/);
  });
  it("defaults to the embedded, single-node setup", () => {
    const config = loadServerConfig({ SHELLROOM_WORKER_SECRET: "x".repeat(32) });
    expect(config).toMatchObject({ PORT: 3000, HOST: "127.0.0.1" });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });
  it("refuses a DATABASE_URL that is not Postgres", () => {
    expect(() => loadServerConfig({ SHELLROOM_WORKER_SECRET: "x".repeat(32), DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
  });
});
