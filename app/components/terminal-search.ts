/**
 * Search in one tab's scrollback (xterm's search addon): the next or previous match of a term,
 * highlighted, with "match i of n" reported as the addon counts them. Plain text, case
 * insensitive: what a student looking for an earlier error message expects.
 */
import type { SearchAddon } from "@xterm/addon-search";
import { SEARCH_DECORATIONS } from "./terminal-xterm";

/** `index`: the current match (from 0; -1 when none is selected); `count`: matches found (capped by the addon's highlight limit). */
export type SearchResults = { index: number; count: number };

export class TabSearch {
  constructor(
    private readonly addon: SearchAddon,
    onResults: (results: SearchResults) => void,
  ) {
    addon.onDidChangeResults(({ resultIndex, resultCount }) => onResults({ index: resultIndex, count: resultCount }));
  }

  /**
   * Moves to the next (or previous) match of `term`; `incremental` keeps the current match while
   * it still matches (typing extends the term). False when there is none.
   */
  find(term: string, direction: "next" | "previous", incremental = false): boolean {
    if (term.length === 0) {
      this.clear();
      return false;
    }
    const options = { decorations: SEARCH_DECORATIONS, incremental };
    return direction === "next" ? this.addon.findNext(term, options) : this.addon.findPrevious(term, options);
  }

  clear() {
    this.addon.clearDecorations();
  }
}
