/** What TerminalConnection publishes: the view of its parts as they are now, for React to draw. */
import type { BroadcastInbox } from "./broadcast-inbox";
import type { PanelMessages } from "./terminal-panel-messages";
import type { PanelState } from "./terminal-panel-state";
import { MAIN_TERMINAL } from "./terminal-tab-list";
import type { TerminalTabSet } from "./terminal-tab-set";
import type { TerminalView } from "./terminal-view";

/** The view of a panel's parts as they are now (what TerminalConnection publishes). */
export function viewOf(state: PanelState, messages: PanelMessages, broadcasts: BroadcastInbox, tabs: TerminalTabSet | null, canAddTab: boolean): TerminalView {
  return {
    status: state.status,
    mode: state.mode,
    controlling: state.controlling,
    controlPending: state.controlPending,
    controller: state.controller,
    tabs: (tabs?.view() ?? []).map((tab) => ({ ...tab, closing: state.closing.has(tab.id) })),
    activeId: tabs?.activeId ?? MAIN_TERMINAL,
    canAddTab,
    notices: messages.notices,
    // Course messages are for the students; staff watching a terminal sent them.
    broadcasts: state.mode === "watch" ? [] : broadcasts.list,
    alert: messages.alert,
    hint: messages.hint,
    search: state.search,
    screenReaderMode: state.screenReaderMode,
  };
}
