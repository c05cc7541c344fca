/**
 * The wire bench's client process (tests/bench/wire-client.ts starts it): a browser of the
 * platform or of wetty, or a raw Docker client, holding the shells it is told to open and
 * measuring on them what it is told (orders and answers over the IPC channel). On SIGTERM
 * it closes its shells and exits.
 */
import Docker from "dockerode";
import { inBatches, now } from "./measure";
import { measureEcho, measureThroughput, waitForOutput } from "./terminal-link";
import { activeEcho } from "./terminal-load-echo";
import { openLink, type WireLink } from "./wire-links";
import type { ClientOrder, ClientReply, FloodCount } from "./wire-client";

if (!process.send) {
  console.error("wire-client-process.ts runs under tests/bench/wire-client.ts (it needs an IPC channel)");
  process.exit(2);
}
const send = (message: ClientReply | { ready: true }) => process.send!(message);

/** Shells opened at a time (each a socket, an attach and a prompt). */
const OPEN_CONCURRENCY = 10;

const docker = new Docker();
const links: WireLink[] = [];
const floods = new Map<number, { bytes: number; began: number; stop(): void }>();

const linkAt = (index: number) => {
  const link = links[index];
  if (!link) throw new Error(`no link ${index} (${links.length} open)`);
  return link;
};

async function perform(order: ClientOrder): Promise<unknown> {
  switch (order.op) {
    case "open": {
      const opened = await inBatches(order.links, OPEN_CONCURRENCY, (link) => openLink(link, docker));
      links.push(...opened);
      return links.length;
    }
    case "echo":
      return measureEcho(linkAt(order.link), order.samples, order.warmup, order.pauseMs);
    case "throughput":
      return measureThroughput(linkAt(order.link), order.bytes);
    case "activeEcho":
      return activeEcho(links, order.samplesPer);
    case "floodStart": {
      const link = linkAt(order.link);
      const flood = { bytes: 0, began: now(), stop: () => undefined as void };
      flood.stop = link.onData((chunk) => {
        flood.bytes += chunk.byteLength;
      });
      floods.set(order.link, flood);
      link.write("cat /dev/urandom | base64\r");
      return null;
    }
    case "floodStop": {
      const link = linkAt(order.link);
      const flood = floods.get(order.link);
      if (!flood) throw new Error(`link ${order.link} is not flooding`);
      const ms = now() - flood.began;
      flood.stop();
      floods.delete(order.link);
      const prompt = waitForOutput(link, /\$ /, 60_000);
      link.write("\x03");
      await prompt;
      return { bytes: flood.bytes, ms, bytesPerSecond: flood.bytes / (ms / 1000) } satisfies FloodCount;
    }
    case "stats":
      return links.reduce(
        (sum, link) => {
          const stats = link.stats();
          return { messages: sum.messages + stats.messages, repaints: sum.repaints + stats.repaints, inputDropped: sum.inputDropped + stats.inputDropped };
        },
        { messages: 0, repaints: 0, inputDropped: 0 },
      );
  }
}

process.on("message", (message: ClientOrder & { id: number }) => {
  perform(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});

process.on("SIGTERM", () => {
  for (const link of links) link.close();
  process.exit(0);
});

send({ ready: true });
