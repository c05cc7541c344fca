/**
 * The worker host's memory, for placement's reality check (see protocol HostMemory).
 * Read from /proc/meminfo: the worker runs on its Docker host (it mounts the PTY holder and
 * the workspace images from local paths), so the kernel it reads is the one the containers share.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";

const GIB = 1024 ** 3;

/**
 * The available memory a host keeps by default: a tenth of it, at most 2 GiB. Below it the
 * kernel starts reclaiming hard and the engine itself slows; new environments wait.
 */
export function defaultMemoryFloor(totalBytes = os.totalmem()): number {
  return Math.min(2 * GIB, Math.floor(totalBytes / 10));
}

/** MemAvailable in bytes from the text of /proc/meminfo; null when the line is missing (kernels before 3.14). */
export function memAvailableOf(meminfo: string): number | null {
  const match = /^MemAvailable:\s+(\d+)\s*kB$/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : null;
}

/** What the kernel could hand out now without swapping; null where /proc/meminfo cannot be read. */
export async function readAvailableMemory(): Promise<number | null> {
  try {
    return memAvailableOf(await readFile("/proc/meminfo", "utf8"));
  } catch {
    return null;
  }
}
