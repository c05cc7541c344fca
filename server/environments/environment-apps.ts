/**
 * What runs inside a student's environment, reached from the browser: its sidecar services'
 * logs and a preview of a web server on a declared port. Both are for the owner and course
 * staff only (the access policy's canSeeEnvironmentApps), and only while it runs.
 */
import type { Readable } from "node:stream";
import type { Actor, EnvironmentAccess } from "../../common/access";
import { canSeeEnvironmentApps, environmentAccess, loadCourseRole } from "../auth/access";
import type { Database } from "../database/client";
import { WorkerRequests } from "../../protocol/worker-contract";
import { servicesOf } from "./template-spec";
import type { WorkerLink } from "../workers/worker-link";
import type { WorkerStreams } from "../workers/worker-streams";

/** Why a person cannot reach an environment's apps: for HTTP statuses and tRPC codes. */
export type AppRefusal = "not_found" | "not_running" | "not_previewable" | "no_such_service" | "unavailable";

export class AppAccessError extends Error {
  override name = "AppAccessError";
  constructor(
    readonly code: AppRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** How long a worker may take to read a service's log. */
const LOGS_TIMEOUT_MS = 15_000;

export class EnvironmentApps {
  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly streams: WorkerStreams,
  ) {}

  /** The environment when `actor` may see what runs in it, and it runs; a stranger learns nothing of it. */
  private async reachable(actor: Actor, environmentId: string) {
    const environment = await this.db.environment.findUnique({
      where: { id: environmentId },
      select: {
        id: true,
        userId: true,
        state: true,
        workerId: true,
        lab: { select: { courseId: true } },
        template: { select: { services: true, previewPorts: true } },
      },
    });
    const role = environment ? await loadCourseRole(this.db, actor, environment.lab.courseId) : null;
    const access = environment ? environmentAccess(actor, environment, role) : null;
    if (!environment || !canSeeEnvironmentApps(access)) {
      throw new AppAccessError("not_found", "No such environment, or it is not yours to see.");
    }
    if (environment.state !== "RUNNING" || !environment.workerId) throw new AppAccessError("not_running", "This environment is not running.");
    return { ...environment, workerId: environment.workerId, access };
  }

  /** The declared services and preview ports, for the lab page's tabs. */
  async describe(actor: Actor, environmentId: string) {
    const environment = await this.reachable(actor, environmentId);
    return { services: servicesOf(environment.template).map((service) => service.name), previewPorts: environment.template.previewPorts };
  }

  async serviceLogs(actor: Actor, environmentId: string, service: string, lines: number): Promise<string> {
    const environment = await this.reachable(actor, environmentId);
    if (!servicesOf(environment.template).some((declared) => declared.name === service)) {
      throw new AppAccessError("no_such_service", `This environment has no service "${service}".`);
    }
    const reply = await this.workers.request(environment.workerId, WorkerRequests.serviceLogs, { environmentId, service, lines }, LOGS_TIMEOUT_MS);
    if (!reply.ok) throw new AppAccessError(reply.code === "not_running" ? "not_running" : "unavailable", reply.error);
    return reply.log;
  }

  /**
   * A tunnel to a declared port on the environment's loopback: `input` goes there, the answer
   * comes back. Needs the environment's worker connected to this replica (byte streams do).
   */
  async openPreview(actor: Actor, environmentId: string, port: number, input: Readable): Promise<{ output: Readable; access: EnvironmentAccess }> {
    const environment = await this.reachable(actor, environmentId);
    if (!environment.template.previewPorts.includes(port)) throw new AppAccessError("not_previewable", `Port ${port} is not previewable in this lab.`);
    try {
      return {
        output: await this.streams.tunnel(environment.workerId, WorkerRequests.openPreview, { environmentId, port }, input),
        access: environment.access,
      };
    } catch (error) {
      throw new AppAccessError("unavailable", `The preview could not be opened: ${(error as Error).message}`);
    }
  }
}
