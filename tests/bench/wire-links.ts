/**
 * The wire bench's three clients of one shell, each as its own page (or program) drives it,
 * each a TerminalLink so one measurement runs unchanged on all:
 *  - the platform: a /terminal socket with the student's cookie, terminal:attach, input one
 *    message at a time with its acknowledgement (the page's TerminalInputSender), pushes and
 *    replies read against the contract (the page's readers) and output acked as rendered
 *    (the page's RenderedOffsetAcks: every 64 KiB, and 100 ms after the last);
 *  - raw Docker: a TTY exec of `bash -l` in the container over dockerode's hijacked stream;
 *  - the peer (wetty): its socket.io protocol as its page speaks it (`input`, `resize`,
 *    string `data`, and `commit` of 256 KiB each time that much was written to the screen);
 *  - the floor: bytes as they are over a bare websocket to a chain of relays that only move
 *    them (tests/bench/bare-relay-process.ts).
 */
import Docker from "dockerode";
import { io } from "socket.io-client";
import { WebSocket } from "ws";
import { RenderedOffsetAcks } from "../../app/components/terminal-flow";
import { TerminalInputSender } from "../../app/components/terminal-input-sender";
import { readAttachReply, readOutput, readRepaint, readReplyTo } from "../../app/components/terminal-messages";
import { BrowserRequests } from "../../protocol/browser-contract";
import { BrowserToServer, ServerToBrowser } from "../../protocol/browser-messages";
import { containerName } from "../../runtime-worker/docker/container-config";
import { TERMINAL_SIZE, terminalSocket } from "./browser-socket";
import { withTimeout } from "./platform-shell";
import { execShell } from "./raw-docker";
import { waitForOutput, type TerminalLink } from "./terminal-link";

/** What a client saw beyond the bytes: output messages (socket.io events; chunks of a raw stream), repaints, dropped input. */
export interface LinkStats {
  messages: number;
  repaints: number;
  inputDropped: number;
}

export interface WireLink extends TerminalLink {
  stats(): LinkStats;
  close(): void;
}

/** Which shell a client opens, and how. */
export type LinkOrder =
  | { kind: "platform"; url: string; cookie: string; environmentId: string }
  | { kind: "raw"; environmentId: string }
  | { kind: "peer"; url: string }
  | { kind: "bare"; url: string };

export function openLink(order: LinkOrder, docker: Docker): Promise<WireLink> {
  if (order.kind === "platform") return platformLink(order.url, order.cookie, order.environmentId);
  if (order.kind === "raw") return rawLink(docker, order.environmentId);
  if (order.kind === "bare") return bareLink(order.url);
  return peerLink(order.url);
}

/** Resolves when `socket` emits `ok` (socket.io's "connect", ws's "open"); rejects on `fail`, or after 30 s. */
function opened(socket: { once(event: string, listener: (error: Error) => void): unknown }, ok: string, fail: string, label: string) {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once(ok, () => resolve());
      socket.once(fail, reject);
    }),
    30_000,
    label,
  );
}

/** Listeners of a link's output; one may unsubscribe while it is called. */
function listenerSet() {
  const listeners = new Set<(chunk: Uint8Array) => void>();
  return {
    emit(chunk: Uint8Array) {
      for (const listener of listeners) listener(chunk);
    },
    onData(listener: (chunk: Uint8Array) => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

async function platformLink(url: string, cookie: string, environmentId: string): Promise<WireLink> {
  const terminalId = "main";
  const socket = terminalSocket(url, cookie);
  const output = listenerSet();
  let acks: Pick<RenderedOffsetAcks, "rendered" | "dispose"> | undefined;
  /** Output below this offset is on the screen already (the attach reply's or a repaint's). */
  let shownUpTo = 0;
  let messages = 0;
  let repaints = 0;
  let inputDropped = 0;
  socket.on(ServerToBrowser.output, (raw: unknown) => {
    const message = readOutput(raw);
    if (!message || message.environmentId !== environmentId || message.terminalId !== terminalId) return;
    messages += 1;
    const end = message.offset + message.data.byteLength;
    const fresh = message.offset < shownUpTo ? message.data.subarray(Math.min(message.data.byteLength, shownUpTo - message.offset)) : message.data;
    shownUpTo = Math.max(shownUpTo, end);
    if (fresh.byteLength) output.emit(fresh);
    acks?.rendered(end);
  });
  socket.on(ServerToBrowser.repaint, (raw: unknown) => {
    const message = readRepaint(raw);
    if (!message || message.environmentId !== environmentId || message.terminalId !== terminalId) return;
    repaints += 1;
    shownUpTo = Math.max(shownUpTo, message.offset);
    output.emit(Buffer.from(message.screen, "utf8"));
    acks?.rendered(message.offset);
  });
  await opened(socket, "connect", "connect_error", "platform socket");
  const prompt = waitForOutput({ write: () => undefined, onData: output.onData }, /\$ /, 30_000);
  prompt.catch(() => undefined);
  const reply = await withTimeout(
    new Promise<unknown>((resolve) => socket.emit(BrowserToServer.attach, { environmentId, terminalId, ...TERMINAL_SIZE }, resolve)),
    30_000,
    "terminal:attach",
  ).then(readAttachReply);
  if (!reply.ok) throw new Error(`attach refused: ${reply.error}`);
  shownUpTo = reply.offset;
  const sendAck = (offset: number) => socket.emit(BrowserToServer.ack, { environmentId, terminalId, offset });
  // BENCH_WIRE_ACK_EVERY_MESSAGE=1: every message acked at once (as the other phases' client does), to tell the page's ack pacing from the rest.
  acks = process.env.BENCH_WIRE_ACK_EVERY_MESSAGE === "1" ? { rendered: sendAck, dispose: () => undefined } : new RenderedOffsetAcks(sendAck);
  if (!reply.screen.includes("$ ")) await prompt;
  const sender = new TerminalInputSender(
    (piece, answer) => {
      if (!socket.connected) return answer(null);
      socket.emit(BrowserToServer.input, { environmentId, terminalId, data: piece }, (raw: unknown) => answer(readReplyTo(BrowserRequests.input, raw)));
    },
    () => {
      inputDropped += 1;
    },
  );
  return {
    write: (data) => sender.send(data),
    onData: output.onData,
    stats: () => ({ messages, repaints, inputDropped }),
    close: () => {
      acks?.dispose();
      socket.close();
    },
  };
}

async function rawLink(docker: Docker, environmentId: string): Promise<WireLink> {
  const shell = await execShell(docker.getContainer(containerName(environmentId)));
  await withTimeout(shell.prompt, 30_000, "raw prompt");
  let chunks = 0;
  shell.onData(() => {
    chunks += 1;
  });
  return { write: shell.write, onData: shell.onData, stats: () => ({ messages: chunks, repaints: 0, inputDropped: 0 }), close: shell.close };
}

/** wetty's page acks in steps of this many characters written to its screen (FlowControlClient.ackBytes). */
const PEER_COMMIT_STEP = 262_144;

async function peerLink(url: string): Promise<WireLink> {
  const socket = io(url, { path: "/socket.io", transports: ["websocket"], forceNew: true, reconnection: false });
  const output = listenerSet();
  let uncommitted = 0;
  let messages = 0;
  socket.on("data", (data: string) => {
    messages += 1;
    output.emit(Buffer.from(data, "utf8"));
    // As wetty's page does: a commit once each step's worth is on the screen.
    uncommitted += data.length;
    if (uncommitted >= PEER_COMMIT_STEP) {
      uncommitted -= PEER_COMMIT_STEP;
      socket.emit("commit", PEER_COMMIT_STEP);
    }
  });
  const prompt = waitForOutput({ write: () => undefined, onData: output.onData }, /\$ /, 30_000);
  prompt.catch(() => undefined);
  await opened(socket, "connect", "connect_error", "wetty socket");
  socket.emit("resize", TERMINAL_SIZE);
  await prompt;
  return {
    write: (data) => {
      socket.emit("input", data);
    },
    onData: output.onData,
    stats: () => ({ messages, repaints: 0, inputDropped: 0 }),
    close: () => {
      socket.close();
    },
  };
}

/** The floor's client: each write one binary websocket message, each message received output as it is. */
async function bareLink(url: string): Promise<WireLink> {
  const socket = new WebSocket(url);
  const output = listenerSet();
  let messages = 0;
  socket.on("message", (data: Buffer) => {
    messages += 1;
    output.emit(data);
  });
  const prompt = waitForOutput({ write: () => undefined, onData: output.onData }, /\$ /, 30_000);
  prompt.catch(() => undefined);
  await opened(socket, "open", "error", "bare relay socket");
  await prompt;
  return {
    write: (data) => socket.send(Buffer.from(data, "utf8")),
    onData: output.onData,
    stats: () => ({ messages, repaints: 0, inputDropped: 0 }),
    close: () => socket.close(),
  };
}
