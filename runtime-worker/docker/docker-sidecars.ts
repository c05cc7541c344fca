/**
 * The Docker driver's sidecar services: created and started beside a running environment or a
 * warm pool's container (in its network namespace, sidecar-config.ts), waited for until ready,
 * handed over with a pooled container, restarted with it, their logs read back, and removed
 * with it. Their state lives in tmpfs: every start is fresh.
 */
import { createHash } from "node:crypto";
import type Docker from "dockerode";
import type { ServiceSpec } from "../../common/services";
import { LABEL_MANAGED, LABEL_WORKER } from "./container-config";
import {
  LABEL_SERVICE,
  LABEL_SERVICE_SPEC,
  POOLED_OWNER_PREFIX,
  SIDECAR_PREFIX,
  environmentOwner,
  sidecarCreateOptions,
  sidecarName,
  type SidecarOwner,
} from "./sidecar-config";
import { RuntimeError, statusOf } from "./docker-support";
import { ImageUsers } from "./image-users";

const PROBE_INTERVAL_MS = 250;
/** Lines of a failed service's log quoted in the error the student and staff read. */
const FAILURE_LOG_LINES = 15;

const specHashOf = (service: ServiceSpec) => createHash("sha256").update(JSON.stringify(service)).digest("hex").slice(0, 16);

/** Docker's multiplexed log format (no TTY): 8-byte frame headers before each piece. */
export function demultiplexLog(raw: Buffer): string {
  const pieces: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && (raw[at] === 1 || raw[at] === 2) && raw.readUInt16BE(at + 1) === 0) {
    const size = raw.readUInt32BE(at + 4);
    pieces.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  // Not multiplexed after all (a TTY container): the bytes are the log.
  return (pieces.length > 0 ? Buffer.concat(pieces) : raw).toString("utf8");
}

export class DockerSidecars {
  private readonly users: ImageUsers;

  constructor(
    private readonly docker: Docker,
    private readonly workerId: string,
  ) {
    this.users = new ImageUsers(docker);
  }

  /**
   * Every declared service running and ready beside the owner's running container. A service
   * that runs already (a repeated start, or one the warm pool started) is kept; one made from
   * another spec, or stopped (its namespace went with the environment's last run), is made afresh.
   */
  async ensureRunning(owner: SidecarOwner, services: ServiceSpec[]) {
    const existing = await this.listOf(owner.key);
    // Services the template no longer lists go.
    await Promise.all(
      existing.filter((info) => !services.some((service) => service.name === info.Labels[LABEL_SERVICE])).map((info) => this.removeContainer(info.Id)),
    );
    const pending = services.filter((service) => {
      const current = existing.find((info) => info.Labels[LABEL_SERVICE] === service.name);
      return !(current && current.State === "running" && current.Labels[LABEL_SERVICE_SPEC] === specHashOf(service));
    });
    if (pending.length === 0) return;
    const containerId = (await this.docker.getContainer(owner.container).inspect()).Id;
    await Promise.all(
      pending.map(async (service) => {
        const current = existing.find((info) => info.Labels[LABEL_SERVICE] === service.name);
        if (current) await this.removeContainer(current.Id);
        try {
          const user = service.writable.length > 0 ? await this.users.idsOf(service.image, service.user) : undefined;
          const options = sidecarCreateOptions({ key: owner.key, containerId }, service, {
            workerId: this.workerId,
            specHash: specHashOf(service),
            owner: user,
          });
          await (await this.docker.createContainer(options)).start();
        } catch (error) {
          if (statusOf(error) === 404) throw new RuntimeError(`The service "${service.name}" needs the image "${service.image}", which is not on this worker.`);
          throw error;
        }
        await this.waitReady(owner, service);
      }),
    );
  }

  /** A warm pool's services become the environment's (its container was renamed to the environment's name). */
  async handOver(from: SidecarOwner, environmentId: string) {
    const to = environmentOwner(environmentId);
    await Promise.all(
      (await this.listOf(from.key)).map((info) => this.docker.getContainer(info.Id).rename({ name: sidecarName(to.key, info.Labels[LABEL_SERVICE] ?? "") })),
    );
  }

  /** Polls the service's readiness probe until it passes; fails early when the service exits. */
  private async waitReady(owner: SidecarOwner, service: ServiceSpec) {
    const probe = service.readiness;
    if (!probe) return;
    const deadline = Date.now() + service.readinessTimeoutSeconds * 1000;
    for (;;) {
      const info = await this.docker.getContainer(sidecarName(owner.key, service.name)).inspect();
      if (!info.State.Running) throw await this.failed(owner.key, service, `exited with ${info.State.ExitCode}`);
      // A port is probed from the environment (same loopback; its image always has bash), a command inside the service.
      const passed =
        probe.kind === "tcp"
          ? await this.exitsZero(owner.container, ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${probe.port}`])
          : await this.exitsZero(sidecarName(owner.key, service.name), probe.command);
      if (passed) return;
      if (Date.now() > deadline) throw await this.failed(owner.key, service, `was not ready within ${service.readinessTimeoutSeconds} s`);
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  }

  private async failed(ownerKey: string, service: ServiceSpec, what: string) {
    const log = await this.logs(ownerKey, service.name, FAILURE_LOG_LINES).catch(() => "");
    return new RuntimeError(`The service "${service.name}" ${what}.${log.trim() ? ` Its last lines:\n${log.trim()}` : ""}`);
  }

  private async exitsZero(container: string, command: string[]) {
    try {
      const exec = await this.docker.getContainer(container).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      await new Promise<void>((resolve) => {
        stream
          .on("end", resolve)
          .on("close", resolve)
          .on("error", () => resolve());
        stream.resume();
      });
      return (await exec.inspect()).ExitCode === 0;
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 409) return false;
      throw error;
    }
  }

  /** The service's last `lines` lines of output (stdout and stderr interleaved). */
  async logs(ownerKey: string, service: string, lines: number): Promise<string> {
    try {
      const raw = (await this.docker.getContainer(sidecarName(ownerKey, service)).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as Buffer;
      return demultiplexLog(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
    } catch (error) {
      if (statusOf(error) === 404) throw new RuntimeError(`This environment has no service "${service}" running.`);
      throw error;
    }
  }

  /** After the environment's container restarted: its namespace is new, and a service joins it only when it starts again. */
  async restartAll(ownerKey: string) {
    await Promise.all((await this.listOf(ownerKey)).map((info) => this.docker.getContainer(info.Id).restart({ t: 0 })));
  }

  async stopAll(ownerKey: string) {
    await Promise.all(
      (await this.listOf(ownerKey)).map(async (info) => {
        try {
          await this.docker.getContainer(info.Id).stop({ t: 2 });
        } catch (error) {
          if (statusOf(error) !== 304 && statusOf(error) !== 404) throw error;
        }
      }),
    );
  }

  async removeAll(ownerKey: string) {
    await Promise.all((await this.listOf(ownerKey)).map((info) => this.removeContainer(info.Id)));
  }

  /** Pooled services whose slot is not in `slots` (their container went in a crash): removed. */
  async removeOrphanedPooled(slots: Set<string>) {
    const pooled = await this.listServices(`${SIDECAR_PREFIX}${POOLED_OWNER_PREFIX}`);
    const slotOf = (info: Docker.ContainerInfo) =>
      (info.Names[0] ?? "").replace(/^\//, "").slice(`${SIDECAR_PREFIX}${POOLED_OWNER_PREFIX}`.length).split("-")[0] ?? "";
    await Promise.all(pooled.filter((info) => !slots.has(slotOf(info))).map((info) => this.removeContainer(info.Id)));
  }

  /** Services this worker runs for an owner (any state), found by name: a handed-over one keeps its pool's label. */
  private async listOf(ownerKey: string) {
    const services = await this.listServices(sidecarName(ownerKey, ""));
    // Exactly this owner's (the name filter matches substrings: another key may contain this one).
    return services.filter((info) => info.Names.includes(`/${sidecarName(ownerKey, info.Labels[LABEL_SERVICE] ?? "")}`));
  }

  private listServices(namePart: string) {
    return this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${this.workerId}`, LABEL_SERVICE], name: [namePart] },
    });
  }

  private async removeContainer(id: string) {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (error) {
      if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
    }
  }
}
