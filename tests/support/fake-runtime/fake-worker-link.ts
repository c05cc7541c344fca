/**
 * The server's link to its workers (server/workers/worker-link.ts), for the fast tier: each
 * request is served by a worker's EnvironmentManager on the fake runtime, answered as the
 * worker answers (runtime-worker/worker.ts: `{ ok: true, ...result }`, or `{ ok: false, error }`).
 * Only the requests the server's rules under test send are served; another is an error.
 */
import { ServerToWorker, type WorkerReply } from "../../../protocol/worker-messages";
import type { EnvironmentManager } from "../../../runtime-worker/environments";
import { WorkerUnavailableError } from "../../../server/workers/worker-link";

type Handler = (manager: EnvironmentManager, payload: never) => Promise<object | void>;

const HANDLERS: Record<string, Handler> = {
  [ServerToWorker.listEnvironments]: async (manager) => ({ environments: await manager.list() }),
  [ServerToWorker.removeEnvironment]: (
    manager,
    { environmentId, removeVolume, volumeName }: { environmentId: string; removeVolume: boolean; volumeName?: string | null },
  ) => manager.remove(environmentId, removeVolume, volumeName),
};

export class FakeWorkerLink {
  private readonly workers = new Map<string, EnvironmentManager>();
  /** Every request sent, in order. */
  readonly sent: Array<{ workerId: string; event: string; payload: unknown }> = [];

  connect(workerId: string, manager: EnvironmentManager) {
    this.workers.set(workerId, manager);
  }

  async request<R extends WorkerReply<object>>(workerId: string, event: string, payload: unknown): Promise<R> {
    this.sent.push({ workerId, event, payload });
    const manager = this.workers.get(workerId);
    if (!manager) throw new WorkerUnavailableError(workerId);
    const handler = HANDLERS[event];
    if (!handler) throw new Error(`fake worker link: ${event} is not served here`);
    try {
      return { ok: true, ...(await handler(manager, payload as never)) } as R;
    } catch (error) {
      return { ok: false, error: (error as Error).message } as R;
    }
  }
}
