/**
 * The only way out of a build when the operator allows package mirrors: build steps join an
 * internal Docker network on which the host has no address (IPv4 inhibited, IPv6 turned off
 * on its bridge), so nothing of the host or beyond answers there; one relay container on it
 * forwards TCP to the allowlisting proxy's unix socket, mounted read-only. RUN steps get the
 * relay as HTTP(S)_PROXY (Docker's predefined build args, kept out of the image's history),
 * which apt, pip and npm honour.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import type http from "node:http";
import path from "node:path";
import type Docker from "dockerode";
import type { Logger } from "../../common/logger";
import { DEFAULT_IMAGE } from "./base-image";
import { createMirrorProxy, type MirrorRule } from "./mirror-proxy";

const RELAY_PORT = 3128;
const SOCKET_ROOT = "/run/shellroom";

/** A TCP -> unix socket relay; the image's python3 is all it needs. */
const RELAY = `
import socket, threading
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data: break
            b.sendall(data)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(client):
    upstream = socket.socket(socket.AF_UNIX)
    try: upstream.connect("/proxy/proxy.sock")
    except OSError:
        client.close(); return
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", ${RELAY_PORT}))
server.listen(64)
while True:
    client, _ = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
`;

export interface BuildEgress {
  network: string;
  /** Build args for RUN steps: the relay as proxy (checked, and restarted if need be, for each build). */
  buildargs(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export const egressNames = (key: string) => {
  const safe = key
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "-")
    .slice(0, 40);
  return {
    network: `shellroom-build-egress-${safe}`,
    relay: `shellroom-build-relay-${safe}`,
    // Linux interface names stop at 15 characters.
    bridge: `shrb${Buffer.from(safe).toString("hex").slice(-11)}`,
    socketDir: path.join(SOCKET_ROOT, `build-proxy-${safe}`),
  };
};

export async function openBuildEgress(docker: Docker, key: string, rules: MirrorRule[], log: Logger): Promise<BuildEgress> {
  const names = egressNames(key);
  await mkdir(names.socketDir, { recursive: true, mode: 0o755 });
  const socketPath = path.join(names.socketDir, "proxy.sock");
  await rm(socketPath, { force: true });
  const proxy = createMirrorProxy(rules, log);
  await new Promise<void>((resolve, reject) => {
    proxy.once("error", reject);
    proxy.listen(socketPath, resolve);
  });
  await chmod(socketPath, 0o666); // the relay runs as nobody

  try {
    const network = await ensureNetwork(docker, names);
    log.info({ network: names.network, mirrors: rules.map((rule) => rule.host) }, "builds reach package mirrors through the allowlisting proxy");
    return {
      network: names.network,
      buildargs: async () => {
        const url = `http://${await ensureRelay(docker, names, network)}:${RELAY_PORT}`;
        return { HTTP_PROXY: url, http_proxy: url, HTTPS_PROXY: url, https_proxy: url, NO_PROXY: "", no_proxy: "" };
      },
      close: () => closeProxy(proxy),
    };
  } catch (error) {
    await closeProxy(proxy);
    throw error;
  }
}

/** Removes the relay and the network (tests; an operator turning mirrors off). */
export async function removeBuildEgress(docker: Docker, key: string) {
  const names = egressNames(key);
  await docker
    .getContainer(names.relay)
    .remove({ force: true })
    .catch(() => undefined);
  await docker
    .getNetwork(names.network)
    .remove()
    .catch(() => undefined);
  await rm(names.socketDir, { recursive: true, force: true });
}

async function ensureNetwork(docker: Docker, names: ReturnType<typeof egressNames>) {
  let info = (await docker
    .getNetwork(names.network)
    .inspect()
    .catch(() => null)) as Docker.NetworkInspectInfo | null;
  if (!info) {
    await docker.createNetwork({
      Name: names.network,
      Driver: "bridge",
      Internal: true,
      CheckDuplicate: true,
      Options: { "com.docker.network.bridge.inhibit_ipv4": "true", "com.docker.network.bridge.name": names.bridge },
      Labels: { "dev.shellroom.build-egress": "network" },
    });
    info = (await docker.getNetwork(names.network).inspect()) as Docker.NetworkInspectInfo;
  }
  // Never trust a network of that name that is not what we made.
  if (!info.Internal || info.Options?.["com.docker.network.bridge.inhibit_ipv4"] !== "true") {
    throw new Error(`The Docker network ${names.network} exists but is not internal with the host's address inhibited; remove it.`);
  }
  // The host keeps an IPv6 link-local address on the bridge otherwise: raw frames could reach it.
  const bridge = info.Options?.["com.docker.network.bridge.name"] ?? names.bridge;
  await writeFile(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, "1").catch((error: Error) => {
    if (!/ENOENT/.test(error.message)) throw error; // no IPv6 on this host at all
  });
  return info;
}

async function ensureRelay(docker: Docker, names: ReturnType<typeof egressNames>, network: Docker.NetworkInspectInfo): Promise<string> {
  const relay = docker.getContainer(names.relay);
  let info = await relay.inspect().catch(() => null);
  if (!info) {
    await docker.createContainer({
      name: names.relay,
      Image: DEFAULT_IMAGE,
      User: "nobody",
      Cmd: ["python3", "-c", RELAY],
      Labels: { "dev.shellroom.build-egress": "relay" }, // not "managed": reconcile leaves it alone
      HostConfig: {
        NetworkMode: network.Name,
        Binds: [`${names.socketDir}:/proxy:ro`],
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        ReadonlyRootfs: true,
        Memory: 64 * 1024 * 1024,
        MemorySwap: 64 * 1024 * 1024,
        PidsLimit: 128,
        RestartPolicy: { Name: "unless-stopped" },
      },
    });
    info = await relay.inspect();
  }
  if (!info.State.Running) await relay.start();
  info = await relay.inspect();
  const address = info.NetworkSettings.Networks[network.Name]?.IPAddress;
  if (!address) throw new Error(`The build relay ${names.relay} has no address on ${network.Name}.`);
  return address;
}

function closeProxy(proxy: http.Server) {
  return new Promise<void>((resolve) => {
    proxy.close(() => resolve());
    proxy.closeAllConnections();
  });
}
