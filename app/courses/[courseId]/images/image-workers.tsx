/** Where an image stands on each worker: built, being built or copied there (a worker that joined later), or failed and when it is tried again. */
import { ImageStatusBadge } from "../image-status";
import { formatWhen } from "../authoring-utils";

export interface ImageOnWorker {
  workerId: string;
  status: "READY" | "BUILDING" | "TRANSFERRING" | "FAILED";
  log: string;
  error: string | null;
  retryAt: string | Date | null;
  updatedAt: string | Date;
  worker: { name: string; status: "ONLINE" | "OFFLINE" | "LOST" };
}

export function ImageWorkers({ workers }: { workers: ImageOnWorker[] }) {
  return (
    <section className="card section-gap" aria-labelledby="workers-heading">
      <div className="section-head">
        <h2 id="workers-heading">On the workers</h2>
      </div>
      {workers.length === 0 ? (
        <p className="muted small">No worker has reported this image yet.</p>
      ) : (
        <table className="table" data-testid="image-workers">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Status</th>
              <th scope="col">Last news</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((row) => (
              <tr key={row.workerId} data-worker={row.workerId}>
                <td>
                  {row.worker.name}
                  {row.worker.status !== "ONLINE" && <span className="muted small"> ({row.worker.status.toLowerCase()})</span>}
                </td>
                <td>
                  <ImageStatusBadge status={row.status} testId="worker-image-status" />
                </td>
                <td className="small">
                  {formatWhen(row.updatedAt)}
                  {row.status === "FAILED" && row.error && (
                    <>
                      {" "}
                      · {row.error}
                      {row.retryAt && <> · tried again {formatWhen(row.retryAt)}</>}
                    </>
                  )}
                  {row.status !== "READY" && row.log && (
                    <details>
                      <summary>Log</summary>
                      <pre className="build-log">{row.log}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
