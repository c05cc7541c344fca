/**
 * One panel's link to an environment's terminals: a single socket.io connection shared by
 * every tab. It attaches tabs, routes each server message to its tab, keeps the panel's
 * state (connection, owner or watcher, keyboard, notices) and publishes it as a plain
 * snapshot (TerminalView, terminal-view.ts) for React to draw. The tabs themselves are a
 * TerminalTabSet; attaching them is TabAttacher's; what goes out for a tab (input, sizes,
 * acks) is TerminalOutbound's, and what comes in is handled in terminal-inbound.ts.
 */
import type { Socket } from "socket.io-client";
import { BrowserToServer, MAX_TERMINALS_PER_ENVIRONMENT, TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { BrowserRequests } from "../../protocol/browser-contract";
import { BroadcastInbox, browserStorage } from "./broadcast-inbox";
import { readNotice, readReplyTo, readServerError } from "./terminal-messages";
import { TerminalOutbound } from "./terminal-outbound";
import type { ConnectionStatus, TerminalView } from "./terminal-view";
import { PanelMessages } from "./terminal-panel-messages";
import { PanelState } from "./terminal-panel-state";
import { TabAttacher } from "./terminal-tab-attacher";
import { listenToServer } from "./terminal-inbound";
import { ScreenPieces } from "./terminal-screen-pieces";
import type { TerminalTab } from "./terminal-tab";
import { TerminalTabSet } from "./terminal-tab-set";
import { MAIN_TERMINAL, newTerminalId } from "./terminal-tab-list";
import { loadTerminalModules } from "./terminal-xterm";

import { viewOf } from "./terminal-view-of";
import { WIRE_PARSER } from "../../protocol/wire-parser";

export { INITIAL_VIEW, type ConnectionStatus, type PanelBroadcast, type PanelNotice, type TerminalView } from "./terminal-view";

/** Server errors about these are bookkeeping, not something to put in front of the user. */
const QUIET_ERRORS = new Set<string>([BrowserToServer.ack, BrowserToServer.resize]);

export class TerminalConnection {
  private tabSet: TerminalTabSet | null = null;
  private socket: Socket | null = null;
  private observer: ResizeObserver | null = null;
  /** Status, mode, keyboard, closing tabs, and the connection counter. */
  private readonly state = new PanelState();
  private readonly broadcasts = new BroadcastInbox(browserStorage());
  /** Notices, the alert and the hint. */
  private readonly messages = new PanelMessages(() => this.publish());
  private readonly screenPieces = new ScreenPieces();
  /** What goes out for a tab: input, sizes, acks. */
  private readonly outbound: TerminalOutbound;
  /** Attaches tabs and settles ended shells. */
  private readonly attacher: TabAttacher;

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
      mode: () => this.state.mode,
      stopped: () => this.state.stopped,
      disposed: () => this.state.disposed,
      connectionSeq: () => this.state.connectionSeq,
      hasTab: (tab) => this.tabs.has(tab),
      findTab: (terminalId) => this.tabs.find(terminalId),
      inputRefused: (error) => this.inputRefused(error),
      showHint: (message) => this.showHint(message),
    });
    this.attacher = new TabAttacher({
      environmentId: options.environmentId,
      state: this.state,
      screenPieces: this.screenPieces,
      outbound: this.outbound,
      socket: () => this.socket,
      tabs: () => this.tabs,
      publish: () => this.publish(),
      showAlert: (message) => this.showAlert(message),
      focusIsOurs: () => this.focusIsOurs(),
      applyInputMode: () => this.applyInputMode(),
    });
  }

  async start() {
    let modules: Awaited<ReturnType<typeof loadTerminalModules>>;
    try {
      modules = await loadTerminalModules();
    } catch {
      if (!this.state.disposed) this.setStatus({ kind: "error", message: "The terminal could not be loaded. Reload the page." });
      return;
    }
    if (this.state.disposed) return;
    const { surfaces, domId } = this.options;
    this.tabSet = new TerminalTabSet({
      modules,
      surfaces,
      domId,
      input: (tab, data) => this.onInput(tab, data),
      resize: (tab) => this.outbound.sendResize(tab),
      hint: (message) => this.showHint(message),
      searchResults: (results) => {
        this.state.search = results;
        this.publish();
      },
    });
    this.tabSet.setScreenReaderMode(this.state.screenReaderMode);
    // Shown before connecting: the attach then carries the size the page really has.
    this.tabs.show(this.tabs.add(MAIN_TERMINAL, false), false);
    this.observer = new ResizeObserver(() => this.tabs.active?.fitToHost());
    this.observer.observe(surfaces);
    this.socket = modules.io(TERMINAL_NAMESPACE, { path: "/socket.io", transports: ["websocket"], parser: WIRE_PARSER, withCredentials: true });
    this.listen(this.socket);
    this.publish();
  }

  dispose() {
    this.state.disposed = true;
    this.attacher.cancelEnded();
    this.messages.dispose();
    this.observer?.disconnect();
    this.socket?.close();
    this.tabSet?.dispose();
  }

  // ---- What the panel's controls do ----

  selectTab(terminalId: string, focus: boolean) {
    const tab = this.tabSet?.find(terminalId);
    if (!tab) return;
    this.tabs.show(tab, focus && this.state.canType());
    this.publish();
  }

  /** "+": a new id; attaching to it makes the worker start a shell. */
  newTab() {
    if (!this.canAddTab()) return;
    const tab = this.tabs.add(newTerminalId(new Set(this.tabs.all.map((each) => each.id))), true);
    this.tabs.show(tab, true);
    this.attacher.attach(tab);
    this.publish();
  }

  closeTab(terminalId: string) {
    const socket = this.socket;
    if (this.state.mode !== "owner" || this.state.stopped || !socket?.connected || this.tabs.count <= 1 || this.state.closing.has(terminalId)) return;
    const label = this.tabs.labelOf(terminalId);
    const seq = this.state.connectionSeq;
    this.state.closing.add(terminalId);
    socket.emit(BrowserToServer.close, { environmentId: this.options.environmentId, terminalId }, (raw: unknown) => {
      if (this.state.disposed || seq !== this.state.connectionSeq) return;
      this.state.closing.delete(terminalId);
      const reply = readReplyTo(BrowserRequests.close, raw);
      const tab = this.tabs.find(terminalId);
      if (!reply.ok) this.showAlert(`${label} could not be closed: ${reply.error}`);
      else if (tab && this.tabs.count > 1) this.tabs.remove(tab, this.focusIsOurs() && this.state.canType());
      else if (tab) this.attacher.markEnded(tab);
      this.publish();
    });
    this.publish();
  }

  /** A watcher takes the keyboard (or gives it back). */
  toggleControl() {
    const socket = this.socket;
    if (this.state.mode !== "watch" || this.state.controlPending || !socket?.connected) return;
    const take = !this.state.controlling;
    const seq = this.state.connectionSeq;
    this.state.controlPending = true;
    socket.emit(BrowserToServer.control, { environmentId: this.options.environmentId, take }, (raw: unknown) => {
      if (this.state.disposed || seq !== this.state.connectionSeq) return;
      this.state.controlPending = false;
      const reply = readReplyTo(BrowserRequests.control, raw);
      if (reply.ok) {
        this.state.controlling = take;
        this.applyInputMode();
        if (take) this.tabs.active?.terminal.focus();
      } else {
        this.showAlert(`${take ? "Taking" : "Giving back"} the keyboard did not work: ${reply.error}`);
      }
      this.publish();
    });
    this.publish();
  }

  /** Searches the shown tab's scrollback: the addon reports matches (searchResults above); none is said here. */
  find(term: string, direction: "next" | "previous", incremental = false) {
    if (!this.tabs.search(term, direction, incremental)) this.state.search = { index: -1, count: 0 };
    this.publish();
  }

  endSearch() {
    this.tabs.endSearch();
    this.state.search = null;
    this.publish();
  }

  setScreenReaderMode(enabled: boolean) {
    this.state.screenReaderMode = enabled;
    this.tabSet?.setScreenReaderMode(enabled);
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
    listenToServer(socket, {
      state: this.state,
      screenPieces: this.screenPieces,
      outbound: this.outbound,
      attacher: this.attacher,
      broadcasts: this.broadcasts,
      tabs: () => this.tabs,
      isOurs: (message) => this.isOurs(message),
      publish: () => this.publish(),
      setStatus: (status) => this.setStatus(status),
      applyInputMode: () => this.applyInputMode(),
      onNotice: (raw) => this.onNotice(raw),
      onServerError: (raw) => this.onServerError(raw),
    });
  }

  private onNotice(raw: unknown) {
    const notice = readNotice(raw);
    if (!notice || !this.isOurs(notice)) return;
    if (notice.kind === "stopped") {
      this.state.stopped = true;
      this.attacher.cancelEnded();
      this.applyInputMode();
      for (const tab of this.tabs.all) tab.note("This environment was stopped.");
      this.state.status = { kind: "stopped" };
      this.messages.notice(notice.kind, notice.message);
      this.options.onStopped(notice.message);
    } else {
      this.messages.notice(notice.kind, notice.message);
    }
    this.publish();
  }

  private inputRefused(error: string) {
    if (this.state.mode === "watch") return this.onServerError({ event: BrowserToServer.input, error });
    // The owner's keystroke was lost (the worker did not answer): a passing hint, not a dead panel.
    this.showHint(error);
  }

  private onServerError(raw: unknown) {
    const error = readServerError(raw);
    if (!error || this.state.stopped || QUIET_ERRORS.has(error.event)) return;
    if (error.event === BrowserToServer.input && this.state.mode === "watch") {
      // The keyboard was taken back (or never granted): back to watching, and say so.
      this.state.controlling = false;
      this.applyInputMode();
      this.showAlert(error.error);
      this.publish();
      return;
    }
    this.setStatus({ kind: "error", message: error.error, code: error.code });
  }

  // ---- Input, resize, acks ----

  private onInput(tab: TerminalTab, data: string) {
    if (this.state.stopped) return;
    if (tab.ended) {
      // Only the owner starts a new shell, with Enter, as before tabs existed.
      if (data === "\r" && this.state.mode === "owner" && this.socket?.connected) this.attacher.attach(tab);
      return;
    }
    if (!this.state.canType()) return;
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

  private canAddTab() {
    return (
      this.state.mode === "owner" &&
      !this.state.stopped &&
      Boolean(this.socket?.connected) &&
      this.state.status.kind !== "error" &&
      (this.tabSet?.count ?? MAX_TERMINALS_PER_ENVIRONMENT) < MAX_TERMINALS_PER_ENVIRONMENT
    );
  }

  private applyInputMode() {
    this.tabs.setInputDisabled(this.state.stopped || !this.state.canType());
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
    this.state.status = status;
    this.publish();
  }

  private publish() {
    if (this.state.disposed) return;
    this.options.onChange(viewOf(this.state, this.messages, this.broadcasts, this.tabSet, this.canAddTab()));
  }
}
