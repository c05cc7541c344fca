import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parsePreviewPath } from "../../server/preview/preview-proxy";
import { ByteRate } from "../../server/preview/preview-limits";

describe("preview addresses", () => {
  it("name an environment, a port and the app's own path", () => {
    expect(parsePreviewPath("/preview/cmx4abc/8000/")).toEqual({ environmentId: "cmx4abc", port: 8000, path: "/" });
    expect(parsePreviewPath("/preview/cmx4abc/8000/static/app.js?v=2")).toEqual({ environmentId: "cmx4abc", port: 8000, path: "/static/app.js?v=2" });
    // Without the folder's slash: the proxy redirects to it.
    expect(parsePreviewPath("/preview/cmx4abc/8000")).toEqual({ environmentId: "cmx4abc", port: 8000, path: null });
  });

  it("refuse ports that cannot exist and ids that are not ids", () => {
    expect(parsePreviewPath("/preview/cmx4abc/70000/")).toBeNull();
    expect(parsePreviewPath("/preview/cmx4abc/0/")).toBeNull();
    expect(parsePreviewPath("/preview/../etc/8000/")).toBeNull();
    expect(parsePreviewPath("/previews/cmx4abc/8000/")).toBeNull();
  });
});

describe("a preview's byte rate", () => {
  it("passes a burst at once and fails a body past its size", async () => {
    const passed: Buffer[] = [];
    for await (const chunk of Readable.from([Buffer.alloc(1024), Buffer.alloc(1024)]).pipe(new ByteRate(4096, 1024))) passed.push(chunk as Buffer);
    expect(Buffer.concat(passed).length).toBe(2048);
    const tooLarge = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]).pipe(new ByteRate(4096, 1024, 1000));
    await expect(async () => {
      for await (const chunk of tooLarge) void chunk;
    }).rejects.toThrow(/more than 1000 bytes/);
  });
});
