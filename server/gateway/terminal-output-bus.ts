/**
 * Carries terminal output from the replica a worker is connected to, to the browsers on
 * every replica. It does not ride on socket.io's Redis adapter, whose publishes are
 * fire-and-forget: under a flood they queue in memory without bound. Here a publish is
 * awaited before the worker's output is acknowledged, so the worker's flow-control window
 * bounds what is in flight to Redis too. Each replica delivers to its own sockets, and
 * filters the stream for viewers itself (a stream is received in order, whole, by each).
 */
import { randomUUID } from "node:crypto";
import type { Namespace } from "socket.io";
import type { createClient } from "redis";
import type { Logger } from "../../common/logger";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { type BrowserOutput } from "../../protocol/browser-contract";
import { laggingRoom, terminalRoom, watcherRoom } from "./rooms";
import { ViewerEscapeFilter } from "./viewer-escape-filter";

export type BusMessage =
  | { kind: "output"; environmentId: string; terminalId: string; offset: number; data: Uint8Array }
  | { kind: "exit"; environmentId: string; terminalId: string; exitCode: number | null };

export interface TerminalOutputBus {
  /** Delivers here at once and, with Redis, to the other replicas; resolves once handed over. */
  publish(message: BusMessage): Promise<void>;
  close(): Promise<void>;
}

type RedisClient = ReturnType<typeof createClient>;

/** Delivers bus messages to this replica's sockets. */
function localDelivery(terminals: Namespace) {
  const filters = new Map<string, ViewerEscapeFilter>();
  return (message: BusMessage) => {
    const { environmentId, terminalId } = message;
    const key = `${environmentId}/${terminalId}`;
    const local = terminals.local;
    if (message.kind === "exit") {
      filters.delete(key);
      local
        .to([terminalRoom(environmentId, terminalId), watcherRoom(environmentId, terminalId)])
        .emit(ServerToBrowser.exit, { environmentId, terminalId, exitCode: message.exitCode });
      return;
    }
    const lagging = laggingRoom(environmentId, terminalId);
    const { data, offset } = message;
    local
      .to(terminalRoom(environmentId, terminalId))
      .except(lagging)
      .emit(ServerToBrowser.output, { environmentId, terminalId, data, offset } satisfies BrowserOutput);
    // Viewers get the same bytes at the same offsets, minus what could act on their browser. The
    // filter walks every byte, so it runs only while someone here watches; a watcher who arrives
    // starts from a repaint and a fresh filter (a sequence begun before reaches them as plain text).
    const room = watcherRoom(environmentId, terminalId);
    if (!terminals.adapter.rooms.get(room)?.size) {
      filters.delete(key);
      return;
    }
    let filter = filters.get(key);
    if (!filter) filters.set(key, (filter = new ViewerEscapeFilter()));
    local
      .to(room)
      .except(lagging)
      .emit(ServerToBrowser.output, { environmentId, terminalId, data: filter.push(data), offset } satisfies BrowserOutput);
  };
}

export function localOutputBus(terminals: Namespace): TerminalOutputBus {
  const deliver = localDelivery(terminals);
  return {
    publish: async (message) => deliver(message),
    close: async () => undefined,
  };
}

/** Frame: 4-byte header length, JSON header, then the raw output bytes. */
function encode(origin: string, message: BusMessage): Buffer {
  const { data, ...rest } = message.kind === "output" ? message : { ...message, data: new Uint8Array(0) };
  const header = Buffer.from(JSON.stringify({ ...rest, origin }));
  const frame = Buffer.allocUnsafe(4 + header.length + data.byteLength);
  frame.writeUInt32BE(header.length, 0);
  header.copy(frame, 4);
  frame.set(data, 4 + header.length);
  return frame;
}

function decode(frame: Buffer): { origin: string; message: BusMessage } | null {
  if (frame.length < 4) return null;
  const headerLength = frame.readUInt32BE(0);
  if (4 + headerLength > frame.length) return null;
  const { origin, ...header } = JSON.parse(frame.subarray(4, 4 + headerLength).toString()) as BusMessage & { origin: string };
  const data = new Uint8Array(frame.subarray(4 + headerLength));
  return { origin, message: header.kind === "output" ? { ...header, data } : header };
}

/** How often a replica asks Redis how many replicas listen for output (PUBSUB NUMSUB). */
export const LISTENERS_REFRESH_MS = 1000;

export async function redisOutputBus(terminals: Namespace, redis: RedisClient, prefix: string, log: Logger): Promise<TerminalOutputBus> {
  const channel = `${prefix}:terminal-output`;
  const replicaId = randomUUID();
  const deliver = localDelivery(terminals);
  const subscriber = redis.duplicate();
  subscriber.on("error", (error: Error) => log.error({ err: error.message }, "redis terminal-output subscriber error"));
  await subscriber.connect();
  await subscriber.subscribe(
    channel,
    (frame: Buffer) => {
      try {
        const decoded = decode(frame);
        // This replica delivered its own messages when it published them.
        if (decoded && decoded.origin !== replicaId) deliver(decoded.message);
      } catch (error) {
        log.error({ err: (error as Error).message }, "dropped a malformed terminal-output frame");
      }
    },
    true,
  );
  // A replica alone on the channel has nobody to publish to: each chunk would cost an encode, a
  // round trip and its own echo back, for nothing. Replicas are counted every LISTENERS_REFRESH_MS;
  // one that starts subscribes before it takes browsers, and a browser that still misses a chunk
  // sees the gap in the offsets and is repainted.
  let othersListen = true;
  const countListeners = async () => {
    const counts = await redis.pubSubNumSub([channel]);
    othersListen = Number(counts[channel] ?? 0) > 1;
  };
  await countListeners().catch((error: Error) => log.warn({ err: error.message }, "could not count the replicas listening for terminal output"));
  const counter = setInterval(() => {
    countListeners().catch((error: Error) => {
      othersListen = true;
      log.warn({ err: error.message }, "could not count the replicas listening for terminal output");
    });
  }, LISTENERS_REFRESH_MS);
  counter.unref();
  return {
    publish: async (message) => {
      deliver(message);
      if (othersListen) await redis.publish(channel, encode(replicaId, message));
    },
    close: async () => {
      clearInterval(counter);
      await subscriber.quit().catch(() => undefined);
    },
  };
}
