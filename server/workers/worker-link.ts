/**
 * How the server reaches workers: each worker socket sits in the room `worker:<id>`, and
 * requests are emitted to that room with an acknowledgement. With the Redis adapter the
 * room spans server replicas, so any replica can reach any worker.
 */
import type { Namespace } from "socket.io";
import type { WorkerReply } from "../../protocol/worker-messages";

export const workerRoom = (workerId: string) => `worker:${workerId}`;

export class WorkerUnavailableError extends Error {
  override name = "WorkerUnavailableError";
}

export class WorkerLink {
  constructor(private readonly namespace: Namespace) {}

  /** Sends a request and waits for the worker's reply; throws when no worker answers. */
  async request<R extends WorkerReply<object>>(workerId: string, event: string, payload: unknown, timeoutMs = 30_000): Promise<R> {
    let replies: R[];
    try {
      replies = (await this.namespace.to(workerRoom(workerId)).timeout(timeoutMs).emitWithAck(event, payload)) as R[];
    } catch {
      throw new WorkerUnavailableError(`Worker ${workerId} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    }
    const reply = replies[0];
    if (!reply) throw new WorkerUnavailableError(`Worker ${workerId} is not connected.`);
    return reply;
  }

  /**
   * Fire-and-forget (keystrokes, resizes): latency matters more than a reply. A worker
   * connected to this replica gets it directly; only otherwise does it cross Redis.
   */
  send(workerId: string, event: string, payload: unknown) {
    const local = this.localSocket(workerId);
    if (local) local.emit(event, payload);
    else this.namespace.to(workerRoom(workerId)).emit(event, payload);
  }

  /** A request on the keystroke path (input with its acknowledgement): direct when the worker is local. */
  async requestDirect<R extends WorkerReply<object>>(workerId: string, event: string, payload: unknown, timeoutMs: number): Promise<R> {
    const local = this.localSocket(workerId);
    if (!local) return this.request<R>(workerId, event, payload, timeoutMs);
    try {
      return (await local.timeout(timeoutMs).emitWithAck(event, payload)) as R;
    } catch {
      throw new WorkerUnavailableError(`Worker ${workerId} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    }
  }

  private localSocket(workerId: string) {
    const localIds = this.namespace.adapter.rooms.get(workerRoom(workerId));
    return localIds ? [...localIds].map((id) => this.namespace.sockets.get(id)).find((socket) => socket?.connected) : undefined;
  }
}
