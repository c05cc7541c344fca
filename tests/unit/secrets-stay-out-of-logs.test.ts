import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger";

describe("the structured logger", () => {
  it("never writes passwords, tokens, hashes or cookies", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger(sink as never);
    log.warn(
      {
        password: "hunter2-secret",
        token: "tok-secret",
        auth: { token: "worker-secret" },
        request: { cookie: "shellroom_session=abc-secret" },
        passwordHash: "$argon2id$secret",
      },
      "something happened",
    );
    log.child({ user: { password: "nested-secret" } }).info("child");
    const output = lines.join("\n");
    expect(output).toContain("something happened");
    expect(output).not.toMatch(/secret/);
    expect(output).toContain("[redacted]");
  });
});
