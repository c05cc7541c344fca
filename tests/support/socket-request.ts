import type { Socket } from "socket.io-client";

/** A missing answer fails the test quickly instead of hanging it. */
const REPLY_TIMEOUT_MS = 20_000;

/** Emits with an acknowledgement; rejects when none comes. */
export const request = <R>(socket: Socket, event: string, payload: unknown) => socket.timeout(REPLY_TIMEOUT_MS).emitWithAck(event, payload) as Promise<R>;
