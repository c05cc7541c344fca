/**
 * The server's link to its workers (server/workers/worker-link.ts), for the fast tier: each
 * request is served by a worker's EnvironmentManager on the fake runtime, and both ends keep
 * the contract as the real ones do (protocol/worker-contract.ts): the request is read as the
 * worker reads it, the reply as the server reads it (`{ ok: true, ...result }`, or a coded
 * failure). Only the requests the server's rules under test send are served; another is an error.
 */
import { readReply, readRequest, type ReplyOf, type RequestContract, type RequestOf } from "../../../protocol/contract";
import { WorkerRequests } from "../../../protocol/worker-contract";
import type { EnvironmentManager } from "../../../runtime-worker/environments";
import { WorkerRequestError } from "../../../runtime-worker/request-error";
import { WorkerUnavailableError } from "../../../server/workers/worker-link";

type Handler = (manager: EnvironmentManager, payload: never) => Promise<object | void>;

const HANDLERS: Record<string, Handler> = {
  [WorkerRequests.listEnvironments.event]: async (manager) => ({ environments: await manager.list() }),
  [WorkerRequests.removeEnvironment.event]: (
    manager,
    { environmentId, removeVolume, volumeName }: { environmentId: string; removeVolume: boolean; volumeName: string | null },
  ) => manager.remove(environmentId, removeVolume, volumeName),
};

export class FakeWorkerLink {
  private readonly workers = new Map<string, EnvironmentManager>();
  /** Every request sent, in order. */
  readonly sent: Array<{ workerId: string; event: string; payload: unknown }> = [];

  connect(workerId: string, manager: EnvironmentManager) {
    this.workers.set(workerId, manager);
  }

  async request<C extends RequestContract>(workerId: string, contract: C, payload: RequestOf<C>): Promise<ReplyOf<C>> {
    const { event } = contract;
    this.sent.push({ workerId, event, payload });
    const manager = this.workers.get(workerId);
    if (!manager) throw new WorkerUnavailableError(workerId);
    const handler = HANDLERS[event];
    if (!handler) throw new Error(`fake worker link: ${event} is not served here`);
    const parsed = readRequest(contract, payload);
    const reply = !parsed.ok
      ? { ok: false, code: "invalid_request", error: `invalid ${event}: ${parsed.issues}` }
      : await handler(manager, parsed.data as never).then(
          (result) => ({ ok: true, ...result }),
          (error: Error) => ({ ok: false, code: error instanceof WorkerRequestError ? error.code : "failed", error: error.message }),
        );
    return readReply(contract, reply, (what, issues) => {
      throw new Error(`fake worker link: the reply to ${what} broke its contract (${issues})`);
    });
  }
}
