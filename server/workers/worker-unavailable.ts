/** No worker answered: it is not connected, or did not answer in time. */
export class WorkerUnavailableError extends Error {
  override name = "WorkerUnavailableError";
  readonly code = "worker_unavailable";
}
