/** How a template becomes the container shape a worker builds (and pools by), its services and what placement counts. */
import type { EnvironmentTemplate } from "../../generated/prisma/client";
import { poolKeyOf } from "../../protocol/pool-key";
import { ServiceSpecs, type ServiceSpec } from "../../common/services";
import type { EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";

const MB = 1024 * 1024;

export function containerShapeOf(template: EnvironmentTemplate): PoolTemplate {
  return {
    image: template.image,
    limits: { memoryBytes: template.memoryMb * MB, nanoCpus: template.cpuMillis * 1_000_000, pidsLimit: template.pidsLimit, diskBytes: template.diskMb * MB },
    network: "none",
    workingDir: template.workingDir,
    user: template.user,
    // The warm pool starts them with the container (protocol/pool-key.ts keys pools by them).
    services: servicesOf(template),
  };
}

/** What placement asks of a worker for a start of this template: room for its reservation, its image, and warm containers if any. */
export function placementNeedsOf(template: EnvironmentTemplate) {
  return { reservationBytes: reservationBytesOf(template), image: template.image, poolKey: poolKeyOf(containerShapeOf(template)) };
}

/** The template's sidecar services (validated when saved; a record that no longer parses has none rather than failing every start). */
export function servicesOf(template: Pick<EnvironmentTemplate, "services">): ServiceSpec[] {
  return ServiceSpecs.safeParse(template.services).data ?? [];
}

/** What placement reserves for one environment: its own reservation and its services'. */
export function reservationBytesOf(template: Pick<EnvironmentTemplate, "memoryReservationMb" | "services">): number {
  return template.memoryReservationMb * MB + servicesOf(template).reduce((sum, service) => sum + service.memoryReservationBytes, 0);
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
