/**
 * Attaching a panel's tabs and settling their ends: an attach asks the server for a tab's
 * screen (a refused one is retried or explained), the server's list of open tabs is merged
 * in, and a shell that ended either goes or offers a new one. It reads and writes the panel's
 * state (PanelState) and reaches the socket and the tabs through `panel`.
 */
import type { Socket } from "socket.io-client";
import { BrowserToServer, type AttachRequest } from "../../protocol/browser-messages";
import { readAttachReply } from "./terminal-messages";
import type { TerminalOutbound } from "./terminal-outbound";
import type { PanelState } from "./terminal-panel-state";
import type { ScreenPieces } from "./terminal-screen-pieces";
import type { TerminalTab } from "./terminal-tab";
import type { TerminalTabSet } from "./terminal-tab-set";
import { MAIN_TERMINAL, planEndedTabs } from "./terminal-tab-list";

/** A refused attach ("rate_limited") is tried again after this. */
const ATTACH_RETRY_MS = 1500;
/** How long an ended shell waits for a "stopped" notice before its tab goes or offers a new shell. */
const EXIT_GRACE_MS = 600;

/** What the attacher needs of its panel. */
export interface AttacherPanel {
  environmentId: string;
  state: PanelState;
  screenPieces: ScreenPieces;
  outbound: TerminalOutbound;
  socket(this: void): Socket | null;
  tabs(this: void): TerminalTabSet;
  publish(this: void): void;
  showAlert(this: void, message: string): void;
  focusIsOurs(this: void): boolean;
  applyInputMode(this: void): void;
}

export class TabAttacher {
  private endedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly panel: AttacherPanel) {}

  private get state() {
    return this.panel.state;
  }

  private get tabs() {
    return this.panel.tabs();
  }

  /** The environment stopped (or the panel went): an ended tab's grace is over. */
  cancelEnded() {
    clearTimeout(this.endedTimer);
  }

  attach(tab: TerminalTab) {
    const socket = this.panel.socket();
    if (!socket?.connected || this.state.stopped || this.state.disposed) return;
    const seq = tab.beginAttach();
    const connectionSeq = this.state.connectionSeq;
    const sent = { cols: tab.terminal.cols, rows: tab.terminal.rows };
    const request: AttachRequest = { environmentId: this.panel.environmentId, terminalId: tab.id, ...sent };
    socket.emit(BrowserToServer.attach, request, (raw: unknown) => {
      if (this.state.disposed || this.state.stopped || connectionSeq !== this.state.connectionSeq || !this.tabs.has(tab) || !tab.isCurrentAttach(seq)) return;
      this.attached(tab, raw, sent);
    });
    this.panel.publish();
  }

  private attached(tab: TerminalTab, raw: unknown, sent: { cols: number; rows: number }) {
    const reply = readAttachReply(raw);
    const screen = reply.ok ? this.panel.screenPieces.finish(tab.id, reply) : null;
    if (reply.ok && screen === null) {
      // A piece of the screen went missing: ask again.
      tab.attachFailed();
      this.attach(tab);
      return;
    }
    if (!reply.ok && reply.code === "rate_limited") {
      tab.attachFailed();
      const seq = this.state.connectionSeq;
      setTimeout(() => {
        if (!this.state.disposed && seq === this.state.connectionSeq && this.tabs.has(tab) && !tab.attached && !tab.attaching) this.attach(tab);
      }, ATTACH_RETRY_MS);
      return;
    }
    if (!reply.ok) {
      tab.attachFailed();
      if (reply.terminals && reply.terminals.length > 0 && !reply.terminals.includes(tab.id)) {
        // Watching a tab the student has closed: show the ones still open instead.
        this.tabs.merge(reply.terminals);
        this.tabs.remove(tab, false);
        this.reconcile(reply.terminals);
        return;
      }
      if (tab.fresh && this.tabs.count > 1) {
        // A tab this panel just opened: it never existed, so it goes, and the panel says why.
        this.tabs.remove(tab, this.panel.focusIsOurs() && this.state.canType());
        this.panel.showAlert(`A new terminal could not be opened: ${reply.error}`);
      } else {
        this.state.status = { kind: "error", message: reply.error, code: reply.code };
      }
      this.panel.publish();
      return;
    }
    this.state.mode = reply.mode;
    if (reply.controller !== undefined) this.state.controller = reply.controller;
    const terminalId = tab.id;
    if (tab.attachedWith(screen ?? "", reply.offset, (offset) => this.panel.outbound.sendAck(terminalId, offset))) tab.watchGap(() => this.attach(tab));
    this.panel.applyInputMode();
    if (this.state.status.kind !== "stopped") this.state.status = { kind: "live" };
    if (reply.terminals) {
      this.reconcile(reply.terminals);
    } else {
      // A server that does not list tabs: at least bring back the ones this panel had.
      for (const other of this.tabs.all) if (!other.attached && !other.attaching && !other.ended) this.attach(other);
    }
    // The window may have changed size while the reply was on its way.
    if (tab.terminal.cols !== sent.cols || tab.terminal.rows !== sent.rows) this.panel.outbound.sendResize(tab);
    const queued = tab.takeQueuedInput();
    if (this.state.canType()) for (const data of queued) this.panel.outbound.sendInput(tab, data);
    if (tab.id === this.tabs.activeId && this.state.canType() && this.panel.focusIsOurs()) tab.terminal.focus();
    this.panel.publish();
  }

  /** The server's list of open tabs (attach reply or push): adds new ones, ends vanished ones. */
  reconcile(listed: string[]) {
    const listedSet = new Set(listed);
    this.tabs.merge(listed);
    for (const tab of this.tabs.all) {
      if (listedSet.has(tab.id)) {
        // Listed but not attached (new here, or after a reconnect). A tab whose end is still
        // settling is not attached again (a late list would start a shell nobody asked for);
        // once its end was shown, a list naming it means a new shell (Enter in another window).
        if (!tab.attached && !tab.attaching && (!tab.ended || tab.endShown)) this.attach(tab);
      } else if (!tab.attaching && !tab.ended) {
        // Gone from the server (closed elsewhere, shell ended). A tab still attaching is just not listed yet.
        this.markEnded(tab);
      }
    }
    this.panel.publish();
  }

  /** After a short grace (a stop notice may be on its way) the tab goes, or offers a new shell. */
  markEnded(tab: TerminalTab) {
    tab.ended = true;
    tab.detach();
    clearTimeout(this.endedTimer);
    this.endedTimer = setTimeout(() => this.settleEnded(), EXIT_GRACE_MS);
  }

  private settleEnded() {
    if (this.state.stopped || this.state.disposed) return;
    // A tab attaching again (Enter on an ended shell) is alive as far as the strip goes.
    const plan = planEndedTabs(
      this.tabs.all.map((tab) => ({ id: tab.id, ended: tab.ended && !tab.attaching })),
      this.tabs.activeId,
    );
    for (const id of plan.remove) {
      const tab = this.tabs.find(id);
      if (tab) this.tabs.remove(tab, this.panel.focusIsOurs() && this.state.canType());
    }
    const last = plan.lastEnded ? this.tabs.find(plan.lastEnded) : undefined;
    if (last) {
      // The one tab left starts its next shell as "main", the environment's first terminal
      // and the one a reload attaches first (else a reload would open a second shell).
      if (last.id !== MAIN_TERMINAL) this.tabs.rename(last, MAIN_TERMINAL);
      this.tabs.show(last, false);
      if (!last.endShown) {
        last.endShown = true;
        last.note(this.state.mode === "owner" ? "The shell has ended. Press Enter to start a new one." : "The shell has ended.");
      }
      this.state.status = { kind: "exited" };
    } else if (this.state.status.kind === "exited") {
      this.state.status = { kind: "live" };
    }
    this.panel.publish();
  }
}
