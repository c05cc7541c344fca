/**
 * Isolation probes that run inside a real student container, created through the
 * DockerDriver with the same kind of EnvironmentSpec the platform sends. Each probe is
 * a command a student could type; the assertions read what the kernel reports back.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { remappedRoot } from "../../runtime-worker/docker/workspace-volumes";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { EnvironmentSpec } from "../../protocol/worker-messages";
import { runInEnvironment } from "../support/run-in-environment";
import { ServiceSpec } from "../../common/services";
import { LABEL_SERVICE_OF, sidecarName } from "../../runtime-worker/docker/sidecar-config";
import { demultiplexLog } from "../../runtime-worker/docker/docker-sidecars";

const MEMORY_BYTES = 256 * 1024 * 1024;
const PIDS_LIMIT = 128;

// DOCKER_HOST when set: the same suite runs against a second engine (userns-remap, gVisor).
const docker = new Docker();
const driver = new DockerDriver(docker, `test-isolation-${randomBytes(3).toString("hex")}`);
const environmentId = `iso-${randomBytes(6).toString("hex")}`;
const spec = EnvironmentSpec.parse({
  environmentId,
  image: "shellroom/default:1",
  limits: { memoryBytes: MEMORY_BYTES, nanoCpus: 500_000_000, pidsLimit: PIDS_LIMIT },
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  ownerId: "isolation-test-owner",
});

/** Host ids of the container's root: 0 unless the engine remaps user namespaces. */
const remapped = await remappedRoot(docker);

const run = (command: string, timeoutMs?: number) => runInEnvironment(driver, environmentId, command, { timeoutMs });

/** One line of /proc/self/status as the probing process itself sees it. */
async function statusField(field: string) {
  const { output, exitCode } = await run(`grep '^${field}:' /proc/self/status`);
  expect(exitCode).toBe(0);
  const match = new RegExp(`^${field}:\\s*(\\S+)\\s*$`, "m").exec(output);
  expect(match, `no ${field} line in:\n${output}`).not.toBeNull();
  return match![1];
}

async function expectContainerAnswers() {
  expect(await driver.state(environmentId)).toBe("running");
  const { output, exitCode } = await run("echo still-here");
  expect(exitCode).toBe(0);
  expect(output.trim()).toBe("still-here");
}

describe("a student's container", () => {
  beforeAll(async () => {
    await driver.create(spec);
    await driver.start(environmentId);
    expect(await driver.state(environmentId)).toBe("running");
  });

  afterAll(async () => {
    await driver.remove(environmentId, { removeVolume: true });
    // Nothing labelled with this environment may outlive the test file.
    const filters = { label: [`${LABEL_ENVIRONMENT}=${environmentId}`] };
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
  });

  it("a student's shell does not run as root", async () => {
    const { output, exitCode } = await run("id -u; id -un");
    expect(exitCode).toBe(0);
    const [uid, name] = output.trim().split("\n");
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).not.toBe(0);
    expect(uid).toBe("1000");
    expect(name).toBe("student");
  });

  // Where the engine remaps user namespaces (scripts/ensure-docker.sh starts it so), the
  // student's uid 1000 is a subordinate uid on the host, sharing no per-uid kernel limits.
  it.runIf(remapped.uid > 0)("a student is not host uid 1000: the engine maps the container's users to subordinate ids", async () => {
    const { uid } = remapped;
    const info = await docker.getContainer(`shellroom-env-${environmentId}`).inspect();
    const status = await readFile(`/proc/${info.State.Pid}/status`, "utf8");
    const [real, effective] = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1).map(Number);
    expect([real, effective]).toEqual([uid + 1000, uid + 1000]);
    expect(uid).toBeGreaterThanOrEqual(65536);
    // Inside, nothing changed: the student is still uid 1000 and root is still uid 0's files.
    expect((await run("id -u; stat -c %u /etc/passwd")).output.trim().split("\n")).toEqual(["1000", "0"]);
  });

  it("a student's shell holds no Linux capabilities", async () => {
    expect(await statusField("CapEff")).toBe("0000000000000000");
    expect(await statusField("CapPrm")).toBe("0000000000000000");
    // The bounding set is empty too, so no setuid binary can hand capabilities back.
    expect(await statusField("CapBnd")).toBe("0000000000000000");
  });

  it("a student's shell cannot gain privileges and runs under a seccomp filter", async () => {
    expect(await statusField("NoNewPrivs")).toBe("1");
    expect(await statusField("Seccomp")).toBe("2");
  });

  it("a student's container has no network but loopback", async () => {
    const { output, exitCode } = await run("ls -1 /sys/class/net");
    expect(exitCode).toBe(0);
    expect(output.trim().split("\n")).toEqual(["lo"]);
  });

  it("a student's container cannot reach the Docker socket", async () => {
    const { output, exitCode } = await run(
      "for p in /var/run/docker.sock /run/docker.sock; do if [ -e $p ]; then echo present:$p; else echo absent:$p; fi; done",
    );
    expect(exitCode).toBe(0);
    expect(output.trim().split("\n")).toEqual(["absent:/var/run/docker.sock", "absent:/run/docker.sock"]);
  });

  it("a student's container runs with the requested memory and process limits", async () => {
    const { output, exitCode } = await run(
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>&1",
    );
    expect(exitCode).toBe(0);
    const [memory, memoryAndSwap, pids] = output.trim().split("\n");
    expect(Number(memory)).toBe(MEMORY_BYTES);
    // memsw exists only when the host accounts swap; when it does, no swap is granted.
    if (/^\d+$/.test(memoryAndSwap)) expect(Number(memoryAndSwap)).toBe(MEMORY_BYTES);
    expect(Number(pids)).toBe(PIDS_LIMIT);
  });

  it("a student's workspace is writable and survives a stop and start", async () => {
    const token = randomBytes(8).toString("hex");
    const written = await run(`cd /home/student/workspace && echo "proof-${token}" > proof.txt && cat proof.txt`);
    expect(written.exitCode).toBe(0);
    expect(written.output.trim()).toBe(`proof-${token}`);

    await driver.stop(environmentId);
    expect(await driver.state(environmentId)).toBe("stopped");
    await driver.start(environmentId);
    expect(await driver.state(environmentId)).toBe("running");

    const read = await run("cat /home/student/workspace/proof.txt; stat -c %U /home/student/workspace/proof.txt");
    expect(read.exitCode).toBe(0);
    expect(read.output.trim().split("\n")).toEqual([`proof-${token}`, "student"]);
  });

  it("a fork bomb stays inside its container", async () => {
    const maxEvents = async () => {
      const { output } = await run("cat /sys/fs/cgroup/pids/pids.events");
      const match = /^max\s+(\d+)/m.exec(output);
      expect(match, `unexpected pids.events:\n${output}`).not.toBeNull();
      return Number(match![1]);
    };
    const refusedBefore = await maxEvents();

    // More processes than the limit allows; bash retries a refused fork for ~15 s, then
    // gives up. The sleeps share the shell's session and die with it (SIGHUP).
    const bomb = await run("for i in $(seq 1000); do sleep 60 & done; echo all-forked", 55_000);
    expect(bomb.output).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
    expect(bomb.output).not.toContain("all-forked");

    // The kernel, not luck, refused the forks: this container's pids cgroup hit its max.
    expect(await maxEvents()).toBeGreaterThan(refusedBefore);
    // The test process (standing in for the worker) is still here, and so is the container.
    expect(process.pid).toBeGreaterThan(0);
    await expectContainerAnswers();
    const { output } = await run("cat /sys/fs/cgroup/pids/pids.current");
    expect(Number(output.trim())).toBeLessThan(PIDS_LIMIT);
  }, 90_000);

  it("a memory bomb is killed by the container's memory limit", async () => {
    const allocate = "python3 -c 'chunks = []\nwhile True: chunks.append(b\"x\" * (16 << 20))'";
    const { output, exitCode } = await run(`${allocate}; echo "python-exit=$?"; grep '^oom_kill ' /sys/fs/cgroup/memory/memory.oom_control`);
    expect(exitCode).toBe(0);
    expect(output).toContain("Killed");
    expect(output).toContain("python-exit=137");
    expect(output).toMatch(/^oom_kill [1-9]\d*$/m);
    await expectContainerAnswers();
  }, 60_000);

  it("a student's /tmp cannot grow beyond 64 MiB", async () => {
    const { output, exitCode } = await run(
      "dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; echo dd-exit=$?; rm -f /tmp/fill; df -k --output=size /tmp | tail -1",
    );
    expect(exitCode).toBe(0);
    expect(output).toContain("No space left on device");
    expect(output).toMatch(/^dd-exit=[1-9]/m);
    const sizeKb = Number(output.trim().split("\n").at(-1));
    expect(sizeKb).toBe(64 * 1024);
    await expectContainerAnswers();
  });
});

describe("a sidecar service beside a student's container", () => {
  const hostId = `iso-svc-${randomBytes(6).toString("hex")}`;
  const service = ServiceSpec.parse({
    name: "web",
    image: "shellroom/default:1",
    command: ["python3", "-m", "http.server", "7000", "--bind", "127.0.0.1"],
    memoryBytes: 64 * 1024 * 1024,
    pidsLimit: 32,
    writable: [{ path: "/var/lib/web", sizeMb: 8 }],
    readiness: { kind: "tcp", port: 7000 },
  });
  const sidecar = () => docker.getContainer(sidecarName(hostId, "web"));
  const inHost = (command: string) => runInEnvironment(driver, hostId, command);

  /** A command in the sidecar, as its own process would run (its user, no TTY). */
  async function inService(command: string) {
    const exec = await sidecar().exec({ Cmd: ["bash", "-c", command], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) =>
      stream
        .on("data", (chunk: Buffer) => chunks.push(chunk))
        .on("end", resolve)
        .on("close", resolve),
    );
    return { output: demultiplexLog(Buffer.concat(chunks)), exitCode: (await exec.inspect()).ExitCode };
  }

  beforeAll(async () => {
    await driver.create({ ...spec, environmentId: hostId });
    await driver.start(hostId);
    await driver.startServices(hostId, [service]);
  }, 60_000);

  afterAll(async () => {
    await driver.remove(hostId, { removeVolume: true });
    // The service goes with its environment.
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_SERVICE_OF}=${hostId}`] } })).toEqual([]);
  });

  it("a sidecar shares only its environment's loopback: the student reaches it at localhost, and neither has another interface or a route", async () => {
    const fetched = await inHost(`python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:7000/').status)"`);
    expect(fetched.output.trim()).toBe("200");
    for (const run of [inHost, inService]) {
      const { output } = await run("ls -1 /sys/class/net; echo routes:; tail -n +2 /proc/net/route");
      expect(output.trim().split("\n")).toEqual(["lo", "routes:"]);
    }
  });

  it("a sidecar runs as its image's non-root user with no capabilities, no new privileges and a read-only root", async () => {
    const { output } = await inService(
      "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; touch /etc/probe 2>&1; touch /var/lib/web/ok && echo writable",
    );
    expect(output).toMatch(/^1000$/m);
    expect(output).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(output).toMatch(/^CapBnd:\s+0000000000000000$/m);
    expect(output).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(output).toContain("Read-only file system");
    expect(output).toContain("writable");
  });

  it("a sidecar has its own memory and process limits", async () => {
    const info = await sidecar().inspect();
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.PidsLimit).toBe(32);
    // Bound to the environment's container itself (Docker records its id), in no network of its own.
    const host = await docker.getContainer(`shellroom-env-${hostId}`).inspect();
    expect(info.HostConfig.NetworkMode).toBe(`container:${host.Id}`);
    const { output } = await inService("df -k --output=size /var/lib/web | tail -1");
    expect(Number(output.trim())).toBe(8 * 1024);
  });
});
