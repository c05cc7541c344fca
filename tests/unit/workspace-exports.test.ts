/**
 * The server's side of workspace archives without a worker: the export store keeps the newest
 * few per environment and names nothing outside its folder; the class archive puts each
 * student's files under a folder of their own and says whose could not be read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExportStore } from "../../server/workspaces/export-store";
import { classArchive, folderFor } from "../../server/workspaces/class-archive";
import { namesIn, readTarball, tarball } from "../support/workspace-tarballs";
import { fakeWorker, freshSpec } from "../support/fake-runtime/fake-worker";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "shellroom-store-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the export store", () => {
  it("keeps the newest exports of each environment, newest first, and reads them back whole", async () => {
    const store = new ExportStore(dir, 2);
    for (const body of ["first", "second", "third"]) await store.save("env-1", tarball([{ name: "workspace/a.txt", body }]));
    await store.save("env-2", tarball([{ name: "workspace/b.txt", body: "other" }]));
    const kept = await store.list("env-1");
    expect(kept).toHaveLength(2);
    const newest = await readTarball(store.open(kept[0]!) as AsyncIterable<Buffer>);
    expect(newest.map((entry) => entry.body)).toEqual(["third"]);
    expect((await store.latest("env-2"))?.sizeBytes).toBeGreaterThan(0);
    expect(await store.latest("never-exported")).toBeNull();
    await store.remove("env-1");
    expect(await store.list("env-1")).toEqual([]);
  });

  it("an export that breaks off leaves nothing behind, and the one before it stays the newest", async () => {
    const store = new ExportStore(dir);
    const whole = await store.save("env-1", tarball([{ name: "a.txt", body: "whole" }]));
    const broken = new Readable({
      read() {
        this.destroy(new Error("the worker went away"));
      },
    });
    await expect(store.save("env-1", broken)).rejects.toThrow("the worker went away");
    expect((await store.list("env-1")).map((stored) => stored.name)).toEqual([whole.name]);
  });

  it("names nothing outside its folder: an environment id is an id, an export's name is an export's", async () => {
    const store = new ExportStore(dir);
    await expect(store.list("../../etc")).rejects.toThrow();
    await expect(store.save("../escape", tarball([]))).rejects.toThrow();
    expect(() => store.open({ environmentId: "env-1", name: "../../../etc/passwd" })).toThrow(/not an export/);
  });
});

describe("the class archive", () => {
  it("puts each student's files in a folder of their own, and lists whose could not be read", async () => {
    const archive = classArchive([
      {
        folder: folderFor("Grace Hopper", "user-aaaaaaaa1"),
        open: async () =>
          tarball([
            { name: "./", type: "directory" },
            { name: "./workspace/a.txt", body: "grace" },
          ]),
      },
      { folder: folderFor("Offline Student", "user-bbbbbbbb2"), open: async () => Promise.reject(new Error("its machine is offline")) },
      {
        folder: folderFor("Linus", "user-cccccccc3"),
        open: async () =>
          tarball([
            { name: "./workspace/link", type: "symlink", linkname: "a.txt" },
            { name: "./workspace/dev", type: "character-device" },
          ]),
      },
    ]);
    const entries = await readTarball(archive as AsyncIterable<Buffer>);
    expect(namesIn(entries)).toEqual([
      "Grace-Hopper-aaaaaaa1/",
      "Grace-Hopper-aaaaaaa1/workspace/a.txt",
      "Linus-ccccccc3/",
      "Linus-ccccccc3/workspace/link",
      "NOT-INCLUDED.txt",
    ]);
    expect(entries.find((entry) => entry.name === "NOT-INCLUDED.txt")?.body).toContain("Offline-Student-bbbbbbb2: its machine is offline");
  });

  it("makes a folder name safe from any display name", () => {
    expect(folderFor("../../etc/Ærø 💥", "cuid-1234567890")).toBe("etc-r-34567890");
    expect(folderFor("...", "u-12345678")).toBe("student-12345678");
  });
});

describe("the worker's export", () => {
  it("refuses with no_workspace for an environment it holds no workspace of", async () => {
    const { manager } = fakeWorker();
    await expect(manager.exportWorkspace(freshSpec())).rejects.toMatchObject({ code: "no_workspace" });
  });
});
