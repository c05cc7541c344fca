/**
 * The worker's side of byte streams (protocol/byte-stream.ts): requests answered with bytes
 * (a download: the worker sends) or carrying bytes (an upload: the worker receives). Each is
 * an ordinary request first, read and answered by `serve` like every other, so refusals carry
 * the same codes.
 */
import type { Readable } from "node:stream";
import { StreamError, type StreamId } from "../protocol/byte-stream";
import type { MalformedReport, ParsedRequestOf, RequestContract, SuccessOf } from "../protocol/contract";
import { StreamLink, type StreamSocket } from "../protocol/stream-link";
import type { Logger } from "../common/logger";
import type { z } from "zod";

/** A request that opens a stream carries its id. */
type StreamRequest = RequestContract<z.ZodType<{ streamId: z.infer<typeof StreamId> }>>;
type Serve = <C extends RequestContract>(contract: C, handler: (input: ParsedRequestOf<C>) => Promise<SuccessOf<C> | void>) => void;

export function workerStreams(socket: StreamSocket, serve: Serve, report: MalformedReport, log: Logger) {
  const link = new StreamLink(socket, report);
  return {
    /** Answers `contract` with the bytes `handler` gives; they are sent once the reply is out. */
    serveDownload<C extends StreamRequest>(contract: C, handler: (request: ParsedRequestOf<C>) => Promise<Readable>) {
      serve(contract, async (request) => {
        const source = await handler(request);
        // After this reply is on the wire: the server opened its receiver before asking.
        setImmediate(() => {
          link.send(request.streamId, source).catch((error: StreamError) => {
            if (error.code !== "cancelled") log.warn({ event: contract.event, code: error.code, err: error.message }, "a stream to the server broke off");
          });
        });
      });
    },

    /** Answers `contract` once `handler` has taken the bytes that come with it. */
    serveUpload<C extends StreamRequest>(contract: C, handler: (request: ParsedRequestOf<C>, source: Readable) => Promise<SuccessOf<C> | void>) {
      serve(contract, async (request) => {
        // Before any await: the chunks follow the request on this socket.
        const receiver = link.receive(request.streamId);
        try {
          return await handler(request, receiver.readable);
        } finally {
          // Whatever the handler left unread is refused, so the server stops sending.
          receiver.fail(new StreamError("cancelled", "the worker stopped reading"));
        }
      });
    },
  };
}

export type WorkerStreamServing = ReturnType<typeof workerStreams>;
