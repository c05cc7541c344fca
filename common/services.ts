/**
 * Sidecar services and preview ports: what a template declares beside its environment. A
 * service is a container that shares the environment's network namespace (loopback only), so
 * the student reaches it at localhost:<port> and nothing else; a preview port is one the
 * platform may relay a browser to. Shared by the server (templates, lab folders) and the worker.
 */
import { z } from "zod";

export const MAX_SERVICES = 4;
export const MAX_PREVIEW_PORTS = 8;
const MB = 1024 * 1024;

export const ServiceName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "lower-case letters, digits and dashes, starting with a letter");

/** A TCP port on the environment's loopback. */
export const LoopbackPort = z.number().int().min(1).max(65_535);

/** Capabilities a service may ask back (everything else stays dropped): what database and web servers need at most. */
export const ServiceCapability = z.enum(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "NET_BIND_SERVICE", "KILL"]);

/** How the worker knows a service is ready: a command that exits 0 inside it, or a port that accepts on loopback. */
export const ReadinessProbe = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("command"), command: z.array(z.string().max(1024)).min(1).max(64) }),
  z.object({ kind: z.literal("tcp"), port: LoopbackPort }),
]);
export type ReadinessProbe = z.infer<typeof ReadinessProbe>;

export const ServiceSpec = z.object({
  name: ServiceName,
  image: z.string().min(1).max(256),
  /** The image's own command when null. */
  command: z.array(z.string().max(4096)).min(1).max(64).nullable().default(null),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)).default({}),
  /** "uid[:gid]" or a user name of the image; the image's own user when null. */
  user: z.string().min(1).max(64).nullable().default(null),
  memoryBytes: z
    .number()
    .int()
    .min(16 * MB)
    .max(64 * 1024 * MB)
    .default(256 * MB),
  /** What placement counts for it, added to the environment's own reservation. */
  memoryReservationBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * MB)
    .default(64 * MB),
  nanoCpus: z.number().int().min(10_000_000).max(64_000_000_000).default(500_000_000),
  pidsLimit: z.number().int().min(16).max(100_000).default(128),
  capabilities: z.array(ServiceCapability).max(8).default([]),
  /** Size-limited writable places (tmpfs, charged to its memory): the root filesystem is read-only. Fresh on every start. */
  writable: z
    .array(
      z.object({
        path: z
          .string()
          .regex(/^\/[\w./-]*$/)
          .max(256),
        sizeMb: z.number().int().min(1).max(4096),
      }),
    )
    .max(8)
    .default([]),
  readiness: ReadinessProbe.nullable().default(null),
  readinessTimeoutSeconds: z.number().int().min(1).max(300).default(60),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;
export type ServiceSpecInput = z.input<typeof ServiceSpec>;

/** A template's services as staff give them (no default: a save without them leaves them as they are). */
export const ServiceList = z
  .array(ServiceSpec)
  .max(MAX_SERVICES)
  .refine((services) => new Set(services.map((service) => service.name)).size === services.length, "service names must differ");
export const ServiceSpecs = ServiceList.default([]);

export const PreviewPortList = z
  .array(LoopbackPort)
  .max(MAX_PREVIEW_PORTS)
  .refine((ports) => new Set(ports).size === ports.length, "ports must differ");

/** A service's log is read back this many lines at most. */
export const MAX_LOG_LINES = 2000;
