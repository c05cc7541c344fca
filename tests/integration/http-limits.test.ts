/**
 * The HTTP edge under abuse, through the real server (tRPC over HTTP, socket.io) against
 * real Postgres and Redis: body and batch limits, the Origin check on every mutation, the
 * client's address behind a trusted proxy, and sign-in limits that a stranger or a
 * classroom NAT cannot turn into a lockout.
 */
import http from "node:http";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootLogger } from "../../common/logger";
import { TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { hashPassword } from "../../server/auth/passwords";
import { MAX_BATCH_CALLS } from "../../server/auth/request-limits";
import { createShellroomServer } from "../../server/http-server";
import { appRouter } from "../../server/trpc/root";
import { startHarness, type Harness } from "../support/platform-harness";
import { WIRE_PARSER } from "../../protocol/wire-parser";

const MiB = 1024 * 1024;
let harness: Harness;

beforeAll(async () => {
  // The test process plays a reverse proxy on loopback: its X-Forwarded-For is believed.
  harness = await startHarness({ server: { trustedProxies: ["loopback"] } });
});
afterAll(async () => {
  await harness?.close();
});

/**
 * POSTs up to `totalBytes` (1 MiB chunks, honouring backpressure) and stops as soon as the
 * server answers or closes. With `declareLength` the length is announced up front;
 * otherwise the body is chunked.
 */
function pushBody(
  url: string,
  totalBytes: number,
  declareLength: boolean,
): Promise<{ status: number | null; sent: number; headers: http.IncomingHttpHeaders }> {
  const chunk = Buffer.alloc(MiB, 0x61);
  return new Promise((resolve) => {
    let sent = 0;
    let finished = false;
    const done = (status: number | null, headers: http.IncomingHttpHeaders = {}) => {
      if (finished) return;
      finished = true;
      request.destroy();
      resolve({ status, sent, headers });
    };
    const request = http.request(url, {
      method: "POST",
      headers: { "content-type": "application/json", origin: new URL(url).origin, ...(declareLength ? { "content-length": String(totalBytes) } : {}) },
    });
    request.on("response", (response) => {
      response.resume();
      done(response.statusCode ?? null, response.headers);
    });
    request.on("error", () => done(null));
    const write = () => {
      while (!finished && sent < totalBytes) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once("drain", write);
      }
      if (!finished) request.end();
    };
    write();
  });
}

describe("request size", () => {
  it("a 200 MiB sign-in body is refused with 413 from its Content-Length, without the server's memory growing", async () => {
    const before = process.memoryUsage().rss;
    const result = await pushBody(`${harness.url}/api/trpc/auth.signIn`, 200 * MiB, true);
    const grown = process.memoryUsage().rss - before;
    expect(result.status).toBe(413);
    // Refused from the header: what was sent is what the socket buffers held, not the body.
    expect(result.sent).toBeLessThan(64 * MiB);
    expect(grown).toBeLessThan(48 * MiB);
    // The server is still there for everyone else.
    expect((await harness.trpc("auth.me", null, { method: "GET" })).status).toBe(200);
  });

  it("a chunked body is cut off once it passes the limit, and the connection is closed", async () => {
    const before = process.memoryUsage().rss;
    const result = await pushBody(`${harness.url}/api/trpc/auth.signIn`, 200 * MiB, false);
    const grown = process.memoryUsage().rss - before;
    expect(result.status).toBe(413);
    expect(result.headers.connection).toBe("close");
    expect(result.sent).toBeLessThan(64 * MiB);
    expect(grown).toBeLessThan(48 * MiB);
  });

  it("a lab import may be larger than an ordinary request, up to its own limit", async () => {
    const twoMiB = `{"0":{"json":{"templateId":"x","files":{"lab.md":"${"a".repeat(2 * MiB)}"}}}}`;
    const ordinary = await fetch(`${harness.url}/api/trpc/auth.signIn?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: harness.url },
      body: twoMiB,
    });
    expect(ordinary.status).toBe(413);
    // Shaped like any tRPC error, so the app's batching client shows the message.
    expect(await ordinary.json()).toMatchObject([
      { error: { data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 }, message: expect.stringMatching(/1024 KiB/) } },
    ]);
    // Through the size check (then refused for another reason: nobody is signed in).
    const lab = await fetch(`${harness.url}/api/trpc/authoring.importLab`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: harness.url },
      body: twoMiB,
    });
    expect(lab.status).toBe(401);
    expect((await pushBody(`${harness.url}/api/trpc/authoring.importLab`, 200 * MiB, true)).status).toBe(413);
  });

  it("a batch of more calls than allowed is refused; one within the limit is answered", async () => {
    const batch = (calls: number) => {
      const paths = Array(calls).fill("auth.me").join(",");
      return fetch(`${harness.url}/api/trpc/${paths}?batch=1&input=${encodeURIComponent("{}")}`);
    };
    expect((await batch(MAX_BATCH_CALLS)).status).toBe(200);
    const refused = await batch(MAX_BATCH_CALLS + 1);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/Batch call exceeds maximum size/);
  });
});

describe("cross-site requests", () => {
  const mutations = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .filter(([, procedure]) => procedure._def.type === "mutation")
    .map(([path]) => path);

  it("every mutation is refused with a foreign Origin, without one, and over GET", async () => {
    expect(mutations.length).toBeGreaterThan(20);
    for (const path of mutations) {
      const foreign = await harness.trpc(path, {}, { origin: "https://attacker.example" });
      expect(foreign.status, path).toBe(403);
      const overGet = await harness.trpc(path, {}, { method: "GET" });
      expect(overGet.status, path).toBe(405);
    }
    const fromOpaqueOrigin = await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" }, { origin: "null" });
    expect(fromOpaqueOrigin.status).toBe(403);
    const withoutOrigin = await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" }, { origin: null });
    expect(withoutOrigin.status).toBe(403);
    expect((await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" })).status).toBe(200);
  });
});

describe("the client's address", () => {
  const forwardedFor = (address: string) => ({ headers: { "x-forwarded-for": address } });

  it("behind a trusted proxy, ten wrong passwords from one client do not lock the owner out from another", async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push(
        (await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: `guess-${attempt}` }, forwardedFor("203.0.113.10"))).status,
      );
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    // The stranger's own bucket stays shut, even for the right password...
    expect((await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" }, forwardedFor("203.0.113.10"))).status).toBe(
      429,
    );
    // ...and the owner, elsewhere, signs in.
    expect((await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" }, forwardedFor("198.51.100.20"))).status).toBe(
      200,
    );
    const failures = await harness.db.auditEvent.findMany({ where: { action: "auth.sign_in_failed", ip: "203.0.113.10" } });
    expect(failures).toHaveLength(10);
  });

  it("fifty wrong passwords from one classroom NAT do not lock the class out", async () => {
    const passwordHash = await hashPassword("classroom-password");
    const students = await Promise.all(
      Array.from({ length: 51 }, (_, index) =>
        harness.db.user.create({ data: { displayName: `Pupil ${index}`, email: `pupil-${index}-${Date.now()}@school.test`, passwordHash } }),
      ),
    );
    const nat = forwardedFor("192.0.2.99");
    for (const student of students.slice(0, 50)) {
      expect((await harness.trpc("auth.signIn", { email: student.email, password: "typo-typo" }, nat)).status).toBe(401);
    }
    for (const student of students) {
      expect((await harness.trpc("auth.signIn", { email: student.email, password: "classroom-password" }, nat)).status, student.email ?? "").toBe(200);
    }
  });

  it("guessing one account's password from many addresses is capped per account", async () => {
    const email = `target-${Date.now()}@school.test`;
    await harness.db.user.create({ data: { displayName: "Target", email, passwordHash: await hashPassword("the-real-password") } });
    // Ten addresses, each up to its own limit: a hundred guesses in all.
    for (let address = 0; address < 10; address++) {
      for (let guess = 0; guess < 10; guess++) {
        expect((await harness.trpc("auth.signIn", { email, password: `guess-${address}-${guess}` }, forwardedFor(`203.0.113.${100 + address}`))).status).toBe(
          401,
        );
      }
    }
    expect((await harness.trpc("auth.signIn", { email, password: "another-guess" }, forwardedFor("203.0.113.200"))).status).toBe(429);
  });

  it("the socket gateway records the client's address from a trusted proxy", async () => {
    const student = await harness.newStudent("Proxied Student");
    const socket = io(`${harness.url}${TERMINAL_NAMESPACE}`, {
      transports: ["websocket"],
      parser: WIRE_PARSER,
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: student.cookie, origin: harness.url, "x-forwarded-for": "203.0.113.77" },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      await new Promise((resolve) => socket.emit("terminal:attach", { environmentId: "c0000000000000000000nope", cols: 80, rows: 24 }, resolve));
      // The row is written beside the reply, not before it.
      await expect
        .poll(() => harness.db.auditEvent.findFirst({ where: { action: "environment.access_refused", actorId: student.userId } }).then((row) => row?.ip), {
          timeout: 10_000,
        })
        .toBe("203.0.113.77");
    } finally {
      socket.close();
    }
  });

  it("an untrusted peer's X-Forwarded-For is ignored: all its clients share one bucket", async () => {
    const log = rootLogger.child({ test: "untrusted-proxy" });
    log.level = "warn";
    // The same database, but no trusted proxies: loopback is just a client.
    const direct = await createShellroomServer({ db: harness.db, workerSecret: "u".repeat(32), log, sweepIntervalMs: 0 });
    const url = await direct.listen(0, "127.0.0.1");
    try {
      const signIn = (password: string, address: string) =>
        fetch(`${url}/api/trpc/auth.signIn`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: url, "x-forwarded-for": address },
          body: JSON.stringify({ email: "instructor@shellroom.local", password }),
        }).then((response) => response.status);
      for (let attempt = 0; attempt < 10; attempt++) expect(await signIn(`guess-${attempt}`, `203.0.113.${attempt}`)).toBe(401);
      expect(await signIn("shellroom-instructor", "198.51.100.1")).toBe(429);
    } finally {
      await direct.close();
    }
  });
});
