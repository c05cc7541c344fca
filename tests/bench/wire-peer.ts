/**
 * The peer web terminal of the wire bench: wetty (npm `wetty`, a devDependency; its node-pty
 * is built from source under package.json's allowScripts) as its own process, serving a
 * shell of the same kind as the others: its command is `docker exec -it <container> bash -l`
 * in a container made with the platform's create options (tests/bench/raw-docker.ts). Only
 * the process started here is ever signalled, by its pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { containerName } from "../../runtime-worker/docker/container-config";
import { sleep } from "./measure";
import { freePort } from "./platform-processes";
import { startRawContainer } from "./raw-docker";
import { stopperOf } from "./child-stop";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const WETTY_MAIN = path.join(projectRoot, "node_modules/wetty/build/main.js");

export interface Peer {
  url: string;
  pid: number;
  /** The container's full id (its shim is found by it). */
  containerId: string;
  stop(): Promise<void>;
}

export async function startPeer(options: {
  docker: Docker;
  spec: EnvironmentSpec;
  workerId: string;
  logFile: string;
  onSpawn(child: ChildProcess): void;
}): Promise<Peer> {
  const container = await startRawContainer(options.docker, options.spec, options.workerId);
  const containerId = (await container.inspect()).Id;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fd = openSync(options.logFile, "w");
  const child = spawn(
    process.execPath,
    [
      WETTY_MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--command",
      `docker exec -it ${containerName(options.spec.environmentId)} bash -l`,
      "--log-level",
      "warn",
    ],
    // wetty runs its command itself (no ssh, no login) only as root on a local host; the bench runs as root.
    { cwd: projectRoot, stdio: ["ignore", fd, fd], env: { ...process.env, NODE_ENV: "production" } },
  );
  closeSync(fd);
  options.onSpawn(child);
  const stop = stopperOf(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wetty exited (${child.exitCode}): ${readFileSync(options.logFile, "utf8").slice(-1000)}`);
    if (
      await fetch(url).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wetty did not answer at ${url} within 30 s: ${readFileSync(options.logFile, "utf8").slice(-1000)}`);
    }
    await sleep(200);
  }
  return { url, pid: child.pid!, containerId, stop };
}
