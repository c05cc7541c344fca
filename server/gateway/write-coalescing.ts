/** The server's socket.io connections coalesce their writes (protocol/write-coalescing.ts). */
import type { Server } from "socket.io";
import { coalesceWrites, type Corkable } from "../../protocol/write-coalescing";

/** The parts of an engine.io connection this uses (engine.io's Socket; its transport's ws socket). */
interface EngineConnection {
  flush(): void;
  transport?: { name?: string; socket?: { _socket?: Corkable } };
}

/** Every connection of `server`: what it is sent in one turn leaves in one write. */
export function coalesceServerWrites(server: Server) {
  server.engine.on("connection", (connection: EngineConnection) =>
    // ws's own socket (no public accessor; engine.io reaches into ws the same way): absent while polling.
    coalesceWrites(connection, () => (connection.transport?.name === "websocket" ? connection.transport.socket?._socket : undefined)),
  );
}
