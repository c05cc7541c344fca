/**
 * Students share hosts: a CPU hog is throttled to its own limit while a neighbour's
 * terminal keeps answering, and no host path is mounted into an environment.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { runInEnvironment } from "../support/run-in-environment";

const workerId = `neighbours-${Date.now().toString(36)}`;
const driver = new DockerDriver(new Docker(), workerId);
const hog = `hog${Date.now().toString(36)}`;
const neighbour = `nb${Date.now().toString(36)}`;
const spec = (environmentId: string): EnvironmentSpec => ({
  environmentId,
  image: "shellroom/default:1",
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  ownerId: "test",
  limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 },
});

beforeAll(async () => {
  for (const id of [hog, neighbour]) {
    await driver.create(spec(id));
    await driver.start(id);
  }
});
afterAll(async () => {
  for (const id of [hog, neighbour]) await driver.remove(id, { removeVolume: true });
});

it("a CPU hog is throttled to its half CPU while the neighbour's shell keeps echoing keystrokes", { timeout: 90_000 }, async () => {
  // Four busy loops in the hog, detached from the exec that starts them: more than its
  // limit, and twice as many as this host has cores.
  const started = await runInEnvironment(
    driver,
    hog,
    "for i in 1 2 3 4; do setsid bash -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & done; sleep 2; pgrep -c -f 'while :'",
  );
  expect(Number(started.output.trim().split("\n").at(-1))).toBeGreaterThanOrEqual(4);

  const shell = await driver.exec(neighbour, ["bash", "--norc", "-i"], { cols: 80, rows: 24 });
  let seen = "";
  shell.stream.on("data", (chunk: Buffer) => (seen += chunk.toString()));
  for (let key = 0; key < 20; key++) {
    const marker = `k${key}z`;
    shell.stream.write(marker);
    // Liveness, not a benchmark: each keystroke must come back while the hog spins.
    await expect.poll(() => seen.includes(marker), { timeout: 2000, interval: 10 }).toBe(true);
  }
  shell.stream.write("\u0003exit\r");

  const stat = await runInEnvironment(
    driver,
    hog,
    "cat /sys/fs/cgroup/cpu/cpu.stat; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us",
  );
  expect(Number(/nr_throttled (\d+)/.exec(stat.output)![1])).toBeGreaterThan(0);
  const [quota, period] = stat.output.trim().split("\n").slice(-2).map(Number);
  expect(quota! / period!).toBeCloseTo(0.5, 2);
});

it("no host path is mounted: only Docker's own per-container files and the student's volumes come from a host disk", async () => {
  const mounts = await runInEnvironment(driver, neighbour, "cat /proc/self/mountinfo");
  const fromHostDisks = mounts.output
    .trim()
    .split("\n")
    .map((line) => line.split(" - "))
    .filter(([, tail]) => /^(ext[234]|xfs|btrfs|vfat|zfs) /.test(tail ?? ""))
    .map(([head]) => head!.split(" ")[4]);
  // Docker's own: per-container name files, and its init (zombie reaper), which must be read-only.
  // The student's own volumes (home and workspace) are the only others.
  const allowed = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/usr/sbin/docker-init", "/home/student", "/home/student/workspace"]);
  const init = mounts.output.split("\n").find((line) => line.split(" ")[4] === "/usr/sbin/docker-init");
  if (init) expect(init.split(" ")[5]).toMatch(/^ro\b/);
  expect(fromHostDisks.filter((mountPoint) => !allowed.has(mountPoint!))).toEqual([]);
  expect(fromHostDisks).toContain("/home/student/workspace");
  expect(mounts.output).not.toMatch(/docker\.sock|\/var\/lib\/docker |\/proc\/sysrq/);
});
