/**
 * The Docker driver on the real engine, held to the same contract as the fast tier's fake
 * (tests/fast/fake-runtime-driver.contract.test.ts): with the PTY holder, as workers run it.
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { compileHolder } from "../../runtime-worker/holder/holder-volume";
import { runtimeDriverContract } from "../support/runtime-driver-contract";

const docker = new Docker();
const workerIds = [`test-contract-${randomBytes(3).toString("hex")}`, `test-contract-b-${randomBytes(3).toString("hex")}`];

async function removeEverythingOf(workerId: string) {
  const filters = { label: [`${LABEL_WORKER}=${workerId}`] };
  for (const container of await docker.listContainers({ all: true, filters })) await docker.getContainer(container.Id).remove({ force: true });
  for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(volume.Name).remove();
}

runtimeDriverContract("Docker", async () => {
  const holder = await compileHolder();
  return {
    driver: new DockerDriver(docker, workerIds[0]!, undefined, holder),
    neighbour: new DockerDriver(docker, workerIds[1]!, undefined, holder),
    volumeExists: async (name) =>
      docker
        .getVolume(name)
        .inspect()
        .then(
          () => true,
          (error: { statusCode?: number }) => {
            if (error.statusCode === 404) return false;
            throw error;
          },
        ),
    reattaches: true,
    cleanup: async () => {
      for (const workerId of workerIds) await removeEverythingOf(workerId);
    },
  };
});
