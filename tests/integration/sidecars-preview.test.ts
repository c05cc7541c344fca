/**
 * Whole infrastructures per student, on real Docker: a Postgres sidecar built the way an
 * instructor builds an image (Debian's package through the build's mirror proxy), reached at
 * localhost from the student's shell and from a step's check, fresh after a reset; and a
 * preview of a web server the student runs, for the owner alone (and staff), websockets too.
 */
import Docker from "dockerode";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { LABEL_SERVICE_OF, sidecarName } from "../../runtime-worker/docker/sidecar-config";
import { until } from "../support/until";
import { inBackground, websocketEchoScript } from "../support/preview-servers";
import { closeBuildEgresses } from "../../runtime-worker/images/instructor-build";
import { removeBuildEgress } from "../../runtime-worker/images/build-egress";

let harness: Harness;
let instructor: string;
let tag = "";
const docker = new Docker();

const POSTGRES_DATA = "/var/lib/postgresql";
/** Debian's server, started as the image's postgres user on a fresh tmpfs, listening on loopback only. */
const postgresService = (image: string) => ({
  name: "postgres",
  image,
  user: "postgres",
  command: [
    "bash",
    "-c",
    `initdb -D ${POSTGRES_DATA}/data -U postgres --auth=trust >/dev/null && exec postgres -D ${POSTGRES_DATA}/data -c listen_addresses=127.0.0.1 -k /tmp`,
  ],
  env: { PATH: "/usr/lib/postgresql/15/bin:/usr/bin:/bin" },
  memoryBytes: 256 * 1024 * 1024,
  memoryReservationBytes: 32 * 1024 * 1024,
  pidsLimit: 64,
  writable: [{ path: POSTGRES_DATA, sizeMb: 64 }],
  readiness: { kind: "tcp", port: 5432 },
});

beforeAll(async () => {
  // Debian's archive is the one place a RUN step may reach (through the worker's allowlisting proxy).
  process.env.SHELLROOM_BUILD_MIRRORS ||= "deb.debian.org,security.debian.org";
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  const started = await harness.trpc(
    "authoring.buildImage",
    {
      courseId: harness.courseId,
      name: "Postgres",
      dockerfile:
        "FROM shellroom/default:1\nUSER root\nRUN apt-get update && apt-get install -y --no-install-recommends postgresql && rm -rf /var/lib/apt/lists/*\nUSER student\n",
    },
    { cookie: instructor },
  );
  expect(started.status).toBe(200);
  const { imageId } = started.body.result.data;
  tag = started.body.result.data.tag;
  const image = await until(
    "the Postgres image to build",
    async () => {
      const read = (await harness.trpc("authoring.image", { courseId: harness.courseId, imageId }, { cookie: instructor, method: "GET" })).body.result.data;
      return read.status === "BUILDING" ? null : read;
    },
    600_000,
    1000,
  );
  expect(image.status, image.log).toBe("READY");
}, 660_000);

afterAll(async () => {
  const workerId = harness?.workerId;
  await harness?.close();
  // The build's egress (its proxy and relay container) goes with the test's worker.
  await closeBuildEgresses();
  if (workerId) await removeBuildEgress(docker, workerId);
  if (tag)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
});

async function labWith(fields: Record<string, unknown>, steps: unknown[] = []) {
  const template = await harness.trpc(
    "authoring.saveTemplate",
    {
      courseId: harness.courseId,
      name: `infra ${Date.now()}`,
      memoryMb: 256,
      cpuMillis: 500,
      pidsLimit: 128,
      diskMb: 256,
      network: "NONE",
      idleTimeoutMinutes: 30,
      maxLifetimeMinutes: 120,
      workingDir: "/home/student/workspace",
      setupScript: null,
      image: "shellroom/default:1",
      ...fields,
    },
    { cookie: instructor },
  );
  expect(template.status, JSON.stringify(template.body)).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    { courseId: harness.courseId, templateId: template.body.result.data.id, title: `Lab ${Date.now()}`, instructions: "", published: true, steps },
    { cookie: instructor },
  );
  expect(lab.status).toBe(200);
  const labId = lab.body.result.data.labId as string;
  const read = await harness.trpc("lab.byId", { labId }, { cookie: instructor, method: "GET" });
  return { labId, stepIds: (read.body.result.data.steps as Array<{ id: string }>).map((step) => step.id) };
}

const sidecarsOf = async (environmentId: string) => docker.listContainers({ all: true, filters: { label: [`${LABEL_SERVICE_OF}=${environmentId}`] } });
const psql = (sql: string) => `PGUSER=postgres psql -X -h localhost -tA -c "${sql}"`;

it("a Postgres sidecar is at localhost:5432 for the student and the step's check, logs for the owner alone, and a reset gives a fresh database", async () => {
  const { labId, stepIds } = await labWith({ image: tag, services: [postgresService(tag)] }, [
    {
      title: "Create the notes table",
      body: "Create a table named notes.",
      hint: null,
      checkScript: `${psql("select count(*) from pg_tables where tablename = 'notes'")} | grep -qx 1`,
      checkTimeoutSeconds: 20,
    },
  ]);
  const student = await harness.newStudent("Database Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  expect(await sidecarsOf(environmentId)).toHaveLength(1);

  const created = await runInEnvironment(harness.driver, environmentId, psql("create table notes (body text); insert into notes values ('hello')"));
  expect(created.output).toContain("INSERT 0 1");
  const check = await harness.trpc("step.check", { labId, stepId: stepIds[0] }, { cookie: student.cookie });
  expect(check.status, JSON.stringify(check.body)).toBe(200);
  expect(check.body.result.data.passed, check.body.result.data.output).toBe(true);

  const logs = await harness.trpc("environment.serviceLogs", { environmentId, service: "postgres", lines: 50 }, { cookie: student.cookie, method: "GET" });
  expect(logs.status).toBe(200);
  expect(logs.body.result.data.log).toContain("database system is ready to accept connections");
  const stranger = await harness.newStudent("Curious Student");
  const refused = await harness.trpc("environment.serviceLogs", { environmentId, service: "postgres", lines: 50 }, { cookie: stranger.cookie, method: "GET" });
  expect(refused.status).toBe(404);

  const reset = await harness.trpc("environment.reset", { labId, wipeWorkspace: false }, { cookie: student.cookie });
  expect(reset.status, JSON.stringify(reset.body)).toBe(200);
  const fresh = await runInEnvironment(harness.driver, environmentId, psql("select count(*) from pg_tables where tablename = 'notes'"));
  expect(fresh.output.trim()).toMatch(/^0$/m);
  const again = await harness.trpc("step.check", { labId, stepId: stepIds[0] }, { cookie: student.cookie });
  expect(again.body.result.data.passed).toBe(false);

  // A stop takes the sidecar with the environment.
  expect((await harness.trpc("environment.stop", { labId }, { cookie: student.cookie })).status).toBe(200);
  expect(await sidecarsOf(environmentId)).toEqual([]);
}, 240_000);

it("a warm pool prepares the services with its containers: a student who takes one finds Postgres ready, under their environment's name", async () => {
  const { labId } = await labWith({ image: tag, services: [postgresService(tag)], warmPoolSize: 1 });
  // The pooled container and its service, past its probe, before the student comes.
  await expect.poll(() => harness.worker.pool.size, { timeout: 120_000 }).toBe(1);
  await harness.worker.pool.filled();
  const student = await harness.newStudent("Pooled Database Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).volumeName).toMatch(/^shellroom-pool-ws-/);
  // Made for the pool (its label keeps the slot), now named for the environment.
  const service = await docker.getContainer(sidecarName(environmentId, "postgres")).inspect();
  expect(service.Config.Labels[LABEL_SERVICE_OF]).toMatch(/^pool-/);
  expect(service.State.Running).toBe(true);
  const answered = await runInEnvironment(harness.driver, environmentId, psql("select 40 + 2"));
  expect(answered.output.trim()).toMatch(/^42$/m);
  const logs = await harness.trpc("environment.serviceLogs", { environmentId, service: "postgres", lines: 50 }, { cookie: student.cookie, method: "GET" });
  expect(logs.body.result.data.log).toContain("database system is ready to accept connections");

  // A reset after a pooled start gives a fresh database too, and a stop takes the service along.
  await runInEnvironment(harness.driver, environmentId, psql("create table kept (x int)"));
  expect((await harness.trpc("environment.reset", { labId, wipeWorkspace: false }, { cookie: student.cookie })).status).toBe(200);
  const fresh = await runInEnvironment(harness.driver, environmentId, psql("select count(*) from pg_tables where tablename = 'kept'"));
  expect(fresh.output.trim()).toMatch(/^0$/m);
  expect((await harness.trpc("environment.stop", { labId }, { cookie: student.cookie })).status).toBe(200);
  await expect.poll(async () => (await docker.listContainers({ all: true, filters: { name: [sidecarName(environmentId, "")] } })).length).toBe(0);
}, 240_000);

it("a web server the student runs on a declared port is previewed for them, websockets too; others are refused", async () => {
  const { labId } = await labWith({ previewPorts: [8000, 8001] });
  const student = await harness.newStudent("Web Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  await runInEnvironment(harness.driver, environmentId, "echo hi > index-me.txt");
  await runInEnvironment(harness.driver, environmentId, `${inBackground("python3 -m http.server 8000 --bind 127.0.0.1")}`);
  await runInEnvironment(harness.driver, environmentId, `cat > /tmp/ws.py <<'EOF'\n${websocketEchoScript(8001)}\nEOF\n${inBackground("python3 /tmp/ws.py")}`);

  const preview = `${harness.url}/preview/${environmentId}/8000/`;
  const listing = await until(
    "the preview to show the directory listing",
    async () => {
      const response = await fetch(preview, { headers: { cookie: student.cookie } });
      return response.status === 200 ? response.text() : null;
    },
    20_000,
    250,
  );
  expect(listing).toContain("Directory listing for /");
  expect(listing).toContain("index-me.txt");
  const file = await fetch(`${preview}index-me.txt`, { headers: { cookie: student.cookie } });
  expect(await file.text()).toBe("hi\n");
  // The folder's address without its slash leads to it.
  const bare = await fetch(preview.slice(0, -1), { headers: { cookie: student.cookie }, redirect: "manual" });
  expect(bare.status).toBe(308);

  const other = await harness.newStudent("Nosy Student");
  expect((await fetch(preview, { headers: { cookie: other.cookie } })).status).toBe(404);
  expect((await fetch(preview)).status).toBe(401);
  // Staff see it, sandboxed: the student's page cannot act as them.
  const asStaff = await fetch(preview, { headers: { cookie: instructor } });
  expect(asStaff.status).toBe(200);
  expect(asStaff.headers.get("content-security-policy")).toContain("sandbox");
  // Only declared ports.
  expect((await fetch(`${harness.url}/preview/${environmentId}/5432/`, { headers: { cookie: student.cookie } })).status).toBe(403);

  const wsUrl = `${harness.url.replace(/^http/, "ws")}/preview/${environmentId}/8001/live`;
  const echoed = await new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { cookie: student.cookie, origin: harness.url } });
    socket.once("open", () => socket.send("reload?"));
    socket.once("message", (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once("error", reject);
  });
  expect(echoed).toBe("echo:reload?");
  const refusedSocket = await new Promise<number>((resolve) => {
    const socket = new WebSocket(wsUrl, { headers: { cookie: other.cookie, origin: harness.url } });
    socket.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    socket.once("open", () => resolve(101));
    socket.once("error", () => resolve(-1));
  });
  expect(refusedSocket).toBe(404);
}, 120_000);
