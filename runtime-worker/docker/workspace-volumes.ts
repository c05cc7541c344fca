/**
 * Workspace volumes with a size limit. This host's Docker root is ext4, where
 * `--storage-opt size` is unavailable (it needs overlay2 on XFS with project quotas), so a
 * limited workspace is a loop-mounted ext4 image of the template's disk size, exposed to
 * Docker as a named volume (local driver, bind to the mount). Writing past the limit fails
 * inside the container with "No space left on device"; the host's disk is never filled
 * beyond the image sizes. Without root or loop devices, volumes are plain (unlimited) and
 * the worker says so at start.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { STUDENT_GID, STUDENT_UID } from "./container-config";
import { statusOf, volumeExists } from "./docker-support";
import { ownerHolds } from "./spare-owner";
import { SPARE_PREFIX, SpareWorkspaces } from "./spare-workspaces";

const run = promisify(execFile);

/**
 * The host uid/gid that container uid/gid 0 maps to: 0 without user namespaces; with
 * userns-remap the engine's data root ends in "<uid>.<gid>" of the remapped root.
 */
export async function remappedRoot(docker: Docker): Promise<{ uid: number; gid: number }> {
  const info = (await docker.info()) as { SecurityOptions?: string[]; DockerRootDir?: string };
  if (!info.SecurityOptions?.some((option) => option.includes("name=userns"))) return { uid: 0, gid: 0 };
  const match = /\/(\d+)\.(\d+)\/?$/.exec(info.DockerRootDir ?? "");
  if (!match) throw new Error(`The engine remaps user namespaces, but its data root (${info.DockerRootDir}) does not say to which ids.`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

export type QuotaMechanism = "loop-ext4" | "none";

/** Another process may take the free loop device between lookup and setup: try again. */
async function mountWithRetries(image: string, mountPoint: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run("mount", ["-o", "loop,nosuid,nodev,noatime", image, mountPoint]);
    } catch (error) {
      if (attempt >= 5 || !/loop device/i.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

export class WorkspaceVolumes {
  /** Loop setups one at a time in this process: concurrent ones race for the same free device. */
  private mounting: Promise<unknown> = Promise.resolve();
  private readonly preparing = new Map<string, Promise<void>>();
  /** Images made ahead of need (spare-workspaces.ts); none unless asked for at open. */
  private spares?: SpareWorkspaces;

  private constructor(
    private readonly docker: Docker,
    private readonly root: string,
    readonly mechanism: QuotaMechanism,
    /** Who owns a new workspace's root on the host: the student, as the engine maps them. */
    readonly owner: { uid: number; gid: number },
  ) {}

  /**
   * Chooses the mechanism this host supports (checked once, by trying it). `spares`: images
   * kept ready per disk size (`seedSizes` from the start, others once a start asks for them).
   */
  static async open(
    docker: Docker,
    root = "/var/lib/shellroom/workspaces",
    options: { spares?: number; seedSizes?: number[]; onError?: (error: Error) => void } = {},
  ): Promise<WorkspaceVolumes> {
    const supported =
      process.getuid?.() === 0 &&
      existsSync("/dev/loop-control") &&
      process.env.SHELLROOM_WORKSPACE_QUOTA !== "off" &&
      (await run("losetup", ["--version"]).then(
        () => true,
        () => false,
      )) &&
      (await run("mkfs.ext4", ["-V"]).then(
        () => true,
        () => false,
      ));
    const base = await remappedRoot(docker);
    const owner = { uid: base.uid + STUDENT_UID, gid: base.gid + STUDENT_GID };
    const volumes = new WorkspaceVolumes(docker, root, supported ? "loop-ext4" : "none", owner);
    if (supported) {
      await mkdir(root, { recursive: true, mode: 0o700 });
      await volumes.remountAll((name, error) => {
        process.emitWarning(`workspace ${name} could not be remounted: ${error.message}`);
      });
      await volumes.discardDeadSpares();
      if (options.spares) {
        volumes.spares = new SpareWorkspaces(
          {
            make: (name, diskBytes) => volumes.formatAndMount(name, diskBytes),
            discard: (name) => volumes.discardImage(name),
          },
          options.spares,
          options.onError,
        );
        for (const size of options.seedSizes ?? []) volumes.spares.want(size);
      }
    }
    return volumes;
  }

  /** Spares ready to take (0 without a stock). */
  get spareCount() {
    return this.spares?.count ?? 0;
  }

  /** Resolves once the stock has stopped filling (full, or failed until the next demand). */
  async sparesSettled() {
    await this.spares?.settled();
  }

  /** Discards the stock of spares (a worker shutting down). */
  async close() {
    await this.spares?.close();
  }

  /**
   * Creates the named volume unless it exists; limited to `diskBytes` when supported. Two
   * calls for one name at once share one preparation: an image is formatted and mounted once.
   */
  create(name: string, labels: Record<string, string>, diskBytes?: number): Promise<void> {
    const pending = this.preparing.get(name);
    if (pending) return pending;
    const preparing = this.prepare(name, labels, diskBytes).finally(() => this.preparing.delete(name));
    this.preparing.set(name, preparing);
    return preparing;
  }

  private async prepare(name: string, labels: Record<string, string>, diskBytes?: number) {
    if (await volumeExists(this.docker, name)) return;
    if (this.mechanism === "none" || !diskBytes) {
      await this.docker.createVolume({ Name: name, Labels: labels });
      return;
    }
    if (!(await this.adoptSpare(name, diskBytes))) await this.formatAndMount(name, diskBytes);
    const mountPoint = this.mountPath(name);
    await this.docker.createVolume({
      Name: name,
      Driver: "local",
      DriverOpts: { type: "none", o: "bind", device: mountPoint },
      Labels: { ...labels, "dev.shellroom.disk-bytes": String(diskBytes) },
    });
  }

  /** A new image of `diskBytes`, formatted for the student and mounted at its name's path. */
  private async formatAndMount(name: string, diskBytes: number) {
    const image = this.imagePath(name);
    const mountPoint = this.mountPath(name);
    await run("truncate", ["-s", String(diskBytes), image]);
    await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", `root_owner=${this.owner.uid}:${this.owner.gid}`, image]);
    await mkdir(mountPoint, { recursive: true, mode: 0o755 });
    await this.mount(image, mountPoint);
    await rm(path.join(mountPoint, "lost+found"), { recursive: true, force: true });
  }

  /**
   * Gives `name` a spare of its size: the mount moves to the name's path and the image takes
   * its name (so a host restart remounts it as any other). False when there is none, or the
   * move is not possible here (a shared mount above): then no spare is used again.
   */
  private async adoptSpare(name: string, diskBytes: number) {
    const spare = this.spares?.take(diskBytes);
    if (!spare) return false;
    try {
      await mkdir(this.mountPath(name), { recursive: true, mode: 0o755 });
      await run("mount", ["--move", this.mountPath(spare), this.mountPath(name)]);
      await rename(this.imagePath(spare), this.imagePath(name));
      await rmdir(this.mountPath(spare)).catch(() => undefined);
      return true;
    } catch (error) {
      const stock = this.spares;
      this.spares = undefined;
      process.emitWarning(`workspace spares are off: ${(error as Error).message}`);
      await this.discardImage(spare).catch(() => undefined);
      await stock?.close();
      return false;
    }
  }

  /** Unmounts and deletes an image that has no Docker volume (a spare). */
  private async discardImage(name: string) {
    const mountPoint = this.mountPath(name);
    if (await this.isMounted(mountPoint)) await run("umount", [mountPoint]);
    await rmdir(mountPoint).catch(() => undefined);
    await rm(this.imagePath(name), { force: true });
  }

  /** Spares left by a worker process that is gone (killed), or by a host restart: nobody will take them. */
  private async discardDeadSpares() {
    for (const entry of await readdir(this.root)) {
      if (!entry.startsWith(SPARE_PREFIX) || !entry.endsWith(".img")) continue;
      const name = entry.slice(0, -".img".length);
      // A live worker's stock stays (another worker on this host, mounted or still being made).
      if (await ownerHolds(name, this.imagePath(name))) continue;
      await this.discardImage(name).catch((error: Error) => process.emitWarning(`spare ${name} could not be removed: ${error.message}`));
    }
  }

  async remove(name: string) {
    try {
      await this.docker.getVolume(name).remove();
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (this.mechanism === "none" || !existsSync(this.imagePath(name))) return;
    const mountPoint = this.mountPath(name);
    if (await this.isMounted(mountPoint)) await run("umount", [mountPoint]);
    await rmdir(mountPoint).catch(() => undefined);
    await rm(this.imagePath(name), { force: true });
  }

  /**
   * After a host restart the loop mounts are gone: bring back the images of this engine's
   * volumes (the folder may also hold other engines' images). Best effort, one at a time:
   * a workspace that cannot be mounted is reported, never fatal for the worker.
   */
  async remountAll(report: (name: string, error: Error) => void) {
    for (const entry of await readdir(this.root)) {
      if (!entry.endsWith(".img")) continue;
      const name = entry.slice(0, -".img".length);
      try {
        if (!(await volumeExists(this.docker, name))) continue;
        const mountPoint = this.mountPath(name);
        await mkdir(mountPoint, { recursive: true });
        if (!(await this.isMounted(mountPoint))) await this.mount(this.imagePath(name), mountPoint);
      } catch (error) {
        report(name, error as Error);
      }
    }
  }

  private mount(image: string, mountPoint: string) {
    const attempt = this.mounting.then(() => mountWithRetries(image, mountPoint));
    this.mounting = attempt.catch(() => undefined);
    return attempt;
  }

  private async isMounted(mountPoint: string) {
    return run("mountpoint", ["-q", mountPoint]).then(
      () => true,
      () => false,
    );
  }

  private imagePath(name: string) {
    return path.join(this.root, `${name}.img`);
  }

  private mountPath(name: string) {
    return path.join(this.root, name);
  }
}
