/**
 * Images as archives, for a host that lacks one (no registry: `docker save` on a host that
 * has it, `docker load` here). The loading side trusts nothing it is sent: the archive is
 * spooled to disk (bounded) and its manifest must name exactly the image asked for, so a
 * peer cannot slip other tags (say, the default image) in with it.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import tarStream from "tar-stream";
import { ImageTag, MAX_REPORTED_IMAGES } from "../../protocol/worker-messages";
import { followProgress, imageExists } from "./base-image";

/** The largest archive a host takes (an image with its base layers; far above a course's image). */
export const MAX_ARCHIVE_BYTES = 32 * 1024 ** 3;
/** The manifest files of an archive are small: anything larger is not one `docker save` wrote. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

export class ImageArchiveError extends Error {
  override name = "ImageArchiveError";
}

/** The tagged images this engine holds (repository:tag), as the worker reports them. */
export async function listImageTags(docker: Docker): Promise<string[]> {
  const images = await docker.listImages();
  const tags = images.flatMap((image) => image.RepoTags ?? []).filter((tag) => ImageTag.safeParse(tag).success);
  return [...new Set(tags)].sort().slice(0, MAX_REPORTED_IMAGES);
}

/** The bytes of `docker save <tag>`; refused when the image is not here. */
export async function saveImage(docker: Docker, tag: string): Promise<Readable> {
  if (!(await imageExists(docker, tag))) throw new ImageArchiveError(`The image "${tag}" is not on this worker.`);
  return (await docker.getImage(tag).get()) as unknown as Readable;
}

/** Loads an archive that must hold `tag` and nothing else; resolves once the engine has the tag. */
export async function loadImage(docker: Docker, tag: string, source: Readable, log: (line: string) => void = () => undefined): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "shellroom-image-"));
  const file = path.join(dir, "image.tar");
  try {
    let received = 0;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > MAX_ARCHIVE_BYTES) return done(new ImageArchiveError(`The archive of ${tag} is larger than ${MAX_ARCHIVE_BYTES} bytes.`));
        done(null, chunk);
      },
    });
    await pipeline(source, bounded, createWriteStream(file));
    log(`received ${Math.round(received / 1024 ** 2)} MiB; checking the archive names only ${tag}`);
    const names = await archiveTags(file);
    if (names.length !== 1 || names[0] !== tag) {
      throw new ImageArchiveError(`The archive names ${names.length === 0 ? "no image" : names.join(", ")}, not only ${tag}: refused.`);
    }
    const progress = await docker.loadImage(createReadStream(file), { quiet: true });
    await followProgress(docker, progress as unknown as NodeJS.ReadableStream, log);
    if (!(await imageExists(docker, tag))) throw new ImageArchiveError(`The engine loaded the archive but has no ${tag}.`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every tag the archive would set on load: manifest.json's RepoTags and the legacy `repositories` file's. */
async function archiveTags(file: string): Promise<string[]> {
  const tags = new Set<string>();
  let sawManifest = false;
  const extract = tarStream.extract();
  extract.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^\.\//, "");
    if ((name !== "manifest.json" && name !== "repositories") || (header.size ?? 0) > MAX_MANIFEST_BYTES) {
      stream.resume();
      stream.on("end", next);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: unknown) => chunks.push(Buffer.from(chunk as Buffer)));
    stream.on("end", () => {
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (name === "manifest.json") {
          sawManifest = true;
          for (const entry of Array.isArray(parsed) ? parsed : [])
            for (const tag of ((entry as { RepoTags?: unknown }).RepoTags as string[] | undefined) ?? []) tags.add(String(tag));
        } else {
          for (const [repository, byTag] of Object.entries((parsed ?? {}) as Record<string, Record<string, unknown>>))
            for (const version of Object.keys(byTag ?? {})) tags.add(`${repository}:${version}`);
        }
        next();
      } catch (error) {
        next(new ImageArchiveError(`The archive's ${name} could not be read: ${(error as Error).message}`));
      }
    });
  });
  await pipeline(createReadStream(file), extract);
  if (!sawManifest) throw new ImageArchiveError("The archive has no manifest.json: it is not what docker save writes.");
  return [...tags];
}
