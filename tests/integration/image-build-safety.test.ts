/**
 * Builds you can hand to a teaching assistant, on the real Docker engine and Postgres: a
 * Dockerfile that would make the daemon fetch is refused (by the server and again by the
 * worker) before anything is built; a build gets no network and bounded memory, processes
 * and time; builds on one worker queue; an interrupted build ends FAILED with a reason; and
 * the lifecycle sweep, on the durable queue, runs once across replicas.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WorkerRequests } from "../../protocol/worker-contract";
import { startHarness, type Harness } from "../support/platform-harness";

// The operator's build limits, small so the tests run quickly (read when the server starts).
const LIMITS = { SHELLROOM_BUILD_MEMORY_MB: "64", SHELLROOM_BUILD_PIDS: "64", SHELLROOM_BUILD_TIMEOUT_MINUTES: "0.5" };
const saved = Object.fromEntries(Object.keys(LIMITS).map((key) => [key, process.env[key]]));

const docker = new Docker();
let harness: Harness;
let instructor: string;
/** A host service a build must never reach; counts the requests it gets. */
let bait: http.Server;
let baitHits = 0;
let baitUrl: string;
const builtTags: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, LIMITS);
  bait = http.createServer((_req, res) => {
    baitHits += 1;
    res.end("secret metrics\n");
  });
  await new Promise<void>((resolve) => bait.listen(0, "127.0.0.1", resolve));
  baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`;
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});

afterAll(async () => {
  await harness?.close();
  await new Promise((resolve) => bait?.close(resolve));
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  for (const tag of builtTags)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
});

async function startBuild(name: string, dockerfile: string) {
  const started = await harness.trpc("authoring.buildImage", { courseId: harness.courseId, name, dockerfile }, { cookie: instructor });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const { imageId, tag } = started.body.result.data as { imageId: string; tag: string };
  builtTags.push(tag);
  return { imageId, tag };
}

async function image(imageId: string) {
  return (await harness.trpc("authoring.image", { courseId: harness.courseId, imageId }, { cookie: instructor, method: "GET" })).body.result.data;
}

async function finished(imageId: string, timeout = 120_000) {
  let current: any;
  await expect.poll(async () => (current = await image(imageId)).status, { timeout, interval: 250 }).not.toBe("BUILDING");
  return current;
}

/** Build-step containers still present whose command contains `marker`. */
async function stepContainers(marker: string) {
  const containers = await docker.listContainers({ all: true });
  return containers.filter((container) => container.Command.includes(marker));
}

it("a Dockerfile with ADD <url>, a git source or a syntax frontend is refused before building, naming the line; nothing is fetched", async () => {
  const images = await harness.db.image.count();
  for (const [dockerfile, expected] of [
    [`FROM shellroom/default:1\nRUN true\nADD ${baitUrl}/metrics /m`, `Line 3: ADD ${baitUrl}/metrics would be fetched by the Docker daemon`],
    [`FROM shellroom/default:1\nadd ["${baitUrl}/x", "/x"]`, `Line 2: ADD ${baitUrl}/x would be fetched`],
    ["FROM shellroom/default:1\nADD git@github.com:moby/moby.git /src", "Line 2: ADD git@github.com:moby/moby.git would be fetched"],
    ["# syntax=docker/dockerfile:1\nFROM shellroom/default:1", "Line 1: # syntax=docker/dockerfile:1 makes the builder fetch a frontend image"],
  ] as const) {
    const refused = await harness.trpc("authoring.buildImage", { courseId: harness.courseId, name: "Fetcher", dockerfile }, { cookie: instructor });
    expect(refused.status).toBe(400);
    expect(refused.body.error.data.zodError.fieldErrors.dockerfile).toEqual([expect.stringContaining(expected)]);
  }
  expect(await harness.db.image.count()).toBe(images);

  // The worker does not trust the server: the same request sent straight to it is refused too.
  const direct = await harness.server.workers.request(harness.workerId, WorkerRequests.buildImage, {
    buildId: "direct-1",
    tag: "shellroom/h4-direct:1",
    dockerfile: `FROM shellroom/default:1\nAD\\\nD ${baitUrl}/metrics /m`,
  });
  expect(direct).toEqual({
    ok: false,
    code: "failed",
    error: `The Dockerfile was refused. Line 2: ADD ${baitUrl}/metrics would be fetched by the Docker daemon, and the builder may not fetch anything from the network. Install what the image needs with RUN from the allowed package mirrors.`,
  });
  expect(baitHits).toBe(0);
});

it("a COPY --from an image this worker does not have fails without pulling it", async () => {
  const { imageId } = await startBuild("Remote copy", "FROM shellroom/default:1\nCOPY --from=docker.io/library/alpine:3 /bin/busybox /busybox\n");
  const result = await finished(imageId);
  expect(result.status).toBe("FAILED");
  expect(result.error).toContain('The base image "docker.io/library/alpine:3" is not on this worker (nothing is pulled from registries).');
});

it("a build's RUN steps have no network but loopback", async () => {
  const { imageId } = await startBuild("Offline", "FROM shellroom/default:1\nRUN echo interfaces: $(ls /sys/class/net)\n");
  const result = await finished(imageId);
  expect(result.status).toBe("READY");
  expect(result.log).toContain("interfaces: lo\n");
});

it("a build step that goes over the build's memory limit fails with a reason", async () => {
  const { imageId } = await startBuild("Memory hog", "FROM shellroom/default:1\nRUN python3 -c \"x = b'x' * (256 * 1024 * 1024); print(len(x))\"\n");
  const result = await finished(imageId);
  expect(result.status).toBe("FAILED");
  expect(result.error).toMatch(/returned a non-zero code: 137 \(killed: the step likely went over the build's memory limit of 64 MiB\)/);
});

it("a build step cannot run more processes than the build's pids limit", async () => {
  const { imageId } = await startBuild("Fork happy", "FROM shellroom/default:1\nRUN for i in $(seq 1 200); do sleep 30 & done; echo all-$((1+1))-started\n");
  const result = await finished(imageId);
  expect(result.status).toBe("FAILED");
  expect(result.log).toMatch(/Cannot fork|Resource temporarily unavailable/);
  expect(result.log).not.toContain("all-2-started");
});

it("a build that runs past its time limit is stopped, fails with a reason, and its container is removed", async () => {
  const { imageId } = await startBuild("Endless", "FROM shellroom/default:1\nRUN sleep 100000 # h4-endless\n");
  await expect.poll(async () => (await stepContainers("h4-endless")).length, { timeout: 60_000, interval: 250 }).toBe(1);
  const result = await finished(imageId, 120_000);
  expect(result.status).toBe("FAILED");
  expect(result.error).toBe("The build ran past its time limit (30 s) and was stopped.");
  await expect.poll(async () => (await stepContainers("h4-endless")).length, { timeout: 30_000, interval: 500 }).toBe(0);
});

it("two builds on one worker run one after the other", async () => {
  const first = await startBuild("First", "FROM shellroom/default:1\nRUN sleep 4 # h4-queue-first\n");
  const second = await startBuild("Second", "FROM shellroom/default:1\nRUN sleep 4 # h4-queue-second\n");
  let together = 0;
  let seenFirst = false;
  let seenSecond = false;
  await expect
    .poll(
      async () => {
        const running = (await docker.listContainers()).map((container) => container.Command);
        const a = running.some((command) => command.includes("h4-queue-first"));
        const b = running.some((command) => command.includes("h4-queue-second"));
        seenFirst ||= a;
        seenSecond ||= b;
        if (a && b) together += 1;
        return (await image(first.imageId)).status !== "BUILDING" && (await image(second.imageId)).status !== "BUILDING";
      },
      { timeout: 120_000, interval: 200 },
    )
    .toBe(true);
  const [a, b] = [await image(first.imageId), await image(second.imageId)];
  expect([a.status, b.status]).toEqual(["READY", "READY"]);
  expect(seenFirst || seenSecond).toBe(true);
  expect(together).toBe(0);
  // Whichever the worker took second waited in its queue, and said so.
  expect([a.log, b.log].filter((log: string) => log.includes("Queued: 1 build ahead on this worker."))).toHaveLength(1);
});

it("a build left BUILDING by a server restart ends FAILED with a reason, and the worker stops building it", async () => {
  // One whose job was lost (e.g. a crash before the queue held it) ...
  const lost = await harness.db.image.create({
    data: {
      courseId: harness.courseId,
      name: "Lost",
      tag: `shellroom/h4-lost:${Date.now().toString(36)}`,
      dockerfile: "FROM shellroom/default:1",
      createdAt: new Date(Date.now() - 5 * 60_000),
    },
  });
  // ... and one running when the server stops.
  const { imageId } = await startBuild("Interrupted", "FROM shellroom/default:1\nRUN sleep 100000 # h4-restart\n");
  await expect.poll(async () => (await stepContainers("h4-restart")).length, { timeout: 60_000, interval: 250 }).toBe(1);

  await harness.restartServer();

  const result = await finished(imageId, 60_000);
  expect(result.status).toBe("FAILED");
  expect(result.error).toBe("interrupted: the server restarted during the build. Build it again.");
  expect(await harness.db.image.findUniqueOrThrow({ where: { id: lost.id } })).toMatchObject({
    status: "FAILED",
    error: "interrupted: the build was lost when its server stopped. Build it again.",
  });
  await expect.poll(async () => (await stepContainers("h4-restart")).length, { timeout: 30_000, interval: 500 }).toBe(0);
});

it("a build whose worker disconnects mid-build ends FAILED with a reason", async () => {
  await expect
    .poll(() => harness.db.worker.findUnique({ where: { id: harness.workerId } }).then((worker) => worker?.status), { timeout: 30_000 })
    .toBe("ONLINE");
  const { imageId } = await startBuild("Orphaned", "FROM shellroom/default:1\nRUN sleep 100000 # h4-disconnect\n");
  await expect.poll(async () => (await stepContainers("h4-disconnect")).length, { timeout: 60_000, interval: 250 }).toBe(1);

  harness.worker.socket.disconnect();
  try {
    const result = await finished(imageId, 60_000);
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe(`interrupted: worker ${harness.workerId} disconnected during the build. Build it again.`);
    // The worker stopped it too: its reply had nowhere to go.
    await expect.poll(async () => (await stepContainers("h4-disconnect")).length, { timeout: 30_000, interval: 500 }).toBe(0);
  } finally {
    harness.worker.socket.connect();
    await harness.worker.connected();
  }
});

it("the lifecycle sweep runs once across two replicas", async () => {
  const replica = await harness.startReplica();
  const sweepers = [harness.server.sweeper, replica.server.sweeper];
  const total = () => sweepers.reduce((sum, sweeper) => sum + sweeper.completedSweeps, 0);
  const before = total();
  // Both replicas' timers fire at once (twice each): one sweep is queued for the slot.
  const queued = await Promise.all([...sweepers, ...sweepers].map((sweeper) => sweeper.requestSweep()));
  expect(queued.filter(Boolean)).toHaveLength(1);
  await expect.poll(() => total() - before, { timeout: 30_000, interval: 200 }).toBe(1);
  await expect
    .poll(
      async () =>
        (
          await harness.db.$queryRawUnsafe<Array<{ count: bigint }>>(
            "SELECT count(*) FROM pgboss.job WHERE name = 'lifecycle-sweep' AND state IN ('created', 'retry', 'active')",
          )
        )[0]!.count,
      { timeout: 30_000 },
    )
    .toBe(0n);
  expect(total() - before).toBe(1);
});
