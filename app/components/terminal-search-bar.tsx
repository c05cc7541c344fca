"use client";
/**
 * The search bar over a terminal: typing finds as it goes, Enter the next match, Shift+Enter
 * the previous, Escape closes it (and gives the keyboard back to the terminal). The count
 * is announced politely, so a screen reader says "3 of 12" without stealing focus.
 */
import { useState } from "react";
import type { SearchResults } from "./terminal-search";

export type SearchDirection = "next" | "previous";

/** The count as people read it; empty until there is a term. */
export function resultsText(term: string, results: SearchResults | null): string {
  if (!term || !results) return "";
  if (results.count === 0) return "No matches";
  return results.index >= 0 ? `${results.index + 1} of ${results.count}` : `${results.count} matches`;
}

export function TerminalSearchBar({
  results,
  onFind,
  onClose,
}: {
  results: SearchResults | null;
  onFind: (term: string, direction: SearchDirection, incremental?: boolean) => void;
  onClose: () => void;
}) {
  const [term, setTerm] = useState("");
  return (
    <div className="terminal-search" role="search" data-testid="terminal-search">
      <input
        type="search"
        className="terminal-search-input"
        aria-label="Search the terminal's output"
        placeholder="Search the output"
        value={term}
        autoFocus
        onChange={(event) => {
          setTerm(event.target.value);
          onFind(event.target.value, "next", true);
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            onFind(term, event.shiftKey ? "previous" : "next");
          } else if (event.key === "Escape") {
            event.preventDefault();
            onClose();
          }
        }}
      />
      <span className="terminal-search-count" role="status" aria-live="polite" data-testid="terminal-search-count">
        {resultsText(term, results)}
      </span>
      <button
        type="button"
        className="terminal-button"
        aria-label="Previous match"
        title="Previous match (Shift+Enter)"
        onClick={() => onFind(term, "previous")}
      >
        ↑
      </button>
      <button type="button" className="terminal-button" aria-label="Next match" title="Next match (Enter)" onClick={() => onFind(term, "next")}>
        ↓
      </button>
      <button type="button" className="terminal-button" aria-label="Close search" title="Close search (Escape)" onClick={onClose}>
        ×
      </button>
    </div>
  );
}
