import { describe, expect, it } from "vitest";
import { containerCreateOptions, pooledContainerOptions, studentVolumes } from "../../runtime-worker/docker/container-config";
import { scriptCommand, scriptUser } from "../../runtime-worker/checks/run-check";
import { EnvironmentSpec } from "../../protocol/worker-messages";

const spec = EnvironmentSpec.parse({
  environmentId: "env1",
  image: "shellroom/default:1",
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  ownerId: "user1",
  limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 },
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
    expect(host.Mounts).toEqual([
      { Type: "volume", Source: "shellroom-ws-env1-home", Target: "/home/student" },
      { Type: "volume", Source: "shellroom-ws-env1", Target: "/home/student/workspace" },
    ]);
    expect(JSON.stringify(options)).not.toContain("docker.sock");
  });

  it("carry the template's memory, CPU and pids limits, with no swap beyond memory", () => {
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(500_000_000);
    expect(host.PidsLimit).toBe(128);
  });

  it("have a read-only root filesystem: scratch space is size-capped tmpfs, and so is /dev/shm", () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(["/run", "/run/lock", "/run/shellroom-check", "/tmp", "/var/tmp"]);
    // Only root's /run allows exec (the checker's tools); what the student can write does not.
    for (const [target, options] of Object.entries(host.Tmpfs ?? {})) expect(options.split(",").includes("exec")).toBe(target === "/run");
    for (const options of Object.values(host.Tmpfs ?? {})) expect(options).toMatch(/(^|,)size=\d+[km](,|$)/);
    expect(host.ShmSize).toBe(64 * 1024 * 1024);
    // Warm-pool containers get exactly the same isolation.
    const pooled = pooledContainerOptions(spec, "slot1", "key", "worker-a").HostConfig!;
    expect({ ...pooled, Mounts: undefined }).toEqual({ ...host, Mounts: undefined });
  });

  it("put the home on its own volume unless the working directory already holds it", () => {
    const limited = { ...spec, limits: { ...spec.limits, diskBytes: 64 * 1024 * 1024 } };
    expect(studentVolumes(limited, "ws").map(({ name, target, diskBytes }) => [name, target, diskBytes])).toEqual([
      ["ws-home", "/home/student", 64 * 1024 * 1024],
      ["ws", "/home/student/workspace", 64 * 1024 * 1024],
    ]);
    expect(studentVolumes({ ...limited, workingDir: "/home/student" }, "ws").map(({ target }) => target)).toEqual(["/home/student"]);
    expect(studentVolumes({ ...limited, workingDir: "/srv/lab" }, "ws").map(({ target }) => target)).toEqual(["/home/student", "/srv/lab"]);
  });

  it("leave the OCI runtime to the engine's default unless one is named, and name it alike for cold and pooled containers", () => {
    expect(host.Runtime).toBeUndefined();
    expect(containerCreateOptions(spec, "worker-a", "crun").HostConfig!.Runtime).toBe("crun");
    expect(pooledContainerOptions(spec, "slot1", "key", "worker-a", "crun").HostConfig!.Runtime).toBe("crun");
    expect(() => containerCreateOptions(spec, "worker-a", "../runc")).toThrow();
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

describe("instructor scripts", () => {
  it("travel on stdin: the command line is the same whatever the script, with a cleared environment", () => {
    const command = scriptCommand("checker", 30);
    expect(command.slice(0, 2)).toEqual(["/usr/bin/env", "-i"]);
    expect(command).toContain("PYTHONNOUSERSITE=1");
    expect(command).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    // The checker's shell and timeout are execute-only copies (not dumpable: nothing it runs can trace it).
    expect(command.slice(-5, -1)).toEqual(["/run/shellroom/bash", "--noprofile", "--norc", "-c"]);
    expect(command).toContain("/run/shellroom/timeout");
    expect(scriptCommand("student", 30).slice(-5, -1)).toEqual(["bash", "--noprofile", "--norc", "-c"]);
    expect(command.some((part) => /BASH_ENV|^ENV=/.test(part))).toBe(false);
  });

  it("checks run as a uid that is not the student's, in the student's group; setup as the container's user", () => {
    expect(scriptUser("checker")).toBe("1999:1000");
    expect(scriptUser("student")).toBeUndefined();
  });
});
