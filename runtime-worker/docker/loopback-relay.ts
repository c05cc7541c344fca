/**
 * A byte pipe to a port on an environment's own loopback, for the preview: an exec'd relay in
 * the environment's container (python3, which the default image has) connects to
 * 127.0.0.1:<port> and copies bytes between that socket and its stdin/stdout. Nothing is
 * published on the host and the container keeps network "none": the relay is inside it.
 */
import { PassThrough, Writable, type Duplex } from "node:stream";
import type Docker from "dockerode";
import type { LoopbackConnection } from "../driver";
import { containerName } from "./container-config";
import { RuntimeError, statusOf } from "./docker-support";

/**
 * After the browser's side ends, the app has this long to finish its answer: a relay whose
 * client left must not linger in the student's process table for ever.
 */
const RELAY_SOURCE = `
import os, socket, sys, threading
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
except OSError as error:
    sys.stderr.write("relay: %s\\n" % error)
    sys.exit(3)
s.settimeout(None)
def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        s.sendall(data)
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    s.settimeout(30)
threading.Thread(target=upstream, daemon=True).start()
out = sys.stdout.buffer
try:
    while True:
        data = s.recv(65536)
        if not data:
            break
        out.write(data)
        out.flush()
except OSError:
    pass
`;

export async function openLoopbackRelay(docker: Docker, environmentId: string, port: number): Promise<LoopbackConnection> {
  let exec: Docker.Exec;
  try {
    exec = await docker.getContainer(containerName(environmentId)).exec({
      Cmd: ["python3", "-c", RELAY_SOURCE, String(port)],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
  } catch (error) {
    if (statusOf(error) === 404 || statusOf(error) === 409) throw new RuntimeError("This environment is not running.");
    throw error;
  }
  const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
  const output = new PassThrough();
  // The relay's complaints (connection refused) are not the app's bytes: they are dropped.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  docker.modem.demuxStream(stream, output, discard);
  const end = () => output.end();
  stream.once("end", end);
  stream.once("close", end);
  stream.once("error", end);
  const input = new Writable({
    write: (chunk, _encoding, done) => (stream.write(chunk) ? done() : stream.once("drain", () => done())),
    // Closing our side ends the relay's stdin (a half-close): the app's answer still flows.
    final: (done) => {
      stream.end();
      done();
    },
  });
  return { input, output, close: () => stream.destroy() };
}
