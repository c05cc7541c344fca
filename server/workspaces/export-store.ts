/**
 * Workspace exports kept on the server's disk: a folder per environment holding its last few
 * tarballs, newest first by name (an ISO time). An export is written beside its final name and
 * renamed once whole, so a reader never sees half of one. S3-compatible storage would implement
 * the same few calls (docs/OPERATIONS.md, Workspace exports).
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EntityId } from "../../protocol/ids";

/** Exports kept per environment by default (SHELLROOM_EXPORT_KEEP). */
export const DEFAULT_EXPORTS_KEPT = 3;

export interface StoredExport {
  environmentId: string;
  /** The file's name in the environment's folder. */
  name: string;
  createdAt: Date;
  sizeBytes: number;
}

const FINISHED = /^\d{4}-\d{2}-\d{2}T[\d-]+Z-[0-9a-f]{8}\.tar$/;

export class ExportStore {
  constructor(
    /** SHELLROOM_EXPORT_DIR: a folder only the server reads (exports hold students' files). */
    readonly dir: string,
    readonly keep = DEFAULT_EXPORTS_KEPT,
  ) {}

  /** Writes `archive` as the environment's newest export, then forgets all but the last `keep`. */
  async save(environmentId: string, archive: Readable): Promise<StoredExport> {
    const folder = this.folderOf(environmentId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const name = `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(4).toString("hex")}.tar`;
    const partial = path.join(folder, `.${name}.partial`);
    try {
      await pipeline(archive, createWriteStream(partial, { mode: 0o600 }));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, path.join(folder, name));
    await this.prune(environmentId);
    return this.describe(environmentId, name);
  }

  /** The environment's exports, newest first. */
  async list(environmentId: string): Promise<StoredExport[]> {
    const names = await readdir(this.folderOf(environmentId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
    const finished = names.filter((name) => FINISHED.test(name)).sort((a, b) => b.localeCompare(a));
    return Promise.all(finished.map((name) => this.describe(environmentId, name)));
  }

  async latest(environmentId: string): Promise<StoredExport | null> {
    return (await this.list(environmentId))[0] ?? null;
  }

  /** An export's bytes. */
  open(stored: Pick<StoredExport, "environmentId" | "name">): Readable {
    if (!FINISHED.test(stored.name)) throw new Error(`not an export: ${stored.name}`);
    return createReadStream(path.join(this.folderOf(stored.environmentId), stored.name));
  }

  /** Every export of an environment (it was deleted). */
  async remove(environmentId: string) {
    await rm(this.folderOf(environmentId), { recursive: true, force: true });
  }

  private async prune(environmentId: string) {
    for (const old of (await this.list(environmentId)).slice(this.keep)) {
      await rm(path.join(this.folderOf(environmentId), old.name), { force: true });
    }
  }

  private async describe(environmentId: string, name: string): Promise<StoredExport> {
    const info = await stat(path.join(this.folderOf(environmentId), name));
    return { environmentId, name, createdAt: info.mtime, sizeBytes: info.size };
  }

  /** Only an id names a folder: nothing a caller passes can point outside the store. */
  private folderOf(environmentId: string) {
    return path.join(this.dir, EntityId.parse(environmentId));
  }
}
