/**
 * Images follow the fleet: a fresh worker host (tests/support/worker-host.ts: its own network
 * namespace reaching the server over a veth, its own dockerd with an empty data root) joins a
 * running platform; without anyone acting it gets the default image and the instructor's
 * image built before it joined, copied from the worker that has them (over the veth) or built
 * there, and a student placed there starts from the instructor's image. Until it holds the
 * image, placement never chooses it, however empty it is.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_IMAGE } from "../../protocol/worker-messages";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { ip, namespacePids } from "../support/host-network";
import { joinHostWorker } from "../support/host-worker";
import { startHarness, type Harness } from "../support/platform-harness";
import { until } from "../support/until";
import { startWorkerHost, type TestWorkerHost } from "../support/worker-host";

const suffix = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
let harness: Harness;
let hostB: TestWorkerHost | undefined;
let instructor: string;
let builtTag: string | undefined;

beforeAll(async () => {
  // Host A (the harness worker) has one place: a second student must go to host B.
  harness = await startHarness({
    redis: false,
    worker: { capacity: { maxEnvironments: 1, memoryBytes: 8 * 1024 ** 3 } },
    // Nobody plays the lab page asking for its place: the queued student must not leave.
    server: { admissionQueue: { abandonAfterMs: 30 * 60_000 } },
  });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  // Host B's containers, engine, data root and netns go with it.
  await hostB?.close();
  await harness?.close();
  if (builtTag)
    await new Docker()
      .getImage(builtTag)
      .remove({ force: true })
      .catch(() => undefined);
}, 120_000);

/** Bytes the host's namespace received on its veth (every link but loopback). */
async function bytesReceivedBy(host: TestWorkerHost) {
  const links = JSON.parse((await ip("-n", host.name, "-j", "-s", "link", "show")).stdout) as { ifname: string; stats64?: { rx?: { bytes?: number } } }[];
  return links.filter((link) => link.ifname !== "lo").reduce((sum, link) => sum + (link.stats64?.rx?.bytes ?? 0), 0);
}

const environmentOf = (cookie: string) =>
  harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie }).then((started) => {
    expect(started.status).toBe(200);
    return started.body.result.data.environmentId as string;
  });

it("a fresh host gets the default and the instructor's image by itself, and a student's environment there starts from it", { timeout: 400_000 }, async () => {
  // An instructor's image, built while host A is the only worker.
  const started = await harness.trpc(
    "authoring.buildImage",
    { courseId: harness.courseId, name: "fleet", dockerfile: `FROM ${DEFAULT_IMAGE}\nRUN echo built-for-the-fleet > /home/student/fleet-marker.txt\n` },
    { cookie: instructor },
  );
  expect(started.status).toBe(200);
  const { imageId, tag } = started.body.result.data as { imageId: string; tag: string };
  builtTag = tag;
  await until("the image built", async () => (await harness.db.image.findUniqueOrThrow({ where: { id: imageId } })).status !== "BUILDING", 180_000, 200);
  expect((await harness.db.image.findUniqueOrThrow({ where: { id: imageId } })).status).toBe("READY");
  const { templateId } = await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } });
  await harness.db.environmentTemplate.update({ where: { id: templateId }, data: { image: tag } });

  // Host A's one place is taken.
  const first = await environmentOf((await harness.newStudent("On host A")).cookie);
  expect((await harness.db.environment.findUniqueOrThrow({ where: { id: first } })).workerId).toBe(harness.workerId);

  // Host B joins with nothing on it: a machine of its own, reaching the server only over its veth.
  hostB = await startWorkerHost({ name: "fleet-b", copyDefaultImage: false });
  const imagesAtStart = (await hostB.docker.listImages()).flatMap((image) => image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>");
  expect(imagesAtStart).toEqual([]);
  await harness.listenOn(hostB.serverAddress);
  const workerB = `host-b-${suffix}`;
  const receivedBeforeJoining = await bytesReceivedBy(hostB);
  const workerProcess = await joinHostWorker(harness, hostB, { workerId: workerB, name: "host B (own netns, empty)", maxEnvironments: 4 });
  const joinedAt = Date.now();
  expect(await namespacePids(hostB.name)).toContain(workerProcess.pid);

  // A second student: A is full and B cannot start the template yet, so they wait (never a failed start on B).
  const second = await environmentOf((await harness.newStudent("On host B")).cookie);
  const { state, workerId } = await harness.db.environment.findUniqueOrThrow({ where: { id: second } });
  expect(state === "QUEUED" || (state === "RUNNING" && workerId === workerB) || state === "STARTING").toBe(true);

  // Without anyone acting, B gets both images and the student's environment runs there.
  const heldOnB = async (image: string) => (await harness.db.workerImage.findUnique({ where: { workerId_tag: { workerId: workerB, tag: image } } }))?.status;
  console.log(`[fleet-images] the second student's environment is ${state} on ${workerId}`);
  await until(`${DEFAULT_IMAGE} READY on host B`, async () => (await heldOnB(DEFAULT_IMAGE)) === "READY", 180_000, 250);
  await until(`${tag} READY on host B`, async () => (await heldOnB(tag)) === "READY", 180_000, 250);
  console.log(`[fleet-images] host B joined -> both images READY there: ${((Date.now() - joinedAt) / 1000).toFixed(1)} s`);
  const running = await until(
    "the second student's environment RUNNING on host B",
    async () => {
      const environment = await harness.db.environment.findUniqueOrThrow({ where: { id: second } });
      return environment.state === "RUNNING" && environment.workerId === workerB && environment;
    },
    60_000,
    250,
  ).catch(async (error: Error) => {
    const environment = await harness.db.environment.findUniqueOrThrow({ where: { id: second } });
    throw new Error(`${error.message}: it is ${environment.state} on ${environment.workerId} (${environment.error ?? "no error"})`);
  });
  console.log(`[fleet-images] host B joined -> student running there: ${((Date.now() - joinedAt) / 1000).toFixed(1)} s`);

  // B's engine holds both images now, and the container runs from the instructor's, there and not on the machine's engine.
  const tagsOnB = (await hostB.docker.listImages()).flatMap((image) => image.RepoTags ?? []);
  expect(tagsOnB).toEqual(expect.arrayContaining([DEFAULT_IMAGE, tag]));
  expect(await harness.driver.state(running.id)).toBe("missing");
  // The default image came to B over its veth (the only way in): at least its size crossed it.
  const { Size: defaultImageBytes } = await hostB.docker.getImage(DEFAULT_IMAGE).inspect();
  expect((await bytesReceivedBy(hostB)) - receivedBeforeJoining).toBeGreaterThan(defaultImageBytes * 0.9);
  const [container] = await hostB.docker.listContainers({ filters: { label: [`${LABEL_ENVIRONMENT}=${running.id}`] } });
  expect(container?.Image).toBe(tag);
  const exec = await hostB.docker.getContainer(container!.Id).exec({ Cmd: ["cat", "/home/student/fleet-marker.txt"], AttachStdout: true, AttachStderr: true });
  const output = await new Promise<string>((resolve, reject) => {
    void exec.start({}).then((stream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => resolve(Buffer.concat(chunks).toString()));
      stream.on("error", reject);
    }, reject);
  });
  expect(output).toContain("built-for-the-fleet");

  // The image's page shows where it is, per worker.
  const page = await harness.trpc("authoring.image", { courseId: harness.courseId, imageId }, { cookie: instructor, method: "GET" });
  expect(page.body.result.data.workers).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ workerId: harness.workerId, status: "READY" }),
      expect.objectContaining({ workerId: workerB, status: "READY" }),
    ]),
  );
});
