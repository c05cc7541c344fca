/**
 * The isolation every sidecar service gets: the environment's rules (container-config.ts), with
 * the environment's network namespace instead of its own. A service joins the environment's
 * container (`container:<name>`), whose network is "none": the two share a loopback and
 * nothing else, so the student reaches the service at localhost and the service reaches nobody.
 */
import type Docker from "dockerode";
import type { ServiceSpec } from "../../common/services";
import {
  LABEL_MANAGED,
  LABEL_POLICY,
  LABEL_WORKER,
  POLICY_VERSION,
  RuntimeName,
  SHM_BYTES,
  configuredRuntime,
  containerName,
  pooledContainerName,
} from "./container-config";

/**
 * On a sidecar: whom it was made for (an environment's id, or `pool-<slot>` for a warm pool's:
 * labels cannot change, so a pooled service keeps its slot here and is found by name), and its
 * name in the template.
 */
export const LABEL_SERVICE_OF = "dev.shellroom.service-of";
export const LABEL_SERVICE = "dev.shellroom.service";
/** A hash of the service's spec: a container made from another spec is replaced, not reused. */
export const LABEL_SERVICE_SPEC = "dev.shellroom.service-spec";

export const SIDECAR_PREFIX = "shellroom-svc-";
/** A sidecar's container name: its owner's key (see SidecarOwner) and the service's name. */
export const sidecarName = (ownerKey: string, service: string) => `${SIDECAR_PREFIX}${ownerKey}-${service}`;

/** Whose services: the key their names carry, and the container whose network namespace they join. */
export type SidecarOwner = { key: string; container: string };
export const POOLED_OWNER_PREFIX = "pool-";
export const environmentOwner = (environmentId: string): SidecarOwner => ({ key: environmentId, container: containerName(environmentId) });
export const pooledOwner = (slotId: string): SidecarOwner => ({ key: `${POOLED_OWNER_PREFIX}${slotId}`, container: pooledContainerName(slotId) });

/** Scratch every service gets besides its declared writable places (all tmpfs, charged to its memory). */
const SIDECAR_SCRATCH: Record<string, string> = {
  "/tmp": "rw,nosuid,nodev,size=64m,mode=1777",
  "/run": "rw,nosuid,nodev,size=4m,mode=1777",
};

/** Logs kept per service: small and rotated, read back by `serviceLogs` (the environment itself keeps none). */
const SIDECAR_LOGS = { Type: "json-file", Config: { "max-size": "1m", "max-file": "1" } };

export function sidecarCreateOptions(
  of: { key: string; containerId: string },
  service: ServiceSpec,
  identity: { workerId: string; specHash: string; owner?: { uid: number; gid: number } },
  runtime = configuredRuntime(),
): Docker.ContainerCreateOptions {
  // Owned by the service's user (the engine here ignores a tmpfs's mode, not its owner).
  const owner = identity.owner ? `,uid=${identity.owner.uid},gid=${identity.owner.gid}` : "";
  const writable = Object.fromEntries(service.writable.map((place) => [place.path, `rw,nosuid,nodev,size=${place.sizeMb}m,mode=700${owner}`]));
  return {
    name: sidecarName(of.key, service.name),
    Image: service.image,
    ...(service.command ? { Cmd: service.command } : {}),
    ...(service.user ? { User: service.user } : {}),
    Env: ["LANG=C.UTF-8", ...Object.entries(service.env).map(([key, value]) => `${key}=${value}`)],
    Labels: {
      [LABEL_MANAGED]: "true",
      [LABEL_POLICY]: POLICY_VERSION,
      [LABEL_WORKER]: identity.workerId,
      [LABEL_SERVICE_OF]: of.key,
      [LABEL_SERVICE]: service.name,
      [LABEL_SERVICE_SPEC]: identity.specHash,
    },
    HostConfig: {
      ...(runtime ? { Runtime: RuntimeName.parse(runtime) } : {}),
      // The environment's namespace: its loopback, and (network "none") no other interface. By id:
      // a pooled container is renamed when a student takes it, and its services must still find it.
      NetworkMode: `container:${of.containerId}`,
      Init: true,
      Privileged: false,
      CapDrop: ["ALL"],
      // Only what the template lists for it (common/services.ts bounds the choice).
      CapAdd: service.capabilities,
      SecurityOpt: ["no-new-privileges:true"],
      Memory: service.memoryBytes,
      MemorySwap: service.memoryBytes,
      NanoCpus: service.nanoCpus,
      PidsLimit: service.pidsLimit,
      Ulimits: [{ Name: "nofile", Soft: 4096, Hard: 4096 }],
      ReadonlyRootfs: true,
      Tmpfs: { ...SIDECAR_SCRATCH, ...writable },
      ShmSize: SHM_BYTES,
      RestartPolicy: { Name: "no" },
      LogConfig: SIDECAR_LOGS,
    },
  };
}
