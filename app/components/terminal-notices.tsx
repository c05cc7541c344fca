"use client";
/**
 * Banners above the terminal: who holds the keyboard (for the owner), notices about the
 * environment, messages from the course's staff, and a failed tab or keyboard action.
 * Everything is rendered as text, never as HTML.
 */
import type { PanelBroadcast, PanelNotice, TerminalView } from "./terminal-connection";

const NOTICE_LABELS: Record<PanelNotice["kind"], string> = { warning: "Heads up", stopped: "Environment stopped", info: "Note" };

export function TerminalNotices({
  notices,
  broadcasts,
  controller,
  alert,
  offerStart,
  onStartAgain,
  onDismissNotice,
  onDismissBroadcast,
  onDismissAlert,
}: {
  notices: PanelNotice[];
  broadcasts: readonly PanelBroadcast[];
  /** Shown to the owner only: the staff member typing in their terminal. */
  controller: string | null;
  alert: TerminalView["alert"];
  offerStart: boolean;
  onStartAgain?: () => void;
  onDismissNotice: (id: number) => void;
  onDismissBroadcast: (key: string) => void;
  onDismissAlert: () => void;
}) {
  if (!controller && notices.length === 0 && broadcasts.length === 0 && !alert) return null;
  return (
    <div className="terminal-notices">
      {controller && (
        <div className="terminal-notice control" role="status" data-testid="control-banner">
          {controller} (your instructor) has the keyboard and may type in your terminal.
        </div>
      )}
      {notices.map((notice) => (
        <div
          key={notice.id}
          className={`terminal-notice ${notice.kind}`}
          role={notice.kind === "stopped" ? "alert" : "status"}
          data-testid="environment-notice"
          data-kind={notice.kind}
        >
          <span className="terminal-notice-label">{NOTICE_LABELS[notice.kind]}</span>
          <span className="terminal-notice-text">{notice.message}</span>
          {notice.kind === "stopped" ? (
            offerStart && (
              <button type="button" className="primary small-button" onClick={onStartAgain}>
                Start again
              </button>
            )
          ) : (
            <button type="button" className="terminal-notice-dismiss" onClick={() => onDismissNotice(notice.id)} aria-label="Dismiss this message">
              ×
            </button>
          )}
        </div>
      ))}
      {broadcasts.map((broadcast) => (
        <div key={broadcast.key} className="terminal-notice broadcast" role="status" data-testid="broadcast-notice" title={sentAt(broadcast.at)}>
          <span className="terminal-notice-label">Message from {broadcast.from}</span>
          <span className="terminal-notice-text">{broadcast.message}</span>
          <button type="button" className="terminal-notice-dismiss" onClick={() => onDismissBroadcast(broadcast.key)} aria-label="Dismiss this message">
            ×
          </button>
        </div>
      ))}
      {alert && (
        <div className="terminal-action-error" role="alert" data-testid="terminal-alert">
          <span>{alert.message}</span>
          <button type="button" className="terminal-notice-dismiss" onClick={onDismissAlert} aria-label="Dismiss this message">
            ×
          </button>
        </div>
      )}
    </div>
  );
}

function sentAt(at: string) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? "" : `Sent at ${date.toLocaleTimeString()}`;
}
