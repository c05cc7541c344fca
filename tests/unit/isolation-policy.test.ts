import { describe, expect, it } from "vitest";
import { containerCreateOptions } from "../../runtime-worker/docker/container-config";
import { EnvironmentSpec } from "../../protocol/worker-messages";

const spec = EnvironmentSpec.parse({
  environmentId: "env1", image: "shellroom/default:1", network: "none", workingDir: "/home/student/workspace",
  user: "student", ownerId: "user1", limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 },
});

describe("every student container's create options", () => {
  const options = containerCreateOptions(spec, "worker-a");
  const host = options.HostConfig!;

  it("drop every capability, forbid privilege gain and run as the template's non-root user", () => {
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd).toBeUndefined();
    expect(host.SecurityOpt).toContain("no-new-privileges:true");
    expect(host.SecurityOpt?.some((option: string) => option.startsWith("seccomp=unconfined"))).toBe(false);
    expect(host.Privileged).toBe(false);
    expect(options.User).toBe("student");
  });

  it("have no network, no host mounts and no Docker socket", () => {
    expect(host.NetworkMode).toBe("none");
    expect(host.Binds).toBeUndefined();
    expect(host.Mounts).toEqual([{ Type: "volume", Source: "shellroom-ws-env1", Target: "/home/student/workspace" }]);
    expect(JSON.stringify(options)).not.toContain("docker.sock");
  });

  it("carry the template's memory, CPU and pids limits, with no swap beyond memory", () => {
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(500_000_000);
    expect(host.PidsLimit).toBe(128);
  });

  it("are labelled so a restarted worker can find what it owns", () => {
    expect(options.Labels).toMatchObject({ "dev.shellroom.managed": "true", "dev.shellroom.environment": "env1", "dev.shellroom.worker": "worker-a" });
  });
});

describe("environment specs from the server", () => {
  it("refuse relative working directories, tiny limits and ids that are not ids", () => {
    expect(EnvironmentSpec.safeParse({ ...spec, workingDir: "workspace" }).success).toBe(false);
    expect(EnvironmentSpec.safeParse({ ...spec, limits: { ...spec.limits, pidsLimit: 1 } }).success).toBe(false);
    expect(EnvironmentSpec.safeParse({ ...spec, environmentId: "../../etc" }).success).toBe(false);
    expect(EnvironmentSpec.safeParse({ ...spec, network: "host" }).success).toBe(false);
  });
});
