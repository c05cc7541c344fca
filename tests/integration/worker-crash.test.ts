/**
 * A worker crash in the platform the README starts (scripts/platform.ts, server and worker
 * as separate processes): `kill -9` of the worker while a student types. The server stays
 * up, the launcher starts the worker again, and the student's terminal comes back to the
 * same shell (a variable set before the kill and a background job are still there) with
 * the screen repainted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { io, type Socket } from "socket.io-client";
import { afterAll, expect, it } from "vitest";
import { TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { type AttachReply, type ScreenPart } from "../../protocol/browser-contract";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase, type Database } from "../../server/database/client";
import { DEMO_COURSE_SLUG, DEMO_LAB_SLUG } from "../../server/database/seed";
import { containerName } from "../../runtime-worker/docker/container-config";
import { isRunning } from "../support/processes";
import { cloneTestDatabase, nextEvent, waitForOutput } from "../support/platform-harness";
import { until as untilWithin } from "../support/until";
import { WIRE_PARSER } from "../../protocol/wire-parser";
/** A whole platform restarting a worker under load: a minute per step, polled every 200 ms. */
const until = <T>(what: string, probe: Parameters<typeof untilWithin<T>>[1], timeoutMs = 60_000) => untilWithin<T>(what, probe, timeoutMs, 200);

let launcher: ChildProcess | undefined;
let socket: Socket | undefined;
let db: Database | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let environmentId: string | undefined;

afterAll(async () => {
  socket?.close();
  if (launcher && launcher.exitCode === null) {
    const exited = new Promise((resolve) => launcher!.once("exit", resolve));
    launcher.kill("SIGTERM");
    await exited;
  }
  if (environmentId) {
    const docker = new Docker();
    const container = docker.getContainer(containerName(environmentId));
    const info = await container.inspect().catch(() => null);
    await container.remove({ force: true }).catch(() => undefined);
    for (const mount of info?.Mounts ?? []) {
      if (mount.Type === "volume" && mount.Name?.startsWith("shellroom-ws-"))
        await docker
          .getVolume(mount.Name)
          .remove()
          .catch(() => undefined);
    }
  }
  await db?.$disconnect();
  await dropDatabase?.();
});

/** Attaches and returns the reply with its whole screen (pieces put together). */
async function attach(client: Socket, id: string): Promise<AttachReply> {
  const parts: string[] = [];
  const onPart = (part: ScreenPart) => {
    if (part.environmentId === id) parts[part.index] = part.data;
  };
  client.on("terminal:screen-part", onPart);
  try {
    const reply = await new Promise<AttachReply>((resolve) =>
      client.emit("terminal:attach", { environmentId: id, terminalId: "main", cols: 100, rows: 30 }, resolve),
    );
    return reply.ok ? { ...reply, screen: parts.join("") + reply.screen } : reply;
  } finally {
    client.off("terminal:screen-part", onPart);
  }
}

it("kill -9 of the worker: the server stays up, the worker is back, and the student has the same shell, repainted", { timeout: 240_000 }, async () => {
  const database = await cloneTestDatabase();
  dropDatabase = database.drop;
  db = createDatabase(database.url);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  launcher = spawn("node_modules/.bin/tsx", ["scripts/platform.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PORT: String(port),
      SHELLROOM_DEV: "1",
      SHELLROOM_WORKER_ID: `crash-${port}`,
      LOG_LEVEL: "warn",
      SHELLROOM_WORKSPACE_QUOTA: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  launcher.stdout!.on("data", (chunk) => (output += chunk));
  launcher.stderr!.on("data", (chunk) => (output += chunk));
  await until("the platform to start", () => /Shellroom is running at/.test(output), 120_000);
  const [, serverPid, workerPid] = /server pid (\d+), worker pid (\d+)/.exec(output)!.map(Number);

  // A student of the demo course, signed in, with the lab's environment started.
  const course = await db.course.findUniqueOrThrow({ where: { slug: DEMO_COURSE_SLUG } });
  const lab = await db.lab.findUniqueOrThrow({ where: { courseId_slug: { courseId: course.id, slug: DEMO_LAB_SLUG } } });
  const user = await db.user.create({ data: { displayName: "Crash Student", role: "STUDENT" } });
  await db.courseMember.create({ data: { courseId: course.id, userId: user.id, role: "STUDENT" } });
  const token = generateSessionToken();
  await createSession(db, token, user.id);
  const cookie = `${SESSION_COOKIE}=${token}`;
  const started = await until("the worker to take a start", async () => {
    const response = await fetch(`${url}/api/trpc/environment.startForLab`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: url },
      body: JSON.stringify({ labId: lab.id }),
    });
    return response.status === 200 ? ((await response.json()) as { result: { data: { environmentId: string } } }) : null;
  });
  environmentId = started.result.data.environmentId;

  socket = io(`${url}${TERMINAL_NAMESPACE}`, { transports: ["websocket"], parser: WIRE_PARSER, extraHeaders: { cookie, origin: url }, forceNew: true });
  socket.on("terminal:output", (message: { environmentId: string; terminalId: string; data: ArrayBuffer; offset: number }) => {
    socket!.emit("terminal:ack", { environmentId: message.environmentId, terminalId: message.terminalId, offset: message.offset + message.data.byteLength });
  });
  await until("the browser socket", () => socket!.connected);
  const first = await until("the first attach", async () => {
    const reply = await attach(socket!, environmentId!);
    return reply.ok ? reply : null;
  });
  expect(first.ok).toBe(true);
  const mark = randomBytes(4).toString("hex");
  const ready = waitForOutput(socket, new RegExp(`ready-${mark}`), 30_000);
  socket.emit("terminal:input", { environmentId, terminalId: "main", data: `export MARK=${mark}; sleep 8888 & echo "ready""-$MARK"\r` });
  await ready;

  const resumed = nextEvent<{ environmentId: string }>(socket, "terminal:resume", (message) => message.environmentId === environmentId, 90_000);
  process.kill(workerPid!, "SIGKILL");
  await until("the launcher to start a new worker", () => {
    const match = /\[platform\] worker pid (\d+)/.exec(output);
    return match && Number(match[1]) !== workerPid ? Number(match[1]) : null;
  });
  expect(isRunning(serverPid!)).toBe(true);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);

  // The server tells the page its terminal is back; the page attaches again and gets the screen.
  await resumed;
  const again = await attach(socket, environmentId);
  expect(again.ok && again.screen).toContain(`ready-${mark}`);

  const same = waitForOutput(socket, new RegExp(`again-${mark}[\\s\\S]*sleep 8888`), 30_000);
  socket.emit("terminal:input", { environmentId, terminalId: "main", data: `echo "again""-$MARK"; jobs\r` });
  await same;
  expect(isRunning(serverPid!)).toBe(true);
});
