/**
 * A worker host for integration tests that is a different machine as far as the network and
 * the filesystem's mounts go: its own network namespace and veth (host-network.ts), its own
 * dockerd (data root, exec root, pidfile, socket; default bridge, iptables and masquerading
 * off; the isolation flags of scripts/lib/engine-flags.sh), and its own mount namespace, shared
 * by that dockerd and the workers started on the host, in which /var/lib/shellroom is the
 * host's own directory. So a worker there reaches the server only over the veth, and its
 * loop-mounted workspaces are seen by its engine and by nobody else.
 *
 * dockerd is started with `nsenter --net` and `unshare --mount` rather than `ip netns exec`:
 * the latter remounts /sys, which leaves /sys/fs/cgroup empty on this machine (cgroup v1), and
 * dockerd cannot run containers without it. A host's containers go under the cgroup parent
 * /<name>, so a host that vanishes can have every process it ran killed by pid.
 * host-worker.ts joins a worker on such a host to a test's server.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync, closeSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { DEFAULT_IMAGE } from "../../runtime-worker/images/base-image";
import { createHostNetwork, ip, namespacePids, type HostNetwork } from "./host-network";
import { isRunning } from "./processes";
import { until } from "./until";

export interface WorkerHost {
  name: string;
  /** unix:///run/<name>.sock of the host's own dockerd. */
  dockerHost: string;
  /** http://<host-side veth address>:<port>: how this host reaches the server. */
  serverUrl(port: number): string;
  /** Inside the netns (and the host's mount namespace), DOCKER_HOST set. */
  startWorker(env: Record<string, string>): ChildProcess;
  /** The host disappears: its processes killed (by pid), veth and netns deleted. */
  vanish(): Promise<void>;
  /** Everything it made removed: containers, dockerd, data root, netns. */
  close(): Promise<void>;
}

/** What a test may also want: the host's engine, and the address the server must listen on for it. */
export interface TestWorkerHost extends WorkerHost {
  /** The host-side veth address (give it to the harness: `listenHost`, or `harness.listenOn`). */
  serverAddress: string;
  /** The host's own address inside its namespace. */
  address: string;
  /** The host's engine, for looking at what the worker made there. */
  docker: Docker;
  /** Runs `node --import tsx <script> ...args` on the host (as startWorker does) and collects its output. */
  runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }>;
}

const projectRoot = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/**
 * Runs inside the host's fresh mount namespace before dockerd: the namespace began as a copy of
 * the machine's mounts, so it first detaches the copies under /var/lib and /run (other engines'
 * overlays, other workers' workspace images, other netns) so this host pins none of them, then
 * makes /var/lib/shellroom the host's own.
 */
const HOST_INIT = `set -e
state="$1"; shift
awk '{print $5}' /proc/self/mountinfo | grep -E '^/(var/lib|run)/' | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
mount --bind "$state/shellroom" /var/lib/shellroom
exec dockerd "$@"`;

/** The isolation and runtime flags the project's engines get (scripts/lib/engine-flags.sh), without user namespaces. */
async function engineFlags(): Promise<string[]> {
  const { stdout } = await run("bash", ["-c", `. "${projectRoot}/scripts/lib/engine-flags.sh" && engine_flags`], {
    env: { ...process.env, SHELLROOM_USERNS_REMAP: "off" },
  });
  return stdout.split(/\s+/).filter(Boolean);
}

/** Every pid in the cgroup trees named `parent` (each v1 controller's, or the v2 one). */
async function cgroupPids(parent: string): Promise<{ pids: number[]; directories: string[] }> {
  const roots = [
    path.join("/sys/fs/cgroup", parent),
    ...(await readdir("/sys/fs/cgroup").catch(() => [])).map((controller) => path.join("/sys/fs/cgroup", controller, parent)),
  ];
  const pids = new Set<number>();
  const directories: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true }).catch(() => null);
    if (!entries) return;
    directories.push(directory);
    const procs = await readFile(path.join(directory, "cgroup.procs"), "utf8").catch(() => "");
    for (const pid of procs.split("\n").filter(Boolean)) pids.add(Number(pid));
    for (const entry of entries) if (entry.isDirectory()) await walk(path.join(directory, entry.name));
  };
  for (const root of roots) await walk(root);
  return { pids: [...pids], directories };
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const waitExit = (child: ChildProcess) => (exited(child) ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve())));
/** Waits for `children` to end, at most `ms` (what is still running then is killed by pid afterwards). */
async function exitWithin(children: ChildProcess[], ms: number) {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(children.map(waitExit)), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Every host this module makes is named so; its state is /var/lib/<name>, /run/<name>*, its netns and cgroups <name>. */
const HOST_PREFIX = "shr-";
/** In a host's state directory: the test process that made it (pid and start time, so a reused pid does not count). */
const OWNER_FILE = "owner";

const processIdentity = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The start time is field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
  return `${pid} ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "?"}`;
};

/** Kills, by pid, every process host `name` ran (its netns's, its containers' cgroups', and `own`) until none is left. */
async function killHostProcesses(name: string, own: () => number[]) {
  await until(
    `every process of host ${name} to end`,
    async () => {
      const { pids: contained } = await cgroupPids(`/${name}`);
      const alive = [...new Set([...(await namespacePids(name)), ...contained, ...own()])].filter((pid) => pid !== process.pid && isRunning(pid));
      for (const pid of alive) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* ended meanwhile */
        }
      }
      return alive.length === 0;
    },
    30_000,
    100,
  );
}

/** Removes what is left of host `name`: its processes, cgroups, netns (its veth goes with it) and files. */
async function removeHost(name: string, own: () => number[]) {
  await killHostProcesses(name, own);
  // Deepest first: a cgroup is removable once its children are.
  const { directories } = await cgroupPids(`/${name}`);
  for (const directory of directories.sort((a, b) => b.length - a.length)) await rmdir(directory).catch(() => undefined);
  await ip("netns", "del", name).catch(() => undefined);
  for (const target of [`/var/lib/${name}`, `/run/${name}`, `/run/${name}.sock`, `/run/${name}.pid`]) await rm(target, { recursive: true, force: true });
}

/** Hosts whose test process ended without closing them (killed, or crashed): removed before a new one is made. */
export async function removeAbandonedHosts() {
  for (const entry of await readdir("/var/lib")) {
    if (!entry.startsWith(HOST_PREFIX)) continue;
    const owner = await readFile(`/var/lib/${entry}/${OWNER_FILE}`, "utf8").catch(() => null);
    if (owner === null || owner === (await processIdentity(Number(owner.split(" ")[0])))) continue;
    const engine = Number((await readFile(`/run/${entry}.pid`, "utf8").catch(() => "")).trim());
    await removeHost(entry, () => (engine > 0 ? [engine] : []));
  }
}

/** Copies the default student image from the machine's engine (no registry: save, then load). */
async function copyDefaultImage(to: Docker) {
  const saved = await new Docker().getImage(DEFAULT_IMAGE).get();
  const loading = await to.loadImage(saved);
  await new Promise<void>((resolve, reject) => to.modem.followProgress(loading, (error: Error | null) => (error ? reject(error) : resolve())));
}

export async function startWorkerHost(options: { name: string; copyDefaultImage?: boolean }): Promise<TestWorkerHost> {
  const slug = options.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 16);
  const name = `${HOST_PREFIX}${slug}-${randomBytes(3).toString("hex")}`;
  const stateDir = `/var/lib/${name}`;
  const execRoot = `/run/${name}`;
  const socketPath = `/run/${name}.sock`;
  const pidFile = `/run/${name}.pid`;
  const dockerHost = `unix://${socketPath}`;
  const docker = new Docker({ socketPath });
  const workers: ChildProcess[] = [];
  let network: HostNetwork | undefined;
  let dockerd: ChildProcess | undefined;
  let vanished = false;
  let closed = false;

  const ownPids = () => [dockerd, ...workers].flatMap((child) => (child?.pid && !exited(child) ? [child.pid] : []));
  const killEverything = () => killHostProcesses(name, ownPids);
  const removeEverything = async () => {
    await removeHost(name, ownPids);
    await network?.remove();
  };

  try {
    await removeAbandonedHosts();
    network = await createHostNetwork(name);
    await mkdir(path.join(stateDir, "docker"), { recursive: true });
    await writeFile(path.join(stateDir, OWNER_FILE), await processIdentity(process.pid));
    await mkdir(path.join(stateDir, "shellroom"), { recursive: true });
    // The mount point the host's own directory is bound over (inside its namespace only).
    await mkdir("/var/lib/shellroom", { recursive: true });
    // Not the machine's /etc/docker/daemon.json: this engine is configured by its flags alone.
    await writeFile(path.join(stateDir, "daemon.json"), "{}\n");
    const log = openSync(path.join(stateDir, "dockerd.log"), "a");
    const flags = [
      `--host=${dockerHost}`,
      `--data-root=${stateDir}/docker`,
      `--exec-root=${execRoot}`,
      `--pidfile=${pidFile}`,
      `--config-file=${stateDir}/daemon.json`,
      `--cgroup-parent=/${name}`,
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      ...(await engineFlags()),
    ];
    dockerd = spawn(
      "nsenter",
      [
        `--net=/run/netns/${network.namespace}`,
        "--",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        HOST_INIT,
        "host-init",
        stateDir,
        ...flags,
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const engine = dockerd;
    await until(
      `the dockerd of host ${name} to answer`,
      async () => {
        if (exited(engine)) throw new Error(`the dockerd of host ${name} ended: ${readFileSync(path.join(stateDir, "dockerd.log"), "utf8").slice(-1500)}`);
        return docker.ping().then(
          () => true,
          () => false,
        );
      },
      60_000,
      200,
    );
    if (options.copyDefaultImage !== false) await copyDefaultImage(docker);
  } catch (error) {
    await removeEverything().catch(() => undefined);
    throw error;
  }
  const hostNetwork = network;
  const engine = dockerd;

  /** `node --import tsx <argv>` in the engine's namespaces (network and mounts: the host's), DOCKER_HOST set. */
  const spawnInHost = (argv: string[], env: Record<string, string>, output: "inherit" | "pipe") => {
    if (vanished || closed) throw new Error(`host ${name} is gone`);
    return spawn("nsenter", [`--target=${engine.pid}`, "--mount", "--net", `--wd=${projectRoot}`, "--", process.execPath, "--import", "tsx", ...argv], {
      cwd: projectRoot,
      // A few spare workspaces, not the production stock: many hosts share this machine's loop devices.
      env: { ...process.env, LOG_LEVEL: "warn", SHELLROOM_SPARE_WORKSPACES: "2", ...env, DOCKER_HOST: dockerHost },
      stdio: ["ignore", output, output],
    });
  };

  return {
    name,
    dockerHost,
    docker,
    serverAddress: hostNetwork.hostSideAddress,
    address: hostNetwork.insideAddress,
    serverUrl: (port) => `http://${hostNetwork.hostSideAddress}:${port}`,

    startWorker(env) {
      const worker = spawnInHost(["runtime-worker/main.ts"], env, "inherit");
      workers.push(worker);
      return worker;
    },

    runScript(script, args, env) {
      const child = spawnInHost([script, ...args], env, "pipe");
      workers.push(child);
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
      child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
      return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
    },

    async vanish() {
      if (vanished || closed) return;
      vanished = true;
      // As a machine that loses power: the network goes first, so nothing says goodbye to the server.
      await hostNetwork.cut();
      await killEverything();
      await hostNetwork.remove();
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!vanished) {
        // In order, as an operator would: workers first, then the students' containers, then the engine.
        for (const worker of workers) if (!exited(worker)) worker.kill("SIGTERM");
        await exitWithin(workers, 15_000);
        const containers = await docker.listContainers({ all: true }).catch(() => []);
        for (const container of containers)
          await docker
            .getContainer(container.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined);
        if (!exited(engine)) engine.kill("SIGTERM");
        await exitWithin([engine], 30_000);
      }
      await removeEverything();
    },
  };
}
