/**
 * What a panel sends on its socket for a tab: input one message at a time as the shell takes
 * it, the window's size (at most one per RESIZE_EVERY_MS, the last always), and output acks.
 * TerminalConnection owns the socket and the panel's state; this reads them through `panel`.
 */
import type { Socket } from "socket.io-client";
import { BrowserToServer, type BrowserAck, type BrowserInput } from "../../protocol/browser-messages";
import { BrowserRequests } from "../../protocol/browser-contract";
import { readReplyTo } from "./terminal-messages";
import { TerminalInputSender } from "./terminal-input-sender";
import type { TerminalTab } from "./terminal-tab";

/** A window being dragged sends its size at most this often (the last size always goes). */
const RESIZE_EVERY_MS = 200;
const INPUT_DROPPED = "The shell is not reading what you type: further input was dropped. Press Ctrl-C to interrupt it.";

/** The panel's state the sends depend on, read at the moment of sending. */
export interface OutboundPanel {
  environmentId: string;
  socket(this: void): Socket | null;
  mode(this: void): "owner" | "watch" | null;
  stopped(this: void): boolean;
  disposed(this: void): boolean;
  connectionSeq(this: void): number;
  hasTab(this: void, tab: TerminalTab): boolean;
  findTab(this: void, terminalId: string): TerminalTab | undefined;
  /** Input refused for good (no code to retry on). */
  inputRefused(this: void, error: string): void;
  showHint(this: void, message: string): void;
}

export class TerminalOutbound {
  /** Per tab: input goes one message at a time, as the shell takes it. */
  private readonly senders = new Map<TerminalTab, TerminalInputSender>();
  /** Per tab: when its size was last sent, and the timer that sends the latest one. */
  private readonly resizes = new Map<TerminalTab, { sentAt: number; timer: ReturnType<typeof setTimeout> | undefined }>();

  constructor(private readonly panel: OutboundPanel) {}

  /** The connection dropped: input in flight belonged to it. */
  reset() {
    for (const sender of this.senders.values()) sender.reset();
  }

  sendInput(tab: TerminalTab, data: string) {
    let sender = this.senders.get(tab);
    if (!sender) {
      sender = new TerminalInputSender(
        (piece, reply) => {
          const socket = this.panel.socket();
          if (!socket?.connected) return reply(null);
          // The tab's id now (the last tab left may have been renamed "main").
          const input: BrowserInput = { environmentId: this.panel.environmentId, terminalId: tab.id, data: piece };
          const seq = this.panel.connectionSeq();
          socket.emit(BrowserToServer.input, input, (raw: unknown) => {
            const answer = readReplyTo(BrowserRequests.input, raw);
            // Refused for good (not a code the sender retries on): say why, as the server's error event did.
            const retried = !answer.ok && (answer.code === "input_busy" || answer.code === "rate_limited");
            if (!answer.ok && !retried && seq === this.panel.connectionSeq() && !this.panel.disposed()) this.panel.inputRefused(answer.error);
            reply(answer);
          });
        },
        () => this.panel.showHint(INPUT_DROPPED),
      );
      this.senders.set(tab, sender);
    }
    sender.send(data);
  }

  /**
   * The owner's window sets the shell's size; a watcher's never does, keyboard or not.
   * At most one size per RESIZE_EVERY_MS goes out (each reflows the worker's copy of the
   * screen); the last one always does.
   */
  sendResize(tab: TerminalTab) {
    if (this.panel.mode() !== "owner" || this.panel.stopped() || !tab.attached || !this.panel.socket()?.connected) return;
    const state = this.resizes.get(tab) ?? { sentAt: 0, timer: undefined };
    this.resizes.set(tab, state);
    if (state.timer !== undefined) return;
    const wait = state.sentAt + RESIZE_EVERY_MS - Date.now();
    const send = () => {
      state.timer = undefined;
      state.sentAt = Date.now();
      const socket = this.panel.socket();
      if (this.panel.mode() !== "owner" || this.panel.stopped() || !tab.attached || !socket?.connected || !this.panel.hasTab(tab)) return;
      const { cols, rows } = tab.terminal;
      socket.emit(BrowserToServer.resize, { environmentId: this.panel.environmentId, terminalId: tab.id, cols, rows });
    };
    if (wait <= 0) send();
    else state.timer = setTimeout(send, wait);
  }

  sendAck(terminalId: string, offset: number) {
    const socket = this.panel.socket();
    // An ack on a dead connection would only reach the next one, for an attach it knows nothing of.
    if (!socket?.connected || !this.panel.findTab(terminalId)?.attached) return;
    const ack: BrowserAck = { environmentId: this.panel.environmentId, terminalId, offset };
    socket.emit(BrowserToServer.ack, ack);
  }
}
