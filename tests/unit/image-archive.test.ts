/**
 * A host loads a copied image only when the archive names exactly the image asked for: a peer
 * (another worker) cannot slip other tags in with it, say a doctored default image.
 */
import { Readable } from "node:stream";
import type Docker from "dockerode";
import tarStream from "tar-stream";
import { describe, expect, it } from "vitest";
import { loadImage } from "../../runtime-worker/images/image-archive";

async function archive(files: Record<string, string>): Promise<Readable> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Readable.from([Buffer.concat(chunks)]);
}

/** An engine that must not be asked to load anything. */
const untouchedEngine = {
  loadImage: () => {
    throw new Error("the engine was asked to load a refused archive");
  },
} as unknown as Docker;

const manifest = (...repoTags: string[][]) => JSON.stringify(repoTags.map((tags, index) => ({ Config: `c${index}.json`, RepoTags: tags, Layers: [] })));

describe("loading a copied image", () => {
  it("refuses an archive that also names another image, before the engine sees it", async () => {
    const smuggled = await archive({ "manifest.json": manifest(["shellroom/c-course:1"], ["shellroom/default:1"]) });
    await expect(loadImage(untouchedEngine, "shellroom/c-course:1", smuggled)).rejects.toThrow(/not only shellroom\/c-course:1: refused/);
  });

  it("refuses an archive whose legacy repositories file sets another tag", async () => {
    const legacy = await archive({
      "manifest.json": manifest(["shellroom/c-course:1"]),
      repositories: JSON.stringify({ "shellroom/default": { "1": "abc" } }),
    });
    await expect(loadImage(untouchedEngine, "shellroom/c-course:1", legacy)).rejects.toThrow(/refused/);
  });

  it("refuses what is not a docker save archive, and an archive of another image", async () => {
    await expect(loadImage(untouchedEngine, "shellroom/c-course:1", await archive({ "hello.txt": "hi" }))).rejects.toThrow(/no manifest.json/);
    await expect(loadImage(untouchedEngine, "shellroom/c-course:1", await archive({ "manifest.json": manifest(["shellroom/other:2"]) }))).rejects.toThrow(
      /names shellroom\/other:2/,
    );
  });
});
