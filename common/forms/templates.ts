/**
 * An environment template as staff type it: image, limits, timeouts, setup. The form shows CPUs
 * where the API counts thousandths of one (`TemplateForm` turns one into the other).
 */
import { z } from "zod";
import { Bounds } from "../input-bounds";
import { numberExpected } from "./fields";
import { PreviewPortList, ServiceList } from "../services";

const WHOLE = numberExpected("Enter a whole number");
const whole = () => z.number(WHOLE).int("Enter a whole number");

export const CpuMillis = whole()
  .min(Bounds.cpuMillis.min, `At least ${Bounds.cpuMillis.min / 1000} CPU`)
  .max(Bounds.cpuMillis.max, `At most ${Bounds.cpuMillis.max / 1000} CPUs`);

const templateFields = {
  name: z.string().trim().min(Bounds.templateName.min, "Name the template").max(Bounds.templateName.max),
  image: z
    .string()
    .trim()
    .min(1, "Choose an image")
    .max(200)
    .regex(/^[a-z0-9][a-z0-9._/-]*(:[\w.-]+)?$/, "Use an image name like shellroom/default:1"),
  memoryMb: whole().min(Bounds.memoryMb.min, `At least ${Bounds.memoryMb.min} MiB`).max(Bounds.memoryMb.max, "At most 16 GiB"),
  /** What placement counts: limits are overcommitted, reservations are not (docs/OPERATIONS.md, Capacity). */
  memoryReservationMb: whole()
    .min(Bounds.memoryReservationMb.min, `At least ${Bounds.memoryReservationMb.min} MiB`)
    .max(Bounds.memoryReservationMb.max, "At most 16 GiB")
    .default(64),
  pidsLimit: whole()
    .min(Bounds.pidsLimit.min, `At least ${Bounds.pidsLimit.min} processes`)
    .max(Bounds.pidsLimit.max, `At most ${Bounds.pidsLimit.max} processes`),
  diskMb: whole().min(Bounds.diskMb.min).max(Bounds.diskMb.max),
  network: z.enum(["NONE"], { message: "This deployment's workers have no network for students: egress is not available" }),
  idleTimeoutMinutes: whole().min(Bounds.idleTimeoutMinutes.min, `At least ${Bounds.idleTimeoutMinutes.min} minutes`).max(Bounds.idleTimeoutMinutes.max),
  maxLifetimeMinutes: whole().min(Bounds.maxLifetimeMinutes.min, `At least ${Bounds.maxLifetimeMinutes.min} minutes`).max(Bounds.maxLifetimeMinutes.max),
  workingDir: z.string().trim().startsWith("/", "Use an absolute path").max(200),
  /** Blank is none. */
  setupScript: z
    .string()
    .max(64 * 1024)
    .nullable()
    .transform((script) => (script?.trim() ? script : null)),
  warmPoolSize: whole()
    .min(Bounds.warmPoolSize.min, "0 turns the pool off")
    .max(Bounds.warmPoolSize.max, `At most ${Bounds.warmPoolSize.max} warm containers per worker`)
    .default(0),
};

/** The reservation is at most the limit; checked only between two valid numbers (a wrong limit is that field's error alone). */
export const reservationFits = (template: { memoryMb: number; memoryReservationMb: number }) => template.memoryReservationMb <= template.memoryMb;
export const RESERVATION_CHECK = {
  path: ["memoryReservationMb"],
  message: "At most the memory limit",
  when: (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }) =>
    !payload.issues.some((issue) => issue.path?.[0] === "memoryMb" || issue.path?.[0] === "memoryReservationMb"),
};

/**
 * Without its id (the router adds `templateId` from protocol/ids) and without the reservation check (`reservationFits`).
 * Services and preview ports come through the API and lab folders (absent: left as they are).
 */
export const TemplateFields = z.object({ ...templateFields, cpuMillis: CpuMillis, services: ServiceList.optional(), previewPorts: PreviewPortList.optional() });

export const TemplateInput = TemplateFields.refine(reservationFits, RESERVATION_CHECK);

/** The form: CPUs as typed (0.5), checked and sent as `cpuMillis` with the API's bounds and messages. */
export const TemplateForm = z
  .object({
    ...templateFields,
    cpus: z
      .number(numberExpected("Enter a number of CPUs, e.g. 0.5"))
      .transform((cpus) => Math.round(cpus * 1000))
      .pipe(CpuMillis),
  })
  .refine(reservationFits, RESERVATION_CHECK)
  .transform(({ cpus, ...template }) => ({ ...template, cpuMillis: cpus }));
