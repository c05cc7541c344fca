/**
 * A spare image belongs to the live process that made it, mounted or not: a second worker (or
 * the tests' cleanup) on the same host must leave a live worker's spares alone, even those it
 * is still making, and take those whose maker is gone or whose pid came back after a restart.
 */
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerHolds, processStartedAt, spareOwner } from "../../runtime-worker/docker/spare-owner";
import { SPARE_PREFIX } from "../../runtime-worker/docker/spare-workspaces";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "spare-owner-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const nameFor = (pid: number) => `${SPARE_PREFIX}${pid.toString(36)}-a-x1`;

async function image(pid: number, mtime?: Date) {
  const name = nameFor(pid);
  const file = path.join(dir, `${name}.img`);
  await writeFile(file, "");
  if (mtime) await utimes(file, mtime, mtime);
  return { name, file };
}

describe("who holds a spare workspace image", () => {
  it("reads the maker's pid from the name", () => {
    expect(spareOwner(nameFor(4242))).toBe(4242);
    expect(spareOwner(`${SPARE_PREFIX}zz!-a`)).toBe(parseInt("zz", 36));
    expect(spareOwner("shellroom-other")).toBeNaN();
  });

  it("knows when this process started (before now, after the host booted)", async () => {
    const started = await processStartedAt(process.pid);
    expect(started).not.toBeNull();
    expect(started!).toBeLessThanOrEqual(Date.now());
    expect(started!).toBeGreaterThan(Date.now() - 24 * 3600_000 * 365);
    expect(await processStartedAt(2 ** 22 + 7)).toBeNull();
  });

  it("a live maker holds its image, mounted or not (one still being made included)", async () => {
    const { name, file } = await image(process.pid);
    expect(await ownerHolds(name, file)).toBe(true);
  });

  it("a gone maker holds nothing, and neither does a pid reused after a restart", async () => {
    const gone = await image(2 ** 22 + 11);
    expect(await ownerHolds(gone.name, gone.file)).toBe(false);
    // Made long before this process started: the pid is someone else's now.
    const stale = await image(process.pid, new Date("2001-01-01T00:00:00Z"));
    expect(await ownerHolds(stale.name, stale.file)).toBe(false);
  });
});
