/**
 * Puts the PTY holder (holder.c and the other C files beside it) where every container can
 * run it and no student can change it: the worker compiles it once (static, so it runs in
 * any image an instructor builds) and copies it into a Docker volume named after its
 * sources' hash, which containers mount read-only at HOLDER_MOUNT. A change to any of its
 * .c or .h files makes a new volume; old containers keep the one they were created with.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";
import tarStream from "tar-stream";

export const HOLDER_MOUNT = "/opt/shellroom";
export const HOLDER_BINARY = `${HOLDER_MOUNT}/shellroom-holder`;
/** Marks the volume as the platform's (not a workspace: reconcile and cleanup leave it alone). */
export const LABEL_HOLDER = "dev.shellroom.holder";

const run = promisify(execFile);
const sourceDir = import.meta.dirname;
const projectRoot = path.resolve(sourceDir, "../..");

/** The holder's C sources and headers, sorted by name (a stable order for the hash). */
async function sourceFiles(): Promise<string[]> {
  const names = (await readdir(sourceDir)).filter((name) => name.endsWith(".c") || name.endsWith(".h"));
  return names.sort().map((name) => path.join(sourceDir, name));
}

/** Each file's name and length before its bytes: moving code between files changes the hash too. */
async function sourceHash(files: string[]) {
  const hash = createHash("sha256");
  for (const file of files) {
    const content = await readFile(file);
    hash.update(`${path.basename(file)}\n${content.length}\n`).update(content);
  }
  return hash.digest("hex").slice(0, 12);
}

export interface HolderBinary {
  /** Path of the compiled binary on this host. */
  binary: string;
  /** Hash of the holder's .c and .h files: names the volume, so a new holder never mixes with an old one. */
  version: string;
}

/** Compiles the holder's C files (once per source version) and returns the binary's path. */
export async function compileHolder(outputDir = path.join(projectRoot, ".data", "holder")): Promise<HolderBinary> {
  const files = await sourceFiles();
  const version = await sourceHash(files);
  const binary = path.join(outputDir, `shellroom-holder-${version}`);
  if (existsSync(binary)) return { binary, version };
  await mkdir(outputDir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    // holder.h is found beside the .c files that include it.
    const sources = files.filter((file) => file.endsWith(".c"));
    await run("cc", ["-static", "-O2", "-o", partial, ...sources]);
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim().slice(-400) ?? String(error);
    throw new Error(`cannot compile the PTY holder (needs cc and a static libc: Debian's gcc and libc6-dev): ${detail}`, { cause: error });
  }
  await rename(partial, binary); // atomic: two workers compiling at once both end with a whole file
  return { binary, version };
}

async function tarOf(binary: string): Promise<Buffer> {
  const pack = tarStream.pack();
  pack.entry({ name: "shellroom-holder", mode: 0o755, uid: 0, gid: 0 }, await readFile(binary));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The volume holding this version of the holder, filled through a container that is
 * created (never started) from `image` with the volume mounted: Docker copies into a
 * volume without a host bind mount.
 */
export async function ensureHolderVolume(docker: Docker, image: string, binary: HolderBinary): Promise<string> {
  const name = `shellroom-holder-${binary.version}`;
  await docker.createVolume({ Name: name, Labels: { [LABEL_HOLDER]: binary.version } });
  const filler = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: { [LABEL_HOLDER]: binary.version },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: name, Target: HOLDER_MOUNT }] },
  });
  try {
    await filler.putArchive(await tarOf(binary.binary), { path: HOLDER_MOUNT });
  } finally {
    await filler.remove({ force: true }).catch(() => undefined);
  }
  return name;
}
