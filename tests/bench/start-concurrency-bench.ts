/**
 * How many cold starts (volume, create, start, exec a login shell to its prompt) the engine
 * takes best at once: a burst of N students run through a limit of 1, 2, 4, ... and N
 * (no limit), same run, with the platform's own container options. Raw dockerode, no holder.
 * Usage: tsx tests/bench/start-concurrency-bench.ts [burst=20] [limits=2,4,8]
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import pLimit from "p-limit";
import { EnvironmentSpec } from "../../protocol/worker-messages";
import { LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { formatMs, now, percentile } from "./measure";
import { startRawShell } from "./raw-docker";

const burst = Number(process.argv[2] ?? 20);
const limits = [...(process.argv[3] ?? "2,4,8").split(",").map(Number), burst];
const docker = new Docker();
const workerId = `bench-concurrency-${randomBytes(4).toString("hex")}`;

async function removeAll() {
  const filters = { label: [`${LABEL_WORKER}=${workerId}`] };
  for (const container of await docker.listContainers({ all: true, filters })) await docker.getContainer(container.Id).remove({ force: true });
  const { Volumes } = await docker.listVolumes({ filters: { name: [`shellroom-ws-${workerId}`] } });
  for (const volume of Volumes ?? [])
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => undefined);
}

async function run(limit: number) {
  const slots = pLimit(limit);
  const began = now();
  const times = await Promise.all(
    Array.from({ length: burst }, (_, index) =>
      slots(async () => {
        const spec = EnvironmentSpec.parse({
          environmentId: `${workerId}-${limit}-${index}`,
          image: "shellroom/default:1",
          ownerId: "bench",
          limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
          network: "none",
          workingDir: "/home/student/workspace",
          user: "student",
        });
        const shell = await startRawShell(docker, spec, workerId);
        await shell.prompt;
        shell.close();
        return now() - began;
      }),
    ),
  );
  return { wall: now() - began, p50: percentile(times, 50), p95: percentile(times, 95) };
}

try {
  for (const limit of limits) {
    const result = await run(limit);
    console.log(
      `${burst} cold starts, at most ${String(limit).padStart(2)} at once: wall ${formatMs(result.wall)}, to prompt p50 ${formatMs(result.p50)}, p95 ${formatMs(result.p95)}`,
    );
    await removeAll();
  }
} finally {
  await removeAll();
}
