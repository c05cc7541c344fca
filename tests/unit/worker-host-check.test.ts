import { describe, expect, it } from "vitest";
import { WorkerEnv } from "../../runtime-worker/config";
import { apiAtLeast, checkHost, formatReport, keyQuotaTooLow, type HostFacts } from "../../runtime-worker/host-check/requirements";

const GIB = 1024 ** 3;

/** A host with everything it needs; each test takes one thing away. */
const readyHost = (): HostFacts => ({
  uid: 0,
  configIssues: [],
  serverUrl: "https://shellroom.example.edu",
  server: { status: 200 },
  token: "t".repeat(64),
  workerId: "host-b",
  docker: {
    answers: true,
    endpoint: "unix:///var/run/docker.sock",
    version: "20.10.24",
    apiVersion: "1.41",
    rootDir: "/var/lib/docker",
    memoryLimit: true,
    pidsLimit: true,
    userNamespaces: true,
  },
  defaultImage: "shellroom/default:1",
  defaultImagePresent: true,
  quotaSetting: undefined,
  loop: { loopControl: true, losetup: true, mkfs: true },
  cgroups: { version: 1, controllers: ["cpu", "memory", "pids"] },
  disks: [{ label: "Docker data", path: "/var/lib/docker", freeBytes: 80 * GIB, totalBytes: 250 * GIB }],
  compiler: true,
  maxKeys: 5000,
  maxEnvironments: 400,
});

const verdicts = (facts: HostFacts) => Object.fromEntries(checkHost(facts).map((result) => [result.item, result.verdict]));
const problems = (facts: HostFacts) => checkHost(facts).filter((result) => result.verdict !== "ok");

describe("npm run worker -- check", () => {
  it("a host with everything passes every item and says it is ready", () => {
    expect(problems(readyHost())).toEqual([]);
    expect(formatReport(checkHost(readyHost()))).toMatch(/Ready\.$/);
  });

  it("a host without Docker, the default image, the server or a token is refused, with every missing item named", () => {
    const facts: HostFacts = {
      ...readyHost(),
      docker: { answers: false, endpoint: "unix:///var/run/docker.sock", error: "ENOENT" },
      defaultImagePresent: undefined,
      server: { error: "ECONNREFUSED" },
      token: undefined,
    };
    expect(problems(facts).map((result) => [result.item, result.verdict])).toEqual([
      ["Server", "missing"],
      ["Worker token", "missing"],
      ["Docker", "missing"],
      ["Default image", "missing"],
    ]);
    const report = formatReport(checkHost(facts));
    expect(report).toMatch(/4 missing \(Server, Worker token, Docker, Default image\): this host cannot run/);
    expect(report).toContain("npm run admin -- worker-token host-b");
    expect(report).toContain("ECONNREFUSED");
  });

  it("an absent default image is missing, with how it arrives", () => {
    const [image] = problems({ ...readyHost(), defaultImagePresent: false });
    expect(image).toMatchObject({ item: "Default image", verdict: "missing", fix: expect.stringContaining("ensure-default-image.ts") });
  });

  it("plain http to a remote server is a warning (the token crosses in the clear); on loopback it is fine", () => {
    expect(verdicts({ ...readyHost(), serverUrl: "http://10.0.0.5:3000" }).Server).toBe("warning");
    expect(verdicts({ ...readyHost(), serverUrl: "http://127.0.0.1:3000" }).Server).toBe("ok");
    expect(verdicts({ ...readyHost(), server: { status: 502 } }).Server).toBe("missing");
  });

  it("without root or loop devices workspaces are unlimited: a warning, unless switched off on purpose", () => {
    const noLoop = { ...readyHost(), loop: { loopControl: false, losetup: true, mkfs: false } };
    const limits = checkHost(noLoop).find((result) => result.item === "Workspace limits");
    expect(limits).toMatchObject({ verdict: "warning", detail: expect.stringContaining("/dev/loop-control, mkfs.ext4") });
    expect(verdicts({ ...noLoop, quotaSetting: "off" })["Workspace limits"]).toBe("ok");
    expect(verdicts({ ...readyHost(), uid: 1000 })).toMatchObject({ Root: "warning", "Workspace limits": "warning" });
  });

  it("cgroups without a memory or pids controller, or an engine that cannot limit them, are missing", () => {
    expect(verdicts({ ...readyHost(), cgroups: { version: 2, controllers: ["cpu", "io", "memory"] } }).Cgroups).toBe("missing");
    expect(verdicts({ ...readyHost(), cgroups: { version: 2, controllers: ["cpu", "memory", "pids"] } }).Cgroups).toBe("ok");
    const engine = readyHost().docker as Extract<HostFacts["docker"], { answers: true }>;
    expect(verdicts({ ...readyHost(), docker: { ...engine, pidsLimit: false } }).Cgroups).toBe("missing");
  });

  it("disk space: under 2 GiB free is missing, under 10 GiB (or a tenth of the disk) a warning", () => {
    const disk = (freeBytes: number, totalBytes = 250 * GIB) =>
      verdicts({ ...readyHost(), disks: [{ label: "workspaces", path: "/var/lib", freeBytes, totalBytes }] })["Disk: workspaces"];
    expect(disk(1 * GIB)).toBe("missing");
    expect(disk(5 * GIB)).toBe("warning");
    expect(disk(20 * GIB)).toBe("warning");
    expect(disk(20 * GIB, 100 * GIB)).toBe("ok");
  });

  it("an engine older than API 1.41 is refused", () => {
    expect(apiAtLeast("1.41", "1.41")).toBe(true);
    expect(apiAtLeast("1.43", "1.41")).toBe(true);
    expect(apiAtLeast("1.9", "1.41")).toBe(false);
    expect(apiAtLeast("2.0", "1.41")).toBe(true);
    const engine = readyHost().docker as Extract<HostFacts["docker"], { answers: true }>;
    expect(verdicts({ ...readyHost(), docker: { ...engine, apiVersion: "1.40" } }).Docker).toBe("missing");
  });

  it("the kernel key quota matters only with user namespaces remapped", () => {
    expect(keyQuotaTooLow(200, true, 400)).toBe(true);
    expect(keyQuotaTooLow(200, false, 400)).toBe(false);
    expect(keyQuotaTooLow(5000, true, 400)).toBe(false);
    expect(keyQuotaTooLow(0, true, 400)).toBe(false);
  });

  it("invalid settings are listed by name; the server URL and token are reported in their own items", () => {
    const parsed = WorkerEnv.safeParse({ SHELLROOM_WORKER_MAX_ENVIRONMENTS: "lots" });
    expect(parsed.success).toBe(false);
    const settings = checkHost({ ...readyHost(), configIssues: parsed.error!.issues }).find((result) => result.item === "Settings");
    expect(settings).toMatchObject({ verdict: "missing", detail: expect.stringContaining("SHELLROOM_WORKER_MAX_ENVIRONMENTS") });
    expect(settings!.detail).not.toContain("SHELLROOM_SERVER_URL");
    expect(settings!.detail).not.toContain("SHELLROOM_WORKER_TOKEN");
  });
});
