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
import { WorkerRequests, type WorkerReplyOf } from "../../protocol/worker-contract";
import type { TerminalInput } from "../../protocol/worker-messages";
import { sendInput } from "./pending-inputs";
import { WorkerUnavailableError } from "./worker-unavailable";

export const workerRoom = (workerId: string) => `worker:${workerId}`;

export { WorkerUnavailableError };

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

  /**
   * Input on the keystroke path. A worker connected to this replica gets it directly and answers
   * inside the terminal's output when the shell echoes soon (pending-inputs.ts); one connected
   * to another replica gets a request through the adapter, answered by acknowledgement.
   */
  async input(workerId: string, input: TerminalInput, timeoutMs: number): Promise<WorkerReplyOf<"terminalInput">> {
    const local = this.localSocket(workerId);
    return local ? sendInput(local, input, timeoutMs, this.report) : this.request(workerId, WorkerRequests.terminalInput, input, timeoutMs);
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
