/**
 * How the server reaches workers: each worker socket sits in the room `worker:<id>`, and
 * requests are emitted to that room with an acknowledgement. With the Redis adapter the
 * room spans server replicas, so any replica can reach any worker. Every request names its
 * contract (protocol/worker-contract.ts): the payload is typed by it and the reply read with
 * it, so a reply that does not parse is the coded failure `malformed_reply`, logged once
 * per event and minute with what was wrong.
 */
import type { Namespace } from "socket.io";
import { readReply, type MalformedReport, type ReplyOf, type RequestContract, type RequestOf } from "../../protocol/contract";

export const workerRoom = (workerId: string) => `worker:${workerId}`;

export class WorkerUnavailableError extends Error {
  override name = "WorkerUnavailableError";
  readonly code = "worker_unavailable";
}

export class WorkerLink {
  constructor(
    private readonly namespace: Namespace,
    /** Where malformed replies are told (the server's log, throttled). */
    private readonly report: MalformedReport = () => undefined,
  ) {}

  /** Sends a request and reads the worker's reply; throws WorkerUnavailableError when no worker answers. */
  async request<C extends RequestContract>(workerId: string, contract: C, payload: RequestOf<C>, timeoutMs = 30_000): Promise<ReplyOf<C>> {
    let replies: unknown[];
    try {
      replies = (await this.namespace.to(workerRoom(workerId)).timeout(timeoutMs).emitWithAck(contract.event, payload)) as unknown[];
    } catch {
      throw new WorkerUnavailableError(`Worker ${workerId} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    }
    if (replies.length === 0) throw new WorkerUnavailableError(`Worker ${workerId} is not connected.`);
    return readReply(contract, replies[0], this.report);
  }

  /**
   * Fire-and-forget (resizes, a build's cancel): latency matters more than a reply. A worker
   * connected to this replica gets it directly; only otherwise does it cross Redis.
   */
  send<C extends RequestContract>(workerId: string, contract: C, payload: RequestOf<C>) {
    const local = this.localSocket(workerId);
    if (local) local.emit(contract.event, payload);
    else this.namespace.to(workerRoom(workerId)).emit(contract.event, payload);
  }

  /** A request on the keystroke path (input with its acknowledgement): direct when the worker is local. */
  async requestDirect<C extends RequestContract>(workerId: string, contract: C, payload: RequestOf<C>, timeoutMs: number): Promise<ReplyOf<C>> {
    const local = this.localSocket(workerId);
    if (!local) return this.request(workerId, contract, payload, timeoutMs);
    let raw: unknown;
    try {
      raw = await local.timeout(timeoutMs).emitWithAck(contract.event, payload);
    } catch {
      throw new WorkerUnavailableError(`Worker ${workerId} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
    }
    return readReply(contract, raw, this.report);
  }

  /** The worker's socket when it is connected to this replica (byte streams need it: worker-streams.ts). */
  connectedHere(workerId: string) {
    return this.localSocket(workerId);
  }

  private localSocket(workerId: string) {
    const localIds = this.namespace.adapter.rooms.get(workerRoom(workerId));
    return localIds ? [...localIds].map((id) => this.namespace.sockets.get(id)).find((socket) => socket?.connected) : undefined;
  }
}
