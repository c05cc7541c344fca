/**
 * Messages a connection is sent in one turn of the event loop leave in one write. A keystroke's
 * answer and its echo reach the server together (the worker's output carries the answer) and go
 * to the browser as two messages; engine.io would hand each to the kernel on its own, and on a
 * loaded host every write (a system call, and on loopback the receiver's side of TCP too) costs
 * more than everything else the server does for the keystroke. So each connection's flush waits
 * for the end of the turn (setImmediate), and its websocket frames are written corked: one write,
 * one read on the other side. Nothing is reordered and nothing waits longer than the turn.
 */
import type { Server } from "socket.io";

/** The parts of an engine.io connection this uses (engine.io's Socket; its transport's ws socket). */
interface EngineConnection {
  flush(): void;
  transport?: { name?: string; socket?: { _socket?: { cork(): void; uncork(): void } } };
}

/** Defers the connection's flushes to the end of the turn and writes what it flushes in one go. */
export function coalesceWrites(connection: EngineConnection) {
  const flush = connection.flush.bind(connection);
  let scheduled = false;
  const flushCorked = () => {
    scheduled = false;
    // ws's own socket (no public accessor; engine.io reaches into ws the same way): absent on polling.
    const raw = connection.transport?.name === "websocket" ? connection.transport.socket?._socket : undefined;
    if (!raw) return flush();
    raw.cork();
    try {
      flush();
    } finally {
      raw.uncork();
    }
  };
  connection.flush = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flushCorked);
  };
}

/** Every connection of `server` coalesces its writes. */
export function coalesceServerWrites(server: Server) {
  server.engine.on("connection", (connection: EngineConnection) => coalesceWrites(connection));
}
