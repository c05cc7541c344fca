/**
 * Bytes between the server and its workers (workspace tarballs, image archives, previews), over
 * the worker's own socket with flow control (protocol/byte-stream.ts). Its chunks travel on that
 * one socket, never across Redis: a worker connected to another replica is reached through that
 * replica (replica-relay.ts).
 */
import type { Readable } from "node:stream";
import type { Socket } from "socket.io";
import { newStreamId, StreamError, TUNNEL_IDLE_MS } from "../../protocol/byte-stream";
import { readReply, type MalformedReport, type ReplyOf, type RequestContract, type RequestOf } from "../../protocol/contract";
import { StreamLink } from "../../protocol/stream-link";
import { WorkerUnavailableError, type WorkerLink } from "./worker-link";
import type { ReplicaRelay } from "./replica-relay";

/** How long a worker may take to say whether it will send what was asked. */
const OPEN_TIMEOUT_MS = 30_000;
/** How long an upload may take in all, by default (an image archive of a few hundred MiB). */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

type StreamPayload<C extends RequestContract> = Omit<RequestOf<C>, "streamId">;
type TunnelPayload<C extends RequestContract> = Omit<RequestOf<C>, "streamId" | "uploadStreamId">;

export class WorkerStreams {
  private readonly links = new Map<string, StreamLink>();
  /** How a worker connected to another replica is reached (none for a single server). */
  private relay?: ReplicaRelay;

  constructor(
    private readonly workers: WorkerLink,
    private readonly report: MalformedReport = () => undefined,
  ) {}

  /** The worker gateway hands over each admitted worker socket. */
  attach(socket: Socket) {
    this.links.set(socket.id, new StreamLink(socket, this.report));
    socket.once("disconnect", () => this.links.delete(socket.id));
  }

  useRelay(relay: ReplicaRelay) {
    this.relay = relay;
  }

  /** Whether a worker connected to another replica is reached (through it). */
  reachesOtherReplicas() {
    return this.relay !== undefined;
  }

  /** Whether the worker's socket is on this replica (else its streams go through the relay). */
  holds(workerId: string) {
    const socket = this.workers.connectedHere(workerId);
    return socket !== undefined && this.links.has(socket.id);
  }

  /** Bytes from the worker (downloadHere), wherever it is connected. */
  download<C extends RequestContract>(workerId: string, contract: C, payload: StreamPayload<C>): Promise<Readable> {
    return this.relay && !this.holds(workerId) ? this.relay.download(workerId, contract, payload) : this.downloadHere(workerId, contract, payload);
  }

  /** Bytes to the worker (uploadHere), wherever it is connected. */
  upload<C extends RequestContract>(
    workerId: string,
    contract: C,
    payload: StreamPayload<C>,
    source: Readable,
    timeoutMs = UPLOAD_TIMEOUT_MS,
  ): Promise<ReplyOf<C>> {
    return this.relay && !this.holds(workerId)
      ? this.relay.upload(workerId, contract, payload, source, timeoutMs)
      : this.uploadHere(workerId, contract, payload, source, timeoutMs);
  }

  /** A tunnel (tunnelHere), wherever the worker is connected. */
  tunnel<C extends RequestContract>(workerId: string, contract: C, payload: TunnelPayload<C>, source: Readable): Promise<Readable> {
    return this.relay && !this.holds(workerId) ? this.relay.tunnel(workerId, contract, payload, source) : this.tunnelHere(workerId, contract, payload, source);
  }

  /**
   * Asks the worker for bytes. Resolves once the worker agreed, with the bytes as a Readable
   * (which errors with a StreamError if the stream breaks; destroying it cancels the worker's
   * side). Rejects with a StreamError carrying the worker's code when it refuses.
   */
  async downloadHere<C extends RequestContract>(workerId: string, contract: C, payload: StreamPayload<C>): Promise<Readable> {
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
  async uploadHere<C extends RequestContract>(
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

  /**
   * A tunnel: a download and an upload paired (a preview's connection). Resolves once the worker
   * agreed, with its bytes as a Readable; `source` is sent from then on. Either direction may
   * rest for TUNNEL_IDLE_MS; destroying the Readable or ending `source` ends the worker's side.
   */
  async tunnelHere<C extends RequestContract>(workerId: string, contract: C, payload: TunnelPayload<C>, source: Readable): Promise<Readable> {
    const { socket, link } = this.local(workerId);
    const streamId = newStreamId();
    const uploadStreamId = newStreamId();
    const receiver = link.receive(streamId, TUNNEL_IDLE_MS);
    let reply: { ok: true } | { ok: false; code: string; error: string };
    try {
      reply = (await this.ask(socket, contract, { ...payload, streamId, uploadStreamId } as RequestOf<C>, OPEN_TIMEOUT_MS)) as typeof reply;
    } catch (error) {
      receiver.fail(new StreamError("worker_unavailable", (error as Error).message));
      source.destroy();
      throw error;
    }
    if (!reply.ok) {
      const refused = new StreamError(reply.code, reply.error);
      receiver.fail(refused);
      source.destroy();
      throw refused;
    }
    // The worker opened its receiver before it replied: the first chunk finds it.
    link.send(uploadStreamId, source).catch(() => undefined);
    return receiver.readable;
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
