/** The bench's printed report and its results file (.data/bench-results.json). */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { renderPoolTable, renderTable } from "./measure";
import type { PoolBenchResult } from "./pool-bench";
import type { TerminalLoadResult } from "./terminal-load-bench";
import { serverRssLines } from "./server-under-flood";
import { containmentLines, type ContainmentResult } from "./containment-bench";
import { runtimeLines, type RuntimeBenchResult } from "./runtime-bench";
import type { ClassBenchResult } from "./class-bench-common";
import { classLines } from "./class-report";
import type { RawComparisonResult } from "./raw-comparison";
import { renderWireTable, type WireResult } from "./wire-report";
import { projectRoot, RESULTS_FILE } from "./bench-settings";

export interface BenchResults {
  raw: RawComparisonResult | undefined;
  terminals: TerminalLoadResult | undefined;
  pool: PoolBenchResult | undefined;
  containment: ContainmentResult | undefined;
  runtime: RuntimeBenchResult | undefined;
  classroom: ClassBenchResult | undefined;
  wire: WireResult | undefined;
}

/** Prints every phase's figures and lines, then writes them all to RESULTS_FILE. */
export async function reportBench(
  results: BenchResults,
  run: { wallSeconds: number; phaseSeconds: string[]; dockerVersion: Docker.DockerVersion; say(message: string): void },
) {
  const { raw, terminals, pool, containment, runtime, classroom, wire } = results;
  const { wallSeconds, phaseSeconds, dockerVersion, say } = run;
  const againstRaw = [...(raw?.figures ?? []), ...(terminals?.figures ?? [])];

  console.log("");
  if (againstRaw.length) {
    console.log("Platform vs raw dockerode (same run, same container options):");
    console.log(renderTable(againstRaw));
    console.log("");
    for (const line of [...(raw?.lines ?? []), ...(terminals?.lines ?? [])]) console.log(line);
    console.log("");
  }
  if (terminals) {
    console.log("(h) Server as its own process under flood (one acking browser, one that never acks):");
    for (const line of terminals.serverRss ? serverRssLines(terminals.serverRss) : ["not measured (see anomalies)"]) console.log(line);
    console.log(terminals.anomalies.length ? `terminal anomalies (${terminals.anomalies.length}):` : "terminal anomalies: none");
    for (const anomaly of terminals.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (pool) {
    console.log("Warm pool vs cold start (platform only; fresh students; lab template at pool size 0 vs a filled pool):");
    console.log(renderPoolTable(pool.figures));
    console.log("");
    for (const line of pool.lines) console.log(line);
    console.log(pool.anomalies.length ? `platform anomalies (${pool.anomalies.length}):` : "platform anomalies: none");
    for (const anomaly of pool.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (containment) {
    console.log("(i) Containment: a bystander's echo while one student floods, resizes and re-attaches and another runs a fork bomb:");
    for (const line of containmentLines(containment)) console.log(line);
    console.log(containment.anomalies.length ? `containment anomalies (${containment.anomalies.length}):` : "containment anomalies: none");
    for (const anomaly of containment.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (runtime) {
    console.log("(j) OCI runtimes for a class burst (raw dockerode, the platform's container options; create, start, exec a login shell; to its prompt):");
    for (const line of runtimeLines(runtime)) console.log(line);
    console.log("");
  }
  if (classroom) {
    console.log(`The class on one host (server and worker as separate processes; students join through the link over HTTP, then start, attach, prompt, echo):`);
    for (const line of classLines(classroom)) console.log(line);
    console.log(classroom.anomalies.length ? `class anomalies (${classroom.anomalies.length}):` : "class anomalies: none");
    for (const anomaly of classroom.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  if (wire) {
    console.log("The terminal at the speed of the wire (server, worker and each browser as separate processes; raw docker and wetty in the same run):");
    console.log(renderWireTable(wire.figures));
    console.log("");
    for (const line of wire.lines) console.log(line);
    console.log(wire.anomalies.length ? `wire anomalies (${wire.anomalies.length}):` : "wire anomalies: none");
    for (const anomaly of wire.anomalies) console.log(`  - ${anomaly}`);
    console.log("");
  }
  console.log(`bench took ${wallSeconds.toFixed(1)} s (${phaseSeconds.join(", ")})`);

  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        host: { node: process.version, cpus: os.cpus().length, docker: dockerVersion.Version, dockerApi: dockerVersion.ApiVersion },
        note:
          "figures: ratio = platform / baseline; baseline = raw dockerode with the platform's containerCreateOptions, same run. " +
          "poolFigures: ratio = pool / cold; cold = the lab's template at warm pool size 0, pool = started from a filled warm pool. " +
          "serverUnderFlood: a separate server process's RSS while one terminal floods to an acking and a never-acking socket. " +
          "wire: ratioRaw = platform / raw docker, ratioPeer = platform / wetty; CPU in ms per echo and per MB of output, per process",
        figures: againstRaw,
        poolFigures: pool?.figures ?? [],
        serverUnderFlood: terminals?.serverRss ? { ...terminals.serverRss, samples: undefined, lines: serverRssLines(terminals.serverRss) } : null,
        containment: containment ? { ...containment, lines: containmentLines(containment) } : null,
        runtime: runtime ? { missing: runtime.missing, bursts: runtime.bursts, lines: runtimeLines(runtime) } : null,
        class: classroom ? { figures: classroom.figures, lines: classroom.lines, anomalies: classroom.anomalies, details: classroom.details } : null,
        wire: wire ?? null,
        details: { ...raw?.details, ...terminals?.details, ...pool?.details },
        anomalies: [
          ...(terminals?.anomalies ?? []),
          ...(pool?.anomalies ?? []),
          ...(containment?.anomalies ?? []),
          ...(classroom?.anomalies ?? []),
          ...(wire?.anomalies ?? []),
        ],
        leftoversAfterPlatformCleanup: pool?.leftovers ?? null,
        wallSeconds,
      },
      null,
      2,
    )}\n`,
  );
  say(`results written to ${path.relative(projectRoot, RESULTS_FILE)}`);
}
