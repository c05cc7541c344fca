/**
 * One hop of the wire bench's floor (6): a Node process that only moves bytes, over bare
 * websockets (ws: no socket.io, no MessagePack, no checks, no offsets, no flow control).
 * Each connection it accepts gets a link of its own further on, and bytes go both ways as they come:
 *  - `--upstream <ws url>`: to another relay (the server's place on the platform's path);
 *  - `--container <name>`: to a TTY exec of `bash -l` in that container over dockerode's
 *    hijacked stream (the worker's place; raw Docker's own path from there on).
 * So client -> relay -> relay -> Docker is raw Docker's path with the platform's two Node hops
 * in front, each doing the least a hop can: what it costs is the floor under those hops.
 * It tells its port over the IPC channel (tests/bench/bare-relay.ts starts it).
 */
import Docker from "dockerode";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { execShell } from "./raw-docker";

const [flag, target] = process.argv.slice(2);
if (!process.send || !target || (flag !== "--upstream" && flag !== "--container")) {
  console.error("usage (under tests/bench/bare-relay.ts, with an IPC channel): bare-relay-process.ts --upstream <ws url> | --container <name>");
  process.exit(2);
}

const asBuffer = (data: RawData) => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));

/** The far side of one accepted connection: bytes written to it, bytes it answers with, and its end. */
interface FarSide {
  write(bytes: Buffer): void;
  onData(listener: (bytes: Buffer) => void): void;
  close(): void;
}

/** Resolves once the upstream link is open (bytes from the client wait meanwhile, as for a shell). */
function upstreamSide(url: string): Promise<FarSide> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("open", () =>
      resolve({
        write: (bytes) => socket.send(bytes),
        onData: (listener) => void socket.on("message", (data) => listener(asBuffer(data))),
        close: () => socket.close(),
      }),
    );
  });
}

const docker = new Docker();

async function containerSide(name: string): Promise<FarSide> {
  const shell = await execShell(docker.getContainer(name));
  return {
    write: (bytes) => void shell.stream.write(bytes),
    onData: (listener) => void shell.onData((chunk) => listener(chunk as Buffer)),
    close: shell.close,
  };
}

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("connection", (client) => {
  // Bytes from the client before its far side is up wait here (the first keystroke may beat it).
  const early: Buffer[] = [];
  const keep = (data: RawData) => void early.push(asBuffer(data));
  client.on("message", keep);
  const far = flag === "--upstream" ? upstreamSide(target) : containerSide(target);
  far.then(
    (side) => {
      client.off("message", keep);
      for (const bytes of early.splice(0)) side.write(bytes);
      client.on("message", (data) => side.write(asBuffer(data)));
      side.onData((bytes) => client.send(bytes));
      client.once("close", () => side.close());
    },
    (error: unknown) => client.close(1011, String(error).slice(0, 100)),
  );
});
server.once("listening", () => {
  const address = server.address();
  process.send!({ port: address && typeof address !== "string" ? address.port : 0 });
});
process.on("SIGTERM", () => {
  for (const client of server.clients) client.terminate();
  server.close();
  process.exit(0);
});
