/**
 * Flow control toward browsers, per socket and terminal. Output is broadcast to rooms (so
 * it spans replicas), and every byte a socket is sent is counted as it leaves; the browser
 * acknowledges what it has rendered. A socket more than BROWSER_OUTPUT_WINDOW behind joins
 * the terminal's "lagging" room, which broadcasts skip: the server never queues a flood
 * for a slow browser, and the slow one does not hold anyone else back. When it has
 * rendered everything it was sent, it leaves that room and gets a repaint of the screen
 * as it is now (output after the repaint's offset is de-duplicated by the browser).
 */
import type { Socket } from "socket.io";
import { BROWSER_OUTPUT_WINDOW, ServerToBrowser } from "../../protocol/browser-messages";
import { type BrowserOutput, type BrowserRepaint } from "../../protocol/browser-contract";
import { laggingRoom } from "./rooms";
import { sendScreenPieces } from "./screen-pieces";
import { TokenBucket } from "./token-bucket";

/** Repaints per socket (each serializes a screen on the worker): a burst, then one a second. */
const REPAINT_BURST = 4;
const REPAINTS_PER_SECOND = 1;

interface TerminalFlow {
  environmentId: string;
  terminalId: string;
  /** End offset of the last output sent to this socket. */
  sent: number;
  /** What the browser says it has rendered. */
  acked: number;
  lagging: boolean;
  /** A repaint is being fetched: further acks must not start another. */
  repainting: boolean;
}

const keyOf = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

export class BrowserFlow {
  private readonly flows = new Map<string, TerminalFlow>();
  private readonly repaints = new TokenBucket(REPAINT_BURST, REPAINTS_PER_SECOND);

  constructor(
    private readonly socket: Socket,
    /** Fetches the terminal's screen now (filtered for viewers), for a repaint. */
    private readonly screenOf: (environmentId: string, terminalId: string) => Promise<{ screen: string; offset: number } | null>,
    private readonly onLagging: (environmentId: string, terminalId: string) => void = () => undefined,
  ) {
    socket.onAnyOutgoing((event: string, message: BrowserOutput) => {
      if (event !== ServerToBrowser.output) return;
      const flow = this.flows.get(keyOf(message.environmentId, message.terminalId));
      if (!flow) return;
      flow.sent = Math.max(flow.sent, message.offset + message.data.byteLength);
      if (!flow.lagging && flow.sent - flow.acked > BROWSER_OUTPUT_WINDOW) {
        flow.lagging = true;
        void socket.join(laggingRoom(flow.environmentId, flow.terminalId));
        this.onLagging(flow.environmentId, flow.terminalId);
      }
    });
  }

  /** Attached (again): the browser shows the screen up to `offset`. */
  start(environmentId: string, terminalId: string, offset: number) {
    const existing = this.flows.get(keyOf(environmentId, terminalId));
    if (existing?.lagging) void this.socket.leave(laggingRoom(environmentId, terminalId));
    this.flows.set(keyOf(environmentId, terminalId), { environmentId, terminalId, sent: offset, acked: offset, lagging: false, repainting: false });
  }

  stop(environmentId: string, terminalId: string) {
    this.flows.delete(keyOf(environmentId, terminalId));
    void this.socket.leave(laggingRoom(environmentId, terminalId));
  }

  /** The browser rendered up to `offset`; a lagging one that caught up is repainted. */
  async acked(environmentId: string, terminalId: string, offset: number) {
    const flow = this.flows.get(keyOf(environmentId, terminalId));
    if (!flow) return;
    // A browser cannot have rendered what it was never sent.
    flow.acked = Math.max(flow.acked, Math.min(offset, flow.sent));
    if (!flow.lagging || flow.repainting || flow.acked < flow.sent) return;
    if (!this.repaints.take()) {
      // Past the repaint rate: try again once a token is there (the browser acks nothing meanwhile).
      flow.repainting = true;
      setTimeout(() => {
        flow.repainting = false;
        void this.acked(environmentId, terminalId, offset).catch(() => undefined);
      }, this.repaints.waitFor()).unref();
      return;
    }
    flow.repainting = true;
    // Leave first, then read the screen: output from here on reaches the browser, which
    // holds it until the repaint says where the screen ends. Nothing falls in between.
    await this.socket.leave(laggingRoom(environmentId, terminalId));
    try {
      const screen = await this.screenOf(environmentId, terminalId);
      if (this.flows.get(keyOf(environmentId, terminalId)) !== flow) return;
      flow.lagging = false;
      if (!screen) return;
      flow.acked = Math.max(flow.acked, screen.offset);
      flow.sent = Math.max(flow.sent, screen.offset);
      const pieces = sendScreenPieces(this.socket, { environmentId, terminalId }, screen.screen);
      this.socket.emit(ServerToBrowser.repaint, { environmentId, terminalId, ...pieces, offset: screen.offset } satisfies BrowserRepaint);
    } catch {
      // The terminal is gone (its shell ended, or the worker dropped): nothing to repaint.
      flow.lagging = false;
    } finally {
      flow.repainting = false;
    }
  }
}
