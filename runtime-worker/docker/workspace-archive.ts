/**
 * A workspace as a tar stream, out and in. GNU tar runs inside a throwaway container of the
 * default image (no network, every capability dropped, no new privileges, read-only root, the
 * student's uid, small limits) with the student's volumes mounted where their own container
 * has them: the host never reads or writes a student's files itself, so a hostile archive (a
 * "../" or absolute name, a symlink out, a device node, a setuid file) or a symlink in the
 * workspace can touch nothing but the student's own volumes. Export mounts them read-only.
 */
import { randomBytes } from "node:crypto";
import { Transform, type Duplex, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import { DEFAULT_IMAGE } from "../images/base-image";
import { LABEL_MANAGED, LABEL_WORKER, STUDENT_GID, STUDENT_UID, type StudentVolume } from "./container-config";

/** On the throwaway containers: which way they carry a workspace (for finding leftovers). */
export const LABEL_TRANSFER = "dev.shellroom.transfer";
const TRANSFER_PREFIX = "shellroom-transfer-";
const TRANSFER_MEMORY_BYTES = 256 * 1024 * 1024;
/** Kept in an error's words: the end of tar's complaints. */
const STDERR_KEPT = 4000;

/** Where tar runs from and what it names: the one folder holding every volume, or each from "/". */
export interface ArchiveLayout {
  root: string;
  members: string[];
}

const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith("/") ? folder : `${folder}/`);

/**
 * The archive's shape for these mount targets. With the default template the home holds the
 * workspace, so the archive is the student's home as they see it (`./workspace/...`, dotfiles);
 * targets apart from each other are named from "/" (`home/student/...`, `workspace/...`).
 */
export function archiveLayout(targets: string[]): ArchiveLayout {
  const outer = targets.find((candidate) => targets.every((target) => within(target, candidate)));
  if (outer) return { root: outer, members: ["."] };
  return { root: "/", members: targets.map((target) => target.replace(/^\/+/, "")) };
}

/**
 * Extraction as the student, never their owner or mode bits beyond the umask; names with ".."
 * are refused by GNU tar itself, leading "/" stripped, symlinks pointing out are made last (so
 * nothing is written through them). set-id bits that got through are taken off afterwards.
 * Paths come in as arguments, never in the script's text.
 */
const IMPORT_SCRIPT = [
  'tar --extract --file=- --directory="$1" --no-same-owner --no-same-permissions --delay-directory-restore',
  "status=$?",
  'find "$1" -xdev -perm /6000 -exec chmod ug-s {} + 2>/dev/null',
  'exit "$status"',
].join("\n");

/**
 * Transfer containers a previous process of this worker left behind (it was killed mid-way):
 * none of them is in flight now, since a worker id runs once.
 */
export async function removeLeftoverTransfers(docker: Docker, workerId: string) {
  const left = await docker.listContainers({ all: true, filters: { label: [LABEL_TRANSFER, `${LABEL_WORKER}=${workerId}`] } });
  for (const container of left) await removeQuietly(docker.getContainer(container.Id));
}

function transferContainer(volumes: StudentVolume[], direction: "export" | "import", cmd: string[], workerId: string): Docker.ContainerCreateOptions {
  return {
    name: `${TRANSFER_PREFIX}${direction}-${randomBytes(6).toString("hex")}`,
    Image: DEFAULT_IMAGE,
    Cmd: cmd,
    Entrypoint: [],
    User: `${STUDENT_UID}:${STUDENT_GID}`,
    WorkingDir: "/",
    Env: ["LANG=C.UTF-8"],
    Labels: { [LABEL_MANAGED]: "true", [LABEL_TRANSFER]: direction, [LABEL_WORKER]: workerId },
    NetworkDisabled: true,
    AttachStdin: direction === "import",
    OpenStdin: direction === "import",
    StdinOnce: direction === "import",
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      NetworkMode: "none",
      Privileged: false,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": "rw,nosuid,nodev,noexec,size=16m" },
      Memory: TRANSFER_MEMORY_BYTES,
      MemorySwap: TRANSFER_MEMORY_BYTES,
      NanoCpus: 1_000_000_000,
      PidsLimit: 32,
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 1024 }],
      // Export reads the volumes as they are: never a copy of the image's folder into an empty one.
      Mounts: volumes.map((volume) => ({
        Type: "volume" as const,
        Source: volume.name,
        Target: volume.target,
        ReadOnly: direction === "export",
        ...(direction === "export" ? { VolumeOptions: { NoCopy: true } as Docker.MountSettings["VolumeOptions"] } : {}),
      })),
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "none", Config: {} },
    },
  };
}

/**
 * Undoes Docker's stdout/stderr multiplexing (8-byte frame headers) with backpressure: stdout
 * passes through, stderr's end is kept for the error's words.
 */
class DockerDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  stderr = "";

  constructor(private readonly finish: () => Promise<Error | null>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      if (this.pending[0] === 2) this.stderr = (this.stderr + payload.toString("utf8")).slice(-STDERR_KEPT);
      else if (this.pending[0] === 1) this.push(payload);
      this.pending = this.pending.subarray(8 + size);
    }
    callback();
  }

  /** The stream ends only once the container has said how tar ended. */
  override _flush(callback: TransformCallback) {
    this.finish().then(callback, callback);
  }
}

const removeQuietly = (container: Docker.Container) => container.remove({ force: true }).catch(() => undefined);

/** How tar ended, as an error a person can act on, or null when it went well. */
async function outcomeOf(container: Docker.Container, demux: DockerDemux, okCodes: number[], what: string): Promise<Error | null> {
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  if (okCodes.includes(StatusCode)) return null;
  const said = demux.stderr.trim().split("\n").slice(-8).join("\n");
  return new Error(`${what} (tar exited with ${StatusCode})${said ? `: ${said}` : ""}`);
}

/**
 * The volumes' files as a tar stream. It ends once tar has finished well and errors when it
 * did not; destroying it stops tar. `volumes`: those that exist (a missing one is not made).
 */
export async function exportArchive(docker: Docker, volumes: StudentVolume[], workerId: string): Promise<Readable> {
  const layout = archiveLayout(volumes.map((volume) => volume.target));
  const container = await docker.createContainer(
    transferContainer(volumes, "export", ["tar", "--create", "--file=-", `--directory=${layout.root}`, "--", ...layout.members], workerId),
  );
  try {
    const attached = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    // tar's 1: a file changed while it was read (the student is working); the archive is whole.
    const demux: DockerDemux = new DockerDemux(() => outcomeOf(container, demux, [0, 1], "The workspace could not be archived"));
    attached.pipe(demux);
    attached.once("error", (error) => demux.destroy(error));
    demux.once("close", () => {
      attached.destroy();
      void removeQuietly(container);
    });
    await container.start();
    return demux;
  } catch (error) {
    await removeQuietly(container);
    throw error;
  }
}

/** Unpacks `archive` into the volumes (which exist); rejects with tar's words when it could not unpack all of it. */
export async function importArchive(docker: Docker, volumes: StudentVolume[], archive: Readable, workerId: string): Promise<void> {
  const layout = archiveLayout(volumes.map((volume) => volume.target));
  const container = await docker.createContainer(transferContainer(volumes, "import", ["sh", "-c", IMPORT_SCRIPT, "import", layout.root], workerId));
  try {
    const attached = (await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true })) as unknown as Duplex;
    const demux: DockerDemux = new DockerDemux(() => outcomeOf(container, demux, [0], "The archive could not be unpacked"));
    demux.resume(); // tar -x prints nothing on stdout; its stderr is kept by the demux
    const unpacked = pipeline(attached, demux);
    let sourceFailed: Error | undefined;
    archive.once("error", (error) => (sourceFailed = error));
    await container.start();
    // Without a TTY, closing our side ends tar's stdin (hijacked streams half-close).
    const [fed, done] = await Promise.allSettled([pipeline(archive, attached), unpacked]);
    // The first cause wins: the archive that broke off, else tar's own words (a closed pipe says less).
    if (sourceFailed) throw sourceFailed;
    if (done.status === "rejected") throw done.reason;
    if (fed.status === "rejected") throw fed.reason;
  } catch (error) {
    archive.destroy();
    throw error;
  } finally {
    await removeQuietly(container);
  }
}
