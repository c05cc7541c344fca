/**
 * The tabs of one panel: their xterms and elements (children of the `surfaces` element
 * React renders and never fills), their order, and which one is shown. Every tab stays
 * mounted, so switching is instant and hidden tabs keep receiving output.
 */
import { TerminalRenderer } from "./terminal-renderer";
import { TabSearch, type SearchResults } from "./terminal-search";
import { TerminalTab } from "./terminal-tab";
import { MAIN_TERMINAL, mergeTabOrder, tabAfterRemoval, tabLabel } from "./terminal-tab-list";
import { createXterm, type TerminalModules } from "./terminal-xterm";

const DEFAULT_SIZE = { cols: 80, rows: 24 };

export class TerminalTabSet {
  private tabs: TerminalTab[] = [];
  private shownId = MAIN_TERMINAL;
  private inputDisabled = false;
  private screenReaderMode = false;

  constructor(
    private readonly options: {
      modules: TerminalModules;
      surfaces: HTMLElement;
      /** DOM ids shared with the tab strip (aria-controls / aria-labelledby). */
      domId: (kind: "tab" | "panel", terminalId: string) => string;
      input: (tab: TerminalTab, data: string) => void;
      resize: (tab: TerminalTab) => void;
      hint: (message: string) => void;
      /** The shown tab's search found (or lost) matches. */
      searchResults: (results: SearchResults) => void;
    },
  ) {}

  get all(): readonly TerminalTab[] {
    return this.tabs;
  }
  get count() {
    return this.tabs.length;
  }
  get activeId() {
    return this.shownId;
  }
  get active() {
    return this.find(this.shownId);
  }

  find(terminalId: string) {
    return this.tabs.find((tab) => tab.id === terminalId);
  }

  has(tab: TerminalTab) {
    return this.tabs.includes(tab);
  }

  labelOf(terminalId: string) {
    return tabLabel(
      Math.max(
        0,
        this.tabs.findIndex((tab) => tab.id === terminalId),
      ),
    );
  }

  /** A new tab at the end of the strip, hidden, the size of the one shown. */
  add(terminalId: string, fresh: boolean): TerminalTab {
    const tab = this.create(terminalId, fresh);
    this.tabs.push(tab);
    return tab;
  }

  /** Adds the listed tabs not shown yet (see mergeTabOrder) and returns them. */
  merge(listed: readonly string[]): TerminalTab[] {
    const existing = new Map(this.tabs.map((tab) => [tab.id, tab] as const));
    const added: TerminalTab[] = [];
    this.tabs = mergeTabOrder(
      this.tabs.map((tab) => tab.id),
      listed,
    ).map((id) => {
      const known = existing.get(id);
      if (known) return known;
      const tab = this.create(id, false);
      added.push(tab);
      return tab;
    });
    return added;
  }

  show(tab: TerminalTab, focus: boolean) {
    for (const other of this.tabs) if (other !== tab) other.hide();
    this.shownId = tab.id;
    tab.show();
    if (focus) tab.terminal.focus();
  }

  /** Removes a tab; if it was shown, its neighbour is shown instead. */
  remove(tab: TerminalTab, focusNext: boolean) {
    const next =
      tab.id === this.shownId
        ? tabAfterRemoval(
            this.tabs.map((each) => each.id),
            tab.id,
          )
        : null;
    this.tabs = this.tabs.filter((each) => each !== tab);
    tab.dispose();
    const nextTab = next ? this.find(next) : undefined;
    if (nextTab) this.show(nextTab, focusNext);
  }

  /** Only for the one tab left after every shell ended (see TerminalConnection.settleEnded). */
  rename(tab: TerminalTab, terminalId: string) {
    if (tab.id === this.shownId) this.shownId = terminalId;
    tab.id = terminalId;
    this.nameHost(tab.host, terminalId);
  }

  setInputDisabled(disabled: boolean) {
    this.inputDisabled = disabled;
    for (const tab of this.tabs) tab.terminal.options.disableStdin = disabled;
  }

  /** Searches the shown tab's scrollback; false when nothing matches. */
  search(term: string, direction: "next" | "previous", incremental: boolean): boolean {
    return this.active?.parts.search?.find(term, direction, incremental) ?? false;
  }

  /** The search bar closed: no highlights anywhere, the keyboard back in the terminal. */
  endSearch() {
    for (const tab of this.tabs) tab.parts.search?.clear();
    this.active?.terminal.focus();
  }

  /** Every tab's rows mirrored for screen readers (or not), and the tabs opened later too. */
  setScreenReaderMode(enabled: boolean) {
    this.screenReaderMode = enabled;
    for (const tab of this.tabs) tab.terminal.options.screenReaderMode = enabled;
  }

  view() {
    return this.tabs.map((tab, index) => ({ id: tab.id, label: tabLabel(index) }));
  }

  dispose() {
    for (const tab of this.tabs) tab.dispose();
    this.tabs = [];
  }

  private create(terminalId: string, fresh: boolean): TerminalTab {
    const host = document.createElement("div");
    host.className = "terminal-surface";
    host.setAttribute("role", "tabpanel");
    host.hidden = true;
    this.nameHost(host, terminalId);
    this.options.surfaces.append(host);
    const shown = this.active?.terminal;
    const size = shown ? { cols: shown.cols, rows: shown.rows } : DEFAULT_SIZE;
    const { modules } = this.options;
    const { terminal, fit, search } = createXterm(modules, size, this.options.hint, this.screenReaderMode);
    terminal.options.disableStdin = this.inputDisabled;
    const parts = {
      renderer: new TerminalRenderer(terminal, host, modules.WebglAddon),
      // Only the shown tab's matches are reported (the others' are cleared when hidden).
      search: new TabSearch(search, (results) => {
        if (tab.id === this.shownId) this.options.searchResults(results);
      }),
    };
    const tab: TerminalTab = new TerminalTab(
      terminalId,
      host,
      terminal,
      fit,
      {
        input: (data) => this.options.input(tab, data),
        resize: () => this.options.resize(tab),
      },
      fresh,
      parts,
    );
    return tab;
  }

  private nameHost(host: HTMLElement, terminalId: string) {
    host.id = this.options.domId("panel", terminalId);
    host.setAttribute("aria-labelledby", this.options.domId("tab", terminalId));
    host.dataset.terminalId = terminalId;
  }
}
