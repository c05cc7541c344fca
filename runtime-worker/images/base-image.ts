import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import tar from "tar-fs";
import { DEFAULT_IMAGE } from "../../protocol/worker-messages";

/** The Debian rootfs imported with `docker import`: the root of every local image. */
export const BASE_IMAGE = "shellroom/debian-base:bookworm";

/** The image a template gets when its instructor picks nothing else (defined with the protocol: the server copies it to new hosts). */
export { DEFAULT_IMAGE };

/** Packages debootstrap puts into the rootfs, so no Dockerfile step needs the network. */
const ROOTFS_PACKAGES = ["bash", "python3", "git", "nano", "vim", "less", "procps", "iproute2", "ca-certificates", "curl", "file", "tree", "bc", "man-db"];

const here = path.dirname(fileURLToPath(import.meta.url));

type Log = (line: string) => void;

export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** Builds the default image when missing (base rootfs first), reusing what is present. */
export async function ensureDefaultImage(docker: Docker, log: Log): Promise<void> {
  if (await imageExists(docker, DEFAULT_IMAGE)) {
    log(`image ${DEFAULT_IMAGE} is present`);
    return;
  }
  if (!(await imageExists(docker, BASE_IMAGE))) await importDebianRootfs(docker, log);
  log(`building ${DEFAULT_IMAGE} from runtime-worker/images/default/Dockerfile`);
  await buildImage(docker, path.join(here, "default"), DEFAULT_IMAGE, log);
  log(`image ${DEFAULT_IMAGE} is ready`);
}

async function importDebianRootfs(docker: Docker, log: Log): Promise<void> {
  const rootfs = await mkdtemp(path.join(tmpdir(), "shellroom-rootfs-"));
  try {
    log(`debootstrap bookworm (minbase + ${ROOTFS_PACKAGES.length} packages) into ${rootfs}; about a minute`);
    await run("debootstrap", ["--variant=minbase", `--include=${ROOTFS_PACKAGES.join(",")}`, "bookworm", rootfs, "http://deb.debian.org/debian"], log);
    log(`importing the rootfs as ${BASE_IMAGE}`);
    const [repo, tag] = BASE_IMAGE.split(":");
    // System tar: the rootfs holds device nodes (dev/console) that tar-fs cannot pack.
    const packer = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const progress = await docker.importImage(packer.stdout, { repo, tag });
    await followProgress(docker, progress as unknown as NodeJS.ReadableStream, log);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/** Builds a Dockerfile folder with the engine's builder and relays its log line by line. */
export async function buildImage(docker: Docker, contextDir: string, tagName: string, log: Log): Promise<void> {
  const context = tar.pack(contextDir) as unknown as NodeJS.ReadableStream;
  const stream = await docker.buildImage(context, { t: tagName, rm: true, forcerm: true });
  await followProgress(docker, stream, log);
}

/** Relays a build or import progress stream line by line; rejects with the engine's error. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{ error?: string }>) => {
        const failed = error ?? events.find((event) => event.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
        else resolve();
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        const text = (event.stream ?? event.status ?? event.error ?? "").trimEnd();
        if (text) log(text);
      },
    );
  });
}

function run(command: string, args: string[], log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const relay = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n"))
        if (/^I: (Retrieving|Validating|Extracting|Installing|Configuring) [a-z]/.test(line) === false && line.trim()) log(line.trim());
    };
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", (error) => reject(new Error(`${command} could not start (${error.message}); on Debian: apt-get install ${command}`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${tail}`))));
  });
}
