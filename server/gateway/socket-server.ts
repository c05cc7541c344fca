import { WIRE_PARSER } from "../../protocol/wire-parser";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import type { Logger } from "../../common/logger";
import { WORKER_MESSAGE_LIMIT, WORKER_SOCKET_PATH } from "../../protocol/worker-messages";
import { coalesceServerWrites } from "./write-coalescing";

/**
 * The largest message a browser may send. A page sends input in 16 Ki-character pieces (at
 * most ~96 KiB as JSON, were every character an escape) and small control messages; anything
 * larger is not a page, and only that socket is dropped.
 */
export const BROWSER_MESSAGE_LIMIT = 128 * 1024;

export interface SocketServer {
  /** Browsers, at /socket.io, with small messages. */
  io: Server;
  /** Workers, on a server of their own at WORKER_SOCKET_PATH, with the worker link's own limit. */
  workerIo: Server;
  /** A Redis client for other shared state (rate limits), when Redis is configured. */
  redis?: ReturnType<typeof createClient>;
  close(): Promise<void>;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
/**
 * Both at once: each socket.io server closes the shared HTTP server, which waits for every
 * connection, the other server's too; closed one after the other, the first would wait forever.
 */
const closeBoth = (io: Server, workerIo: Server) => Promise.all([closeServer(workerIo), closeServer(io)]);

/**
 * socket.io on the HTTP server's port, twice: browsers and workers each get a server of their
 * own, so a worker's large message (a repaint, a burst of output) can never hit a browser's
 * limit and drop the link every student on that worker depends on, and a browser can never
 * send what only a worker may. With REDIS_URL, the Redis adapter makes rooms span replicas
 * (browser on one, worker on another); without it the in-memory adapter is the single node's bus.
 * `allowWorker` vets a worker's HTTP request before any message is read, so only a worker
 * with a valid credential can send the link's large messages.
 */
export async function createSocketServer(
  httpServer: HttpServer,
  redisUrl: string | undefined,
  log: Logger,
  redisKeyPrefix = "shellroom",
  allowWorker: (request: IncomingMessage) => boolean = () => true,
): Promise<SocketServer> {
  const shared = {
    // Next.js handles its own upgrades (/_next/webpack-hmr); socket.io must leave them alone.
    destroyUpgrade: false,
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    parser: WIRE_PARSER,
  };
  const io = new Server(httpServer, { ...shared, path: "/socket.io", maxHttpBufferSize: BROWSER_MESSAGE_LIMIT });
  const workerIo = new Server(httpServer, {
    ...shared,
    path: WORKER_SOCKET_PATH,
    transports: ["websocket"],
    maxHttpBufferSize: WORKER_MESSAGE_LIMIT,
    allowRequest: (request, callback) => callback(null, allowWorker(request)),
  });
  // What a connection is sent in one turn leaves in one write (write-coalescing.ts).
  coalesceServerWrites(io);
  coalesceServerWrites(workerIo);
  if (!redisUrl)
    return {
      io,
      workerIo,
      close: async () => {
        await closeBoth(io, workerIo);
      },
    };

  const publisher = createClient({ url: redisUrl });
  const subscriber = publisher.duplicate();
  publisher.on("error", (error: Error) => log.error({ err: error.message }, "redis publisher error"));
  subscriber.on("error", (error: Error) => log.error({ err: error.message }, "redis subscriber error"));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  io.adapter(createAdapter(publisher, subscriber, { key: redisKeyPrefix }));
  workerIo.adapter(createAdapter(publisher, subscriber, { key: `${redisKeyPrefix}-workers` }));
  log.info("socket.io uses the Redis adapter");
  return {
    io,
    workerIo,
    redis: publisher,
    close: async () => {
      await closeBoth(io, workerIo);
      // The subscriber first: a request from another replica that arrived just before the close
      // is answered through the publisher (the adapter does not catch a publish on a closed
      // client, an unhandled rejection); once the subscriber has quit, none can arrive.
      await subscriber.quit().catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      await publisher.quit().catch(() => undefined);
    },
  };
}
