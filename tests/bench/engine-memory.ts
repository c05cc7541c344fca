/**
 * What idle environments cost the host, read from /proc and the cgroup tree (read only:
 * nothing here signals or changes a process): MemAvailable, the engine's own processes
 * (dockerd, containerd) and the containerd shim of each container (one
 * `containerd-shim-runc-v2` per container, found by the `-id <container id>` it was
 * started with), and each container's cgroup memory. RSS counts shared pages once per
 * process; PSS shares them out, so PSS is what adds up across a few hundred shims.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessMemory {
  count: number;
  rss: number;
  pss: number;
}

const read = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};
const kB = (text: string | undefined, field: string) => {
  const match = text ? new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(text) : null;
  return match ? Number(match[1]) * 1024 : 0;
};

/** The kernel's estimate of memory available for new work without swapping (bytes). */
export function memAvailable(): number {
  return kB(read("/proc/meminfo"), "MemAvailable");
}

function processMemory(pid: string): { rss: number; pss: number } {
  return { rss: kB(read(`/proc/${pid}/status`), "VmRSS"), pss: kB(read(`/proc/${pid}/smaps_rollup`), "Pss") };
}

/** Every process as its pid and argv. */
function processes(): Array<{ pid: string; argv: string[] }> {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      const cmdline = read(`/proc/${pid}/cmdline`);
      return cmdline ? [{ pid, argv: cmdline.split("\0").filter(Boolean) }] : [];
    });
}

const sum = (list: Array<{ rss: number; pss: number }>): ProcessMemory => ({
  count: list.length,
  rss: list.reduce((total, m) => total + m.rss, 0),
  pss: list.reduce((total, m) => total + m.pss, 0),
});

const programOf = (argv: string[]) => argv[0]?.split("/").pop() ?? "";

export interface EngineMemory {
  dockerd: ProcessMemory;
  containerd: ProcessMemory;
  /** The shims of the given containers only (other containers on the host are not counted). */
  shims: ProcessMemory;
  /** The given containers' own cgroup memory (usage, page cache included); count = cgroups found. */
  containers: { count: number; bytes: number };
}

/** The engine's memory now, with the shims and cgroups of `containerIds` (full ids). */
export function engineMemory(containerIds: ReadonlySet<string>): EngineMemory {
  const all = processes();
  const named = (name: string) => sum(all.filter(({ argv }) => programOf(argv) === name).map(({ pid }) => processMemory(pid)));
  const shims = all.filter(({ argv }) => {
    if (!programOf(argv).startsWith("containerd-shim")) return false;
    const id = argv[argv.indexOf("-id") + 1];
    return argv.includes("-id") && id !== undefined && containerIds.has(id);
  });
  let count = 0;
  let bytes = 0;
  for (const id of containerIds) {
    const usage = cgroupMemory(id);
    if (usage === undefined) continue;
    count += 1;
    bytes += usage;
  }
  return { dockerd: named("dockerd"), containerd: named("containerd"), shims: sum(shims.map(({ pid }) => processMemory(pid))), containers: { count, bytes } };
}

/** A container's cgroup memory usage (v1 cgroupfs or systemd, or v2); undefined when not found. */
function cgroupMemory(id: string): number | undefined {
  for (const file of [
    `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope/memory.usage_in_bytes`,
    `/sys/fs/cgroup/docker/${id}/memory.current`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
  ]) {
    const text = read(file);
    if (text !== undefined) return Number(text.trim());
  }
  return undefined;
}
