/**
 * CPU time of processes, read from /proc/<pid>/stat (utime + stime, read only: nothing here
 * signals a process), and the processes the wire bench counts: the engine's dockerd, the
 * containerd shim of a container (found by the `-id <container id>` it was started with), a
 * process's descendants (the worker's relays, wetty's pty child `docker exec`, the platform's
 * PTY holder inside a container).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of utime and stime (100 on Linux unless configured otherwise). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const read = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** The fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** A process's CPU time so far (user + system), in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  // After the command: state is field 3 of stat, utime 14, stime 15 (1-based), so 11 and 12 here.
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS : 0;
}

function allProcesses(): Array<{ pid: number; argv: string[] }> {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      const cmdline = read(`/proc/${name}/cmdline`);
      return cmdline ? [{ pid: Number(name), argv: cmdline.split("\0").filter(Boolean) }] : [];
    });
}

const programOf = (argv: string[]) => argv[0]?.split("/").pop() ?? "";

/** The hosts a dockerd listens on (its -H / --host flags; /var/run/docker.sock when none). */
export function dockerdHosts(argv: string[]): string[] {
  const hosts = argv.flatMap((arg, index) => {
    if (arg === "-H" || arg === "--host") return [argv[index + 1] ?? ""];
    const inline = /^(?:-H|--host)=(.*)$/.exec(arg);
    return inline ? [inline[1]!] : [];
  });
  return hosts.length ? hosts : ["unix:///var/run/docker.sock"];
}

/** The engine daemon (dockerd) serving `socketPath` (another engine on the host, e.g. a test's second one, is not counted). */
export const dockerdPids = (socketPath = "/var/run/docker.sock") =>
  allProcesses()
    .filter(({ argv }) => programOf(argv) === "dockerd" && dockerdHosts(argv).includes(`unix://${socketPath}`))
    .map(({ pid }) => pid);

/** The containerd shim of each of `containerIds` (full ids); a shim serves one container here. */
export function shimPids(containerIds: readonly string[]): number[] {
  const wanted = new Set(containerIds);
  return allProcesses()
    .filter(({ argv }) => programOf(argv).startsWith("containerd-shim") && argv.includes("-id") && wanted.has(argv[argv.indexOf("-id") + 1] ?? ""))
    .map(({ pid }) => pid);
}

/** Every descendant of `pid` (children, their children, ...), not `pid` itself. */
export function descendantPids(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const parent = Number(statFields(Number(name))?.[1]);
    if (!Number.isFinite(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const visit = (of: number) => {
    for (const child of children.get(of) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** The descendants of `pid` whose program (argv[0], as this host sees it) is named `program`. */
export function descendantsRunning(pid: number, program: string): number[] {
  return descendantPids(pid).filter((child) => programOf((read(`/proc/${child}/cmdline`) ?? "").split("\0")) === program);
}

/** Named groups of processes; each group's pids are fixed when the meter is made. */
export type ProcessGroups = Record<string, readonly number[]>;

/** CPU ms per group spent between `start()` and each `read()`. */
export function cpuMeter(groups: ProcessGroups) {
  const total = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  let before: Record<string, number> = {};
  return {
    start() {
      before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, total(pids)]));
    },
    read(): Record<string, number> {
      return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, total(pids) - (before[name] ?? 0)]));
    },
  };
}

/**
 * A process's read and write system calls so far (syscr and syscw of /proc/<pid>/io: read, readv,
 * write, writev and kin, which is how Node reads and writes its sockets and pipes); zero once it is gone.
 */
export function syscalls(pid: number): { reads: number; writes: number } {
  const text = read(`/proc/${pid}/io`) ?? "";
  return { reads: Number(/^syscr:\s+(\d+)/m.exec(text)?.[1] ?? 0), writes: Number(/^syscw:\s+(\d+)/m.exec(text)?.[1] ?? 0) };
}

/**
 * Read and write system calls per group between `start()` and each `read()`: unlike CPU time, a
 * count that a loaded host does not inflate (each message on a socket costs a write and a read).
 */
export function syscallMeter(groups: ProcessGroups) {
  const total = (pids: readonly number[]) =>
    pids.reduce(
      (sum, pid) => {
        const calls = syscalls(pid);
        return { reads: sum.reads + calls.reads, writes: sum.writes + calls.writes };
      },
      { reads: 0, writes: 0 },
    );
  let before: Record<string, { reads: number; writes: number }> = {};
  return {
    start() {
      before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, total(pids)]));
    },
    read(): Record<string, { reads: number; writes: number }> {
      return Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => {
          const now = total(pids);
          return [name, { reads: now.reads - (before[name]?.reads ?? 0), writes: now.writes - (before[name]?.writes ?? 0) }];
        }),
      );
    },
  };
}

/** Adds per-group CPU ms into `into` (for figures measured in several blocks). */
export function addCpu(into: Record<string, number>, more: Record<string, number>) {
  for (const [name, ms] of Object.entries(more)) into[name] = (into[name] ?? 0) + ms;
  return into;
}
