"use client";
/**
 * The terminal of an environment in the page: a status bar, a strip of tabs (one shell
 * each), banners, and the terminals themselves. The socket and the xterms live in
 * TerminalConnection; this component draws what it publishes and forwards the clicks.
 *
 * The owner types, resizes, opens and closes tabs. Course staff watch read-only and may
 * take the keyboard (never the size).
 */
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { useTRPC } from "../trpc";
import { INITIAL_VIEW, TerminalConnection, type TerminalView } from "./terminal-connection";
import { TerminalNotices } from "./terminal-notices";
import { TerminalSearchBar } from "./terminal-search-bar";
import { TerminalTabs } from "./terminal-tabs";

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

/** The bar's `data-state`: "live" is told apart by who is looking. */
function barState(view: TerminalView) {
  if (view.status.kind !== "live") return view.status.kind;
  if (view.mode !== "watch") return "connected";
  return view.controlling ? "controlling" : "watching";
}

export function TerminalPanel({
  environmentId,
  actions,
  onStartAgain,
  onStopped,
}: {
  environmentId: string;
  /** Buttons shown at the right of the status strip. */
  actions?: ReactNode;
  /** Offered after the environment was stopped (or could not be reached): start it again. */
  onStartAgain?: () => void;
  /** The server said this environment was stopped (idle, time limit, instructor). */
  onStopped?: (message: string) => void;
}) {
  const surfacesRef = useRef<HTMLDivElement>(null);
  const connectionRef = useRef<TerminalConnection | null>(null);
  const [view, setView] = useState<TerminalView>(INITIAL_VIEW);
  // The page's callbacks change identity on every render: the connection reads the latest.
  const onStoppedRef = useRef(onStopped);
  useEffect(() => {
    onStoppedRef.current = onStopped;
  }, [onStopped]);
  const idBase = useId();
  const domId = useCallback((kind: "tab" | "panel", terminalId: string) => `${idBase}${kind}-${terminalId}`, [idBase]);

  useEffect(() => {
    const surfaces = surfacesRef.current;
    if (!surfaces) return;
    const connection = new TerminalConnection({
      environmentId,
      surfaces,
      domId,
      onChange: setView,
      onStopped: (message) => onStoppedRef.current?.(message),
    });
    connectionRef.current = connection;
    void connection.start();
    // StrictMode runs effects twice in development: the first run is fully undone.
    return () => {
      connection.dispose();
      connectionRef.current = null;
    };
  }, [environmentId, domId]);

  // Screen-reader mode is the person's, kept on their account: every terminal they open follows it.
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const preferences = useQuery(trpc.preferences.get.queryOptions());
  const screenReaderMode = preferences.data?.screenReaderMode;
  useEffect(() => {
    if (screenReaderMode !== undefined) connectionRef.current?.setScreenReaderMode(screenReaderMode);
  }, [screenReaderMode, environmentId]);
  const saveScreenReaderMode = useMutation(
    trpc.preferences.setScreenReaderMode.mutationOptions({
      onSuccess: (saved) => queryClient.setQueryData(trpc.preferences.get.queryKey(), saved),
    }),
  );
  const toggleScreenReaderMode = () => {
    const enabled = !view.screenReaderMode;
    connectionRef.current?.setScreenReaderMode(enabled);
    saveScreenReaderMode.mutate({ enabled });
  };

  const [searching, setSearching] = useState(false);
  const closeSearch = () => {
    setSearching(false);
    connectionRef.current?.endSearch();
  };
  // Ctrl+Shift+F from inside the terminal (xterm would otherwise take it): open the search bar.
  const searchShortcut = (event: KeyboardEvent) => {
    if (event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey && event.code === "KeyF") {
      event.preventDefault();
      event.stopPropagation();
      setSearching(true);
    }
  };

  const { status } = view;
  const state = barState(view);
  const watching = view.mode === "watch";
  const owner = view.mode === "owner";
  const stoppedNotice = view.notices.some((notice) => notice.kind === "stopped");
  const offerStart = Boolean(onStartAgain) && !watching;
  const keyboardButton = watching && (
    <button
      type="button"
      className="terminal-button"
      onClick={() => connectionRef.current?.toggleControl()}
      disabled={view.controlPending || status.kind !== "live"}
      title={view.controlling ? "Stop typing in this terminal" : "Type in this terminal (its owner sees that you do)"}
    >
      {view.controlling ? "Give back the keyboard" : "Take the keyboard"}
    </button>
  );
  const barActions = (
    <>
      <button
        type="button"
        className="terminal-button"
        aria-pressed={searching}
        title="Search the terminal's output (Ctrl+Shift+F)"
        onClick={() => (searching ? closeSearch() : setSearching(true))}
      >
        Search
      </button>
      <button
        type="button"
        className="terminal-button"
        aria-pressed={view.screenReaderMode}
        title="Let screen readers read the terminal's lines (remembered on your account)"
        onClick={toggleScreenReaderMode}
      >
        Screen reader
      </button>
      {keyboardButton}
      {actions}
    </>
  );

  return (
    <div className="terminal-panel" onKeyDownCapture={searchShortcut}>
      <TerminalBar state={state} alert={status.kind === "error"} actions={barActions}>
        {state === "connecting" && (
          <>
            <span className="spinner" aria-hidden="true" /> Connecting to your terminal…
          </>
        )}
        {state === "connected" && (
          <>
            <span className="dot live" aria-hidden="true" /> Connected
          </>
        )}
        {state === "watching" && (
          <>
            <span className="dot watch" aria-hidden="true" /> Watching (read-only)
          </>
        )}
        {state === "controlling" && (
          <>
            <span className="dot control" aria-hidden="true" /> You have the keyboard
          </>
        )}
        {state === "reconnecting" && (
          <>
            <span className="dot warn" aria-hidden="true" /> Connection lost: reconnecting…
          </>
        )}
        {state === "exited" && (
          <>
            <span className="dot idle" aria-hidden="true" />{" "}
            {owner ? "The shell has ended. Press Enter in the terminal for a new one." : "The shell has ended."}
          </>
        )}
        {state === "stopped" && (
          <>
            <span className="dot idle" aria-hidden="true" /> Stopped
          </>
        )}
        {status.kind === "error" && (
          <>
            <span className="dot bad" aria-hidden="true" />
            <span className="error">{status.message}</span>
            {status.signIn ? (
              <Link href="/sign-in" className="terminal-link">
                Sign in
              </Link>
            ) : (
              offerStart &&
              !stoppedNotice && (
                <button type="button" className="terminal-link" onClick={onStartAgain}>
                  {status.code === "not_running" ? "Start again" : "Try again"}
                </button>
              )
            )}
          </>
        )}
      </TerminalBar>
      <TerminalNotices
        notices={view.notices}
        broadcasts={view.broadcasts}
        controller={owner ? view.controller : null}
        alert={view.alert}
        offerStart={offerStart}
        onStartAgain={onStartAgain}
        onDismissNotice={(id) => connectionRef.current?.dismissNotice(id)}
        onDismissBroadcast={(id) => connectionRef.current?.dismissBroadcast(id)}
        onDismissAlert={() => connectionRef.current?.dismissAlert()}
      />
      {view.tabs.length > 0 && (
        <TerminalTabs
          tabs={view.tabs}
          activeId={view.activeId}
          domId={domId}
          manage={owner}
          canAdd={view.canAddTab}
          onSelect={(terminalId, focus) => connectionRef.current?.selectTab(terminalId, focus)}
          onAdd={() => connectionRef.current?.newTab()}
          onClose={(terminalId) => connectionRef.current?.closeTab(terminalId)}
        />
      )}
      {searching && (
        <TerminalSearchBar
          results={view.search}
          onFind={(term, direction, incremental) => connectionRef.current?.find(term, direction, incremental)}
          onClose={closeSearch}
        />
      )}
      <div className="terminal-stage">
        {/* Filled by TerminalConnection: one element per tab, only the one in view shown. */}
        <div className="terminal-surfaces" ref={surfacesRef} />
        {view.hint && (
          <div key={view.hint.id} className="terminal-hint" role="status" data-testid="terminal-hint">
            {view.hint.message}
          </div>
        )}
      </div>
    </div>
  );
}
