/**
 * Messages a connection is sent in one turn of the event loop leave in one write. A keystroke's
 * answer and its echo reach the server together (the worker's output carries the answer) and go
 * to the browser as two messages; engine.io would hand each to the kernel on its own, and on a
 * loaded host every write (a system call, and on loopback the receiver's side of TCP too) costs
 * more than everything else the server does for the keystroke. Likewise the worker's output of
 * many terminals, flushed in the same turn. So a connection's flush waits for the end of the turn
 * (setImmediate), and its websocket frames are written corked: one write, one read on the other
 * side. Nothing is reordered and nothing waits longer than the turn. Node only (the server's
 * connections and the worker's link), never a browser's.
 */

/** A TCP socket's write batching (node:net). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Defers an engine.io connection's flushes (server or client side: both call `this.flush()`) to the
 * end of the turn, and writes what each flush sends corked on `rawSocket()` (none: written as is).
 */
export function coalesceWrites(connection: { flush(): void }, rawSocket: () => Corkable | undefined) {
  const flush = connection.flush.bind(connection);
  let scheduled = false;
  const flushCorked = () => {
    scheduled = false;
    const raw = rawSocket();
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

/** The parts of a socket.io-client Manager this uses: its engine (a new one per connection) and its "open". */
interface ClientManager {
  on(event: "open", listener: () => void): unknown;
  readonly engine: unknown;
}

/** A socket.io client's link (the worker's): what it sends in one turn leaves in one write, on every (re)connection. */
export function coalesceClientWrites(manager: ClientManager) {
  manager.on("open", () => {
    // engine.io-client's Socket; its websocket transport's `ws` is a ws WebSocket, whose own socket is the TCP one.
    const engine = manager.engine as { flush(): void; transport?: { ws?: { _socket?: Corkable } } };
    coalesceWrites(engine, () => engine.transport?.ws?._socket);
  });
}
