/**
 * The terminal at the speed of the wire (issue #13), product-shaped: the server and the worker
 * as separate processes (tests/bench/platform-processes.ts), each browser a Node process of
 * its own speaking the page's protocol (tests/bench/wire-links.ts), beside raw Docker (a TTY
 * exec driven with dockerode from a client process) and a peer web terminal (wetty, serving
 * `docker exec -it` into a container of the same kind), all in the same run:
 *  (1) keystroke echo p50 / p99, platform vs raw vs peer;
 *  (2) output throughput, platform vs raw vs peer;
 *  (3) echo with N terminals typing at once, platform vs raw;
 *  (4) CPU per echo and per MB of output of each process on each side's path (/proc);
 *  (5) a bystander's echo p99 while another terminal of the same server floods, against its
 *      quiet p99, on each side;
 *  (6) the floor under the platform's two Node hops: echo and CPU per echo of raw Docker's path
 *      with two bare relays in front (tests/bench/bare-relay-process.ts), in (1)'s blocks.
 * It reports; it asserts nothing. Everything it starts is stopped by its pid, every container
 * removed (the bench's sweep catches what is left under this phase's worker ids).
 */
import path from "node:path";
import { formatMs, percentile } from "./measure";
import { load1 } from "./terminal-load-context";
import { startPlatformProcesses } from "./platform-processes";
import { containerIdOf, deleteEnvironments, removeRawContainers, startEnvironments, startRawContainers, wireStudents, type WireStudents } from "./wire-setup";
import { startWireClient, type WireClient } from "./wire-client";
import { startPeer, type Peer } from "./wire-peer";
import { startBareRelay, type BareRelay } from "./bare-relay";
import { containerName } from "../../runtime-worker/docker/container-config";
import { HOLDER_BINARY } from "../../runtime-worker/holder/holder-volume";
import { descendantPids, descendantsRunning, dockerdPids, shimPids } from "./proc-cpu";
import { activeRun, bystanderUnderFlood, echoBlocks, throughputRuns, type ActiveRun, type BystanderRun, type Side, type SideName } from "./wire-figures";
import { wireReport, type WireResult } from "./wire-report";
import type { ClassBenchContext } from "./class-bench-common";

/** What the wire phase needs from the run: the same as the class phase. */
export type WireContext = ClassBenchContext;

export interface WireOptions {
  echoSamples: number;
  /** Untimed echoes per side before (1), their CPU not counted: the processes' JIT warm, as a deployed server's is. */
  echoWarmup: number;
  echoBlocks: number;
  /** Between (1)'s keystrokes (0: back to back; 200: a typist's pace, where timers fire between keys). */
  echoPauseMs?: number;
  throughputBytes: number;
  throughputRuns: number;
  terminals: number;
  activeSamples: number;
  bystanderSamples: number;
  floodSeconds: number;
  /** The worker's SHELLROOM_TERMINAL_OUTPUT_RATE (bytes/s after the burst); undefined: its default, as deployed. */
  outputRate?: number;
}

/**
 * The platform's processes beside the worker: its children (an attach's hand-over, `nsenter` then
 * the holder binary's `handover`, which leaves once the worker holds the holder's socket: none stay)
 * and the PTY holders inside the containers (under their shims).
 */
const holderGroups = (workerPid: number, shims: readonly number[]) => ({
  relay: descendantPids(workerPid),
  holder: shims.flatMap((shim) => descendantsRunning(shim, path.basename(HOLDER_BINARY))),
});

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runWireBench(ctx: WireContext, options: WireOptions): Promise<WireResult> {
  const { docker, say } = ctx;
  const anomalies: string[] = [];
  const loadBefore = load1();
  const workerId = `bench-wire-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const processes = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl,
    databaseName: "shellroom_bench_wire",
    redisUrl: ctx.redisUrl,
    workerId,
    logDir: ctx.logDir,
    logName: "bench-wire",
    onSpawn: ctx.addProcess,
    // As deployed unless told: each terminal's output budget (runtime-worker/terminals/output-budget.ts) applies.
    workerEnv: options.outputRate ? { SHELLROOM_TERMINAL_OUTPUT_RATE: String(options.outputRate) } : {},
  });
  const { url } = processes;
  say(`  server pid ${processes.serverPid}, worker pid ${processes.workerPid} at ${url}`);
  const clients = new Set<WireClient>();
  const client = async (name: string, nice = false) => {
    const started = await startWireClient(name, { nice, onSpawn: ctx.addProcess });
    clients.add(started);
    return started;
  };
  const stopClient = async (which: WireClient) => {
    clients.delete(which);
    await which.stop();
  };
  const terminals = Math.max(2, options.terminals);
  const rawIds = Array.from({ length: terminals }, (_, index) => `${ctx.rawWorkerId}-wire-${index}`);
  let students: WireStudents | undefined;
  let platformStarted = 0;
  let peer: Peer | undefined;
  const relays: BareRelay[] = [];
  const floorId = `${ctx.rawWorkerId}-wire-floor`;
  try {
    const roster = await wireStudents(processes.databaseUrl, terminals);
    students = roster;
    // The two terminals of (1), (2), (4) and (5) on each side: link 0 types, the second floods.
    const environmentIds = await startEnvironments(url, roster.labId, roster.cookies.slice(0, 2));
    platformStarted = 2;
    await startRawContainers(docker, roster, ctx.rawWorkerId, rawIds.slice(0, 2), ctx.track);
    const peerId = `${ctx.rawWorkerId}-wire-peer`;
    ctx.track(peerId);
    peer = await startPeer({
      docker,
      spec: roster.rawSpec(peerId),
      workerId: ctx.rawWorkerId,
      logFile: path.join(ctx.logDir, "bench-wire-peer.log"),
      onSpawn: ctx.addProcess,
    });
    say(`  wetty pid ${peer.pid} at ${peer.url}`);

    const platformLinks = environmentIds.map((environmentId, index) => ({ kind: "platform" as const, url, cookie: roster.cookies[index]!, environmentId }));
    const rawLinks = rawIds.slice(0, 2).map((environmentId) => ({ kind: "raw" as const, environmentId }));
    const peerLink = { kind: "peer" as const, url: peer.url };
    const [platformClient, rawClient, peerClient, platformFlooder, rawFlooder, peerFlooder] = await Promise.all([
      client("platform browser"),
      client("raw docker client"),
      client("wetty browser"),
      client("platform flooder's browser", true),
      client("raw flooder's client", true),
      client("wetty flooder's browser", true),
    ]);
    await Promise.all([
      platformClient.call({ op: "open", links: [platformLinks[0]!] }),
      rawClient.call({ op: "open", links: [rawLinks[0]!] }),
      peerClient.call({ op: "open", links: [peerLink] }),
      platformFlooder.call({ op: "open", links: [platformLinks[1]!] }),
      rawFlooder.call({ op: "open", links: [rawLinks[1]!] }),
      peerFlooder.call({ op: "open", links: [peerLink] }),
    ]);
    // Read once the shells are open: wetty's pty children (`docker exec -it`) exist only then.
    // dockerode's socketPath: a path, or its finder of the default one.
    const modem = docker.modem as { socketPath?: string | (() => Promise<string>) };
    const dockerd = dockerdPids(typeof modem.socketPath === "function" ? await modem.socketPath() : modem.socketPath);
    if (!dockerd.length) anomalies.push("(4) the engine's dockerd was not found in /proc: its CPU is not counted");
    const [platformContainer, rawContainer] = await Promise.all([containerIdOf(docker, environmentIds[0]!), containerIdOf(docker, rawIds[0]!)]);
    const platformShim = shimPids([platformContainer]);
    const sides: Array<Side & { name: SideName }> = [
      {
        name: "platform",
        client: platformClient,
        groups: {
          client: [platformClient.pid],
          server: [processes.serverPid],
          worker: [processes.workerPid],
          ...holderGroups(processes.workerPid, platformShim),
          dockerd,
          shim: platformShim,
        },
      },
      { name: "raw", client: rawClient, groups: { client: [rawClient.pid], dockerd, shim: shimPids([rawContainer]) } },
      {
        name: "peer",
        client: peerClient,
        groups: {
          client: [peerClient.pid],
          server: [peer.pid],
          "docker exec": descendantPids(peer.pid),
          dockerd,
          shim: shimPids([peer.containerId]),
        },
      },
    ];

    // (6) The floor: raw Docker's path with two relays in front (the server's and the worker's places) that only move bytes.
    await startRawContainers(docker, roster, ctx.rawWorkerId, [floorId], ctx.track);
    const shellHop = await startBareRelay({ container: containerName(floorId) }, ctx.addProcess);
    relays.push(shellHop);
    const serverHop = await startBareRelay({ upstream: shellHop.url }, ctx.addProcess);
    relays.push(serverHop);
    const floorClient = await client("floor client");
    await floorClient.call({ op: "open", links: [{ kind: "bare", url: serverHop.url }] });
    const floorShim = shimPids([await containerIdOf(docker, floorId)]);
    const echoSides: Side[] = [
      ...sides,
      {
        name: "floor",
        client: floorClient,
        groups: { client: [floorClient.pid], "relay 1": [serverHop.pid], "relay 2": [shellHop.pid], dockerd, shim: floorShim },
      },
    ];

    for (const side of echoSides)
      say(
        `  ${side.name}'s processes: ${Object.entries(side.groups)
          .map(([name, pids]) => `${name} [${pids.join(" ")}]`)
          .join(", ")}`,
      );
    if (options.echoWarmup > 0) {
      // A server, worker and wetty fresh from their start run their first thousand keystrokes on
      // cold code (V8 tiers a function up after it ran a while, compiling on threads whose CPU
      // counts): measured cold, the platform's echo p50 and CPU per echo were about twice its warm ones.
      say(`(1) warm-up: ${options.echoWarmup} untimed echoes per side`);
      for (const side of echoSides) await side.client.call({ op: "echo", link: 0, samples: options.echoWarmup, warmup: 0 });
    }
    say(
      `(1)(6) keystroke echo: ${options.echoSamples} per side in ${options.echoBlocks} blocks, platform, raw docker, wetty and the floor taking turns` +
        (options.echoPauseMs ? `, ${options.echoPauseMs} ms between keystrokes` : ", back to back"),
    );
    const echo = await echoBlocks(echoSides, options.echoSamples, options.echoBlocks, options.echoPauseMs);
    await stopClient(floorClient);
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    for (const side of echoSides) {
      const samples = echo[side.name]!.samples;
      say(`  ${side.name}: p50 ${formatMs(percentile(samples, 50))}, p99 ${formatMs(percentile(samples, 99))} (${samples.length} samples)`);
    }

    say(`(2) throughput: head -c ${options.throughputBytes} /dev/zero | base64, ${options.throughputRuns} run(s) per side, taking turns`);
    const throughput = await throughputRuns(sides, options.throughputBytes, options.throughputRuns, say);

    say(
      `(5) a bystander's echo, quiet then while another terminal of the same server floods (its browser acking at full speed, at nice 19): ${options.bystanderSamples} samples, >= ${options.floodSeconds} s`,
    );
    const bystander: Record<string, BystanderRun> = {};
    for (const [side, flooder] of [
      [sides[0]!, platformFlooder],
      [sides[1]!, rawFlooder],
      [sides[2]!, peerFlooder],
    ] as const) {
      const run = await bystanderUnderFlood(side.client, flooder, options.bystanderSamples, options.floodSeconds);
      bystander[side.name] = run;
      say(
        `  ${side.name}: p99 quiet ${formatMs(percentile(run.quiet, 99))}, under flood ${formatMs(percentile(run.flooded, 99))} ` +
          `(${(percentile(run.flooded, 99) / percentile(run.quiet, 99)).toFixed(2)}x; flood ${(run.flood.bytesPerSecond / 1e6).toFixed(1)} MB/s)`,
      );
    }
    const repaints = (await platformClient.call({ op: "stats" })).repaints + (await platformFlooder.call({ op: "stats" })).repaints;
    if (repaints) anomalies.push(`(2)/(5) the platform's page-like clients were repainted ${repaints} time(s) (fell a window behind)`);
    await Promise.all([platformClient, rawClient, peerClient, platformFlooder, rawFlooder, peerFlooder].map(stopClient));
    await peer.stop();

    say(`(3) echo with ${terminals} terminals typing at once (${options.activeSamples} each, 10-50 ms think time): platform, then raw docker`);
    const active: Record<string, ActiveRun> = {};
    const allEnvironments = [...environmentIds, ...(await startEnvironments(url, roster.labId, roster.cookies.slice(2)))];
    platformStarted = terminals;
    const platformActive = await client(`platform browser of ${terminals} terminals`);
    await platformActive.call({
      op: "open",
      links: allEnvironments.map((environmentId, index) => ({ kind: "platform" as const, url, cookie: roster.cookies[index]!, environmentId })),
    });
    const platformShims = shimPids(await Promise.all(allEnvironments.map((id) => containerIdOf(docker, id))));
    active.platform = await activeRun(
      {
        name: "platform",
        client: platformActive,
        groups: {
          client: [platformActive.pid],
          server: [processes.serverPid],
          worker: [processes.workerPid],
          ...holderGroups(processes.workerPid, platformShims),
          dockerd,
          shim: platformShims,
        },
      },
      options.activeSamples,
    );
    await stopClient(platformActive);
    anomalies.push(...(await deleteEnvironments(url, roster.labId, roster.cookies)).map((failure) => `(3) environment.delete: ${failure}`));
    platformStarted = 0;
    await startRawContainers(docker, roster, ctx.rawWorkerId, rawIds.slice(2), ctx.track);
    const rawActive = await client(`raw docker client of ${terminals} shells`);
    await rawActive.call({ op: "open", links: rawIds.map((environmentId) => ({ kind: "raw" as const, environmentId })) });
    const rawShims = shimPids(await Promise.all(rawIds.map((id) => containerIdOf(docker, id))));
    active.raw = await activeRun({ name: "raw", client: rawActive, groups: { client: [rawActive.pid], dockerd, shim: rawShims } }, options.activeSamples);
    await stopClient(rawActive);
    for (const [name, run] of Object.entries(active)) {
      say(
        `  ${name}: p50 ${formatMs(percentile(run.result.samples, 50))}, p99 ${formatMs(percentile(run.result.samples, 99))} (${run.result.samples.length} echoes, ${run.result.failures} failed)`,
      );
      if (run.result.failures) anomalies.push(`(3) ${name}: ${run.result.failures} echo(es) failed: ${run.result.errors.join(" | ")}`);
    }

    return wireReport({
      options: { ...options, terminals },
      sides: sides.map((side) => ({ name: side.name, processes: Object.keys(side.groups) })),
      echo,
      throughput,
      bystander,
      active,
      load: [loadBefore, load1()],
      anomalies,
    });
  } finally {
    await Promise.all([...clients].map((which) => which.stop().catch(() => undefined)));
    await peer?.stop().catch(() => undefined);
    await Promise.all(relays.map((relay) => relay.stop().catch(() => undefined)));
    if (students && platformStarted)
      anomalies.push(...(await deleteEnvironments(url, students.labId, students.cookies)).map((failure) => `cleanup: environment.delete: ${failure}`));
    await removeRawContainers(docker, [...rawIds, `${ctx.rawWorkerId}-wire-peer`, floorId]).catch((error) => anomalies.push(`cleanup: ${errorText(error)}`));
    await processes.stop();
  }
}
