/**
 * The panel's side of the socket, inbound: what each server message does to the panel's tabs
 * and state (output and repaints to their tab, exits, resumes, the open tabs, the keyboard,
 * broadcasts, notices, errors), and what connecting and disconnecting reset. Every message is
 * read (terminal-messages.ts) and checked to be this panel's before it touches anything.
 */
import type { Socket } from "socket.io-client";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { connectRefusalOf } from "../../protocol/browser-contract";
import type { BroadcastInbox } from "./broadcast-inbox";
import { readBroadcast, readControl, readExit, readOutput, readRepaint, readResume, readScreenPart, readTabs } from "./terminal-messages";
import type { TerminalOutbound } from "./terminal-outbound";
import type { PanelState } from "./terminal-panel-state";
import type { ScreenPieces } from "./terminal-screen-pieces";
import type { TabAttacher } from "./terminal-tab-attacher";
import type { TerminalTabSet } from "./terminal-tab-set";
import type { ConnectionStatus } from "./terminal-view";

const SIGNED_OUT = "Your session has ended. Sign in again to reach your terminal.";

/** What the socket's messages reach in their panel. */
export interface InboundPanel {
  state: PanelState;
  screenPieces: ScreenPieces;
  outbound: TerminalOutbound;
  attacher: TabAttacher;
  broadcasts: BroadcastInbox;
  tabs(this: void): TerminalTabSet;
  isOurs(this: void, message: { environmentId: string }): boolean;
  publish(this: void): void;
  setStatus(this: void, status: ConnectionStatus): void;
  applyInputMode(this: void): void;
  onNotice(this: void, raw: unknown): void;
  onServerError(this: void, raw: unknown): void;
}

export function listenToServer(socket: Socket, panel: InboundPanel) {
  socket.on("connect", () => {
    // The tab in view first: its reply lists the open tabs, which says which others to attach.
    const active = panel.tabs().active;
    if (active) panel.attacher.attach(active);
  });
  socket.on("disconnect", () => {
    panel.state.connectionSeq += 1;
    panel.screenPieces.clear();
    panel.outbound.reset();
    for (const tab of panel.tabs().all) tab.detach();
    // The keyboard and pending requests belonged to the old connection.
    panel.state.controlling = false;
    panel.state.controlPending = false;
    panel.state.closing.clear();
    panel.applyInputMode();
    if (!panel.state.stopped) panel.state.status = { kind: "reconnecting" };
    panel.publish();
  });
  socket.on("connect_error", (error: Error) => {
    if (panel.state.stopped) return;
    // A refused session is for good (sign in again); anything else is the network: keep trying.
    panel.setStatus(connectRefusalOf(error) === "unauthenticated" ? { kind: "error", message: SIGNED_OUT, signIn: true } : { kind: "reconnecting" });
  });
  socket.on(ServerToBrowser.output, (raw: unknown) => {
    const message = readOutput(raw);
    const tab = message && panel.isOurs(message) ? panel.tabs().find(message.terminalId) : undefined;
    if (tab && message && tab.output(message.data, message.offset)) tab.watchGap(() => panel.attacher.attach(tab));
  });
  socket.on(ServerToBrowser.screenPart, (raw: unknown) => {
    const part = readScreenPart(raw);
    if (part && panel.isOurs(part)) panel.screenPieces.part(part.terminalId, part.screenId, part.index, part.data);
  });
  socket.on(ServerToBrowser.repaint, (raw: unknown) => {
    const message = readRepaint(raw);
    const tab = message && panel.isOurs(message) ? panel.tabs().find(message.terminalId) : undefined;
    if (!tab || !message) return;
    const screen = panel.screenPieces.finish(tab.id, message);
    // A piece went missing: the gap watch attaches again, which brings a whole screen.
    if (screen === null) return tab.watchGap(() => panel.attacher.attach(tab));
    if (tab.repaint(screen, message.offset)) tab.watchGap(() => panel.attacher.attach(tab));
  });
  socket.on(ServerToBrowser.exit, (raw: unknown) => {
    const message = readExit(raw);
    const tab = message && panel.isOurs(message) ? panel.tabs().find(message.terminalId) : undefined;
    // An exit while attaching belongs to the shell being replaced.
    if (tab && !tab.attaching) panel.attacher.markEnded(tab);
  });
  // The worker came back with the same shells: the tab in view attaches again (its reply
  // lists the open tabs, which brings the others), and the repaint shows the screen.
  socket.on(ServerToBrowser.resume, (raw: unknown) => {
    const message = readResume(raw);
    if (!message || !panel.isOurs(message) || panel.state.stopped) return;
    for (const tab of panel.tabs().all) tab.detach();
    const active = panel.tabs().active;
    if (active) panel.attacher.attach(active);
  });
  socket.on(ServerToBrowser.tabs, (raw: unknown) => {
    const message = readTabs(raw);
    if (message && panel.isOurs(message)) panel.attacher.reconcile(message.terminals);
  });
  socket.on(ServerToBrowser.control, (raw: unknown) => {
    const message = readControl(raw);
    if (!message || !panel.isOurs(message)) return;
    panel.state.controller = message.controller;
    panel.publish();
  });
  socket.on(ServerToBrowser.broadcast, (raw: unknown) => {
    // Course-wide, not tied to this environment: every one that arrives is shown.
    const message = readBroadcast(raw);
    if (!message) return;
    if (panel.broadcasts.receive(message)) panel.publish();
  });
  socket.on(ServerToBrowser.notice, (raw: unknown) => panel.onNotice(raw));
  socket.on(ServerToBrowser.error, (raw: unknown) => panel.onServerError(raw));
}
