/**
 * Terminals under load, (h): the server as its own process (tests/bench/platform-processes.ts)
 * while one terminal floods to two sockets of the same student, one acking and one that never
 * acks (a stalled browser): the server's RSS before and at its peak, against a stated bound.
 * No baseline: raw dockerode has no server.
 */
import { BROWSER_OUTPUT_WINDOW } from "../../protocol/browser-messages";
import { WORKER_OUTPUT_WINDOW } from "../../protocol/worker-messages";
import { DEMO_LAB_SLUG, DEMO_LOGINS } from "../../server/database/seed";
import { createDatabase } from "../../server/database/client";
import { attachTerminal, openTerminalSocket, terminalLink } from "./browser-socket";
import { formatMiB, formatMs, formatRate, MiB, now, percentile, sleep } from "./measure";
import { withTimeout } from "./platform-shell";
import { readRss, startPlatformProcesses, type PlatformProcesses } from "./platform-processes";
import { measureFlood } from "./terminal-link";
import { errorText, type TerminalLoadContext } from "./terminal-load-context";
import { signInOverHttp, trpcMutation } from "./bench-http";

/** The bound (h) states: far above what flow control should let the server hold for one flood. */
export const SERVER_RSS_GROWTH_BOUND = 64 * MiB;
const RSS_SAMPLE_MS = 200;

// ---------------------------------------------------------------------------------------
// (h) the server process's RSS under flood

export interface ServerRssResult {
  boundBytes: number;
  serverEntry: string;
  serverPid: number;
  workerPid: number;
  /** Median of the server's RSS samples in the seconds before the flood. */
  serverBaseline: number;
  /** Highest server RSS from the flood's start until the output stopped (plus a second). */
  serverPeak: number;
  serverGrowth: number;
  withinBound: boolean;
  workerBaseline: number;
  workerPeak: number;
  /** The acking socket. */
  acking: { bytesPerSecond: number; bytes: number; repaints: number; stopMs: number };
  /** The socket that never acks: what reached it before the server stopped sending. */
  stalled: { bytes: number; messages: number; repaints: number };
  samples: { t: number; server: number | null; worker: number | null; phase: "before" | "flood" | "stopping" | "after" }[];
}

interface RssSampler {
  phase: ServerRssResult["samples"][number]["phase"];
  samples: ServerRssResult["samples"];
  stop(): void;
}

function sampleRss(serverPid: number, workerPid: number): RssSampler {
  const began = now();
  const sampler: RssSampler = {
    phase: "before",
    samples: [],
    stop: () => clearInterval(timer),
  };
  const take = () => {
    sampler.samples.push({ t: Math.round(now() - began), server: readRss(serverPid) ?? null, worker: readRss(workerPid) ?? null, phase: sampler.phase });
  };
  take();
  const timer = setInterval(take, RSS_SAMPLE_MS);
  return sampler;
}

export async function serverUnderFlood(ctx: TerminalLoadContext, seconds: number, anomalies: string[]): Promise<ServerRssResult> {
  const workerId = `bench-proc-${ctx.runId}`;
  ctx.addWorkerId(workerId);
  const startedAt = now();
  const processes: PlatformProcesses = await startPlatformProcesses({
    benchDatabaseUrl: ctx.benchDatabaseUrl,
    databaseName: "shellroom_bench_proc",
    redisUrl: ctx.redisUrl,
    workerId,
    logDir: ctx.logDir,
    onSpawn: (child) => ctx.addProcess(child),
  });
  ctx.say(
    `  server (${processes.serverEntry}) pid ${processes.serverPid}, worker pid ${processes.workerPid} at ${processes.url} (up in ${formatMs(now() - startedAt)}; logs in ${processes.logs.server}, ${processes.logs.worker})`,
  );
  const { url } = processes;
  const sockets: { close(): void }[] = [];
  let cookie: string | undefined;
  let labId: string | undefined;
  let environmentId: string | undefined;
  try {
    const db = createDatabase(processes.databaseUrl);
    try {
      labId = (await db.lab.findFirstOrThrow({ where: { slug: DEMO_LAB_SLUG }, select: { id: true } })).id;
    } finally {
      await db.$disconnect();
    }
    const student = DEMO_LOGINS.find((login) => login.role === "STUDENT")!;
    cookie = await signInOverHttp(url, student.email, student.password);
    // The worker dials in a few seconds after its start: until then no machine has room.
    const deadline = now() + 120_000;
    for (;;) {
      try {
        environmentId = (await trpcMutation<{ environmentId: string }>(url, { cookie }, "environment.startForLab", { labId })).environmentId;
        break;
      } catch (error) {
        if (now() > deadline || !/SERVICE_UNAVAILABLE|503|No machine/.test(errorText(error))) throw error;
        await sleep(500);
      }
    }
    ctx.track(environmentId);

    /** A socket of the student's, attached to the environment's main terminal; with `prompt`, once it shows one. */
    const connectAndAttach = async (acks: boolean, prompt: boolean) => {
      const socket = await openTerminalSocket(url, cookie!, { acks });
      sockets.push(socket);
      const link = terminalLink(socket, environmentId!);
      let seen = "";
      let stopWatching = () => undefined as void;
      // Listening before the attach: the prompt may arrive as output right after it.
      const promptSeen = new Promise<void>((resolve) => {
        stopWatching = link.onData((chunk) => {
          seen += Buffer.from(chunk).toString("latin1");
          if (seen.includes("$ ")) resolve();
        });
      });
      try {
        const reply = await attachTerminal(socket, environmentId!, 30_000);
        if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
        if (prompt && !reply.screen.includes("$ ")) await withTimeout(promptSeen, 30_000, "prompt on the server process's terminal");
      } finally {
        stopWatching();
      }
      return link;
    };
    const acking = { link: await connectAndAttach(true, true) };
    const stalled = { link: await connectAndAttach(false, false) };

    const sampler = sampleRss(processes.serverPid, processes.workerPid);
    await sleep(3_000);
    sampler.phase = "flood";
    const floodPromise = measureFlood(acking.link, seconds);
    const ctrlCAt = sleep(seconds * 1000).then(() => {
      sampler.phase = "stopping";
    });
    const flood = await floodPromise;
    await ctrlCAt;
    sampler.phase = "after";
    await sleep(1_000);
    sampler.stop();

    const values = (phases: string[], key: "server" | "worker") =>
      sampler.samples.filter((sample) => phases.includes(sample.phase) && sample[key] !== null).map((sample) => sample[key]!);
    const serverBaseline = percentile(values(["before"], "server"), 50);
    const serverPeak = Math.max(...values(["flood", "stopping", "after"], "server"));
    const workerBaseline = percentile(values(["before"], "worker"), 50);
    const workerPeak = Math.max(...values(["flood", "stopping", "after"], "worker"));
    const stalledStats = stalled.link.stats();
    const ackingStats = acking.link.stats();
    if (stalledStats.bytes > BROWSER_OUTPUT_WINDOW + 256 * 1024) {
      anomalies.push(`(h) the socket that never acks received ${formatMiB(stalledStats.bytes)}, beyond the ${formatMiB(BROWSER_OUTPUT_WINDOW)} window`);
    }
    if (ackingStats.repaints)
      anomalies.push(
        `(h) the acking socket fell more than the ${BROWSER_OUTPUT_WINDOW / 1024} KiB window behind and was repainted ${ackingStats.repaints} time(s) (this client did not keep up with the server's sending; output in between was skipped)`,
      );
    if (!flood.promptBack) anomalies.push("(h) no prompt seen after the Ctrl-C");
    return {
      boundBytes: SERVER_RSS_GROWTH_BOUND,
      serverEntry: processes.serverEntry,
      serverPid: processes.serverPid,
      workerPid: processes.workerPid,
      serverBaseline,
      serverPeak,
      serverGrowth: serverPeak - serverBaseline,
      withinBound: serverPeak - serverBaseline <= SERVER_RSS_GROWTH_BOUND,
      workerBaseline,
      workerPeak,
      acking: { bytesPerSecond: flood.bytesPerSecond, bytes: flood.bytes, repaints: ackingStats.repaints, stopMs: flood.stopMs },
      stalled: { bytes: stalledStats.bytes, messages: stalledStats.messages, repaints: stalledStats.repaints },
      samples: sampler.samples,
    };
  } finally {
    for (const socket of sockets) socket.close();
    if (cookie && labId && environmentId) {
      // Through the platform, as the student deletes it: the worker removes container and volume.
      await trpcMutation(url, { cookie }, "environment.delete", { labId }).catch((error) => anomalies.push(`(h) environment.delete: ${errorText(error)}`));
    }
    await processes.stop();
    ctx.say(`  server and worker processes stopped`);
  }
}

/** The (h) section of the printed output. */
export function serverRssLines(result: ServerRssResult): string[] {
  return [
    `server process (${result.serverEntry}, pid ${result.serverPid}) RSS: before the flood ${formatMiB(result.serverBaseline)}, peak during ${formatMiB(result.serverPeak)}`,
    `worker process (pid ${result.workerPid}) RSS: before the flood ${formatMiB(result.workerBaseline)}, peak during ${formatMiB(result.workerPeak)}`,
    `acking socket: ${formatRate(result.acking.bytesPerSecond)} (${formatMiB(result.acking.bytes)}), Ctrl-C -> output stops ${formatMs(result.acking.stopMs)}, ${result.acking.repaints} repaint(s); ` +
      `socket that never acks: ${formatMiB(result.stalled.bytes)} in ${result.stalled.messages} message(s), then nothing`,
    `server RSS growth under flood: ${formatMiB(result.serverGrowth)} (bound ${formatMiB(result.boundBytes).replace(".0 ", " ")}: the server keeps at most ` +
      `${BROWSER_OUTPUT_WINDOW / 1024} KiB in flight per browser and ${WORKER_OUTPUT_WINDOW / 1024} KiB per terminal from the worker) -> ` +
      `${result.withinBound ? "within bound" : "OVER BOUND"}`,
  ];
}
