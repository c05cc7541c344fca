/**
 * Byte streams to a worker connected to another server replica. A worker's socket is on one
 * replica, and a stream's chunks never cross Redis: the replica that lacks the worker asks the
 * others over the socket.io adapter which one holds it, then opens the stream through that one
 * with an HTTP upgrade between replicas whose first frame is the signed request. The holder runs the stream as its own
 * (worker-streams.ts) and both ends carry the bytes in frames (relay-frames.ts). Only the
 * stream requests below can be relayed, and only a replica that knows the workers' secret can
 * ask: the replica that asks has already decided the person may see what it asks for.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { Readable, type Duplex } from "node:stream";
import type { Namespace } from "socket.io";
import { z } from "zod";
import type { Logger } from "../../common/logger";
import { StreamError } from "../../protocol/byte-stream";
import { readReply, type MalformedReport, type ReplyOf, type RequestContract } from "../../protocol/contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import { FrameReader, FrameType, jsonFrame, parseJsonFrame, readableOfFrames, sendAsFrames } from "./relay-frames";
import { WorkerUnavailableError } from "./worker-unavailable";

/** Where a replica takes relayed streams (an upgrade; anything else there is refused). */
export const RELAY_PATH = "/internal/worker-relay";
const RELAY_PROTOCOL = "shellroom-relay";
/** Asked of the other replicas over the adapter: the URL of the one holding a worker's socket. */
const HOLDER_EVENT = "relay:holder";
/** A signed request older (or newer) than this is refused; within it, each nonce is taken once. */
const SIGNATURE_WINDOW_MS = 60_000;
/** How long a replica waits for the other's connection, and for the request on it. */
const CONNECT_TIMEOUT_MS = 10_000;
/** A request frame is a spec at most (its setup script is the largest part: 64 KiB, more once escaped in JSON). */
const MAX_REQUEST_BYTES = 512 * 1024;

/** The streams a replica relays, by kind: nothing else can be asked of a worker this way. */
const RELAYABLE: Record<RelayKind, readonly RequestContract[]> = {
  download: [WorkerRequests.exportWorkspace, WorkerRequests.saveImage],
  upload: [WorkerRequests.importWorkspace, WorkerRequests.loadImage],
  tunnel: [WorkerRequests.openPreview],
};
type RelayKind = "download" | "upload" | "tunnel";

const RelayRequest = z.object({
  kind: z.enum(["download", "upload", "tunnel"]),
  workerId: z.string().min(1).max(200),
  event: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3_600_000)
    .optional(),
  at: z.number(),
  nonce: z.string().regex(/^[a-f0-9]{32}$/),
});
type RelayRequest = z.infer<typeof RelayRequest>;

const SignedRequest = z.object({ body: z.string().max(MAX_REQUEST_BYTES), signature: z.string().regex(/^[a-f0-9]{64}$/) });

/** How a stream opened, or why not: the holder's answer in the first frame. */
const Opened = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), code: z.string().max(100), error: z.string().max(2000), unavailable: z.boolean().optional() }),
]);
/** An upload's last frame: the worker's reply, or why there is none. */
const Uploaded = z.union([z.object({ unavailable: z.string().max(2000) }), z.object({ reply: z.unknown() })]);

/** What the holder does with a relayed stream: the same calls, on a worker connected to it. */
export interface StreamsHere {
  downloadHere(workerId: string, contract: RequestContract, payload: object): Promise<Readable>;
  uploadHere(workerId: string, contract: RequestContract, payload: object, source: Readable, timeoutMs?: number): Promise<unknown>;
  tunnelHere(workerId: string, contract: RequestContract, payload: object, source: Readable): Promise<Readable>;
}

/** The key relay requests are signed with: derived from the workers' secret, never the secret itself. */
export const relayKey = (secret: string) => createHmac("sha256", secret).update("shellroom replica relay v1").digest();

export class ReplicaRelay {
  /** This replica's address as the others reach it; set once it listens. */
  selfUrl?: string;
  private readonly key: Buffer;
  private readonly seenNonces = new Map<string, number>();

  constructor(
    private readonly workers: Namespace,
    secret: string,
    private readonly here: StreamsHere,
    private readonly holds: (workerId: string) => boolean,
    private readonly log: Logger,
    private readonly report: MalformedReport = () => undefined,
    /** Counts each stream relayed, on the side that asked and on the side that served it. */
    private readonly record: (side: "asked" | "served", kind: RelayKind, outcome: "opened" | "refused" | "unavailable" | "forbidden") => void = () => undefined,
  ) {
    this.key = relayKey(secret);
    // The other replicas ask who holds a worker; only the holder answers with its address.
    workers.on(HOLDER_EVENT, (workerId: unknown, answer: unknown) => {
      if (typeof answer !== "function") return;
      const parsed = z.string().max(200).safeParse(workerId);
      (answer as (url: string | null) => void)(parsed.success && this.selfUrl && this.holds(parsed.data) ? this.selfUrl : null);
    });
  }

  // ---- the asking replica's side ----

  async download<C extends RequestContract>(workerId: string, contract: C, payload: object): Promise<Readable> {
    const { frames, socket } = await this.accepted("download", workerId, contract, payload);
    return readableOfFrames(frames, socket, () => socket.destroy());
  }

  async upload<C extends RequestContract>(workerId: string, contract: C, payload: object, source: Readable, timeoutMs?: number): Promise<ReplyOf<C>> {
    const { frames, socket } = await this.accepted("upload", workerId, contract, payload, source, timeoutMs);
    void sendAsFrames(source, socket, { endConnection: false });
    const last = await frames.next();
    socket.destroy();
    source.destroy();
    const uploaded = last?.type === FrameType.reply ? Uploaded.safeParse(parseJsonFrame(last.payload)) : null;
    if (!uploaded?.success) throw new WorkerUnavailableError(`The replica holding worker ${workerId} broke off the upload.`);
    if ("unavailable" in uploaded.data) throw new WorkerUnavailableError(uploaded.data.unavailable);
    return readReply(contract, uploaded.data.reply, this.report);
  }

  async tunnel<C extends RequestContract>(workerId: string, contract: C, payload: object, source: Readable): Promise<Readable> {
    const { frames, socket } = await this.accepted("tunnel", workerId, contract, payload, source);
    void sendAsFrames(source, socket, { endConnection: false });
    return readableOfFrames(frames, socket, () => {
      source.destroy();
      socket.destroy();
    });
  }

  /** The connection once the holder took the stream; on any refusal the bytes to send are dropped. */
  private async accepted(kind: RelayKind, workerId: string, contract: RequestContract, payload: object, source?: Readable, timeoutMs?: number) {
    try {
      const connection = await this.open(kind, workerId, contract, payload, timeoutMs);
      await this.opened(connection.frames, connection.socket);
      this.record("asked", kind, "opened");
      return connection;
    } catch (error) {
      this.record("asked", kind, error instanceof WorkerUnavailableError ? "unavailable" : "refused");
      source?.destroy();
      throw error;
    }
  }

  /** The holder's answer to the open: throws what the local call would have thrown. */
  private async opened(frames: FrameReader, socket: Duplex) {
    const first = await frames.next();
    const opened = first?.type === FrameType.reply ? Opened.safeParse(parseJsonFrame(first.payload)) : null;
    if (opened?.success && opened.data.ok) return;
    socket.destroy();
    if (!opened?.success) throw new WorkerUnavailableError("The replica holding the worker broke off the stream.");
    if (opened.data.ok) return;
    throw opened.data.unavailable ? new WorkerUnavailableError(opened.data.error) : new StreamError(opened.data.code, opened.data.error);
  }

  /** Finds the worker's replica, opens an upgrade to it and sends the signed request. */
  private async open(kind: RelayKind, workerId: string, contract: RequestContract, payload: object, timeoutMs?: number) {
    const holder = new URL(RELAY_PATH, await this.holderOf(workerId));
    const request: RelayRequest = {
      kind,
      workerId,
      event: contract.event,
      payload: payload as Record<string, unknown>,
      timeoutMs,
      at: Date.now(),
      nonce: randomBytes(16).toString("hex"),
    };
    const body = JSON.stringify(request);
    const { socket, head } = await new Promise<{ socket: Duplex; head: Buffer }>((resolve, reject) => {
      const asked = (holder.protocol === "https:" ? https : http).request(holder, { headers: { connection: "Upgrade", upgrade: RELAY_PROTOCOL } });
      const unreachable = (why: string) => new WorkerUnavailableError(`The replica holding worker ${workerId} could not be reached: ${why}`);
      const timer = setTimeout(() => asked.destroy(new Error("no answer in time")), CONNECT_TIMEOUT_MS);
      asked.once("upgrade", (_response, upgraded, head) => {
        clearTimeout(timer);
        resolve({ socket: upgraded, head });
      });
      asked.once("response", (response) => {
        clearTimeout(timer);
        response.resume();
        reject(unreachable(`it answered ${response.statusCode}`));
      });
      asked.once("error", (error) => {
        clearTimeout(timer);
        reject(unreachable(error.message));
      });
      asked.end();
    });
    socket.on("error", () => undefined);
    socket.write(jsonFrame(FrameType.request, { body, signature: this.sign(body) }));
    return { frames: new FrameReader(socket, head), socket };
  }

  private async holderOf(workerId: string): Promise<string> {
    // The callback form: a replica that does not answer in time still leaves the others' answers.
    const answers = await new Promise<unknown[]>((resolve) =>
      this.workers.serverSideEmit(HOLDER_EVENT, workerId, (_late: Error | null, replies: unknown[] | undefined) => resolve(replies ?? [])),
    );
    const holder = answers.find((answer): answer is string => typeof answer === "string" && /^https?:\/\//.test(answer));
    if (!holder) throw new WorkerUnavailableError(`Worker ${workerId} is not connected to any server replica.`);
    return holder;
  }

  private sign(body: string) {
    return createHmac("sha256", this.key).update(body).digest("hex");
  }

  // ---- the holding replica's side ----

  /**
   * An upgrade on RELAY_PATH. Its first frame is the request: a signed one for a relayable
   * stream runs that stream here; anything else is answered `forbidden` and the connection ends.
   */
  async serve(_req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on("error", () => undefined);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${RELAY_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`);
    const frames = new FrameReader(socket, head);
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    const first = await frames.next();
    clearTimeout(timer);
    const request = first?.type === FrameType.request ? this.verify(first.payload) : null;
    const contract = request && RELAYABLE[request.kind].find((relayable) => relayable.event === request.event);
    if (!request || !contract) {
      this.record("served", request?.kind ?? "download", "forbidden");
      socket.end(jsonFrame(FrameType.reply, { ok: false, code: "forbidden", error: "This is not a relay request this replica takes." }));
      return;
    }
    const log = this.log.child({ workerId: request.workerId, event: request.event });
    try {
      if (request.kind === "download") await this.serveDownload(request, contract, socket);
      else if (request.kind === "upload") await this.serveUpload(request, contract, frames, socket);
      else await this.serveTunnel(request, contract, frames, socket);
    } catch (error) {
      log.warn({ err: (error as Error).message }, "a relayed stream failed");
      socket.destroy();
    }
  }

  private async serveDownload(request: RelayRequest, contract: RequestContract, socket: Duplex) {
    const bytes = await this.openHere("download", socket, () => this.here.downloadHere(request.workerId, contract, request.payload));
    if (bytes) void sendAsFrames(bytes, socket, { endConnection: true });
  }

  private async serveUpload(request: RelayRequest, contract: RequestContract, frames: FrameReader, socket: Duplex) {
    // Taken: the bytes may come (the worker's own refusal, if any, is its reply at the end).
    socket.write(jsonFrame(FrameType.reply, { ok: true }));
    const source = readableOfFrames(frames, socket, () => socket.destroy());
    let answer: z.input<typeof Uploaded>;
    try {
      answer = { reply: await this.here.uploadHere(request.workerId, contract, request.payload, source, request.timeoutMs) };
      this.record("served", "upload", "opened");
    } catch (error) {
      answer = { unavailable: (error as Error).message.slice(0, 2000) };
      this.record("served", "upload", "unavailable");
    }
    socket.end(jsonFrame(FrameType.reply, answer));
  }

  private async serveTunnel(request: RelayRequest, contract: RequestContract, frames: FrameReader, socket: Duplex) {
    const source = readableOfFrames(frames, socket, () => socket.destroy());
    const bytes = await this.openHere("tunnel", socket, () => this.here.tunnelHere(request.workerId, contract, request.payload, source));
    if (bytes) void sendAsFrames(bytes, socket, { endConnection: true });
    else source.destroy();
  }

  /** Opens the stream here and tells the asking replica how that went; the bytes when it did. */
  private async openHere(kind: RelayKind, socket: Duplex, open: () => Promise<Readable>): Promise<Readable | null> {
    try {
      const bytes = await open();
      this.record("served", kind, "opened");
      socket.write(jsonFrame(FrameType.reply, { ok: true }));
      // The asking side went away: the worker's side is cancelled with it.
      socket.once("close", () => bytes.destroy());
      return bytes;
    } catch (error) {
      const refused =
        error instanceof StreamError
          ? { ok: false, code: error.code, error: error.message }
          : { ok: false, code: "worker_unavailable", error: (error as Error).message, unavailable: true };
      this.record("served", kind, refused.unavailable ? "unavailable" : "refused");
      socket.end(jsonFrame(FrameType.reply, refused));
      return null;
    }
  }

  /** The request when its signature holds, it is recent and its nonce is new; else null. */
  private verify(payload: Buffer): RelayRequest | null {
    const signed = SignedRequest.safeParse(parseJsonFrame(payload));
    if (!signed.success) return null;
    const expected = Buffer.from(this.sign(signed.data.body), "hex");
    if (!timingSafeEqual(Buffer.from(signed.data.signature, "hex"), expected)) return null;
    const parsed = RelayRequest.safeParse(parseJsonFrame(Buffer.from(signed.data.body)));
    if (!parsed.success) return null;
    const now = Date.now();
    if (Math.abs(now - parsed.data.at) > SIGNATURE_WINDOW_MS) return null;
    for (const [nonce, at] of this.seenNonces) if (now - at > SIGNATURE_WINDOW_MS * 2) this.seenNonces.delete(nonce);
    if (this.seenNonces.has(parsed.data.nonce)) return null;
    this.seenNonces.set(parsed.data.nonce, now);
    return parsed.data;
  }
}
