/**
 * A lab's workspaces as one tar for its staff: a folder per student holding what that student's
 * own download holds. Each student's archive is read one at a time and its entries re-packed
 * under the folder (tar-stream), so the server holds one entry's bytes at a time, never a
 * workspace. A student whose files could not be read is listed in NOT-INCLUDED.txt.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

export interface ArchiveMember {
  /** The student's folder in the archive (unique, safe as a name). */
  folder: string;
  /** Their files as a tar stream; throws (with words for staff) when they cannot be read. */
  open(): Promise<Readable>;
}

/** A folder name from a display name: letters, digits, dots, dashes; made unique by the id's end. */
export function folderFor(displayName: string, userId: string): string {
  const base =
    displayName
      .normalize("NFKD")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|-+$/g, "")
      .slice(0, 60) || "student";
  return `${base}-${userId.slice(-8)}`;
}

/** An entry's name under the folder ("./workspace/a.txt" -> "<folder>/workspace/a.txt"); null for the archive's own root. */
function nameUnder(folder: string, name: string): string | null {
  const relative = name.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
  if (relative === "" || relative === ".") return null;
  return `${folder}/${relative}`;
}

/** A student's archive broke off inside an entry: the packed archive cannot go on after a half entry. */
class BrokenEntry extends Error {}

/** Copies one student's archive into `pack` under their folder. */
async function repack(pack: tar.Pack, folder: string, source: Readable) {
  const extract = tar.extract();
  const feeding = pipeline(source, extract as unknown as NodeJS.WritableStream);
  pack.entry({ name: `${folder}/`, type: "directory", mode: 0o755 });
  for await (const entry of extract) {
    const name = nameUnder(folder, entry.header.name);
    if (!name) {
      entry.resume();
      continue;
    }
    // Only ordinary entries: a hard link's target would need renaming too, and devices have no place here.
    const { type } = entry.header;
    if (type !== "file" && type !== "directory" && type !== "symlink" && type !== "contiguous-file") {
      entry.resume();
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...entry.header, name, type: type === "contiguous-file" ? "file" : type, pax: undefined }, (error) =>
        error ? reject(new BrokenEntry(error.message)) : resolve(),
      );
      entry.pipe(sink as unknown as NodeJS.WritableStream);
      entry.once("error", (error: Error) => reject(new BrokenEntry(error.message)));
    });
  }
  await feeding;
}

/**
 * Packs every member's files into one tar stream, in order. Returned at once: the bytes come
 * as the reader takes them (tar-stream's pack has backpressure).
 */
export function classArchive(members: ArchiveMember[], onSkipped: (folder: string, why: string) => void = () => undefined): Readable {
  const pack = tar.pack();
  void (async () => {
    const skipped: string[] = [];
    for (const member of members) {
      try {
        await repack(pack, member.folder, await member.open());
      } catch (error) {
        if (error instanceof BrokenEntry) throw error;
        const why = error instanceof Error ? error.message : String(error);
        skipped.push(`${member.folder}: ${why}`);
        onSkipped(member.folder, why);
      }
    }
    if (skipped.length > 0) pack.entry({ name: "NOT-INCLUDED.txt" }, `These students' files could not be read:\n${skipped.join("\n")}\n`);
    pack.finalize();
  })().catch((error: Error) => pack.destroy(error));
  return pack as unknown as Readable;
}
