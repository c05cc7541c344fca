/**
 * Tarballs for the workspace tests: made entry by entry (tar-stream), so a test can write what
 * no honest tar would (names with "../", absolute names, links out, device nodes, setuid
 * files), and read back which names an archive holds.
 */
import { Readable } from "node:stream";
import tar from "tar-stream";

export type TarEntry = Partial<tar.Header> & { name: string; body?: string };

/** The archive of these entries, as a stream. */
export function tarball(entries: TarEntry[]): Readable {
  const pack = tar.pack();
  for (const { body, ...header } of entries) pack.entry(header, body ?? "");
  pack.finalize();
  return pack as unknown as Readable;
}

/** Every entry of an archive: its header, and its body as text for files. */
export async function readTarball(source: AsyncIterable<Buffer> | Buffer): Promise<Array<tar.Header & { body: string }>> {
  const extract = tar.extract();
  const entries: Array<tar.Header & { body: string }> = [];
  const feeding = (async () => {
    if (Buffer.isBuffer(source)) extract.end(source);
    else {
      for await (const chunk of source) if (!extract.write(chunk)) await new Promise<void>((resolve) => extract.once("drain", () => resolve()));
      extract.end(Buffer.alloc(0));
    }
  })();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push({ ...entry.header, body: Buffer.concat(chunks).toString("utf8") });
  }
  await feeding;
  return entries;
}

/** An archive's names without the leading "./" (directories end in "/"). */
export const namesIn = (entries: Array<tar.Header>) =>
  entries
    .map((entry) => `${entry.name.replace(/^\.\//, "")}${entry.type === "directory" && !entry.name.endsWith("/") ? "/" : ""}`)
    .filter((name) => name !== "" && name !== "./");
