"use client";
/**
 * The student's terminal: xterm.js in the page, bytes relayed over socket.io to the
 * worker's shell. Terminal bytes are opaque data end to end.
 *
 * Notices about the environment (lifetime warnings, idle or instructor stops) arrive on the
 * same socket and show as banners above the terminal.
 */
import Link from "next/link";
import { useEffect, useRef, useState, type ReactNode } from "react";
import type { Socket } from "socket.io-client";
import {
  BrowserToServer, ServerToBrowser, TERMINAL_NAMESPACE,
  type AttachReply, type BrowserError, type BrowserOutput, type EnvironmentNotice,
} from "../../protocol/browser-messages";
import { TerminalOutputCursor } from "./terminal-output-cursor";

type Status =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "watching" }
  | { kind: "reconnecting" }
  | { kind: "exited" }
  | { kind: "stopped" }
  | { kind: "error"; message: string; signIn?: boolean };

type Notice = { id: number; kind: EnvironmentNotice["kind"]; message: string };

const TERMINAL_ID = "main";
/** The server accepts at most 64 KiB per input message: a big paste goes in pieces. */
const INPUT_CHUNK = 16 * 1024;
/** Older info/warning banners give way to newer ones. */
const MAX_NOTICES = 3;
/** How long a shell's exit waits for a "stopped" notice before offering a new shell. */
const EXIT_GRACE_MS = 600;
const SIGNED_OUT = "Your session has ended. Sign in again to reach your terminal.";

const THEME = {
  background: "#0b1020", foreground: "#e2e8f0", cursor: "#4ade80", selectionBackground: "#334155",
  black: "#1e293b", red: "#f87171", green: "#4ade80", yellow: "#facc15", blue: "#60a5fa",
  magenta: "#c084fc", cyan: "#22d3ee", white: "#e2e8f0", brightBlack: "#64748b",
};

/**
 * The strip above the terminal: its state on the left (data-testid="terminal-status",
 * with `data-state` for tests and tools), the page's actions on the right. The lab page
 * uses it on its own while no terminal is mounted (starting, stopped, …).
 */
export function TerminalBar({ state, alert = false, actions, children }: { state: string; alert?: boolean; actions?: ReactNode; children: ReactNode }) {
  return (
    <div className="terminal-bar">
      <div className="terminal-status" data-testid="terminal-status" data-state={state} role={alert ? "alert" : "status"}>
        {children}
      </div>
      {actions && <div className="terminal-actions">{actions}</div>}
    </div>
  );
}

export function TerminalPanel({ environmentId, actions, onStartAgain, onStopped }: {
  environmentId: string;
  /** Buttons shown at the right of the status strip. */
  actions?: ReactNode;
  /** Offered after the environment was stopped (or could not be reached): start it again. */
  onStartAgain?: () => void;
  /** The server said this environment was stopped (idle, time limit, instructor). */
  onStopped?: (message: string) => void;
}) {
  const containerRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ kind: "connecting" });
  const [notices, setNotices] = useState<Notice[]>([]);
  const [watching, setWatching] = useState(false);
  // The page's callbacks change identity on every render: the socket reads the latest.
  const onStoppedRef = useRef(onStopped);
  useEffect(() => { onStoppedRef.current = onStopped; }, [onStopped]);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    let disposed = false;
    let cleanup = () => undefined as void;
    let noticeId = 0;

    // xterm and socket.io touch `window`: load them in the browser only.
    void (async () => {
      const [{ Terminal }, { FitAddon }, { WebLinksAddon }, { io }] = await Promise.all([
        import("@xterm/xterm"), import("@xterm/addon-fit"), import("@xterm/addon-web-links"), import("socket.io-client"),
      ]);
      if (disposed) return;
      const terminal = new Terminal({
        cursorBlink: true, fontSize: 14, scrollback: 5000, theme: THEME,
        fontFamily: '"JetBrains Mono", "DejaVu Sans Mono", "Menlo", "Consolas", monospace',
      });
      const fit = new FitAddon();
      terminal.loadAddon(fit);
      terminal.loadAddon(new WebLinksAddon((event, uri) => {
        // Only web links open, and never with access back to this page.
        if (/^https?:\/\//i.test(uri)) window.open(uri, "_blank", "noopener,noreferrer");
      }));
      terminal.open(container);
      fit.fit();

      const socket: Socket = io(TERMINAL_NAMESPACE, { path: "/socket.io", transports: ["websocket"], withCredentials: true });
      const cursor = new TerminalOutputCursor();
      let exited = false;
      // Once the server says the environment stopped, nothing re-attaches until the page starts it again.
      let stopped = false;
      // Staff watching a student's terminal only see: no input, and their window never resizes it.
      let watchOnly = false;
      let exitTimer: ReturnType<typeof setTimeout> | undefined;

      const attach = () => {
        if (stopped) return;
        cursor.reset();
        socket.emit(BrowserToServer.attach, { environmentId, terminalId: TERMINAL_ID, cols: terminal.cols, rows: terminal.rows },
          (reply: AttachReply) => {
            if (stopped) return;
            if (!reply.ok) return setStatus({ kind: "error", message: reply.error });
            exited = false;
            watchOnly = reply.mode === "watch";
            setWatching(watchOnly);
            terminal.options.disableStdin = watchOnly;
            terminal.reset();
            terminal.write(reply.screen);
            // Output that overtook the reply, minus what the screen already shows.
            for (const early of cursor.start(reply.offset)) terminal.write(early);
            setStatus({ kind: watchOnly ? "watching" : "connected" });
            if (!watchOnly) terminal.focus();
          });
      };

      socket.on("connect", attach);
      socket.on("disconnect", () => {
        cursor.reset();
        if (!stopped) setStatus({ kind: "reconnecting" });
      });
      socket.on("connect_error", (error) => {
        if (stopped) return;
        setStatus(error.message.includes("sign in")
          ? { kind: "error", message: SIGNED_OUT, signIn: true }
          : { kind: "reconnecting" });
      });
      socket.on(ServerToBrowser.output, (message: BrowserOutput) => {
        if (message.environmentId !== environmentId || message.terminalId !== TERMINAL_ID) return;
        const fresh = cursor.accept(new Uint8Array(message.data), message.offset);
        if (fresh.byteLength > 0) terminal.write(fresh);
      });
      socket.on(ServerToBrowser.exit, () => {
        exited = true;
        if (stopped) return;
        // When the whole environment is being stopped, the shell's exit comes a moment
        // before the notice that says why: wait for it rather than offer a new shell.
        clearTimeout(exitTimer);
        exitTimer = setTimeout(() => {
          if (stopped || !exited || disposed) return;
          setStatus({ kind: "exited" });
          terminal.write(watchOnly
            ? "\r\n\x1b[2m[The shell has ended.]\x1b[0m\r\n"
            : "\r\n\x1b[2m[The shell has ended. Press Enter to start a new one.]\x1b[0m\r\n");
        }, EXIT_GRACE_MS);
      });
      socket.on(ServerToBrowser.error, (error: BrowserError) => {
        if (!stopped) setStatus({ kind: "error", message: error.error });
      });
      socket.on(ServerToBrowser.notice, (notice: EnvironmentNotice) => {
        if (notice.environmentId !== environmentId) return;
        const shown: Notice = { id: ++noticeId, kind: notice.kind, message: notice.message };
        if (notice.kind === "stopped") {
          stopped = true;
          terminal.options.disableStdin = true;
          terminal.write("\r\n\x1b[2m[This environment was stopped.]\x1b[0m\r\n");
          setStatus({ kind: "stopped" });
          // A stop replaces whatever was said before it.
          setNotices([shown]);
          onStoppedRef.current?.(notice.message);
        } else {
          setNotices((current) => [...current.filter((old) => old.kind !== "stopped"), shown].slice(-MAX_NOTICES));
        }
      });

      const typing = terminal.onData((data) => {
        if (watchOnly || stopped) return;
        if (exited) {
          if (data === "\r") attach();
          return;
        }
        for (let index = 0; index < data.length; index += INPUT_CHUNK) {
          socket.emit(BrowserToServer.input, { environmentId, terminalId: TERMINAL_ID, data: data.slice(index, index + INPUT_CHUNK) });
        }
      });
      const resizing = terminal.onResize(({ cols, rows }) => {
        if (socket.connected && !watchOnly && !stopped) socket.emit(BrowserToServer.resize, { environmentId, terminalId: TERMINAL_ID, cols, rows });
      });
      const observer = new ResizeObserver(() => fit.fit());
      observer.observe(container);

      cleanup = () => {
        clearTimeout(exitTimer);
        observer.disconnect();
        typing.dispose();
        resizing.dispose();
        socket.close();
        terminal.dispose();
      };
    })();

    // StrictMode runs effects twice in development: the first run is fully undone.
    return () => {
      disposed = true;
      cleanup();
    };
  }, [environmentId]);

  const dismiss = (id: number) => setNotices((current) => current.filter((notice) => notice.id !== id));
  const stoppedNotice = notices.some((notice) => notice.kind === "stopped");
  const offerStart = Boolean(onStartAgain) && !watching;

  return (
    <div className="terminal-panel">
      <TerminalBar state={status.kind} alert={status.kind === "error"} actions={actions}>
        {status.kind === "connecting" && <><span className="spinner" aria-hidden="true" /> Connecting to your terminal…</>}
        {status.kind === "connected" && <><span className="dot live" aria-hidden="true" /> Connected</>}
        {status.kind === "watching" && <><span className="dot watch" aria-hidden="true" /> Watching (read-only)</>}
        {status.kind === "reconnecting" && <><span className="dot warn" aria-hidden="true" /> Connection lost: reconnecting…</>}
        {status.kind === "exited" && <><span className="dot idle" aria-hidden="true" /> The shell has ended. Press Enter in the terminal for a new one.</>}
        {status.kind === "stopped" && <><span className="dot idle" aria-hidden="true" /> Stopped</>}
        {status.kind === "error" && (
          <>
            <span className="dot bad" aria-hidden="true" />
            <span className="error">{status.message}</span>
            {status.signIn
              ? <Link href="/sign-in" className="terminal-link">Sign in</Link>
              : offerStart && !stoppedNotice && (
                <button type="button" className="terminal-link" onClick={onStartAgain}>
                  {/not running/i.test(status.message) ? "Start again" : "Try again"}
                </button>
              )}
          </>
        )}
      </TerminalBar>
      {notices.length > 0 && (
        <div className="terminal-notices">
          {notices.map((notice) => (
            <div key={notice.id} className={`terminal-notice ${notice.kind}`} role={notice.kind === "stopped" ? "alert" : "status"} data-testid="environment-notice" data-kind={notice.kind}>
              <span className="terminal-notice-label">{notice.kind === "warning" ? "Heads up" : notice.kind === "stopped" ? "Environment stopped" : "Note"}</span>
              <span className="terminal-notice-text">{notice.message}</span>
              {notice.kind === "stopped"
                ? offerStart && <button type="button" className="primary small-button" onClick={onStartAgain}>Start again</button>
                : <button type="button" className="terminal-notice-dismiss" onClick={() => dismiss(notice.id)} aria-label="Dismiss this message">×</button>}
            </div>
          ))}
        </div>
      )}
      <div className="terminal-surface" ref={containerRef} data-testid="terminal" />
    </div>
  );
}
