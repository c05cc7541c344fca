/**
 * The benchmark's browser: a /terminal socket as a page opens it (acking its output, or not, to
 * play a stalled browser), terminal:attach, and one terminal of a socket as a TerminalLink.
 */
import { WIRE_PARSER } from "../../protocol/wire-parser";
import { io, type Socket } from "socket.io-client";
import { BrowserToServer, ServerToBrowser, TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { type AttachReply, type BrowserOutput, type BrowserRepaint } from "../../protocol/browser-contract";
import type { TerminalLink } from "./terminal-link";

export const TERMINAL_SIZE = { cols: 120, rows: 32 };

export interface PlatformTerminal extends TerminalLink {
  socket: Socket;
  environmentId: string;
  /** What this socket received for the terminal so far (output messages, bytes, repaints). */
  stats(): TerminalStats;
}

export interface TerminalStats {
  messages: number;
  bytes: number;
  /** terminal:repaint messages: the server found this socket behind by more than its window. */
  repaints: number;
  /** The end offset of the last output (or repaint) received. */
  offset: number;
}

interface TerminalState extends TerminalStats {
  listeners: Set<(chunk: Uint8Array) => void>;
  /** After a repaint: output below this offset is already on the screen (dropped, as the page does). */
  shownUpTo: number;
}

interface SocketState {
  acks: boolean;
  terminals: Map<string, TerminalState>;
}

const socketStates = new WeakMap<Socket, SocketState>();
const terminalKey = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

function terminalState(state: SocketState, environmentId: string, terminalId: string): TerminalState {
  const key = terminalKey(environmentId, terminalId);
  let terminal = state.terminals.get(key);
  if (!terminal) {
    terminal = { listeners: new Set(), messages: 0, bytes: 0, repaints: 0, offset: 0, shownUpTo: 0 };
    state.terminals.set(key, terminal);
  }
  return terminal;
}

/**
 * A /terminal socket as a page opens it. Every output message is handed to the bench's
 * listeners for its terminal and then, with `acks` (the default), acknowledged as a page
 * does once xterm has parsed it: terminal:ack with offset = message.offset + its length
 * (the page batches its acks every 64 KiB or 100 ms; this client acks every message).
 * `acks: false` plays a stalled browser: the server stops sending to it once
 * BROWSER_OUTPUT_WINDOW bytes are un-acked. A repaint's screen reaches the listeners
 * as output, and output the repaint already covers is dropped.
 */
export function openTerminalSocket(url: string, cookie: string, options: { acks?: boolean } = {}): Promise<Socket> {
  const socket = terminalSocket(url, cookie);
  const state: SocketState = { acks: options.acks ?? true, terminals: new Map() };
  socketStates.set(socket, state);
  socket.on(ServerToBrowser.output, (message: BrowserOutput) => {
    const terminal = terminalState(state, message.environmentId, message.terminalId);
    let data = toBytes(message.data);
    const end = message.offset + data.byteLength;
    terminal.messages += 1;
    terminal.bytes += data.byteLength;
    terminal.offset = Math.max(terminal.offset, end);
    if (message.offset < terminal.shownUpTo) data = data.subarray(Math.min(data.byteLength, terminal.shownUpTo - message.offset));
    if (data.byteLength) for (const listener of [...terminal.listeners]) listener(data);
    if (state.acks) socket.emit(BrowserToServer.ack, { environmentId: message.environmentId, terminalId: message.terminalId, offset: end });
  });
  socket.on(ServerToBrowser.repaint, (message: BrowserRepaint) => {
    const terminal = terminalState(state, message.environmentId, message.terminalId);
    terminal.repaints += 1;
    terminal.shownUpTo = Math.max(terminal.shownUpTo, message.offset);
    terminal.offset = Math.max(terminal.offset, message.offset);
    const screen = Buffer.from(message.screen, "utf8");
    for (const listener of [...terminal.listeners]) listener(screen);
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** A /terminal socket as the page's io() opens it (websocket only), with the student's session cookie; not yet listened to. */
export function terminalSocket(url: string, cookie: string): Socket {
  return io(`${url}${TERMINAL_NAMESPACE}`, {
    forceNew: true,
    transports: ["websocket"],
    reconnection: false,
    parser: WIRE_PARSER,
    extraHeaders: { cookie, origin: url },
  });
}

/** Sends terminal:attach; resolves with the reply (listen for output before calling). */
export function attachTerminal(socket: Socket, environmentId: string, timeoutMs = 30_000, terminalId = "main"): Promise<AttachReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`terminal:attach got no reply within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.emit(BrowserToServer.attach, { environmentId, terminalId, ...TERMINAL_SIZE }, (reply: AttachReply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** One terminal of a socket opened with openTerminalSocket, as a TerminalLink. */
export function terminalLink(socket: Socket, environmentId: string, terminalId = "main"): PlatformTerminal {
  const state = socketStates.get(socket);
  if (!state) throw new Error("terminalLink needs a socket from openTerminalSocket");
  const terminal = terminalState(state, environmentId, terminalId);
  return {
    socket,
    environmentId,
    write: (data) => {
      socket.emit(BrowserToServer.input, { environmentId, terminalId, data });
    },
    onData(listener) {
      terminal.listeners.add(listener);
      return () => {
        terminal.listeners.delete(listener);
      };
    },
    stats: () => ({ messages: terminal.messages, bytes: terminal.bytes, repaints: terminal.repaints, offset: terminal.offset }),
  };
}

const toBytes = (data: unknown): Uint8Array => (data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer));
