import { describe, expect, it } from "vitest";
import { workerTokenCommand } from "../../server/cli/worker-token";
import { workerTokenFor, workerTokenValid } from "../../server/workers/worker-credentials";

const secret = "s".repeat(40);

describe("worker credentials", () => {
  it("a worker's token is valid for its own id only, and only under the server's secret", () => {
    const token = workerTokenFor(secret, "host-a");
    expect(workerTokenValid(secret, "host-a", token)).toBe(true);
    expect(workerTokenValid(secret, "host-b", token)).toBe(false);
    expect(workerTokenValid("t".repeat(40), "host-a", token)).toBe(false);
    expect(workerTokenValid(secret, "host-a", `${token}x`)).toBe(false);
    expect(workerTokenValid(secret, "host-a", "")).toBe(false);
  });

  it("npm run admin -- worker-token <id> prints that worker's token, and names what is missing", () => {
    expect(workerTokenCommand(["host-a"], { SHELLROOM_WORKER_SECRET: secret })).toBe(workerTokenFor(secret, "host-a"));
    expect(() => workerTokenCommand(["host-a"], {})).toThrow(/SHELLROOM_WORKER_SECRET/);
    expect(() => workerTokenCommand(["../etc"], { SHELLROOM_WORKER_SECRET: secret })).toThrow(/usage: worker-token/);
  });
});
