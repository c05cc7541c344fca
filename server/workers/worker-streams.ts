/**
 * Bytes between the server and its workers (workspace tarballs, image archives), over the
 * worker's own socket with flow control (protocol/byte-stream.ts). A stream needs the worker
 * connected to this replica: its chunks travel on that one socket, never across Redis.
 */
import type { Readable } from "node:stream";
import type { Socket } from "socket.io";
import { newStreamId, StreamError } from "../../protocol/byte-stream";
import { readReply, type MalformedReport, type ReplyOf, type RequestContract, type RequestOf } from "../../protocol/contract";
import { StreamLink } from "../../protocol/stream-link";
import { WorkerUnavailableError, type WorkerLink } from "./worker-link";

/** How long a worker may take to say whether it will send what was asked. */
const OPEN_TIMEOUT_MS = 30_000;
/** How long an upload may take in all, by default (an image archive of a few hundred MiB). */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

type StreamPayload<C extends RequestContract> = Omit<RequestOf<C>, "streamId">;

export class WorkerStreams {
  private readonly links = new Map<string, StreamLink>();

  constructor(
    private readonly workers: WorkerLink,
    private readonly report: MalformedReport = () => undefined,
  ) {}

  /** The worker gateway hands over each admitted worker socket. */
  attach(socket: Socket) {
    this.links.set(socket.id, new StreamLink(socket, this.report));
    socket.once("disconnect", () => this.links.delete(socket.id));
  }

  /**
   * Asks the worker for bytes. Resolves once the worker agreed, with the bytes as a Readable
   * (which errors with a StreamError if the stream breaks; destroying it cancels the worker's
   * side). Rejects with a StreamError carrying the worker's code when it refuses.
   */
  async download<C extends RequestContract>(workerId: string, contract: C, payload: StreamPayload<C>): Promise<Readable> {
    const { socket, link } = this.local(workerId);
    const streamId = newStreamId();
    const receiver = link.receive(streamId);
    // Every worker reply is `{ ok: true, ... }` or a coded failure (protocol/contract.ts).
    const reply = (await this.ask(socket, contract, { ...payload, streamId } as RequestOf<C>, OPEN_TIMEOUT_MS).catch((error: Error) => {
      receiver.fail(new StreamError("worker_unavailable", error.message));
      throw error;
    })) as { ok: true } | { ok: false; code: string; error: string };
    if (!reply.ok) {
      const refused = new StreamError(reply.code, reply.error);
      receiver.fail(refused);
      throw refused;
    }
    return receiver.readable;
  }

  /**
   * Sends bytes to the worker with the request `contract`, and resolves with its reply once it
   * has taken them all (or refused). Throws WorkerUnavailableError when the worker is not
   * connected here or drops.
   */
  async upload<C extends RequestContract>(
    workerId: string,
    contract: C,
    payload: StreamPayload<C>,
    source: Readable,
    timeoutMs = UPLOAD_TIMEOUT_MS,
  ): Promise<ReplyOf<C>> {
    const { socket, link } = this.local(workerId);
    const streamId = newStreamId();
    // The request goes first: the worker opens its receiver on it, before any chunk arrives.
    const answer = this.ask(socket, contract, { ...payload, streamId } as RequestOf<C>, timeoutMs);
    // A worker that refuses stops taking chunks, and the pump stops; its reply says why.
    const sent = link.send(streamId, source).catch(() => undefined);
    try {
      return await answer;
    } finally {
      await sent;
    }
  }

  private local(workerId: string) {
    const socket = this.workers.connectedHere(workerId);
    const link = socket && this.links.get(socket.id);
    if (!socket || !link) throw new WorkerUnavailableError(`Worker ${workerId} is not connected to this server.`);
    return { socket, link };
  }

  /** A request whose wait ends early when the socket drops. */
  private async ask<C extends RequestContract>(socket: Socket, contract: C, payload: RequestOf<C>, timeoutMs: number): Promise<ReplyOf<C>> {
    let onDisconnect = () => undefined as void;
    const dropped = new Promise<never>((_, reject) => {
      onDisconnect = () => reject(new WorkerUnavailableError("The worker disconnected."));
      socket.once("disconnect", onDisconnect);
    });
    try {
      const raw: unknown = await Promise.race([socket.timeout(timeoutMs).emitWithAck(contract.event, payload) as Promise<unknown>, dropped]).catch(
        (error: Error) => {
          throw error instanceof WorkerUnavailableError ? error : new WorkerUnavailableError(`The worker did not answer ${contract.event} in time.`);
        },
      );
      return readReply(contract, raw, this.report);
    } finally {
      socket.off("disconnect", onDisconnect);
    }
  }
}
