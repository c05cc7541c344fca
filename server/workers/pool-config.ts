/** Tells one worker which warm pools to keep (the sizes come from class-preparation.ts's plan). */
import type { ConfigurePools } from "../../protocol/worker-messages";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { WorkerLink } from "./worker-link";

/** True when the worker took the configuration; a refusal or a lost link says why. */
export async function sendPoolConfiguration(
  workers: WorkerLink,
  workerId: string,
  config: ConfigurePools,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const reply = await workers
    .request(workerId, WorkerRequests.configurePools, config, 30_000)
    .catch((error: Error) => ({ ok: false as const, error: error.message }));
  return reply.ok ? { ok: true } : { ok: false, error: reply.error };
}
