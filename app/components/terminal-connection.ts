/**
 * One panel's link to an environment's terminals: a single socket.io connection shared by
 * every tab. It attaches tabs, routes each server message to its tab, keeps the panel's
 * state (connection, owner or watcher, keyboard, notices) and publishes it as a plain
 * snapshot (TerminalView, terminal-view.ts) for React to draw. The tabs themselves are a
 * TerminalTabSet; what goes out for a tab (input, sizes, acks) is TerminalOutbound's.
 */
import type { Socket } from "socket.io-client";
import { BrowserToServer, MAX_TERMINALS_PER_ENVIRONMENT, ServerToBrowser, TERMINAL_NAMESPACE, type AttachRequest } from "../../protocol/browser-messages";
import { BroadcastInbox, browserStorage } from "./broadcast-inbox";
import {
  readAttachReply,
  readBroadcast,
  readControl,
  readExit,
  readNotice,
  readOutput,
  readRepaint,
  readReply,
  readResume,
  readScreenPart,
  readServerError,
  readTabs,
} from "./terminal-messages";
import { TerminalOutbound } from "./terminal-outbound";
import type { ConnectionStatus, TerminalView } from "./terminal-view";
import { PanelMessages } from "./terminal-panel-messages";
import { ScreenPieces } from "./terminal-screen-pieces";
import type { TerminalTab } from "./terminal-tab";
import { TerminalTabSet } from "./terminal-tab-set";
import { MAIN_TERMINAL, newTerminalId, planEndedTabs } from "./terminal-tab-list";
import { loadTerminalModules } from "./terminal-xterm";

export { INITIAL_VIEW, type ConnectionStatus, type PanelBroadcast, type PanelNotice, type TerminalView } from "./terminal-view";

/** A refused attach ("rate_limited") is tried again after this. */
const ATTACH_RETRY_MS = 1500;
/** How long an ended shell waits for a "stopped" notice before its tab goes or offers a new shell. */
const EXIT_GRACE_MS = 600;
const SIGNED_OUT = "Your session has ended. Sign in again to reach your terminal.";
/** Server errors about these are bookkeeping, not something to put in front of the user. */
const QUIET_ERRORS = new Set<string>([BrowserToServer.ack, BrowserToServer.resize]);

export class TerminalConnection {
  private tabSet: TerminalTabSet | null = null;
  private socket: Socket | null = null;
  private observer: ResizeObserver | null = null;
  private status: ConnectionStatus = { kind: "connecting" };
  private mode: "owner" | "watch" | null = null;
  private controlling = false;
  private controlPending = false;
  private controller: string | null = null;
  private closing = new Set<string>();
  private readonly broadcasts = new BroadcastInbox(browserStorage());
  /** Notices, the alert and the hint. */
  private readonly messages = new PanelMessages(() => this.publish());
  /** Once the server says the environment stopped, nothing re-attaches until the page starts it again. */
  private stopped = false;
  private disposed = false;
  /** Bumped on every disconnect: replies from an older connection are ignored. */
  private connectionSeq = 0;
  private endedTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly screenPieces = new ScreenPieces();
  /** What goes out for a tab: input, sizes, acks. */
  private readonly outbound: TerminalOutbound;
  constructor(
    private readonly options: {
      environmentId: string;
      /** The element React renders for the terminals; each tab's element goes inside. */
      surfaces: HTMLElement;
      domId: (kind: "tab" | "panel", terminalId: string) => string;
      onChange: (view: TerminalView) => void;
      onStopped: (message: string) => void;
    },
  ) {
    this.outbound = new TerminalOutbound({
      environmentId: options.environmentId,
      socket: () => this.socket,
      mode: () => this.mode,
      stopped: () => this.stopped,
      disposed: () => this.disposed,
      connectionSeq: () => this.connectionSeq,
      hasTab: (tab) => this.tabs.has(tab),
      findTab: (terminalId) => this.tabs.find(terminalId),
      inputRefused: (error) => this.inputRefused(error),
      showHint: (message) => this.showHint(message),
    });
  }

  async start() {
    let modules: Awaited<ReturnType<typeof loadTerminalModules>>;
    try {
      modules = await loadTerminalModules();
    } catch {
      if (!this.disposed) this.setStatus({ kind: "error", message: "The terminal could not be loaded. Reload the page." });
      return;
    }
    if (this.disposed) return;
    const { surfaces, domId } = this.options;
    this.tabSet = new TerminalTabSet({
      modules,
      surfaces,
      domId,
      input: (tab, data) => this.onInput(tab, data),
      resize: (tab) => this.outbound.sendResize(tab),
      hint: (message) => this.showHint(message),
    });
    // Shown before connecting: the attach then carries the size the page really has.
    this.tabs.show(this.tabs.add(MAIN_TERMINAL, false), false);
    this.observer = new ResizeObserver(() => this.tabs.active?.fitToHost());
    this.observer.observe(surfaces);
    this.socket = modules.io(TERMINAL_NAMESPACE, { path: "/socket.io", transports: ["websocket"], withCredentials: true });
    this.listen(this.socket);
    this.publish();
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.endedTimer);
    this.messages.dispose();
    this.observer?.disconnect();
    this.socket?.close();
    this.tabSet?.dispose();
  }

  // ---- What the panel's controls do ----

  selectTab(terminalId: string, focus: boolean) {
    const tab = this.tabSet?.find(terminalId);
    if (!tab) return;
    this.tabs.show(tab, focus && this.canType());
    this.publish();
  }

  /** "+": a new id; attaching to it makes the worker start a shell. */
  newTab() {
    if (!this.canAddTab()) return;
    const tab = this.tabs.add(newTerminalId(new Set(this.tabs.all.map((each) => each.id))), true);
    this.tabs.show(tab, true);
    this.attach(tab);
    this.publish();
  }

  closeTab(terminalId: string) {
    const socket = this.socket;
    if (this.mode !== "owner" || this.stopped || !socket?.connected || this.tabs.count <= 1 || this.closing.has(terminalId)) return;
    const label = this.tabs.labelOf(terminalId);
    const seq = this.connectionSeq;
    this.closing.add(terminalId);
    socket.emit(BrowserToServer.close, { environmentId: this.options.environmentId, terminalId }, (raw: unknown) => {
      if (this.disposed || seq !== this.connectionSeq) return;
      this.closing.delete(terminalId);
      const reply = readReply(raw);
      const tab = this.tabs.find(terminalId);
      if (!reply?.ok) this.showAlert(`${label} could not be closed: ${reply?.error ?? "no answer from the server"}`);
      else if (tab && this.tabs.count > 1) this.tabs.remove(tab, this.focusIsOurs() && this.canType());
      else if (tab) this.markEnded(tab);
      this.publish();
    });
    this.publish();
  }

  /** A watcher takes the keyboard (or gives it back). */
  toggleControl() {
    const socket = this.socket;
    if (this.mode !== "watch" || this.controlPending || !socket?.connected) return;
    const take = !this.controlling;
    const seq = this.connectionSeq;
    this.controlPending = true;
    socket.emit(BrowserToServer.control, { environmentId: this.options.environmentId, take }, (raw: unknown) => {
      if (this.disposed || seq !== this.connectionSeq) return;
      this.controlPending = false;
      const reply = readReply(raw);
      if (reply?.ok) {
        this.controlling = take;
        this.applyInputMode();
        if (take) this.tabs.active?.terminal.focus();
      } else {
        this.showAlert(`${take ? "Taking" : "Giving back"} the keyboard did not work: ${reply?.error ?? "no answer from the server"}`);
      }
      this.publish();
    });
    this.publish();
  }

  dismissNotice(id: number) {
    this.messages.dismissNotice(id);
    this.publish();
  }

  dismissBroadcast(key: string) {
    this.broadcasts.dismiss(key);
    this.publish();
  }

  dismissAlert() {
    this.messages.dismissAlert();
    this.publish();
  }

  // ---- The socket ----

  private listen(socket: Socket) {
    socket.on("connect", () => {
      // The tab in view first: its reply lists the open tabs, which says which others to attach.
      const active = this.tabs.active;
      if (active) this.attach(active);
    });
    socket.on("disconnect", () => {
      this.connectionSeq += 1;
      this.screenPieces.clear();
      this.outbound.reset();
      for (const tab of this.tabs.all) tab.detach();
      // The keyboard and pending requests belonged to the old connection.
      this.controlling = false;
      this.controlPending = false;
      this.closing.clear();
      this.applyInputMode();
      if (!this.stopped) this.status = { kind: "reconnecting" };
      this.publish();
    });
    socket.on("connect_error", (error: Error) => {
      if (this.stopped) return;
      this.setStatus(error.message.includes("sign in") ? { kind: "error", message: SIGNED_OUT, signIn: true } : { kind: "reconnecting" });
    });
    socket.on(ServerToBrowser.output, (raw: unknown) => {
      const message = readOutput(raw);
      const tab = message && this.isOurs(message) ? this.tabs.find(message.terminalId) : undefined;
      if (tab && message && tab.output(message.data, message.offset)) tab.watchGap(() => this.attach(tab));
    });
    socket.on(ServerToBrowser.screenPart, (raw: unknown) => {
      const part = readScreenPart(raw);
      if (part && this.isOurs(part)) this.screenPieces.part(part.terminalId, part.screenId, part.index, part.data);
    });
    socket.on(ServerToBrowser.repaint, (raw: unknown) => {
      const message = readRepaint(raw);
      const tab = message && this.isOurs(message) ? this.tabs.find(message.terminalId) : undefined;
      if (!tab || !message) return;
      const screen = this.screenPieces.finish(tab.id, message);
      // A piece went missing: the gap watch attaches again, which brings a whole screen.
      if (screen === null) return tab.watchGap(() => this.attach(tab));
      if (tab.repaint(screen, message.offset)) tab.watchGap(() => this.attach(tab));
    });
    socket.on(ServerToBrowser.exit, (raw: unknown) => {
      const message = readExit(raw);
      const tab = message && this.isOurs(message) ? this.tabs.find(message.terminalId) : undefined;
      // An exit while attaching belongs to the shell being replaced.
      if (tab && !tab.attaching) this.markEnded(tab);
    });
    // The worker came back with the same shells: the tab in view attaches again (its reply
    // lists the open tabs, which brings the others), and the repaint shows the screen.
    socket.on(ServerToBrowser.resume, (raw: unknown) => {
      const message = readResume(raw);
      if (!message || !this.isOurs(message) || this.stopped) return;
      for (const tab of this.tabs.all) tab.detach();
      const active = this.tabs.active;
      if (active) this.attach(active);
    });
    socket.on(ServerToBrowser.tabs, (raw: unknown) => {
      const message = readTabs(raw);
      if (message && this.isOurs(message)) this.reconcile(message.terminals);
    });
    socket.on(ServerToBrowser.control, (raw: unknown) => {
      const message = readControl(raw);
      if (!message || !this.isOurs(message)) return;
      this.controller = message.controller;
      this.publish();
    });
    socket.on(ServerToBrowser.broadcast, (raw: unknown) => {
      // Course-wide, not tied to this environment: every one that arrives is shown.
      const message = readBroadcast(raw);
      if (!message) return;
      if (this.broadcasts.receive(message)) this.publish();
    });
    socket.on(ServerToBrowser.notice, (raw: unknown) => this.onNotice(raw));
    socket.on(ServerToBrowser.error, (raw: unknown) => this.onServerError(raw));
  }

  private attach(tab: TerminalTab) {
    const socket = this.socket;
    if (!socket?.connected || this.stopped || this.disposed) return;
    const seq = tab.beginAttach();
    const connectionSeq = this.connectionSeq;
    const sent = { cols: tab.terminal.cols, rows: tab.terminal.rows };
    const request: AttachRequest = { environmentId: this.options.environmentId, terminalId: tab.id, ...sent };
    socket.emit(BrowserToServer.attach, request, (raw: unknown) => {
      if (this.disposed || this.stopped || connectionSeq !== this.connectionSeq || !this.tabs.has(tab) || !tab.isCurrentAttach(seq)) return;
      this.attached(tab, raw, sent);
    });
    this.publish();
  }

  private attached(tab: TerminalTab, raw: unknown, sent: { cols: number; rows: number }) {
    const reply = readAttachReply(raw) ?? { ok: false as const, error: "The terminal could not be opened." };
    const screen = reply.ok ? this.screenPieces.finish(tab.id, reply) : null;
    if (reply.ok && screen === null) {
      // A piece of the screen went missing: ask again.
      tab.attachFailed();
      this.attach(tab);
      return;
    }
    if (!reply.ok && reply.code === "rate_limited") {
      tab.attachFailed();
      const seq = this.connectionSeq;
      setTimeout(() => {
        if (!this.disposed && seq === this.connectionSeq && this.tabs.has(tab) && !tab.attached && !tab.attaching) this.attach(tab);
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
        this.tabs.remove(tab, this.focusIsOurs() && this.canType());
        this.showAlert(`A new terminal could not be opened: ${reply.error}`);
      } else {
        this.status = { kind: "error", message: reply.error };
      }
      this.publish();
      return;
    }
    this.mode = reply.mode;
    if (reply.controller !== undefined) this.controller = reply.controller;
    const terminalId = tab.id;
    if (tab.attachedWith(screen ?? "", reply.offset, (offset) => this.outbound.sendAck(terminalId, offset))) tab.watchGap(() => this.attach(tab));
    this.applyInputMode();
    if (this.status.kind !== "stopped") this.status = { kind: "live" };
    if (reply.terminals) {
      this.reconcile(reply.terminals);
    } else {
      // A server that does not list tabs: at least bring back the ones this panel had.
      for (const other of this.tabs.all) if (!other.attached && !other.attaching && !other.ended) this.attach(other);
    }
    // The window may have changed size while the reply was on its way.
    if (tab.terminal.cols !== sent.cols || tab.terminal.rows !== sent.rows) this.outbound.sendResize(tab);
    const queued = tab.takeQueuedInput();
    if (this.canType()) for (const data of queued) this.outbound.sendInput(tab, data);
    if (tab.id === this.tabs.activeId && this.canType() && this.focusIsOurs()) tab.terminal.focus();
    this.publish();
  }

  /** The server's list of open tabs (attach reply or push): adds new ones, ends vanished ones. */
  private reconcile(listed: string[]) {
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
    this.publish();
  }

  private onNotice(raw: unknown) {
    const notice = readNotice(raw);
    if (!notice || !this.isOurs(notice)) return;
    if (notice.kind === "stopped") {
      this.stopped = true;
      clearTimeout(this.endedTimer);
      this.applyInputMode();
      for (const tab of this.tabs.all) tab.note("This environment was stopped.");
      this.status = { kind: "stopped" };
      this.messages.notice(notice.kind, notice.message);
      this.options.onStopped(notice.message);
    } else {
      this.messages.notice(notice.kind, notice.message);
    }
    this.publish();
  }

  private inputRefused(error: string) {
    if (this.mode === "watch") return this.onServerError({ event: BrowserToServer.input, error });
    // The owner's keystroke was lost (the worker did not answer): a passing hint, not a dead panel.
    this.showHint(error);
  }

  private onServerError(raw: unknown) {
    const error = readServerError(raw);
    if (!error || this.stopped || QUIET_ERRORS.has(error.event)) return;
    if (error.event === BrowserToServer.input && this.mode === "watch") {
      // The keyboard was taken back (or never granted): back to watching, and say so.
      this.controlling = false;
      this.applyInputMode();
      this.showAlert(error.error);
      this.publish();
      return;
    }
    this.setStatus({ kind: "error", message: error.error });
  }

  // ---- Shells that end ----

  /** After a short grace (a stop notice may be on its way) the tab goes, or offers a new shell. */
  private markEnded(tab: TerminalTab) {
    tab.ended = true;
    tab.detach();
    clearTimeout(this.endedTimer);
    this.endedTimer = setTimeout(() => this.settleEnded(), EXIT_GRACE_MS);
  }

  private settleEnded() {
    if (this.stopped || this.disposed) return;
    // A tab attaching again (Enter on an ended shell) is alive as far as the strip goes.
    const plan = planEndedTabs(
      this.tabs.all.map((tab) => ({ id: tab.id, ended: tab.ended && !tab.attaching })),
      this.tabs.activeId,
    );
    for (const id of plan.remove) {
      const tab = this.tabs.find(id);
      if (tab) this.tabs.remove(tab, this.focusIsOurs() && this.canType());
    }
    const last = plan.lastEnded ? this.tabs.find(plan.lastEnded) : undefined;
    if (last) {
      // The one tab left starts its next shell as "main", the environment's first terminal
      // and the one a reload attaches first (else a reload would open a second shell).
      if (last.id !== MAIN_TERMINAL) this.tabs.rename(last, MAIN_TERMINAL);
      this.tabs.show(last, false);
      if (!last.endShown) {
        last.endShown = true;
        last.note(this.mode === "owner" ? "The shell has ended. Press Enter to start a new one." : "The shell has ended.");
      }
      this.status = { kind: "exited" };
    } else if (this.status.kind === "exited") {
      this.status = { kind: "live" };
    }
    this.publish();
  }

  // ---- Input, resize, acks ----

  private onInput(tab: TerminalTab, data: string) {
    if (this.stopped) return;
    if (tab.ended) {
      // Only the owner starts a new shell, with Enter, as before tabs existed.
      if (data === "\r" && this.mode === "owner" && this.socket?.connected) this.attach(tab);
      return;
    }
    if (!this.canType()) return;
    // Typed while attaching or reconnecting: sent once the tab is attached (the server
    // refuses input for a terminal this connection has not attached).
    if (!tab.attached || !this.socket?.connected) return tab.queueInput(data);
    this.outbound.sendInput(tab, data);
  }

  // ---- State ----

  /** Set once started; only code that runs after start() reaches it. */
  private get tabs(): TerminalTabSet {
    if (!this.tabSet) throw new Error("the terminal panel has not started");
    return this.tabSet;
  }

  private isOurs(message: { environmentId: string }) {
    return message.environmentId === this.options.environmentId;
  }

  private canType() {
    // Before the first reply the mode is unknown: keystrokes queue, and are dropped if it says "watch".
    return this.mode !== "watch" || this.controlling;
  }

  private canAddTab() {
    return (
      this.mode === "owner" &&
      !this.stopped &&
      Boolean(this.socket?.connected) &&
      this.status.kind !== "error" &&
      (this.tabSet?.count ?? MAX_TERMINALS_PER_ENVIRONMENT) < MAX_TERMINALS_PER_ENVIRONMENT
    );
  }

  private applyInputMode() {
    this.tabs.setInputDisabled(this.stopped || !this.canType());
  }

  /** Moving focus into a terminal is fine when the person is in this panel (or nowhere in particular). */
  private focusIsOurs() {
    const focused = document.activeElement;
    const panel = this.options.surfaces.closest(".terminal-panel") ?? this.options.surfaces;
    return !focused || focused === document.body || panel.contains(focused);
  }

  private showAlert(message: string) {
    this.messages.showAlert(message);
  }

  private showHint(message: string) {
    this.messages.showHint(message);
  }

  private setStatus(status: ConnectionStatus) {
    this.status = status;
    this.publish();
  }

  private publish() {
    if (this.disposed) return;
    this.options.onChange({
      status: this.status,
      mode: this.mode,
      controlling: this.controlling,
      controlPending: this.controlPending,
      controller: this.controller,
      tabs: (this.tabSet?.view() ?? []).map((tab) => ({ ...tab, closing: this.closing.has(tab.id) })),
      activeId: this.tabSet?.activeId ?? MAIN_TERMINAL,
      canAddTab: this.canAddTab(),
      notices: this.messages.notices,
      // Course messages are for the students; staff watching a terminal sent them.
      broadcasts: this.mode === "watch" ? [] : this.broadcasts.list,
      alert: this.messages.alert,
      hint: this.messages.hint,
    });
  }
}
