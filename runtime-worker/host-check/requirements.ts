/**
 * What a worker host needs, judged from facts alone (no I/O: probes.ts gathers them), so each
 * rule is unit-tested and `npm run worker -- check` prints the same verdicts the rules give.
 * A "missing" item stops the host from running students' environments; a "warning" is a
 * weaker host (no disk limits, shells that end with the worker) that still works.
 */
import type { z } from "zod";

export type Verdict = "ok" | "warning" | "missing";

export interface CheckResult {
  item: string;
  /** What the host needs for this item, in one line: printed whatever the verdict. */
  needs: string;
  verdict: Verdict;
  /** What was found. */
  detail: string;
  /** What to do about it (absent when nothing needs doing). */
  fix?: string;
}

export type DockerFacts =
  | {
      answers: true;
      endpoint: string;
      version: string;
      apiVersion: string;
      rootDir: string;
      memoryLimit: boolean;
      pidsLimit: boolean;
      userNamespaces: boolean;
      cgroupVersion?: string;
    }
  | { answers: false; endpoint: string; error: string };

export interface HostFacts {
  uid: number | undefined;
  /** Problems of the worker's configuration (WorkerEnv), as zod reports them. */
  configIssues: z.core.$ZodIssue[];
  serverUrl: string | undefined;
  /** The server's /healthz answer, or why it could not be reached (undefined: not tried, no valid URL). */
  server?: { status: number } | { error: string };
  token: string | undefined;
  workerId: string;
  docker: DockerFacts;
  /** Whether the engine holds the default image (undefined when Docker does not answer). */
  defaultImagePresent?: boolean;
  defaultImage: string;
  quotaSetting: string | undefined;
  loop: { loopControl: boolean; losetup: boolean; mkfs: boolean };
  /** Controllers the kernel offers (v2: cgroup.controllers; v1: the mounted hierarchies). */
  cgroups: { version: 1 | 2; controllers: string[] };
  disks: { label: string; path: string; freeBytes: number; totalBytes: number }[];
  compiler: boolean;
  /** kernel.keys.maxkeys (0 when unreadable) and the places this worker offers. */
  maxKeys: number;
  maxEnvironments: number;
}

const GIB = 1024 ** 3;
/** Below this a host's disk is refused: an image pull or a few workspaces would fill it. */
export const DISK_MISSING_BYTES = 2 * GIB;
/** Below this (or a tenth of the disk) it is a warning. */
export const DISK_WARNING_BYTES = 10 * GIB;
/** Docker 20.10 (API 1.41), the oldest engine the worker is tested with. */
export const MINIMUM_API_VERSION = "1.41";
/** Keys runc takes besides one per container (the engine's own, other services). */
const KEY_HEADROOM = 50;

const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** Whether a dotted API version is at least `minimum` ("1.41" < "1.43", "1.9" < "1.41"). */
export function apiAtLeast(version: string, minimum: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [wantMajor = 0, wantMinor = 0] = minimum.split(".").map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/**
 * With user namespaces remapped every container's root is one host uid, and runc gives each
 * container a session keyring: the kernel's per-uid key quota then caps running containers.
 */
export function keyQuotaTooLow(maxKeys: number, userNamespaces: boolean, maxEnvironments: number): boolean {
  return userNamespaces && maxKeys > 0 && maxKeys < maxEnvironments + KEY_HEADROOM;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

export function checkServer(facts: Pick<HostFacts, "serverUrl" | "server">): CheckResult {
  const needs = "SHELLROOM_SERVER_URL: the server's address, reachable from this host (https unless on loopback)";
  const item = "Server";
  if (!facts.serverUrl)
    return { item, needs, verdict: "missing", detail: "SHELLROOM_SERVER_URL is not set", fix: "set it, e.g. https://shellroom.example.edu" };
  let url: URL;
  try {
    url = new URL(facts.serverUrl);
  } catch {
    return { item, needs, verdict: "missing", detail: `SHELLROOM_SERVER_URL is not a URL: ${facts.serverUrl}` };
  }
  if (!facts.server || "error" in facts.server) {
    const why = facts.server ? facts.server.error : "not tried";
    return {
      item,
      needs,
      verdict: "missing",
      detail: `${url.origin} cannot be reached: ${why}`,
      fix: "check the address, the reverse proxy and the firewall between this host and the server",
    };
  }
  if (facts.server.status !== 200) {
    return {
      item,
      needs,
      verdict: "missing",
      detail: `${url.origin}/healthz answered ${facts.server.status}`,
      fix: "the proxy must forward / and /worker-link (WebSocket upgrades too) to the server",
    };
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    return {
      item,
      needs,
      verdict: "warning",
      detail: `${url.origin} answers, but over plain http`,
      fix: "the worker's token and students' keystrokes cross the network unencrypted: put TLS in front of the server (docs/OPERATIONS.md, Several worker hosts)",
    };
  }
  return { item, needs, verdict: "ok", detail: `${url.origin} answers` };
}

export function checkToken(facts: Pick<HostFacts, "token" | "workerId">): CheckResult {
  const needs = "SHELLROOM_WORKER_TOKEN: this worker's own token, made for SHELLROOM_WORKER_ID on the server";
  const fix = `on the server: npm run admin -- worker-token ${facts.workerId}`;
  if (!facts.token) return { item: "Worker token", needs, verdict: "missing", detail: "SHELLROOM_WORKER_TOKEN is not set", fix };
  if (facts.token.length < 16) return { item: "Worker token", needs, verdict: "missing", detail: "SHELLROOM_WORKER_TOKEN is too short to be a token", fix };
  // Only the server can tell whether it matches: a refused token stops the worker at connect, saying so.
  return { item: "Worker token", needs, verdict: "ok", detail: `set, for worker id ${facts.workerId} (the server checks it at connect)` };
}

export function checkSettings(facts: Pick<HostFacts, "configIssues">): CheckResult {
  const needs = "every SHELLROOM_WORKER_* setting valid (npm run worker -- start --print-config lists them)";
  // The server URL and the token have items of their own.
  const issues = facts.configIssues.filter((issue) => !["SHELLROOM_SERVER_URL", "SHELLROOM_WORKER_TOKEN"].includes(String(issue.path[0])));
  if (issues.length === 0) return { item: "Settings", needs, verdict: "ok", detail: "valid" };
  return { item: "Settings", needs, verdict: "missing", detail: issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ") };
}

export function checkDocker(facts: Pick<HostFacts, "docker">): CheckResult {
  const needs = `a Docker engine (API ${MINIMUM_API_VERSION}+, Debian's docker.io 20.10 or later) at DOCKER_HOST or /var/run/docker.sock`;
  const docker = facts.docker;
  if (!docker.answers) {
    return {
      item: "Docker",
      needs,
      verdict: "missing",
      detail: `${docker.endpoint} does not answer: ${docker.error}`,
      fix: "bash scripts/ensure-docker.sh installs and starts one",
    };
  }
  const found = `Docker ${docker.version} (API ${docker.apiVersion}) at ${docker.endpoint}`;
  if (!apiAtLeast(docker.apiVersion, MINIMUM_API_VERSION))
    return { item: "Docker", needs, verdict: "missing", detail: `${found}: too old`, fix: "upgrade the engine" };
  return { item: "Docker", needs, verdict: "ok", detail: `${found}${docker.userNamespaces ? ", user namespaces remapped" : ""}` };
}

export function checkRoot(facts: Pick<HostFacts, "uid">): CheckResult {
  const needs = "root, for loop-mounted workspaces and attaching to running shells through the holder's relay";
  if (facts.uid === 0) return { item: "Root", needs, verdict: "ok", detail: "running as root" };
  return {
    item: "Root",
    needs,
    verdict: "warning",
    detail: `running as uid ${facts.uid ?? "unknown"}`,
    fix: "without root, workspaces have no size limit and every attach is a docker exec",
  };
}

export function checkWorkspaceLimits(facts: Pick<HostFacts, "uid" | "loop" | "quotaSetting">): CheckResult {
  const needs = "loop devices (/dev/loop-control), losetup and mkfs.ext4, so each workspace is a size-limited image";
  const item = "Workspace limits";
  if (facts.quotaSetting === "off")
    return { item, needs, verdict: "ok", detail: "off by configuration (SHELLROOM_WORKSPACE_QUOTA=off): workspaces are unlimited" };
  const lacking = [
    facts.uid !== 0 && "root",
    !facts.loop.loopControl && "/dev/loop-control",
    !facts.loop.losetup && "losetup (util-linux)",
    !facts.loop.mkfs && "mkfs.ext4 (e2fsprogs)",
  ].filter(Boolean);
  if (lacking.length === 0) return { item, needs, verdict: "ok", detail: "loop-mounted ext4 images" };
  return {
    item,
    needs,
    verdict: "warning",
    detail: `lacking ${lacking.join(", ")}: a student can fill the host's disk`,
    fix: "provide them, or say so with SHELLROOM_WORKSPACE_QUOTA=off",
  };
}

export function checkDefaultImage(facts: Pick<HostFacts, "defaultImage" | "defaultImagePresent">): CheckResult {
  const needs = `the default student image ${facts.defaultImage} on this engine`;
  const item = "Default image";
  if (facts.defaultImagePresent === undefined) return { item, needs, verdict: "missing", detail: "cannot tell until Docker answers" };
  if (facts.defaultImagePresent) return { item, needs, verdict: "ok", detail: "present" };
  return {
    item,
    needs,
    verdict: "missing",
    detail: "not on this engine: starts of the default template placed here would fail",
    fix: `node_modules/.bin/tsx runtime-worker/images/ensure-default-image.ts builds it (debootstrap and a Debian mirror), or copy it from a host that has it: docker save ${facts.defaultImage} | ssh <this host> docker load`,
  };
}

export function checkCgroups(facts: Pick<HostFacts, "cgroups" | "docker">): CheckResult {
  const needs = "cgroup memory and pids controllers (v1 or v2), enforced by the engine: every container's limits";
  const item = "Cgroups";
  const absent = ["memory", "pids"].filter((controller) => !facts.cgroups.controllers.includes(controller));
  const layout = `cgroup v${facts.cgroups.version} (${facts.cgroups.controllers.join(", ") || "no controllers"})`;
  if (absent.length > 0)
    return {
      item,
      needs,
      verdict: "missing",
      detail: `${layout}: no ${absent.join(" or ")} controller`,
      fix: "enable them on the kernel command line (cgroup_enable=memory)",
    };
  const docker = facts.docker;
  if (docker.answers && (!docker.memoryLimit || !docker.pidsLimit)) {
    return { item, needs, verdict: "missing", detail: `${layout}, but the engine reports no ${docker.memoryLimit ? "pids" : "memory"} limit support` };
  }
  return { item, needs, verdict: "ok", detail: layout };
}

export function checkDisks(facts: Pick<HostFacts, "disks">): CheckResult[] {
  return facts.disks.map(({ label, path, freeBytes, totalBytes }) => {
    const needs = `free space for ${label} (at least ${gib(DISK_WARNING_BYTES)})`;
    const item = `Disk: ${label}`;
    const detail = `${gib(freeBytes)} free of ${gib(totalBytes)} at ${path}`;
    if (freeBytes < DISK_MISSING_BYTES) return { item, needs, verdict: "missing", detail, fix: "free space or give this path a larger disk" };
    if (freeBytes < DISK_WARNING_BYTES || freeBytes < totalBytes / 10)
      return { item, needs, verdict: "warning", detail, fix: "room for a few images and workspaces only" };
    return { item, needs, verdict: "ok", detail };
  });
}

export function checkCompiler(facts: Pick<HostFacts, "compiler">): CheckResult {
  const needs = "cc with a static libc (Debian's gcc and libc6-dev), to build the PTY holder at start";
  if (facts.compiler) return { item: "PTY holder", needs, verdict: "ok", detail: "cc found" };
  return {
    item: "PTY holder",
    needs,
    verdict: "warning",
    detail: "no cc: students' shells will end when the worker restarts",
    fix: "apt-get install gcc libc6-dev",
  };
}

export function checkKeyQuota(facts: Pick<HostFacts, "maxKeys" | "docker" | "maxEnvironments">): CheckResult {
  const needs = "kernel.keys.maxkeys above the places offered when user namespaces are remapped (a keyring per container)";
  if (!facts.docker.answers) return { item: "Kernel keys", needs, verdict: "ok", detail: "cannot tell until Docker answers" };
  const remapped = facts.docker.userNamespaces;
  if (!keyQuotaTooLow(facts.maxKeys, remapped, facts.maxEnvironments))
    return { item: "Kernel keys", needs, verdict: "ok", detail: remapped ? `maxkeys ${facts.maxKeys}` : "no user namespaces: no per-uid cap" };
  return {
    item: "Kernel keys",
    needs,
    verdict: "warning",
    detail: `maxkeys ${facts.maxKeys} caps running containers below ${facts.maxEnvironments} places`,
    fix: "raise kernel.keys.maxkeys and kernel.keys.maxbytes (scripts/ensure-docker.sh does)",
  };
}

/** Every item, in the order an operator fixes them. */
export function checkHost(facts: HostFacts): CheckResult[] {
  return [
    checkSettings(facts),
    checkServer(facts),
    checkToken(facts),
    checkDocker(facts),
    checkDefaultImage(facts),
    checkCgroups(facts),
    checkRoot(facts),
    checkWorkspaceLimits(facts),
    ...checkDisks(facts),
    checkCompiler(facts),
    checkKeyQuota(facts),
  ];
}

const MARK: Record<Verdict, string> = { ok: "[ok]", warning: "[warn]", missing: "[MISS]" };

/** The report as printed: each item with what it needs and what was found, then a one-line verdict. */
export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.item.length));
  const lines = ["What a Shellroom worker host needs, and what this one has:", ""];
  for (const result of results) {
    const pad = " ".repeat(width + 9);
    lines.push(`${MARK[result.verdict].padEnd(7)}${result.item.padEnd(width)}  ${result.detail}`);
    lines.push(`${pad}needs: ${result.needs}`);
    if (result.fix && result.verdict !== "ok") lines.push(`${pad}fix:   ${result.fix}`);
  }
  const missing = results.filter((result) => result.verdict === "missing");
  const warnings = results.filter((result) => result.verdict === "warning");
  lines.push("");
  lines.push(
    missing.length > 0
      ? `${missing.length} missing (${missing.map((result) => result.item).join(", ")}): this host cannot run students' environments yet.`
      : `Ready${warnings.length > 0 ? `, with ${warnings.length} warning(s) (${warnings.map((result) => result.item).join(", ")})` : ""}.`,
  );
  return lines.join("\n");
}
