/**
 * A terminal panel's own state, shared by the connection and its tab attacher: the
 * connection's status, who this person is to the environment, the keyboard, tabs being
 * closed, and the counters that tell an old connection's replies from the current one's.
 */
import type { SearchResults } from "./terminal-search";
import type { ConnectionStatus } from "./terminal-view";

export class PanelState {
  status: ConnectionStatus = { kind: "connecting" };
  mode: "owner" | "watch" | null = null;
  controlling = false;
  controlPending = false;
  controller: string | null = null;
  closing = new Set<string>();
  /** Once the server says the environment stopped, nothing re-attaches until the page starts it again. */
  stopped = false;
  disposed = false;
  /** Bumped on every disconnect: replies from an older connection are ignored. */
  connectionSeq = 0;
  /** The shown tab's search, while the search bar is open. */
  search: SearchResults | null = null;
  screenReaderMode = false;

  canType() {
    // Before the first reply the mode is unknown: keystrokes queue, and are dropped if it says "watch".
    return this.mode !== "watch" || this.controlling;
  }
}
