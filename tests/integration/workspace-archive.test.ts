/**
 * A workspace out and in as a tar stream, on the real engine: tar runs in a throwaway
 * container as the student, so what a hostile archive asks for (names with "../", absolute
 * names, symlinks out, device nodes, setuid files) lands inside the student's volumes or
 * nowhere, and never on the host.
 */
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { homeVolumeName, volumeName, LABEL_MANAGED, LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { LABEL_TRANSFER, archiveLayout } from "../../runtime-worker/docker/workspace-archive";
import { runInEnvironment } from "../support/run-in-environment";
import { studentSpec } from "../support/student-spec";
import { namesIn, readTarball, tarball } from "../support/workspace-tarballs";

const docker = new Docker();
const workerId = `archive-${randomBytes(4).toString("hex")}`;
let volumes: WorkspaceVolumes;
let driver: DockerDriver;
const made: string[] = [];
const newEnvironment = () => {
  const environmentId = `arc${randomBytes(6).toString("hex")}`;
  made.push(environmentId);
  return studentSpec(environmentId, "owner1");
};

beforeAll(async () => {
  volumes = await WorkspaceVolumes.open(docker);
  driver = new DockerDriver(docker, workerId, volumes);
});
afterAll(async () => {
  for (const environmentId of made) await driver.remove(environmentId, { removeVolume: true }).catch(() => undefined);
});

const lines = (output: string) =>
  output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
const transferContainers = async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, LABEL_TRANSFER] } })).length;

it("an archive is the student's home as they see it: the workspace inside it, the volumes apart from each other from /", () => {
  expect(archiveLayout(["/home/student", "/home/student/workspace"])).toEqual({ root: "/home/student", members: ["."] });
  expect(archiveLayout(["/workspace"])).toEqual({ root: "/workspace", members: ["."] });
  expect(archiveLayout(["/home/student", "/srv/work"])).toEqual({ root: "/", members: ["home/student", "srv/work"] });
});

it("a workspace exported from one environment and imported into a new one has its files, with the student as owner", async () => {
  // What a killed predecessor of this worker left mid-transfer goes before the first transfer.
  const leftover = await docker.createContainer({
    Image: "shellroom/default:1",
    Cmd: ["true"],
    Labels: { [LABEL_MANAGED]: "true", [LABEL_TRANSFER]: "export", [LABEL_WORKER]: workerId },
  });
  const source = newEnvironment();
  await driver.create(source);
  await driver.start(source.environmentId);
  const wrote = await runInEnvironment(
    driver,
    source.environmentId,
    "mkdir -p notes && echo hello > notes/a.txt && echo 'alias hi=true' >> ~/.bashrc && ln -s notes/a.txt link",
  );
  expect(wrote.exitCode).toBe(0);

  const exported = await driver.exportWorkspace(source);
  expect(exported).not.toBeNull();
  await expect(leftover.inspect()).rejects.toMatchObject({ statusCode: 404 });
  const entries = await readTarball(exported!);
  expect(namesIn(entries)).toEqual(expect.arrayContaining(["workspace/", "workspace/notes/a.txt", "workspace/link", ".bashrc"]));
  expect(entries.find((entry) => entry.name === "./workspace/notes/a.txt")?.body).toBe("hello\n");

  const target = newEnvironment();
  const again = await driver.exportWorkspace(source);
  const { volumeName: imported } = await driver.importWorkspace(target, again!);
  expect(imported).toBe(volumeName(target.environmentId));
  await driver.create(target);
  await driver.start(target.environmentId);
  const read = await runInEnvironment(driver, target.environmentId, "cat notes/a.txt; readlink link; grep -c 'alias hi' ~/.bashrc; stat -c %U notes/a.txt");
  expect(lines(read.output)).toEqual(["hello", "notes/a.txt", "1", "student"]);
  await driver.remove(target.environmentId, { removeVolume: false });
  expect(await transferContainers()).toBe(0);
});

it("an environment with no workspace on this host exports nothing", async () => {
  expect(await driver.exportWorkspace(newEnvironment())).toBeNull();
});

it("a hostile archive writes only inside the student's volumes: no escape, no device, no setuid, nothing through a symlink", async () => {
  // Size-limited, as production workspaces are (a loop-mounted image where the host allows).
  const plain = newEnvironment();
  const spec = { ...plain, limits: { ...plain.limits, diskBytes: 64 * 1024 * 1024 } };
  const marker = `shellroom-escape-${randomBytes(4).toString("hex")}`;
  // Into a workspace that exists (a new one whose import fails is removed again).
  await driver.prepareVolumes(spec);
  const archive = tarball([
    { name: "workspace/ok.txt", body: "fine\n" },
    { name: `../../../../tmp/${marker}`, body: "escaped\n" },
    { name: `/tmp/${marker}-absolute`, body: "absolute\n" },
    { name: "workspace/out", type: "symlink", linkname: "/tmp" },
    { name: `workspace/out/${marker}-through-link`, body: "through\n" },
    { name: "workspace/up", type: "symlink", linkname: "../../../../../tmp" },
    { name: `workspace/up/${marker}-up`, body: "up\n" },
    { name: "workspace/hard", type: "link", linkname: "/etc/passwd" },
    { name: "workspace/null-device", type: "character-device", devmajor: 1, devminor: 3 },
    { name: "workspace/root-shell", mode: 0o4755, uid: 0, gid: 0, body: "#!/bin/sh\n" },
  ]);
  // tar reports what it refused: the import says so.
  await expect(driver.importWorkspace(spec, archive)).rejects.toThrow(/could not be unpacked/);
  expect(await transferContainers()).toBe(0);

  // The host: nothing of it outside the volume's own mount.
  for (const where of ["/tmp", "/", "/etc"]) expect(readdirSync(where).some((name) => name.startsWith(marker))).toBe(false);
  // On the host: what the volumes hold has no device, no set-id bit, nothing of root's.
  for (const name of [volumeName(spec.environmentId), homeVolumeName(volumeName(spec.environmentId))]) {
    const { Mountpoint } = await docker.getVolume(name).inspect();
    const walk = (folder: string): string[] =>
      readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(folder, entry.name);
        return entry.isDirectory() ? [full, ...walk(full)] : [full];
      });
    for (const file of walk(Mountpoint)) {
      const stat = lstatSync(file);
      expect(stat.isCharacterDevice() || stat.isBlockDevice(), file).toBe(false);
      expect(stat.mode & 0o6000, file).toBe(0);
      expect(stat.uid, file).not.toBe(0);
    }
  }
  expect(existsSync("/etc/passwd")).toBe(true);

  // Inside: the honest file arrived, the links lead nowhere they could write.
  await driver.create(spec);
  await driver.start(spec.environmentId);
  const inside = await runInEnvironment(
    driver,
    spec.environmentId,
    `cat ok.txt; ls /tmp | grep -c ${marker}; find ~ -perm /6000 | wc -l; find ~ -type c | wc -l; stat -c %U ok.txt`,
  );
  expect(lines(inside.output)).toEqual(["fine", "0", "0", "0", "student"]);
});
