/** How a template becomes the container shape a worker builds (and pools by). */
import type { EnvironmentTemplate } from "../../generated/prisma/client";
import type { EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";

const MB = 1024 * 1024;

export function containerShapeOf(template: EnvironmentTemplate): PoolTemplate {
  return {
    image: template.image,
    limits: { memoryBytes: template.memoryMb * MB, nanoCpus: template.cpuMillis * 1_000_000, pidsLimit: template.pidsLimit, diskBytes: template.diskMb * MB },
    network: "none",
    workingDir: template.workingDir,
    user: template.user,
  };
}

/** What a worker is told to start (or export, or import into) for this environment. */
export function environmentSpecOf(template: EnvironmentTemplate, environment: { id: string; userId: string; volumeName: string | null }): EnvironmentSpec {
  return {
    ...containerShapeOf(template),
    environmentId: environment.id,
    ownerId: environment.userId,
    setupScript: template.setupScript,
    volumeName: environment.volumeName,
  };
}
