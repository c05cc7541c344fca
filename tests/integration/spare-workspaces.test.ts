/**
 * Workspace images made ahead of need: a start takes a formatted, mounted spare (the mount
 * moves to the workspace's path, the image takes its name) instead of formatting and
 * mounting on its critical path, and the stock refills behind it. A spare is never handed
 * out twice, keeps the size limit, and none outlives the worker process that made it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";

const MIB = 1024 * 1024;
const docker = new Docker();
const root = "/var/lib/shellroom/workspaces";
const run = randomBytes(3).toString("hex");
const made: string[] = [];
let volumes: WorkspaceVolumes;

const mounted = (mountPoint: string) => {
  try {
    execFileSync("mountpoint", ["-q", mountPoint]);
    return true;
  } catch {
    return false;
  }
};
const sparesOnDisk = () => readdirSync(root).filter((entry) => entry.startsWith(`shellroom-spare-${process.pid.toString(36)}-`) && entry.endsWith(".img"));

describe("spare workspaces", () => {
  beforeAll(async () => {
    volumes = await WorkspaceVolumes.open(docker, root, { spares: 2, seedSizes: [64 * MIB] });
    expect(volumes.mechanism).toBe("loop-ext4");
    await volumes.sparesSettled();
  });

  afterAll(async () => {
    for (const name of made) await volumes.remove(name);
    await volumes.close();
    expect(sparesOnDisk()).toEqual([]);
  });

  it("a workspace of a stocked size takes a spare: mounted at its own path, its own image, the limit kept; the stock refills", async () => {
    expect(volumes.spareCount).toBe(2);
    const before = sparesOnDisk();
    const names = [`shellroom-ws-sparetest-${run}-a`, `shellroom-ws-sparetest-${run}-b`];
    made.push(...names);
    // Two at once: two different spares, never one twice.
    await Promise.all(names.map((name) => volumes.create(name, { "dev.shellroom.managed": "true" }, 64 * MIB)));
    for (const name of names) {
      expect(mounted(path.join(root, name))).toBe(true);
      expect(statSync(path.join(root, `${name}.img`)).size).toBe(64 * MIB);
      expect((await docker.getVolume(name).inspect()).Options?.device).toBe(path.join(root, name));
    }
    // Both came from the stock: the spares there before are gone (taken), new ones replace them.
    expect(sparesOnDisk().filter((spare) => before.includes(spare))).toEqual([]);
    await volumes.sparesSettled();
    expect(volumes.spareCount).toBe(2);

    // The size limit holds on an adopted spare.
    const fill = path.join(root, names[0]!, "big");
    expect(() => writeFileSync(fill, Buffer.alloc(80 * MIB))).toThrow(/ENOSPC|no space/i);
  });

  it("a size nobody stocked is made the usual way, and stocked from then on", async () => {
    const name = `shellroom-ws-sparetest-${run}-c`;
    made.push(name);
    await volumes.create(name, { "dev.shellroom.managed": "true" }, 32 * MIB);
    expect(mounted(path.join(root, name))).toBe(true);
    await volumes.sparesSettled();
    expect(volumes.spareCount).toBe(4);
  });

  it("spares of a worker process that is gone are removed when the next one opens; a live one's are left alone", async () => {
    // What a worker killed with -9 leaves: a mounted spare named after its (now dead) pid.
    const deadPid = Number(execFileSync("sh", ["-c", "echo $$"]).toString().trim());
    const leftover = `shellroom-spare-${deadPid.toString(36)}-0-${Date.now().toString(36)}`;
    execFileSync("truncate", ["-s", String(16 * MIB), path.join(root, `${leftover}.img`)]);
    execFileSync("mkfs.ext4", ["-q", "-F", path.join(root, `${leftover}.img`)]);
    execFileSync("mkdir", ["-p", path.join(root, leftover)]);
    execFileSync("mount", ["-o", "loop", path.join(root, `${leftover}.img`), path.join(root, leftover)]);
    const ours = sparesOnDisk();
    expect(ours.length).toBeGreaterThan(0);

    const next = await WorkspaceVolumes.open(docker, root);
    await next.close();
    expect(existsSync(path.join(root, `${leftover}.img`))).toBe(false);
    expect(mounted(path.join(root, leftover))).toBe(false);
    // This (live) process's stock is untouched.
    expect(sparesOnDisk()).toEqual(ours);
  });
});
