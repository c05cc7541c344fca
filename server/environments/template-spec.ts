/** How a template becomes the container shape a worker builds (and pools by). */
import type { EnvironmentTemplate } from "../../generated/prisma/client";
import type { PoolTemplate } from "../../protocol/worker-messages";
import { poolKeyOf } from "../../protocol/pool-key";

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

/** What placement asks of a worker for a start of this template: room for its reservation, its image, and warm containers if any. */
export function placementNeedsOf(template: EnvironmentTemplate) {
  return { reservationBytes: template.memoryReservationMb * MB, image: template.image, poolKey: poolKeyOf(containerShapeOf(template)) };
}
