/**
 * Builds an instructor's Dockerfile on this host, trusting nothing the server checked:
 * the build policy is applied again, every image it names must already be here (nothing is
 * pulled) and carry no ONBUILD triggers, RUN steps get no network, and the build container
 * gets memory (no swap), CPU and pids limits and a time limit after which the build is
 * aborted (the engine then kills and removes its container).
 */
import { mkdir, readdir, rmdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import tarStream from "tar-stream";
import { rootLogger } from "../../common/logger";
import { checkDockerfile, DockerfileRefusedError } from "../../protocol/dockerfile-policy";
import type { BuildLimits } from "../../protocol/worker-messages";
import { DEFAULT_IMAGE, followProgress } from "./base-image";
import { openBuildEgress, type BuildEgress } from "./build-egress";
import { parseMirrors } from "./mirror-proxy";

type Log = (line: string) => void;

const CPU_PERIOD_US = 100_000;
/** Where the pids limit lives: the build API (1.41) has no pids option, but takes a cgroup parent. */
const CGROUPS = "/sys/fs/cgroup";
const PIDS_CGROUPS = `${CGROUPS}/pids`;
const BUILDS_CGROUP = "shellroom-builds";

export class BuildFailedError extends Error {
  override name = "BuildFailedError";
}

/** Per worker: the way to the operator's package mirrors, opened at the first build that needs it. */
const egresses = new Map<string, Promise<BuildEgress>>();

/**
 * SHELLROOM_BUILD_MIRRORS (the worker's environment; off when empty): hosts RUN steps may
 * reach through the allowlisting proxy, e.g. "deb.debian.org,security.debian.org,pypi.org,
 * files.pythonhosted.org,registry.npmjs.org". Without it builds have no network at all.
 */
function egressFor(docker: Docker, workerId: string): Promise<BuildEgress> | null {
  const list = process.env.SHELLROOM_BUILD_MIRRORS?.trim();
  if (!list) return null;
  let egress = egresses.get(workerId);
  if (!egress) {
    egress = openBuildEgress(docker, workerId, parseMirrors(list), rootLogger.child({ workerId, part: "build-proxy" }));
    egress.catch(() => egresses.delete(workerId)); // a failed start is retried by the next build
    egresses.set(workerId, egress);
  }
  return egress;
}

/** Stops the mirror proxies this process opened (tests; shutdown). */
export async function closeBuildEgresses() {
  const open = [...egresses.values()];
  egresses.clear();
  await Promise.all(
    open.map((egress) =>
      egress.then(
        (opened) => opened.close(),
        () => undefined,
      ),
    ),
  );
}

export async function buildInstructorImage(
  docker: Docker,
  dockerfile: string,
  tag: string,
  log: Log,
  options: { limits: BuildLimits; signal?: AbortSignal; workerId: string },
): Promise<void> {
  let needs;
  try {
    needs = checkDockerfile(dockerfile);
  } catch (error) {
    if (error instanceof DockerfileRefusedError) throw new BuildFailedError(`The Dockerfile was refused. ${error.message}`);
    throw error;
  }
  for (const image of needs.images) await requireLocalImage(docker, image);

  const { limits } = options;
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  signal.throwIfAborted();
  let egress: { network: string; buildargs: Record<string, string> } | null = null;
  try {
    const opened = await egressFor(docker, options.workerId);
    if (opened) egress = { network: opened.network, buildargs: await opened.buildargs() };
  } catch (error) {
    throw new BuildFailedError(`The way to the package mirrors could not be opened: ${(error as Error).message}`);
  }
  if (egress) log(`RUN steps reach only the allowed package mirrors (through ${egress.buildargs.http_proxy}).`);
  const pids = await pidsCgroup(docker, tag, limits.pidsLimit, log);
  try {
    const pack = tarStream.pack();
    pack.entry({ name: "Dockerfile" }, dockerfile);
    pack.finalize();
    const stream = await docker.buildImage(
      pack as unknown as NodeJS.ReadableStream,
      {
        t: tag,
        rm: true,
        forcerm: true,
        pull: false,
        version: "1",
        // No network at all, or only the internal one where the mirror proxy is the sole peer.
        networkmode: egress?.network ?? "none",
        ...(egress ? { buildargs: JSON.stringify(egress.buildargs) } : {}),
        memory: limits.memoryBytes,
        memswap: limits.memoryBytes, // memswap = memory: no swap on top
        cpuperiod: CPU_PERIOD_US,
        cpuquota: Math.round((limits.nanoCpus / 1e9) * CPU_PERIOD_US),
        ...(pids ? { cgroupparent: pids.parent } : {}),
        abortSignal: signal,
      } as Docker.ImageBuildOptions,
    );
    await followProgress(docker, stream, log);
  } catch (error) {
    if (timeout.aborted) throw new BuildFailedError(`The build ran past its time limit (${describeMs(limits.timeoutMs)}) and was stopped.`);
    if (options.signal?.aborted)
      throw new BuildFailedError(
        `The build was stopped: ${String(options.signal.reason instanceof Error ? options.signal.reason.message : (options.signal.reason ?? "cancelled"))}`,
      );
    const message = (error as Error).message;
    // 137: SIGKILL, which in a build step is the memory limit's OOM kill.
    if (/returned a non-zero code: 137\b/.test(message)) {
      throw new BuildFailedError(
        `${message} (killed: the step likely went over the build's memory limit of ${Math.round(limits.memoryBytes / 1024 ** 2)} MiB)`,
      );
    }
    throw error;
  } finally {
    await pids?.remove();
  }
}

async function requireLocalImage(docker: Docker, image: string) {
  let info: Docker.ImageInspectInfo;
  try {
    info = await docker.getImage(image).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    throw new BuildFailedError(
      `The base image "${image}" is not on this worker (nothing is pulled from registries). Build FROM ${DEFAULT_IMAGE} or another image built here.`,
    );
  }
  // Triggers run in this build, unchecked: an image carrying them is refused as a base.
  if ((info.Config?.OnBuild ?? []).length > 0) {
    throw new BuildFailedError(`The image "${image}" has ONBUILD triggers, which are not allowed in builds here.`);
  }
}

/**
 * A cgroup of this build's own under `shellroom-builds` with `pids.max`, handed to the engine
 * as the build containers' parent (cgroup v1 with the cgroupfs driver, on this host's engine).
 * Where that is unavailable the build runs without a pids limit and says so.
 */
async function pidsCgroup(docker: Docker, tag: string, pidsLimit: number, log: Log): Promise<{ parent: string; remove(): Promise<void> } | null> {
  const name = tag.replace(/[^a-zA-Z0-9_.-]/g, "_");
  const dir = path.join(PIDS_CGROUPS, BUILDS_CGROUP, name);
  // Our cgroup files are the engine's only when it runs on this machine (a local socket).
  if (!(docker.modem as { socketPath?: string }).socketPath) {
    log("(the Docker engine is remote: this build's processes are not limited)");
    return null;
  }
  try {
    await stat(PIDS_CGROUPS);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "pids.max"), String(pidsLimit));
  } catch (error) {
    log(`(this host cannot limit a build's processes: ${(error as Error).message})`);
    return null;
  }
  return {
    parent: `/${BUILDS_CGROUP}/${name}`,
    remove: async () => {
      // The engine made the same parent in every controller; each is empty once the step containers are gone.
      const controllers = await readdir(CGROUPS).catch(() => [] as string[]);
      for (const controller of controllers) {
        const parent = path.join(CGROUPS, controller, BUILDS_CGROUP, name);
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await rmdir(parent);
            break;
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code === "ENOENT" || code === "ENOTDIR") break;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      }
    },
  };
}

function describeMs(ms: number) {
  return ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 1000)} s`;
}
