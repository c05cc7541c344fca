/**
 * `worker <list | cordon | uncordon | drain> [<worker id>]`: an operator's cordon and drain
 * from the command line (the admin page does the same). Placement reads the record at once,
 * on every server replica.
 */
import type { WorkerScheduling } from "../../generated/prisma/client";
import type { Database } from "../database/client";
import { setWorkerScheduling, workerOverview } from "../workers/worker-scheduling";

const ACTIONS: Record<string, { to: WorkerScheduling; said: string }> = {
  cordon: { to: "CORDONED", said: "cordoned: no new environment will be placed there; its own still start there" },
  uncordon: { to: "OPEN", said: "open: placement may choose it again" },
  drain: { to: "DRAINING", said: "draining: nothing new goes there, and each of its environments moves to another worker, files included, at its next start" },
};

export const WORKER_USAGE = "worker <list | cordon <id> | uncordon <id> | drain <id>>";

/** Runs the command; the lines to print. */
export async function workerCommand(db: Database, args: string[]): Promise<string[]> {
  const [action, workerId] = args;
  if (action === "list") {
    return (await workerOverview(db)).map(
      (worker) =>
        `${worker.id}  ${worker.status}  ${worker.scheduling}  running ${worker.runningEnvironments}/${worker.maxEnvironments}  environments ${worker.environments}  last heartbeat ${worker.lastHeartbeatAt.toISOString()}`,
    );
  }
  const chosen = action ? ACTIONS[action] : undefined;
  if (!chosen || !workerId) throw new Error(`usage: ${WORKER_USAGE}`);
  const { from } = await setWorkerScheduling(db, workerId, chosen.to);
  return [`Worker ${workerId} was ${from}; now ${chosen.said}.`];
}
