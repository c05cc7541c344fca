/**
 * `worker-token <worker id>`: prints the token a worker host presents as
 * SHELLROOM_WORKER_TOKEN (with the same SHELLROOM_WORKER_ID), derived from the server's
 * SHELLROOM_WORKER_SECRET. Run where the server's configuration is.
 */
import { z } from "zod";
import { WorkerHandshake } from "../../protocol/worker-messages";
import { workerTokenFor } from "../workers/worker-credentials";

export const WORKER_SECRET_MIN_LENGTH = 32;

export function workerTokenCommand(args: string[], env: Record<string, string | undefined> = process.env): string {
  const workerId = WorkerHandshake.shape.workerId.safeParse(args[0]);
  if (!workerId.success) throw new Error("usage: worker-token <worker id>   (letters, digits, _ . -; at most 64 characters)");
  const secret = z.string().min(WORKER_SECRET_MIN_LENGTH).safeParse(env.SHELLROOM_WORKER_SECRET);
  if (!secret.success) throw new Error(`SHELLROOM_WORKER_SECRET must be set (at least ${WORKER_SECRET_MIN_LENGTH} characters), as on the server`);
  return workerTokenFor(secret.data, workerId.data);
}
