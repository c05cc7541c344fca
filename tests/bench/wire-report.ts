/** The wire bench's figures (tests/bench/wire-bench.ts) as a table and lines, and what goes to .data/bench-results.json. */
import os from "node:os";
import { formatMs, formatRate, formatRatio, percentile, renderRows, summarize } from "./measure";
import type { ActiveRun, BystanderRun, EchoRun, SideName, ThroughputRuns } from "./wire-figures";
import type { WireOptions } from "./wire-bench";
import { outputBudgetFromEnv } from "../../runtime-worker/terminals/output-budget";

export interface WireFigure {
  figure: string;
  unit: "ms" | "bytes/s" | "x";
  platform: number;
  raw: number;
  /** The peer (wetty); NaN where it was not measured. */
  peer: number;
  /** platform / raw, platform / peer. */
  ratioRaw: number;
  ratioPeer: number;
}

export interface WireResult {
  figures: WireFigure[];
  /** CPU ms per echo and per MB of output, per side and process (and "total"). */
  cpuPerEcho: Record<string, Record<string, number>>;
  cpuPerMb: Record<string, Record<string, number>>;
  /** (5): the bystander's echo p99 under flood / quiet, per side. */
  bystander: Record<string, { quiet: ReturnType<typeof summarize>; flooded: ReturnType<typeof summarize>; p99Ratio: number; floodBytesPerSecond: number }>;
  lines: string[];
  anomalies: string[];
  details: Record<string, unknown>;
}

const SIDE_LABEL: Record<SideName, string> = { platform: "platform", raw: "raw docker", peer: "wetty" };

const withTotal = (cpu: Record<string, number>, per: number) => {
  const each = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / per]));
  return { ...each, total: Object.values(each).reduce((sum, ms) => sum + ms, 0) };
};

function wireFigure(figure: string, unit: WireFigure["unit"], platform: number, raw: number, peer = Number.NaN): WireFigure {
  return { figure, unit, platform, raw, peer, ratioRaw: platform / raw, ratioPeer: platform / peer };
}

export function wireReport(measured: {
  options: WireOptions;
  sides: Array<{ name: SideName; processes: string[] }>;
  echo: Record<string, EchoRun>;
  throughput: Record<string, ThroughputRuns>;
  bystander: Record<string, BystanderRun>;
  active: Record<string, ActiveRun>;
  /** The host's 1-minute load average when the phase began and ended (other work on the host shows in dockerd's share too). */
  load: [number, number];
  anomalies: string[];
}): WireResult {
  const { options, echo, throughput, bystander, active } = measured;
  const sideNames = measured.sides.map((side) => side.name);
  const echoAt = (side: SideName, p: number) => percentile(echo[side]!.samples, p);
  const rate = (side: SideName) =>
    percentile(
      throughput[side]!.runs.map((run) => run.bytesPerSecond),
      50,
    );
  const cpuPerEcho = Object.fromEntries(sideNames.map((side) => [side, withTotal(echo[side]!.cpu, echo[side]!.keystrokes)]));
  const cpuPerMb = Object.fromEntries(sideNames.map((side) => [side, withTotal(throughput[side]!.cpu, throughput[side]!.bytes / 1e6)]));
  const activeAt = (side: "platform" | "raw", p: number) => percentile(active[side]?.result.samples ?? [], p);
  const activeCpu = Object.fromEntries(
    Object.entries(active).map(([side, run]) => [side, withTotal(run.cpu, Math.max(1, run.result.samples.length + run.result.failures))]),
  );
  const bystanderFigures = Object.fromEntries(
    Object.entries(bystander).map(([side, run]) => [
      side,
      {
        quiet: summarize(run.quiet),
        flooded: summarize(run.flooded),
        p99Ratio: percentile(run.flooded, 99) / percentile(run.quiet, 99),
        floodBytesPerSecond: run.flood.bytesPerSecond,
      },
    ]),
  );
  const n = options.terminals;
  const figures = [
    wireFigure("(1) keystroke echo (p50)", "ms", echoAt("platform", 50), echoAt("raw", 50), echoAt("peer", 50)),
    wireFigure("(1) keystroke echo (p99)", "ms", echoAt("platform", 99), echoAt("raw", 99), echoAt("peer", 99)),
    wireFigure("(2) output throughput (median)", "bytes/s", rate("platform"), rate("raw"), rate("peer")),
    wireFigure(`(3) echo p50 with ${n} active terminals`, "ms", activeAt("platform", 50), activeAt("raw", 50)),
    wireFigure(`(3) echo p99 with ${n} active terminals`, "ms", activeAt("platform", 99), activeAt("raw", 99)),
    wireFigure("(4) CPU per echo, all processes", "ms", cpuPerEcho.platform!.total, cpuPerEcho.raw!.total, cpuPerEcho.peer!.total),
    wireFigure("(4) CPU per MB of output, all processes", "ms", cpuPerMb.platform!.total, cpuPerMb.raw!.total, cpuPerMb.peer!.total),
    wireFigure(
      "(5) bystander echo p99 under flood / quiet",
      "x",
      bystanderFigures.platform?.p99Ratio ?? Number.NaN,
      bystanderFigures.raw?.p99Ratio ?? Number.NaN,
      bystanderFigures.peer?.p99Ratio ?? Number.NaN,
    ),
  ];
  const floor = echo.floor;
  const lines = [
    ...cpuLines(sideNames, cpuPerEcho, cpuPerMb),
    ...(floor ? floorLines(floor, { platform: echo.platform!, raw: echo.raw! }, cpuPerEcho.platform!) : []),
    `(4) system calls per echo, reads/writes (/proc/<pid>/io; a count a loaded host does not inflate): ${sideNames
      .map(
        (side) =>
          `${SIDE_LABEL[side]} ${Object.entries(echo[side]!.syscalls)
            .map(([name, calls]) => `${name} ${(calls.reads / echo[side]!.keystrokes).toFixed(2)}/${(calls.writes / echo[side]!.keystrokes).toFixed(2)}`)
            .join(", ")}`,
      )
      .join(" | ")}`,
    `(2) output messages per MB received (socket.io events; chunks of the raw stream): ${sideNames
      .map((side) => `${SIDE_LABEL[side]} ${Math.round(throughput[side]!.messages / (throughput[side]!.bytes / 1e6))}`)
      .join(", ")}`,
    budgetLine(options, throughput.platform?.runs[0]?.bytes ?? 0),
    `(3) CPU per echo with ${n} terminals typing: ${Object.entries(activeCpu)
      .map(([side, cpu]) => `${SIDE_LABEL[side as SideName]} ${processList(cpu)}`)
      .join(" | ")}`,
    `(5) bystander echo p50/p99 quiet -> under flood: ${Object.entries(bystanderFigures)
      .map(
        ([side, f]) =>
          `${SIDE_LABEL[side as SideName]} ${formatMs(f.quiet.p50)}/${formatMs(f.quiet.p99)} -> ${formatMs(f.flooded.p50)}/${formatMs(f.flooded.p99)} ` +
          `(flood ${formatRate(f.floodBytesPerSecond)})`,
      )
      .join(" | ")}`,
    `samples: echo ${sideNames.map((side) => echo[side]!.samples.length).join("+")} (after ${options.echoWarmup} untimed per side), throughput ${sideNames.map((side) => throughput[side]!.runs.length).join("+")} runs of ` +
      `${((throughput.platform?.runs[0]?.bytes ?? 0) / 1e6).toFixed(1)} MB, active ${Object.values(active)
        .map((run) => run.result.samples.length)
        .join("+")}, bystander ${Object.values(bystander)
        .map((run) => `${run.quiet.length}/${run.flooded.length}`)
        .join(", ")} (quiet/under flood); host load ${measured.load.join(" -> ")} (${os.cpus().length} CPUs)`,
  ];
  return {
    figures,
    cpuPerEcho,
    cpuPerMb,
    bystander: bystanderFigures,
    lines,
    anomalies: measured.anomalies,
    details: {
      options,
      load: measured.load,
      echo: Object.fromEntries(
        [...sideNames, ...(floor ? ["floor"] : [])].map((side) => [
          side,
          { ...summarize(echo[side]!.samples), cpuMs: echo[side]!.cpu, syscalls: echo[side]!.syscalls, keystrokes: echo[side]!.keystrokes },
        ]),
      ),
      throughput,
      active: Object.fromEntries(
        Object.entries(active).map(([side, run]) => [
          side,
          { ...summarize(run.result.samples), ...run.result, samples: undefined, cpuMs: run.cpu, cpuPerEcho: activeCpu[side] },
        ]),
      ),
    },
  };
}

/**
 * (6) The floor under the platform's path: raw Docker's path with two Node relays in front that
 * only move bytes (the server's and the worker's places), measured in (1)'s blocks. What the two
 * hops cost there, no Node implementation of them can go below; the platform's figures beside it.
 */
function floorLines(floor: EchoRun, echo: { platform: EchoRun; raw: EchoRun }, platform: Record<string, number>) {
  const p50 = (run: EchoRun) => percentile(run.samples, 50);
  const p99 = (run: EchoRun) => percentile(run.samples, 99);
  const floorCpu = withTotal(floor.cpu, floor.keystrokes);
  const sum = (cpu: Record<string, number>, names: string[]) => names.reduce((total, name) => total + (cpu[name] ?? 0), 0);
  // The Node processes of each path: a browser's stand-in and the two hops (the platform's hand-over children too, when there are any).
  const floorNode = sum(floorCpu, ["client", "relay 1", "relay 2"]);
  const platformNode = sum(platform, ["client", "server", "worker", "relay"]);
  return [
    `(6) the floor, raw docker's path behind two Node relays that only move bytes (bare websockets; the server's and the worker's places): ` +
      `echo p50 ${formatMs(p50(floor))} (${(p50(floor) / p50(echo.raw)).toFixed(2)}x raw), p99 ${formatMs(p99(floor))} (${(p99(floor) / p99(echo.raw)).toFixed(2)}x raw); ` +
      `CPU per echo ${processList(floorCpu)}; its three Node processes alone ${floorNode.toFixed(3)} ms`,
    `(6) the platform against its floor: echo p50 ${(p50(echo.platform) / p50(floor)).toFixed(2)}x, CPU per echo ${(platform.total! / floorCpu.total!).toFixed(2)}x ` +
      `(${platform.total!.toFixed(3)} ms against ${floorCpu.total!.toFixed(3)} ms); its three Node processes ${platformNode.toFixed(3)} ms against the relays' ${floorNode.toFixed(3)} ms ` +
      `(${(platformNode / floorNode).toFixed(2)}x)`,
  ];
}

/** The worker's per-terminal output budget in effect: past its burst, the platform's throughput is the budget's, not the wire's. */
function budgetLine(options: WireOptions, bytesPerRun: number) {
  const budget = outputBudgetFromEnv({ SHELLROOM_TERMINAL_OUTPUT_RATE: options.outputRate ? String(options.outputRate) : undefined });
  const MiB = 1024 * 1024;
  return (
    `(2)(5) each platform terminal's output budget on the worker: ${(budget.burstBytes / MiB).toFixed(0)} MiB at once, then ${(budget.bytesPerSecond / MiB).toFixed(1)} MiB/s ` +
    `(${options.outputRate ? "BENCH_WIRE_OUTPUT_RATE" : "the default, as deployed"}); the runs print ${(bytesPerRun / MiB).toFixed(1)} MiB each on one terminal` +
    (bytesPerRun * options.throughputRuns > budget.burstBytes ? ", past the burst: the platform's throughput and flood are held to the budget" : "") +
    (budget.contended
      ? `; (5) while another terminal of the worker is typed in (the bystander), ${(budget.contended.burstBytes / MiB).toFixed(0)} MiB at once, then ${(budget.contended.bytesPerSecond / MiB).toFixed(1)} MiB/s`
      : "")
  );
}

const processList = (cpu: Record<string, number>) =>
  `${Object.entries(cpu)
    .filter(([name]) => name !== "total")
    .map(([name, ms]) => `${name} ${ms.toFixed(3)}`)
    .join(" + ")} = ${cpu.total!.toFixed(3)} ms`;

/** CPU per echo and per MB, a row per process and a column per side. */
function cpuLines(sides: SideName[], perEcho: Record<string, Record<string, number>>, perMb: Record<string, Record<string, number>>): string[] {
  const processes = [...new Set(sides.flatMap((side) => Object.keys(perEcho[side]!)))].filter((name) => name !== "total");
  const cell = (value: number | undefined, digits: number) => (value === undefined ? "-" : `${value.toFixed(digits)} ms`);
  const rows = [
    ["(4) CPU by process", ...sides.map((side) => `per echo: ${SIDE_LABEL[side]}`), ...sides.map((side) => `per MB: ${SIDE_LABEL[side]}`)],
    ...[...processes, "total"].map((name) => [
      name,
      ...sides.map((side) => cell(perEcho[side]![name], 3)),
      ...sides.map((side) => cell(perMb[side]![name], 1)),
    ]),
  ];
  return renderRows(rows).split("\n");
}

/** The figures as a table: each side's value and the platform's ratio to raw docker and to wetty. */
export function renderWireTable(figures: readonly WireFigure[]): string {
  const format = (unit: WireFigure["unit"], value: number) =>
    unit === "ms" ? formatMs(value) : unit === "bytes/s" ? formatRate(value) : Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a";
  return renderRows([
    ["figure", "platform", "raw docker", "wetty", "platform/raw", "platform/wetty"],
    ...figures.map((f) => [
      f.figure,
      format(f.unit, f.platform),
      format(f.unit, f.raw),
      format(f.unit, f.peer),
      f.unit === "x" ? "-" : formatRatio(f.ratioRaw),
      f.unit === "x" ? "-" : formatRatio(f.ratioPeer),
    ]),
  ]);
}
