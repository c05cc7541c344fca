"use client";
/**
 * The strip of terminal tabs (the ARIA tabs pattern: arrow keys, Home and End move
 * between tabs, and the tab in focus is the one shown). The owner also gets "+" and a
 * close button per tab; watchers only switch.
 */
import type { KeyboardEvent, MouseEvent } from "react";
import { MAX_TERMINALS_PER_ENVIRONMENT } from "../../protocol/browser-messages";
import { tabForKey } from "./terminal-tab-list";

export function TerminalTabs({
  tabs,
  activeId,
  domId,
  manage,
  canAdd,
  onSelect,
  onAdd,
  onClose,
}: {
  tabs: { id: string; label: string; closing: boolean }[];
  activeId: string;
  domId: (kind: "tab" | "panel", terminalId: string) => string;
  /** The owner: may open and close tabs. */
  manage: boolean;
  canAdd: boolean;
  /** `focusTerminal`: a pointer click moves on into the terminal; keyboard moves stay on the strip. */
  onSelect: (terminalId: string, focusTerminal: boolean) => void;
  onAdd: () => void;
  onClose: (terminalId: string) => void;
}) {
  const order = tabs.map((tab) => tab.id);

  const moveWithKeys = (event: KeyboardEvent<HTMLDivElement>) => {
    const current = event.target instanceof HTMLElement && event.target.getAttribute("role") === "tab" ? event.target.dataset.terminalId : undefined;
    const next = current ? tabForKey(order, current, event.key) : null;
    if (!next) return;
    event.preventDefault();
    onSelect(next, false);
    document.getElementById(domId("tab", next))?.focus();
  };
  // A click from the keyboard (Enter, Space) has detail 0: focus stays on the tab.
  const select = (terminalId: string) => (event: MouseEvent) => onSelect(terminalId, event.detail > 0);

  return (
    <div className="terminal-tabs">
      <div className="terminal-tablist" role="tablist" aria-label="Terminals" onKeyDown={moveWithKeys}>
        {tabs.map((tab) => {
          const selected = tab.id === activeId;
          return (
            <div key={tab.id} className={selected ? "terminal-tab selected" : "terminal-tab"} role="presentation">
              <button
                type="button"
                role="tab"
                className="terminal-tab-button"
                id={domId("tab", tab.id)}
                aria-selected={selected}
                aria-controls={domId("panel", tab.id)}
                tabIndex={selected ? 0 : -1}
                data-testid="terminal-tab"
                data-terminal-id={tab.id}
                onClick={select(tab.id)}
              >
                {tab.label}
              </button>
              {manage && tabs.length > 1 && (
                <button
                  type="button"
                  className="terminal-tab-close"
                  aria-label={`Close ${tab.label}`}
                  title={`Close ${tab.label} (ends its shell)`}
                  disabled={tab.closing}
                  onClick={() => onClose(tab.id)}
                >
                  ×
                </button>
              )}
            </div>
          );
        })}
      </div>
      {manage && (
        <button
          type="button"
          className="terminal-tab-add"
          aria-label="New terminal tab"
          title={tabs.length >= MAX_TERMINALS_PER_ENVIRONMENT ? `At most ${MAX_TERMINALS_PER_ENVIRONMENT} terminals` : "New terminal tab"}
          disabled={!canAdd}
          onClick={onAdd}
        >
          +
        </button>
      )}
    </div>
  );
}
