/**
 * The network half of a test worker host: a network namespace of its own and a veth pair to
 * it, addressed from a /30 of 10.231.0.0/16 (never Docker's bridge ranges, never an interface
 * this module did not make). The /30 is claimed by creating the veth named after it: the
 * kernel refuses a second link of the same name, so two test files (or two helpers' runs)
 * never share one, without a lock file.
 */
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** /30 blocks in 10.231.0.0/16; block 0 is never used. */
const BLOCKS = 16_384;

export interface HostNetwork {
  /** The netns name (`ip netns exec <namespace>`, /run/netns/<namespace>). */
  namespace: string;
  /** The veth end left in the machine's namespace, and its address: how the host reaches the server. */
  hostSideLink: string;
  hostSideAddress: string;
  /** The host's own address, on the veth end inside its namespace. */
  insideAddress: string;
  /** Deletes the veth (both ends): the host is cut off at once, its connections die without a word. */
  cut(): Promise<void>;
  /** Deletes the veth and the netns (each at most once; what is already gone is fine). */
  remove(): Promise<void>;
}

/** The two usable addresses of /30 block `index` (1..16383). */
export function blockAddresses(index: number): { hostSide: string; inside: string } {
  if (!Number.isInteger(index) || index < 1 || index >= BLOCKS) throw new Error(`no /30 block ${index} in 10.231.0.0/16`);
  const base = index * 4;
  const address = (offset: number) => `10.231.${Math.floor((base + offset) / 256)}.${(base + offset) % 256}`;
  return { hostSide: address(1), inside: address(2) };
}

export const ip = (...args: string[]) => run("ip", args);
const ignoreGone = () => undefined;

/** A netns with a veth to it, both ends up, the namespace's loopback up. Nothing is left behind when a step fails. */
export async function createHostNetwork(namespace: string): Promise<HostNetwork> {
  await ip("netns", "add", namespace);
  let link: string | undefined;
  const cut = async () => {
    if (link) await ip("link", "del", link).catch(ignoreGone);
    link = undefined;
  };
  const remove = async () => {
    await cut();
    await ip("netns", "del", namespace).catch(ignoreGone);
  };
  try {
    let index = 0;
    for (let attempt = 0; !link; attempt++) {
      index = 1 + randomInt(BLOCKS - 1);
      const candidate = `shr${index}h`;
      try {
        await ip("link", "add", candidate, "type", "veth", "peer", "name", `shr${index}n`, "netns", namespace);
        link = candidate;
      } catch (error) {
        // Taken by another host (the name encodes the block): try another block.
        if (attempt >= 20 || !/exists/i.test((error as { stderr?: string }).stderr ?? "")) throw error;
      }
    }
    const { hostSide, inside } = blockAddresses(index);
    await ip("addr", "add", `${hostSide}/30`, "dev", link);
    await ip("link", "set", link, "up");
    await ip("-n", namespace, "addr", "add", `${inside}/30`, "dev", `shr${index}n`);
    await ip("-n", namespace, "link", "set", `shr${index}n`, "up");
    await ip("-n", namespace, "link", "set", "lo", "up");
    return { namespace, hostSideLink: link, hostSideAddress: hostSide, insideAddress: inside, cut, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Pids whose network namespace is `namespace` (empty when it is gone). */
export async function namespacePids(namespace: string): Promise<number[]> {
  const { stdout } = await ip("netns", "pids", namespace).catch(() => ({ stdout: "" }));
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}
