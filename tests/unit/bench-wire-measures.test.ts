/** The wire bench's measures: CPU time from /proc, the processes it counts, and its figures as ratios. */
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { cpuMeter, cpuMs, descendantPids, descendantsRunning, dockerdHosts } from "../bench/proc-cpu";
import { renderWireTable, wireReport } from "../bench/wire-report";
import type { WireOptions } from "../bench/wire-bench";
import { until } from "../support/until";

const started: ChildProcess[] = [];
const start = (command: string, args: string[]) => {
  const child = spawn(command, args, { stdio: "ignore" });
  started.push(child);
  return child;
};

afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

describe("the wire bench's process accounting", () => {
  it("finds a process's descendants, and those running a given program", async () => {
    const shell = start("sh", ["-c", "sleep 300; true"]);
    const sleeper = await until("the shell's sleep", () => descendantPids(shell.pid!).find((pid) => descendantsRunning(shell.pid!, "sleep").includes(pid)));
    expect(descendantPids(process.pid)).toEqual(expect.arrayContaining([shell.pid, sleeper]));
    expect(descendantsRunning(process.pid, "sleep")).toContain(sleeper);
    expect(descendantsRunning(process.pid, "sleep")).not.toContain(shell.pid);
  });

  it("counts the CPU time a busy process spends, per group, and nothing for a process that is gone", async () => {
    const busy = start(process.execPath, ["-e", "for (;;) {}"]);
    const idle = start("sleep", ["300"]);
    const meter = cpuMeter({ busy: [busy.pid!], idle: [idle.pid!] });
    meter.start();
    const spent = await until("the busy process's CPU time", () => (meter.read().busy! >= 50 ? meter.read() : undefined));
    expect(spent.busy).toBeGreaterThanOrEqual(50);
    expect(cpuMs(busy.pid!)).toBeGreaterThanOrEqual(spent.busy!);
    const gone = start("true", []);
    await new Promise((resolve) => gone.once("exit", resolve));
    expect(cpuMs(gone.pid!)).toBe(0);
  });

  it("tells which socket a dockerd serves (the default one when it names none)", () => {
    expect(dockerdHosts(["dockerd", "--host", "unix:///run/other.sock", "--data-root", "/x"])).toEqual(["unix:///run/other.sock"]);
    expect(dockerdHosts(["dockerd", "-H=unix:///run/a.sock", "-H", "tcp://0.0.0.0:2375"])).toEqual(["unix:///run/a.sock", "tcp://0.0.0.0:2375"]);
    expect(dockerdHosts(["dockerd", "--userns-remap=default"])).toEqual(["unix:///var/run/docker.sock"]);
  });
});

describe("the wire bench's figures", () => {
  const options: WireOptions = {
    echoSamples: 4,
    echoWarmup: 0,
    echoBlocks: 1,
    throughputBytes: 1,
    throughputRuns: 1,
    terminals: 2,
    activeSamples: 1,
    bystanderSamples: 2,
    floodSeconds: 1,
  };
  const echoRun = (ms: number, cpu: Record<string, number>) => ({
    samples: [ms, ms, ms, ms],
    cpu,
    syscalls: Object.fromEntries(Object.keys(cpu).map((name) => [name, { reads: 20, writes: 15 }])),
    keystrokes: 10,
  });
  const throughput = (bytesPerSecond: number, cpu: Record<string, number>) => ({
    runs: [{ bytes: 2e6, ms: 1, bytesPerSecond, processCpuMs: 0 }],
    cpu,
    bytes: 2e6,
    messages: 40,
  });
  const active = (ms: number) => ({
    result: {
      terminals: 2,
      samples: [ms, ms],
      failures: 0,
      errors: [],
      wallMs: 1,
      processCpu: 0,
      cpuMsPerEcho: 0,
      eventLoopDelay: { p50: 0, p99: 0, max: 0 },
      load: [0, 0] as [number, number],
    },
    cpu: { client: 2 },
  });
  const report = wireReport({
    options,
    sides: [
      { name: "platform", processes: ["client", "server"] },
      { name: "raw", processes: ["client"] },
      { name: "peer", processes: ["client"] },
    ],
    echo: {
      platform: echoRun(3, { client: 10, server: 20 }),
      raw: echoRun(1, { client: 5 }),
      peer: echoRun(6, { client: 10 }),
      floor: echoRun(2, { client: 4, "relay 1": 3, "relay 2": 3, dockerd: 2 }),
    },
    throughput: { platform: throughput(8e6, { client: 40, server: 60 }), raw: throughput(10e6, { client: 50 }), peer: throughput(4e6, { client: 100 }) },
    bystander: { platform: { quiet: [1, 1], flooded: [3, 3], flood: { bytes: 1, ms: 1, bytesPerSecond: 1e6 } } },
    active: { platform: active(4), raw: active(2) },
    load: [0.5, 1],
    anomalies: [],
  });
  const figure = (prefix: string) => report.figures.find((f) => f.figure.startsWith(prefix))!;

  it("put each platform figure beside raw docker's and wetty's as ratios", () => {
    expect(figure("(1) keystroke echo (p50)")).toMatchObject({ platform: 3, raw: 1, peer: 6, ratioRaw: 3, ratioPeer: 0.5 });
    expect(figure("(2) output throughput")).toMatchObject({ ratioRaw: 0.8, ratioPeer: 2 });
    expect(figure("(3) echo p50 with 2 active")).toMatchObject({ platform: 4, raw: 2, ratioRaw: 2 });
    expect(figure("(3) echo p50 with 2 active").peer).toBeNaN();
    expect(figure("(5) bystander")).toMatchObject({ platform: 3 });
  });

  it("count each process's reads and writes per keystroke", () => {
    expect(report.lines.find((line) => line.startsWith("(4) system calls per echo"))).toContain(
      "platform client 2.00/1.50, server 2.00/1.50 | raw docker client 2.00/1.50",
    );
  });

  it("divide each process's CPU by the keystrokes typed and the MB received, and add them up", () => {
    expect(report.cpuPerEcho.platform).toEqual({ client: 1, server: 2, total: 3 });
    expect(report.cpuPerMb.platform).toEqual({ client: 20, server: 30, total: 50 });
    expect(figure("(4) CPU per echo")).toMatchObject({ platform: 3, raw: 0.5, peer: 1, ratioRaw: 6 });
    expect(renderWireTable(report.figures)).toMatch(/\(4\) CPU per echo, all processes\s+3\.00 ms\s+0\.50 ms\s+1\.00 ms\s+6\.00x\s+3\.00x/);
  });

  it("put the platform beside its floor, two relays that only move bytes in front of raw docker", () => {
    const floor = report.lines.filter((line) => line.startsWith("(6)"));
    expect(floor).toHaveLength(2);
    expect(floor[0]).toContain("echo p50 2.00 ms (2.00x raw)");
    expect(floor[0]).toContain("CPU per echo client 0.400 + relay 1 0.300 + relay 2 0.300 + dockerd 0.200 = 1.200 ms; its three Node processes alone 1.000 ms");
    expect(floor[1]).toContain(
      "echo p50 1.50x, CPU per echo 2.50x (3.000 ms against 1.200 ms); its three Node processes 3.000 ms against the relays' 1.000 ms (3.00x)",
    );
    // The floor is measured for echo only: it is no column of the table.
    expect(report.figures.every((f) => !f.figure.includes("floor"))).toBe(true);
  });
});
