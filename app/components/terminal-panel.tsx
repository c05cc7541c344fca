"use client";
/**
 * The student's terminal: xterm.js in the page, bytes relayed over socket.io to the
 * worker's shell. Terminal bytes are opaque data end to end.
 */
import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import {
  BrowserToServer, ServerToBrowser, TERMINAL_NAMESPACE,
  type AttachReply, type BrowserError, type BrowserOutput,
} from "../../protocol/browser-messages";
import { TerminalOutputCursor } from "./terminal-output-cursor";

type Status =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "watching" }
  | { kind: "reconnecting" }
  | { kind: "exited" }
  | { kind: "error"; message: string };

const TERMINAL_ID = "main";
/** The server accepts at most 64 KiB per input message: a big paste goes in pieces. */
const INPUT_CHUNK = 16 * 1024;

const THEME = {
  background: "#0b1020", foreground: "#e2e8f0", cursor: "#4ade80", selectionBackground: "#334155",
  black: "#1e293b", red: "#f87171", green: "#4ade80", yellow: "#facc15", blue: "#60a5fa",
  magenta: "#c084fc", cyan: "#22d3ee", white: "#e2e8f0", brightBlack: "#64748b",
};

export function TerminalPanel({ environmentId }: { environmentId: string }) {
  const containerRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ kind: "connecting" });

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    let disposed = false;
    let cleanup = () => undefined as void;

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
      // Staff watching a student's terminal only see: no input, and their window never resizes it.
      let watching = false;

      const attach = () => {
        cursor.reset();
        socket.emit(BrowserToServer.attach, { environmentId, terminalId: TERMINAL_ID, cols: terminal.cols, rows: terminal.rows },
          (reply: AttachReply) => {
            if (!reply.ok) return setStatus({ kind: "error", message: reply.error });
            exited = false;
            watching = reply.mode === "watch";
            terminal.options.disableStdin = watching;
            terminal.reset();
            terminal.write(reply.screen);
            // Output that overtook the reply, minus what the screen already shows.
            for (const early of cursor.start(reply.offset)) terminal.write(early);
            setStatus({ kind: watching ? "watching" : "connected" });
            if (!watching) terminal.focus();
          });
      };

      socket.on("connect", attach);
      socket.on("disconnect", () => { cursor.reset(); setStatus({ kind: "reconnecting" }); });
      socket.on("connect_error", (error) => {
        setStatus(error.message.includes("sign in")
          ? { kind: "error", message: "Your session has ended. Sign in again to reach your terminal." }
          : { kind: "reconnecting" });
      });
      socket.on(ServerToBrowser.output, (message: BrowserOutput) => {
        if (message.environmentId !== environmentId || message.terminalId !== TERMINAL_ID) return;
        const fresh = cursor.accept(new Uint8Array(message.data), message.offset);
        if (fresh.byteLength > 0) terminal.write(fresh);
      });
      socket.on(ServerToBrowser.exit, () => {
        exited = true;
        setStatus({ kind: "exited" });
        terminal.write(watching
          ? "\r\n\x1b[2m[The shell has ended.]\x1b[0m\r\n"
          : "\r\n\x1b[2m[The shell has ended. Press Enter to start a new one.]\x1b[0m\r\n");
      });
      socket.on(ServerToBrowser.error, (error: BrowserError) => setStatus({ kind: "error", message: error.error }));

      const typing = terminal.onData((data) => {
        if (watching) return;
        if (exited) {
          if (data === "\r") attach();
          return;
        }
        for (let index = 0; index < data.length; index += INPUT_CHUNK) {
          socket.emit(BrowserToServer.input, { environmentId, terminalId: TERMINAL_ID, data: data.slice(index, index + INPUT_CHUNK) });
        }
      });
      const resizing = terminal.onResize(({ cols, rows }) => {
        if (socket.connected && !watching) socket.emit(BrowserToServer.resize, { environmentId, terminalId: TERMINAL_ID, cols, rows });
      });
      const observer = new ResizeObserver(() => fit.fit());
      observer.observe(container);

      cleanup = () => {
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

  return (
    <div className="terminal-panel">
      <div className="terminal-status" data-testid="terminal-status" data-state={status.kind} role="status">
        {status.kind === "connecting" && "Connecting to your terminal…"}
        {status.kind === "connected" && <><span className="dot live" /> Connected</>}
        {status.kind === "watching" && <><span className="dot watch" /> Watching (read-only)</>}
        {status.kind === "reconnecting" && <><span className="dot warn" /> Connection lost: reconnecting…</>}
        {status.kind === "exited" && "The shell has ended."}
        {status.kind === "error" && <span className="error">{status.message}</span>}
      </div>
      <div className="terminal-surface" ref={containerRef} data-testid="terminal" />
    </div>
  );
}
