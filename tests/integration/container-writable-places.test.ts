/**
 * Disk probes that run inside a real student container, created through the DockerDriver
 * with the same kind of EnvironmentSpec the platform sends (the other isolation probes are in
 * container-isolation.test.ts): the root filesystem is read-only, and every place a student
 * can write is either a size-capped tmpfs or one of their size-limited volumes (home and
 * workspace, loop-mounted ext4 images on this host). Small limits keep the fills quick.
 */
import { randomBytes } from "node:crypto";
import { writeFile, chown } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { HOME_DISK_BYTES, LABEL_ENVIRONMENT, SCRATCH_MOUNTS, SHM_BYTES, containerName, homeVolumeName } from "../../runtime-worker/docker/container-config";
import { EnvironmentSpec } from "../../protocol/worker-messages";
import { runInEnvironment } from "../support/run-in-environment";

// DOCKER_HOST when set: the same suite runs against a second engine (userns-remap, gVisor).
const docker = new Docker();
const PIDS_LIMIT = 128;
const DISK_BYTES = 32 * 1024 * 1024;
const MiB = 1024 * 1024;

// Size-limited volumes where this host supports them (root and loop devices), as a worker opens them.
const volumes = await WorkspaceVolumes.open(docker);

describe("a student's writable places", () => {
  const quotaDriver = new DockerDriver(docker, `test-disk-${randomBytes(3).toString("hex")}`, volumes);
  const diskEnvironment = `disk-${randomBytes(6).toString("hex")}`;
  const legacyEnvironment = `legacy-${randomBytes(6).toString("hex")}`;
  const diskSpec = (environmentId: string, volumeName: string | null = null) =>
    EnvironmentSpec.parse({
      environmentId,
      image: "shellroom/default:1",
      // Room for every tmpfs filled at once on top of the shell: tmpfs pages count as memory.
      limits: { memoryBytes: 512 * MiB, nanoCpus: 1_000_000_000, pidsLimit: PIDS_LIMIT, diskBytes: DISK_BYTES },
      network: "none",
      workingDir: "/home/student/workspace",
      user: "student",
      ownerId: "isolation-test-owner",
      volumeName,
    });
  const inDisk = (command: string, timeoutMs?: number) => runInEnvironment(quotaDriver, diskEnvironment, command, { timeoutMs });

  beforeAll(async () => {
    await quotaDriver.create(diskSpec(diskEnvironment));
    await quotaDriver.start(diskEnvironment);
  });

  afterAll(async () => {
    for (const id of [diskEnvironment, legacyEnvironment]) {
      await quotaDriver.remove(id, { removeVolume: true, volumeName: `shellroom-ws-${id}` });
      const filters = { label: [`${LABEL_ENVIRONMENT}=${id}`] };
      expect(await docker.listContainers({ all: true, filters })).toEqual([]);
      expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
    }
  });

  it("the root filesystem is read-only", async () => {
    const info = await docker.getContainer(containerName(diskEnvironment)).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    // The writable layer is where `dd` into $HOME/.fill or /var/tmp used to land, unbounded.
    const { output } = await inDisk(
      "grep -E '^\\S+ / ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1; for p in / /etc /usr/local/bin /var/lib /opt; do touch $p/.probe 2>&1; done",
    );
    const [rootOptions, ...refusals] = output.trim().split("\n");
    expect(rootOptions).toBe("ro");
    expect(refusals).toHaveLength(5);
    for (const refusal of refusals) expect(refusal).toMatch(/Read-only file system/);
  });

  it.runIf(volumes.mechanism === "loop-ext4")("every place a student can write is a size-capped tmpfs or one of their size-limited volumes", async () => {
    const places = await writablePlaces();
    const seen = new Set(places.map((place) => place.mountPoint));
    // What the student can write today (the lead's read-only /opt/shellroom is not among them).
    expect([...seen].sort()).toEqual(["/dev/mqueue", "/dev/shm", "/home/student", "/home/student/workspace", "/run/lock", "/tmp", "/var/tmp"]);
    for (const place of places) {
      if (place.type === "mqueue") continue; // POSIX message queues: kernel memory, bounded per user by RLIMIT_MSGQUEUE, no files
      if (place.type === "tmpfs") {
        const size = /(?:^|,)size=(\d+)k(?:,|$)/.exec(place.options);
        expect(size, `${place.mountPoint} is a tmpfs without a size cap: ${place.options}`).not.toBeNull();
        expect(Number(size![1]) * 1024).toBeLessThanOrEqual(64 * MiB);
        continue;
      }
      // Anything else must be a loop-mounted image of at most the template's disk limit.
      expect(place.type, `${place.mountPoint} (${place.source}) is ${place.type}`).toBe("ext4");
      expect(place.source).toMatch(/^\/dev\/loop\d+$/);
    }
  });

  it.runIf(volumes.mechanism === "loop-ext4")(
    "writing past the disk limit fails everywhere the student can write ($HOME, workspace, /tmp, /var/tmp, ...)",
    async () => {
      const caps: Record<string, number> = {
        "/home/student": Math.min(HOME_DISK_BYTES, DISK_BYTES),
        "/home/student/workspace": DISK_BYTES,
        "/tmp": 64 * MiB,
        "/var/tmp": 64 * MiB,
        "/run/lock": MiB,
        "/dev/shm": SHM_BYTES,
      };
      expect(SCRATCH_MOUNTS["/tmp"]).toContain("size=64m");
      const places = (await writablePlaces()).filter((place) => place.type !== "mqueue");
      const mountPoints = [...new Set(places.map((place) => place.mountPoint))];
      expect(mountPoints.sort()).toEqual(Object.keys(caps).sort());
      for (const mountPoint of mountPoints) {
        // Fill from a folder the student can write on that mount, one mount at a time.
        const folder = places.find((place) => place.mountPoint === mountPoint && place.kind === "d")!.path;
        const fill = `${folder}/.fill`;
        const { output } = await inDisk(
          `dd if=/dev/zero of=${fill} bs=1M count=${Math.ceil(caps[mountPoint]! / MiB) + 16} 2>&1; echo dd-exit=$?; stat -c %s ${fill}; rm -f ${fill}`,
          60_000,
        );
        expect(output, mountPoint).toContain("No space left on device");
        expect(output, mountPoint).toMatch(/^dd-exit=[1-9]/m);
        expect(Number(output.trim().split("\n").at(-1)), mountPoint).toBeLessThanOrEqual(caps[mountPoint]!);
      }
      const { output } = await inDisk("echo still-here");
      expect(output.trim()).toBe("still-here");
    },
    180_000,
  );

  it.runIf(volumes.mechanism === "loop-ext4")("the student's dotfiles and existing workspace files are still there", async () => {
    // A workspace made before the home had its own volume: its root is the workspace, it
    // has the student's files, and its container ran under the old policy (writable root).
    const volumeName = `shellroom-ws-${legacyEnvironment}`;
    await volumes.create(volumeName, { [LABEL_ENVIRONMENT]: legacyEnvironment, "dev.shellroom.managed": "true" }, DISK_BYTES);
    const file = `/var/lib/shellroom/workspaces/${volumeName}/thesis.txt`;
    await writeFile(file, "chapter one\n");
    await chown(file, volumes.owner.uid, volumes.owner.gid);
    const old = await docker.createContainer({
      name: containerName(legacyEnvironment),
      Image: "shellroom/default:1",
      Cmd: ["sleep", "infinity"],
      User: "student",
      Labels: { "dev.shellroom.managed": "true", [LABEL_ENVIRONMENT]: legacyEnvironment },
      HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: volumeName, Target: "/home/student/workspace" }] },
    });

    const created = await quotaDriver.create(diskSpec(legacyEnvironment, volumeName));
    // Replaced (it was stopped), not set up again: the workspace is the student's own.
    expect(created).toMatchObject({ volumeName, created: false });
    expect(created.containerId).not.toBe(old.id);
    await quotaDriver.start(legacyEnvironment);
    const info = await docker.getContainer(containerName(legacyEnvironment)).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.Mounts.map((mount) => mount.Name).sort()).toEqual([homeVolumeName(volumeName), volumeName].sort());

    const { output, exitCode } = await runInEnvironment(
      quotaDriver,
      legacyEnvironment,
      "cat ~/workspace/thesis.txt; grep -c 'shellroom' ~/.bashrc; test -f ~/.profile && echo profile; stat -c %U ~ ~/workspace ~/workspace/thesis.txt; touch ~/.new ~/workspace/new && echo writable",
    );
    expect(exitCode).toBe(0);
    expect(output.trim().split("\n")).toEqual(["chapter one", "1", "profile", "student", "student", "student", "writable"]);
  });

  /** Every directory and regular file the student may write, with the mount it lives on. */
  async function writablePlaces() {
    const { output, exitCode } = await inDisk(
      // stat, not find's -type: under user namespaces the devices are bind mounts over empty
      // files, which readdir reports as regular files. Devices are not storage.
      "cat /proc/self/mountinfo; echo ==; find / \\( -path /proc -o -path /sys \\) -prune -o -writable -print0 2>/dev/null" +
        " | xargs -0 -r stat -c '%F|%n' | grep -E '^(directory|regular (empty )?file)[|]' | sed -E 's/^directory[|]/d /; s/^regular [a-z ]*file[|]/f /'; true",
      60_000,
    );
    expect(exitCode).toBe(0);
    const [mountinfo, writable] = output.split("\n==\n");
    // mountinfo: "id parent major:minor root mountPoint options ... - type source superOptions"
    const mounts = mountinfo!
      .trim()
      .split("\n")
      .map((line) => {
        const [head, tail] = line.split(" - ");
        const [type, source, superOptions] = tail!.split(" ");
        return { mountPoint: head!.split(" ")[4]!.replace(/\\040/g, " "), type: type!, source: source!, options: superOptions ?? "" };
      });
    const mountOf = (path: string) =>
      mounts
        .filter((mount) => path === mount.mountPoint || path.startsWith(mount.mountPoint === "/" ? "/" : `${mount.mountPoint}/`))
        .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0]!;
    return writable!
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const path = line.slice(2);
        return { kind: line[0], path, ...mountOf(path) };
      });
  }
});
