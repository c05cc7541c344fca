/**
 * What a terminal panel says to the person besides the screen: the server's notices (a stop
 * replaces them all; older banners give way to newer), the alert of a failed action, and a
 * short-lived hint. One counter numbers them all, so React can tell a repeat from the last one.
 */
import type { ReceivedNotice } from "./terminal-messages";
import type { PanelNotice, TerminalView } from "./terminal-view";

/** Older info/warning banners give way to newer ones. */
const MAX_NOTICES = 3;
const HINT_MS = 4000;

export class PanelMessages {
  notices: PanelNotice[] = [];
  alert: TerminalView["alert"] = null;
  hint: TerminalView["hint"] = null;
  private nextMessageId = 0;
  private hintTimer: ReturnType<typeof setTimeout> | undefined;

  /** `changed` redraws the panel (a hint that expires clears itself). */
  constructor(private readonly changed: () => void) {}

  notice(kind: ReceivedNotice["kind"], message: string) {
    const shown: PanelNotice = { id: ++this.nextMessageId, kind, message };
    // A stop replaces whatever was said before it.
    if (kind === "stopped") this.notices = [shown];
    else this.notices = [...this.notices.filter((old) => old.kind !== "stopped"), shown].slice(-MAX_NOTICES);
  }

  dismissNotice(id: number) {
    this.notices = this.notices.filter((notice) => notice.id !== id);
  }

  showAlert(message: string) {
    this.alert = { id: ++this.nextMessageId, message };
  }

  dismissAlert() {
    this.alert = null;
  }

  showHint(message: string) {
    this.hint = { id: ++this.nextMessageId, message };
    clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(() => {
      this.hint = null;
      this.changed();
    }, HINT_MS);
    this.changed();
  }

  dispose() {
    clearTimeout(this.hintTimer);
  }
}
