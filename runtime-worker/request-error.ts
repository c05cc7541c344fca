/**
 * A refusal the server's code acts on: thrown by the worker's handlers with a code from the
 * contract (protocol/worker-contract.ts), answered as `{ ok: false, code, error }`. Anything
 * else thrown is answered with the code "failed" and its words.
 */
import type { WorkerErrorCode } from "../protocol/worker-contract";

export class WorkerRequestError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
