"use client";
/**
 * The live room's push channel: joins the course's staff room on the /terminal socket and
 * calls `onChange` (debounced) whenever the server says something in the room changed.
 * The page still polls, so a lost socket only makes it slower, never wrong.
 */
import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import { TERMINAL_NAMESPACE } from "../../../../protocol/browser-messages";
import { BrowserRequests, ServerPushes, type BulkActionProgress } from "../../../../protocol/browser-contract";
import { readPush, readReplyTo } from "../../../components/terminal-messages";
import { WIRE_PARSER } from "../../../../protocol/wire-parser";

/** A burst of changes (a whole class pressing Check) becomes one refetch. */
const DEBOUNCE_MS = 300;
/** A join that is not acknowledged by then counts as no push channel (the poll carries on). */
const JOIN_TIMEOUT_MS = 5000;

export type NudgeState = { kind: "connecting" } | { kind: "live" } | { kind: "offline"; reason?: string };

/** `onBulkProgress`: each step of an action on everyone, as the server reports it (not debounced). */
export function useRoomNudges(courseId: string, onChange: () => void, onBulkProgress?: (progress: BulkActionProgress) => void): NudgeState {
  const [state, setState] = useState<NudgeState>({ kind: "connecting" });
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);
  const onBulkRef = useRef(onBulkProgress);
  useEffect(() => {
    onBulkRef.current = onBulkProgress;
  }, [onBulkProgress]);

  useEffect(() => {
    let disposed = false;
    let socket: Socket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    // socket.io touches `window`: load it in the browser only.
    void import("socket.io-client").then(({ io }) => {
      if (disposed) return;
      socket = io(TERMINAL_NAMESPACE, { path: "/socket.io", transports: ["websocket"], parser: WIRE_PARSER, withCredentials: true });
      socket.on("connect", () => {
        socket?.timeout(JOIN_TIMEOUT_MS).emit(BrowserRequests.joinRoom.event, { courseId }, (timedOut: Error | null, raw?: unknown) => {
          if (disposed) return;
          if (timedOut) return setState({ kind: "offline" });
          const reply = readReplyTo(BrowserRequests.joinRoom, raw);
          setState(reply.ok ? { kind: "live" } : { kind: "offline", reason: reply.error });
          // Whatever happened while we were away.
          if (reply.ok) onChangeRef.current();
        });
      });
      socket.on("disconnect", () => {
        if (!disposed) setState({ kind: "offline" });
      });
      socket.on("connect_error", () => {
        if (!disposed) setState({ kind: "offline" });
      });
      socket.on(ServerPushes.bulkProgress.event, (raw: unknown) => {
        const message = readPush(ServerPushes.bulkProgress, raw);
        if (message?.courseId === courseId) onBulkRef.current?.(message);
      });
      socket.on(ServerPushes.roomChanged.event, (raw: unknown) => {
        const message = readPush(ServerPushes.roomChanged, raw);
        if (message?.courseId !== courseId) return;
        clearTimeout(timer);
        timer = setTimeout(() => onChangeRef.current(), DEBOUNCE_MS);
      });
    });

    return () => {
      disposed = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [courseId]);

  return state;
}
