/**
 * Byte streams to a worker connected to another server replica (server/workers/replica-relay.ts):
 * a workspace download, a preview (its websockets too), a stored export and its restore, asked of a replica the
 * worker is not connected to, go through the replica that holds it and arrive whole. Only a
 * replica that knows the workers' secret can ask that of another: an unsigned, forged, replayed
 * or stale relay request is refused. Real replicas, Redis, Postgres and Docker.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { WorkerRequests } from "../../protocol/worker-contract";
import { RELAY_PATH, relayKey } from "../../server/workers/replica-relay";
import { FrameDecoder, FrameType, encodeFrame, jsonFrame, type Frame } from "../../server/workers/relay-frames";
import type { ShellroomServer } from "../../server/http-server";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { readTarball } from "../support/workspace-tarballs";
import { inBackground, websocketEchoScript } from "../support/preview-servers";
import { until } from "../support/until";

let harness: Harness;
let replica: { url: string; server: ShellroomServer };
let exportDir: string;
let instructor: string;

beforeAll(async () => {
  exportDir = mkdtempSync(path.join(os.tmpdir(), "shellroom-relay-exports-"));
  harness = await startHarness({ server: { exports: { dir: exportDir } } });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  // The worker is connected to the first replica; this one only reaches it through the first.
  replica = await harness.startReplica();
});
afterAll(async () => {
  await harness?.close();
  rmSync(exportDir, { recursive: true, force: true });
});

async function previewLab() {
  const template = await harness.trpc(
    "authoring.saveTemplate",
    {
      courseId: harness.courseId,
      name: "Relayed preview",
      image: "shellroom/default:1",
      memoryMb: 256,
      cpuMillis: 500,
      pidsLimit: 128,
      diskMb: 256,
      network: "NONE",
      idleTimeoutMinutes: 30,
      maxLifetimeMinutes: 120,
      workingDir: "/home/student/workspace",
      setupScript: null,
      previewPorts: [8000, 8001],
    },
    { cookie: instructor },
  );
  expect(template.status, JSON.stringify(template.body)).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    { courseId: harness.courseId, templateId: template.body.result.data.id, title: "Relayed preview", instructions: "", published: true, steps: [] },
    { cookie: instructor },
  );
  expect(lab.status).toBe(200);
  return lab.body.result.data.labId as string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A replica's count of relayed streams (its /metrics answers this machine without a token). */
async function relayed(url: string, side: "asked" | "served", kind: string, outcome: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith(`shellroom_relayed_streams_total{side="${side}",kind="${kind}",outcome="${outcome}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

it("a workspace download and a preview asked of a replica the worker is not connected to arrive whole", { timeout: 180_000 }, async () => {
  const labId = await previewLab();
  const student = await harness.newStudent("Relayed Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  // Some MiB: many chunks, so the relay's flow control is in play both ways.
  const wrote = await runInEnvironment(harness.driver, environmentId, "seq 1 600000 > numbers.txt && sha256sum numbers.txt");
  expect(wrote.exitCode).toBe(0);
  const expected = wrote.output.split(" ")[0];
  await runInEnvironment(harness.driver, environmentId, inBackground("python3 -m http.server 8000 --bind 127.0.0.1"));
  await runInEnvironment(harness.driver, environmentId, `cat > /tmp/ws.py <<'EOF'\n${websocketEchoScript(8001)}\nEOF\n${inBackground("python3 /tmp/ws.py")}`);
  expect(harness.server.streams.holds(harness.workerId)).toBe(true);
  expect(replica.server.streams.holds(harness.workerId)).toBe(false);

  const download = await fetch(`${replica.url}/api/environments/${environmentId}/workspace.tar`, { headers: { cookie: student.cookie } });
  expect(
    download.status,
    await download
      .clone()
      .text()
      .catch(() => ""),
  ).toBe(200);
  expect(download.headers.get("x-shellroom-workspace-source")).toBe("live");
  const entries = await readTarball(Buffer.from(await download.arrayBuffer()));
  const numbers = entries.find((entry) => entry.name === "./workspace/numbers.txt");
  expect(numbers?.body.length).toBeGreaterThan(3 * 1024 * 1024);
  expect(sha256(numbers!.body)).toBe(expected);

  const previewed = await until(
    "the preview through the other replica",
    async () => {
      const response = await fetch(`${replica.url}/preview/${environmentId}/8000/numbers.txt`, { headers: { cookie: student.cookie } });
      return response.status === 200 ? response.text() : null;
    },
    30_000,
    250,
  );
  expect(sha256(previewed)).toBe(expected);
  // A websocket too: its handshake and bytes both ways through the relay.
  const echoed = await new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(`${replica.url.replace(/^http/, "ws")}/preview/${environmentId}/8001/live`, {
      headers: { cookie: student.cookie, origin: replica.url },
    });
    socket.once("open", () => socket.send("across?"));
    socket.once("message", (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once("error", reject);
  });
  expect(echoed).toBe("echo:across?");
  // Each replica counts its side: the one asked relayed them, the worker's served them.
  expect(await relayed(replica.url, "asked", "download", "opened")).toBe(1);
  expect(await relayed(harness.url, "served", "download", "opened")).toBe(1);
  expect(await relayed(replica.url, "asked", "tunnel", "opened")).toBeGreaterThanOrEqual(2);
  expect(await relayed(harness.url, "served", "tunnel", "opened")).toBe(await relayed(replica.url, "asked", "tunnel", "opened"));
  // Still for the owner alone, whichever replica is asked.
  const other = await harness.newStudent("Nosy Relayed Student");
  expect((await fetch(`${replica.url}/preview/${environmentId}/8000/`, { headers: { cookie: other.cookie } })).status).toBe(404);
});

it("an export taken through another replica is kept there, and restores onto the worker through it", { timeout: 180_000 }, async () => {
  const student = await harness.newStudent("Restored Student");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  expect((await runInEnvironment(harness.driver, environmentId, "echo first draft > essay.txt")).exitCode).toBe(0);

  const stored = await replica.server.workspaces.transfers.exportToStore(environmentId);
  expect(stored.sizeBytes).toBeGreaterThan(0);
  expect((await runInEnvironment(harness.driver, environmentId, "echo overwritten > essay.txt")).exitCode).toBe(0);
  expect((await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: student.cookie })).status).toBe(200);

  await replica.server.workspaces.transfers.restore(environmentId, harness.workerId);
  const again = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(again.status, JSON.stringify(again.body)).toBe(200);
  expect((await runInEnvironment(harness.driver, environmentId, "cat essay.txt")).output.trim()).toBe("first draft");
});

/** A raw relay connection to the replica: sends `first` as its first frame, resolves with the replica's first answer. */
function relayAnswer(first: Buffer) {
  return new Promise<unknown>((resolve, reject) => {
    const request = http.request(new URL(RELAY_PATH, replica.url), { headers: { connection: "Upgrade", upgrade: "shellroom-relay" } });
    request.once("upgrade", (_response, socket, head) => {
      const decoder = new FrameDecoder();
      decoder.once("data", (frame: Frame) => {
        resolve({ type: frame.type, ...(JSON.parse(frame.payload.toString()) as object) });
        socket.destroy();
      });
      decoder.once("error", reject);
      if (head.length) decoder.write(head);
      socket.pipe(decoder);
      socket.write(first);
    });
    request.once("response", (response) => reject(new Error(`no upgrade: ${response.statusCode}`)));
    request.once("error", reject);
    request.end();
  });
}

const relayBody = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: "download",
    workerId: "nowhere",
    event: WorkerRequests.exportWorkspace.event,
    payload: {},
    at: Date.now(),
    nonce: randomBytes(16).toString("hex"),
    ...fields,
  });
const signed = (body: string, secret = harness.workerSecret) =>
  jsonFrame(FrameType.request, { body, signature: createHmac("sha256", relayKey(secret)).update(body).digest("hex") });
const forbidden = { type: FrameType.reply, ok: false, code: "forbidden" };

it("refuses a relay request that is unsigned, forged, replayed, stale or not a stream; a worker connected nowhere is unavailable", async () => {
  expect(await relayAnswer(encodeFrame(FrameType.data, Buffer.from("hello")))).toMatchObject(forbidden);
  expect(await relayAnswer(signed(relayBody(), randomBytes(32).toString("hex")))).toMatchObject(forbidden);
  const body = relayBody();
  expect(await relayAnswer(jsonFrame(FrameType.request, { body, signature: "00".repeat(32) }))).toMatchObject(forbidden);
  // Signed with the deployment's secret: taken (the worker it names is nowhere here), and only once.
  expect(await relayAnswer(signed(body))).toMatchObject({ type: FrameType.reply, ok: false, code: "worker_unavailable" });
  expect(await relayAnswer(signed(body))).toMatchObject(forbidden);
  expect(await relayAnswer(signed(relayBody({ at: Date.now() - 10 * 60_000 })))).toMatchObject(forbidden);
  // A request that is no relayable stream (a start, here; an upload named as a download) is refused even when signed.
  expect(await relayAnswer(signed(relayBody({ event: WorkerRequests.startEnvironment.event })))).toMatchObject(forbidden);
  expect(await relayAnswer(signed(relayBody({ kind: "upload" })))).toMatchObject(forbidden);

  await expect(replica.server.streams.download("nowhere", WorkerRequests.exportWorkspace, {} as never)).rejects.toThrow(/not connected to any server replica/);
  expect(await relayed(replica.url, "served", "download", "forbidden")).toBe(6);
  expect(await relayed(replica.url, "served", "upload", "forbidden")).toBe(1);
  expect(await relayed(replica.url, "asked", "download", "unavailable")).toBe(1);
});
