/**
 * Whose a spare workspace image is (spare-workspaces.ts): its name carries the pid of the worker
 * process that made it. That process still holds it when it is alive and started before the
 * image was made: after a host restart the pid may belong to someone else, and an image that
 * is still being made (not yet mounted) belongs to its live maker all the same.
 */
import { readFile, stat } from "node:fs/promises";
import { SPARE_PREFIX } from "./spare-workspaces";

/** Linux reports process start times in clock ticks of 1/100 s (USER_HZ) on every mainstream architecture. */
const USER_HZ = 100;

/** The pid in a spare's name (`shellroom-spare-<pid, base 36>-...`), or NaN. */
export function spareOwner(name: string): number {
  return parseInt(name.slice(SPARE_PREFIX.length).split("-")[0] ?? "", 36);
}

/** When the process started (ms since the epoch), or null when there is no such process. */
export async function processStartedAt(pid: number): Promise<number | null> {
  try {
    const [statText, procStat] = await Promise.all([readFile(`/proc/${pid}/stat`, "utf8"), readFile("/proc/stat", "utf8")]);
    // Field 22 (starttime); the name in parentheses may hold spaces, so count from its closing one.
    const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(procStat)?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(bootSeconds) ? bootSeconds * 1000 + (ticks / USER_HZ) * 1000 : null;
  } catch {
    return null;
  }
}

/** True while the process named in the spare's name holds `imagePath` (see above). */
export async function ownerHolds(name: string, imagePath: string): Promise<boolean> {
  const pid = spareOwner(name);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const [startedAt, image] = await Promise.all([processStartedAt(pid), stat(imagePath).catch(() => null)]);
  if (startedAt === null) return false;
  // Gone already (its maker took or discarded it): nothing to decide. Started within the second: tick rounding.
  return !image || startedAt <= image.mtimeMs + 1000;
}
