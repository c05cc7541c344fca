import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import type { Logger } from "../../common/logger";

export interface SocketServer {
  io: Server;
  /** A Redis client for other shared state (rate limits), when Redis is configured. */
  redis?: ReturnType<typeof createClient>;
  close(): Promise<void>;
}

/**
 * socket.io on the HTTP server's port. With REDIS_URL, the Redis adapter makes rooms
 * span replicas (browser on one, worker on another); without it the in-memory adapter
 * is the single node's bus.
 */
export async function createSocketServer(httpServer: HttpServer, redisUrl: string | undefined, log: Logger, redisKeyPrefix = "shellroom"): Promise<SocketServer> {
  const io = new Server(httpServer, {
    path: "/socket.io",
    // Next.js handles its own upgrades (/_next/webpack-hmr); socket.io must leave them alone.
    destroyUpgrade: false,
    serveClient: false,
    maxHttpBufferSize: 1_000_000,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  if (!redisUrl) return { io, close: () => new Promise((resolve) => io.close(() => resolve())) };

  const publisher = createClient({ url: redisUrl });
  const subscriber = publisher.duplicate();
  publisher.on("error", (error: Error) => log.error({ err: error.message }, "redis publisher error"));
  subscriber.on("error", (error: Error) => log.error({ err: error.message }, "redis subscriber error"));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  io.adapter(createAdapter(publisher, subscriber, { key: redisKeyPrefix }));
  log.info("socket.io uses the Redis adapter");
  return {
    io,
    redis: publisher,
    close: async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
