/**
 * Removes every container and workspace volume a given worker id created, and its build egress
 * (the mirror proxy's relay and network): the browser tests' worker leaves its students'
 * environments running, as a real one would.
 * Usage: tsx tests/support/remove-worker-containers.ts <worker-id>
 */
import Docker from "dockerode";
import { LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { removeBuildEgress } from "../../runtime-worker/images/build-egress";

const workerId = process.argv[2];
if (!workerId) {
  console.error("usage: remove-worker-containers.ts <worker-id>");
  process.exit(2);
}
const docker = new Docker();
const filters = { label: [`${LABEL_WORKER}=${workerId}`] };
const containers = await docker.listContainers({ all: true, filters });
for (const container of containers) await docker.getContainer(container.Id).remove({ force: true });
// Through WorkspaceVolumes: a size-limited workspace also has a loop mount and an image file.
const volumes = await WorkspaceVolumes.open(docker);
const { Volumes } = await docker.listVolumes({ filters });
for (const volume of Volumes ?? []) await volumes.remove(volume.Name);
await removeBuildEgress(docker, workerId);
console.log(`[test] removed ${containers.length} container(s) and ${Volumes?.length ?? 0} volume(s) of worker ${workerId}`);
