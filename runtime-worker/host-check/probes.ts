/**
 * The facts `npm run worker -- check` judges (requirements.ts), gathered from this host: the
 * worker's configuration, its engine, the server's /healthz, devices, cgroups and disks. Every
 * probe answers (a failure is a fact), so one missing piece never hides the others.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, statfs } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { WorkerEnv } from "../config";
import { DEFAULT_IMAGE } from "../images/base-image";
import type { DockerFacts, HostFacts } from "./requirements";

const run = promisify(execFile);
const PROBE_TIMEOUT_MS = 5000;
/** Where workspace images live (runtime-worker/docker/workspace-volumes.ts). */
const WORKSPACE_ROOT = "/var/lib/shellroom/workspaces";

const succeeds = (file: string, args: string[]) =>
  run(file, args, { timeout: PROBE_TIMEOUT_MS }).then(
    () => true,
    () => false,
  );

const reason = (error: unknown) => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
};

async function dockerFacts(docker: Docker, endpoint: string): Promise<DockerFacts> {
  try {
    const version = await docker.version();
    const info = (await docker.info()) as {
      DockerRootDir?: string;
      MemoryLimit?: boolean;
      PidsLimit?: boolean;
      SecurityOptions?: string[];
      CgroupVersion?: string;
    };
    return {
      answers: true,
      endpoint,
      version: version.Version,
      apiVersion: version.ApiVersion,
      rootDir: info.DockerRootDir ?? "/var/lib/docker",
      memoryLimit: info.MemoryLimit !== false,
      pidsLimit: info.PidsLimit !== false,
      userNamespaces: Boolean(info.SecurityOptions?.some((option) => option.includes("name=userns"))),
      cgroupVersion: info.CgroupVersion,
    };
  } catch (error) {
    return { answers: false, endpoint, error: reason(error) };
  }
}

async function cgroupFacts(): Promise<HostFacts["cgroups"]> {
  const unified = await readFile("/sys/fs/cgroup/cgroup.controllers", "utf8").catch(() => null);
  if (unified !== null) return { version: 2, controllers: unified.split(/\s+/).filter(Boolean) };
  // v1: a hierarchy per controller (some joined, e.g. cpu,cpuacct).
  const entries = await readdir("/sys/fs/cgroup").catch(() => [] as string[]);
  return { version: 1, controllers: [...new Set(entries.flatMap((entry) => entry.split(",")))].sort() };
}

/** The nearest existing folder at or above `target` (the workspace root may not exist yet). */
function existingAncestor(target: string): string {
  let current = target;
  while (!existsSync(current) && current !== path.dirname(current)) current = path.dirname(current);
  return current;
}

async function diskFacts(label: string, target: string): Promise<HostFacts["disks"][number]> {
  const at = existingAncestor(target);
  const stats = await statfs(at);
  return { label, path: at, freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

async function serverFacts(serverUrl: string | undefined): Promise<HostFacts["server"]> {
  if (!serverUrl || !URL.canParse(serverUrl)) return undefined;
  try {
    const response = await fetch(new URL("/healthz", serverUrl), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return { status: response.status };
  } catch (error) {
    return { error: reason(error) };
  }
}

export async function gatherHostFacts(env: Record<string, string | undefined> = process.env): Promise<HostFacts> {
  const parsed = WorkerEnv.safeParse(env);
  // Each read on its own, so one bad variable does not blank the others.
  const places = WorkerEnv.shape.SHELLROOM_WORKER_MAX_ENVIRONMENTS.safeParse(env.SHELLROOM_WORKER_MAX_ENVIRONMENTS);
  const workerId = WorkerEnv.shape.SHELLROOM_WORKER_ID.safeParse(env.SHELLROOM_WORKER_ID || undefined);
  const endpoint = env.DOCKER_HOST?.startsWith("unix://") ? env.DOCKER_HOST : "unix:///var/run/docker.sock";
  const docker = new Docker({ socketPath: endpoint.slice("unix://".length), timeout: PROBE_TIMEOUT_MS });
  const dockerNow = await dockerFacts(docker, endpoint);
  const defaultImagePresent = dockerNow.answers
    ? await docker
        .getImage(DEFAULT_IMAGE)
        .inspect()
        .then(
          () => true,
          () => false,
        )
    : undefined;
  const disks = [await diskFacts("workspaces", WORKSPACE_ROOT)];
  if (dockerNow.answers) disks.unshift(await diskFacts("Docker data", dockerNow.rootDir));
  return {
    uid: process.getuid?.(),
    configIssues: parsed.success ? [] : parsed.error.issues,
    serverUrl: env.SHELLROOM_SERVER_URL,
    server: await serverFacts(env.SHELLROOM_SERVER_URL),
    token: env.SHELLROOM_WORKER_TOKEN,
    workerId: workerId.success ? workerId.data : "<worker id>",
    docker: dockerNow,
    defaultImage: DEFAULT_IMAGE,
    defaultImagePresent,
    quotaSetting: env.SHELLROOM_WORKSPACE_QUOTA,
    loop: { loopControl: existsSync("/dev/loop-control"), losetup: await succeeds("losetup", ["--version"]), mkfs: await succeeds("mkfs.ext4", ["-V"]) },
    cgroups: await cgroupFacts(),
    disks,
    compiler: await succeeds("cc", ["--version"]),
    maxKeys: Number((await readFile("/proc/sys/kernel/keys/maxkeys", "utf8").catch(() => "0")).trim()) || 0,
    maxEnvironments: places.success ? places.data : 0,
  };
}
