/**
 * Students' files out of the platform, end to end: a student downloads their own workspace
 * (a tar streamed live from the worker), nobody else's; staff download a lab's workspaces as
 * one archive, a folder per student; an export kept on the server restores onto a worker; and
 * a hostile archive restored that way harms nothing.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";
import { namesIn, readTarball, tarball } from "../support/workspace-tarballs";

let harness: Harness;
let exportDir: string;
let instructor: string;

beforeAll(async () => {
  exportDir = mkdtempSync(path.join(os.tmpdir(), "shellroom-exports-"));
  harness = await startHarness({ redis: false, server: { exports: { dir: exportDir, keep: 2 } } });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  await harness?.close();
  rmSync(exportDir, { recursive: true, force: true });
});

/** A student with a running environment holding `files` (name -> text) in their workspace. */
async function studentWithFiles(name: string, files: Record<string, string>) {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  const environmentId: string = started.body.result.data.environmentId;
  for (const [file, text] of Object.entries(files)) {
    const wrote = await runInEnvironment(harness.driver, environmentId, `mkdir -p "$(dirname '${file}')" && printf '%s' '${text}' > '${file}'`);
    expect(wrote.exitCode).toBe(0);
  }
  return { ...student, environmentId };
}

const download = (url: string, cookie?: string) => fetch(`${harness.url}${url}`, { headers: cookie ? { cookie } : {} });
const filesIn = async (response: Response) => readTarball(Buffer.from(await response.arrayBuffer()));

it("a student downloads their own workspace as a tar, live from the worker, with their files in it", async () => {
  const ada = await studentWithFiles("Ada Download", { "notes/plan.txt": "finish lab 1", "main.c": "int main(){}" });
  const response = await download(`/api/environments/${ada.environmentId}/workspace.tar`, ada.cookie);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/x-tar");
  expect(response.headers.get("content-disposition")).toMatch(/attachment; filename=".+\.tar"/);
  expect(response.headers.get("x-shellroom-workspace-source")).toBe("live");
  const entries = await filesIn(response);
  expect(namesIn(entries)).toEqual(expect.arrayContaining(["workspace/notes/plan.txt", "workspace/main.c", ".bashrc"]));
  expect(entries.find((entry) => entry.name === "./workspace/notes/plan.txt")?.body).toBe("finish lab 1");

  // The lab page's link names the lab, not the environment: the caller's own, stopped or running.
  await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: ada.cookie });
  const mine = await download(`/api/labs/${harness.labId}/my-workspace.tar`, ada.cookie);
  expect(mine.status).toBe(200);
  expect((await filesIn(mine)).find((entry) => entry.name === "./workspace/main.c")?.body).toBe("int main(){}");
  const stranger = await harness.newStudent("No Environment Yet");
  expect((await download(`/api/labs/${harness.labId}/my-workspace.tar`, stranger.cookie)).status).toBe(404);
});

it("another student may not download it, nor may anyone signed out; staff of the course may", async () => {
  const owner = await studentWithFiles("Owner Student", { "secret.txt": "mine" });
  const other = await harness.newStudent("Curious Student");
  const url = `/api/environments/${owner.environmentId}/workspace.tar`;
  const refused = await download(url, other.cookie);
  expect(refused.status).toBe(404);
  expect(await refused.text()).not.toContain("mine");
  expect((await download(url)).status).toBe(401);
  expect((await download(`/api/environments/no-such-environment/workspace.tar`, other.cookie)).status).toBe(404);

  const asStaff = await download(url, instructor);
  expect(asStaff.status).toBe(200);
  expect((await filesIn(asStaff)).find((entry) => entry.name === "./workspace/secret.txt")?.body).toBe("mine");
  // Staff reading a student's files is on the record.
  const audited = await harness.db.auditEvent.findFirst({ where: { action: "workspace.downloaded", subjectId: owner.environmentId } });
  expect(audited?.actorId).toBe("demo-instructor");
});

it("staff download the lab's workspaces as one archive, a folder per student; a student may not", async () => {
  const grace = await studentWithFiles("Grace Class", { "answer.txt": "answer of grace" });
  const linus = await studentWithFiles("Linus Class", { "answer.txt": "answer of linus" });
  const response = await download(`/api/labs/${harness.labId}/workspaces.tar`, instructor);
  expect(response.status).toBe(200);
  const entries = await filesIn(response);
  const names = namesIn(entries);
  const folderOf = (userId: string) => names.find((name) => name.endsWith(`-${userId.slice(-8)}/`))!;
  expect(folderOf(grace.userId)).toMatch(/^Grace-Class-/);
  expect(folderOf(linus.userId)).toMatch(/^Linus-Class-/);
  const bodyOf = (name: string) => entries.find((entry) => entry.name === name)?.body;
  expect(bodyOf(`${folderOf(grace.userId)}workspace/answer.txt`)).toBe("answer of grace");
  expect(bodyOf(`${folderOf(linus.userId)}workspace/answer.txt`)).toBe("answer of linus");
  // Every folder is a student's: nothing at the top but folders.
  expect(names.filter((name) => !name.includes("/"))).toEqual([]);

  expect((await download(`/api/labs/${harness.labId}/workspaces.tar`, grace.cookie)).status).toBe(404);
});

it("an export kept on the server restores onto a worker, and the student's next start has those files", async () => {
  const kept = await studentWithFiles("Kept Student", { "thesis.md": "chapter one" });
  const { transfers } = harness.server.workspaces;
  const stored = await transfers.exportToStore(kept.environmentId);
  expect(stored.sizeBytes).toBeGreaterThan(0);
  // Only the newest few are kept.
  await transfers.exportToStore(kept.environmentId);
  await transfers.exportToStore(kept.environmentId);
  expect((await transfers.store.list(kept.environmentId)).length).toBe(2);

  // The files go; the export brings them back.
  await runInEnvironment(harness.driver, kept.environmentId, "rm thesis.md");
  await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: kept.cookie });
  await transfers.restore(kept.environmentId, harness.workerId);
  await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: kept.cookie });
  expect((await runInEnvironment(harness.driver, kept.environmentId, "cat thesis.md")).output).toBe("chapter one");
});

it("a hostile archive restored onto a worker harms nothing: no escape, no device node, no setuid file, nothing through a symlink", async () => {
  const victim = await studentWithFiles("Restored Student", {});
  await harness.trpc("environment.stop", { labId: harness.labId }, { cookie: victim.cookie });
  const marker = `shellroom-hostile-${randomBytes(4).toString("hex")}`;
  const hostile = tarball([
    { name: "workspace/harmless.txt", body: "ok\n" },
    { name: `../../../../../../tmp/${marker}`, body: "escaped\n" },
    { name: `/tmp/${marker}-absolute`, body: "absolute\n" },
    { name: "workspace/out", type: "symlink", linkname: "/tmp" },
    { name: `workspace/out/${marker}-through`, body: "through\n" },
    { name: "workspace/disk", type: "block-device", devmajor: 8, devminor: 0 },
    { name: "workspace/suid-shell", mode: 0o6755, uid: 0, gid: 0, body: "#!/bin/sh\nid\n" },
  ]);
  const { transfers } = harness.server.workspaces;
  await transfers.store.save(victim.environmentId, hostile as Readable);
  const before = await harness.db.environment.findUniqueOrThrow({ where: { id: victim.environmentId } });
  await expect(transfers.restore(victim.environmentId, harness.workerId)).rejects.toMatchObject({ code: "failed" });

  // Nothing reached the host; the half-unpacked landing workspace is gone; the student keeps theirs.
  for (const where of ["/tmp", "/", "/etc"]) expect(readdirSync(where).some((name) => name.startsWith(marker))).toBe(false);
  const { Volumes: volumes } = await new Docker().listVolumes({ filters: { label: [`dev.shellroom.environment=${victim.environmentId}`] } });
  expect((volumes ?? []).map((volume) => volume.Name).sort()).toEqual([before.volumeName, `${before.volumeName}-home`].sort());
  expect(await harness.db.environment.findUniqueOrThrow({ where: { id: victim.environmentId } })).toMatchObject({
    workerId: before.workerId,
    volumeName: before.volumeName,
  });
  await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: victim.cookie });
  const inside = await runInEnvironment(
    harness.driver,
    victim.environmentId,
    `ls harmless.txt 2>/dev/null | wc -l; ls /tmp | grep -c ${marker}; find ~ \\( -type b -o -type c -o -perm /6000 \\) | wc -l`,
  );
  expect(
    inside.output
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
  ).toEqual(["0", "0", "0"]);
});
