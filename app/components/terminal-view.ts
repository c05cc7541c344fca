/**
 * What a terminal panel shows, as a plain snapshot React draws: the connection's status, who
 * this person is to the environment (owner or watcher), the keyboard, the tabs, and the
 * panel's messages. TerminalConnection publishes it; the panel's components only read it.
 */
import type { TerminalErrorCode } from "../../protocol/browser-contract";
import type { InboxBroadcast } from "./broadcast-inbox";
import type { SearchResults } from "./terminal-search";
import type { ReceivedNotice } from "./terminal-messages";
import { MAIN_TERMINAL } from "./terminal-tab-list";

export type ConnectionStatus =
  { kind: "connecting" | "live" | "reconnecting" | "exited" | "stopped" } | { kind: "error"; message: string; code?: TerminalErrorCode; signIn?: boolean };

export type PanelNotice = { id: number; kind: ReceivedNotice["kind"]; message: string };
export type PanelBroadcast = InboxBroadcast;

export type TerminalView = {
  status: ConnectionStatus;
  /** Unknown until the first attach reply. */
  mode: "owner" | "watch" | null;
  /** A watcher who took the keyboard. */
  controlling: boolean;
  controlPending: boolean;
  /** Who else holds the keyboard (the owner's banner). */
  controller: string | null;
  tabs: { id: string; label: string; closing: boolean }[];
  activeId: string;
  canAddTab: boolean;
  notices: PanelNotice[];
  broadcasts: readonly PanelBroadcast[];
  /** A failed action (open or close a tab, take the keyboard): says what happened. */
  alert: { id: number; message: string } | null;
  /** A short-lived tip (paste without clipboard access). */
  hint: { id: number; message: string } | null;
  /** Matches of the search in the shown tab's scrollback (null: no search). */
  search: SearchResults | null;
  /** Terminals expose their rows to screen readers. */
  screenReaderMode: boolean;
};

export const INITIAL_VIEW: TerminalView = {
  status: { kind: "connecting" },
  mode: null,
  controlling: false,
  controlPending: false,
  controller: null,
  tabs: [],
  activeId: MAIN_TERMINAL,
  canAddTab: false,
  notices: [],
  broadcasts: [],
  alert: null,
  hint: null,
  search: null,
  screenReaderMode: false,
};
