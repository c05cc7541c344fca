/**
 * How one tab's xterm is made: theme, font, links, clipboard shortcuts, search and its
 * renderer. xterm and socket.io touch `window` when loaded, so they are imported in the
 * browser only.
 */
import type { ITheme, Terminal } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import type { SearchAddon } from "@xterm/addon-search";
import { attachClipboardKeys } from "./terminal-clipboard";

export async function loadTerminalModules() {
  const [xterm, fit, webLinks, unicode11, search, webgl, socketio] = await Promise.all([
    import("@xterm/xterm"),
    import("@xterm/addon-fit"),
    import("@xterm/addon-web-links"),
    import("@xterm/addon-unicode11"),
    import("@xterm/addon-search"),
    // Optional: without it the DOM renderer draws.
    import("@xterm/addon-webgl").catch(() => null),
    import("socket.io-client"),
  ]);
  return {
    Terminal: xterm.Terminal,
    FitAddon: fit.FitAddon,
    WebLinksAddon: webLinks.WebLinksAddon,
    Unicode11Addon: unicode11.Unicode11Addon,
    SearchAddon: search.SearchAddon,
    WebglAddon: webgl?.WebglAddon ?? null,
    io: socketio.io,
  };
}
export type TerminalModules = Awaited<ReturnType<typeof loadTerminalModules>>;

/** All 16 ANSI colours are set, so `ls --color` and friends look as intended on the dark ground. */
export const THEME: ITheme = {
  background: "#0b1020",
  foreground: "#e2e8f0",
  cursor: "#4ade80",
  cursorAccent: "#0b1020",
  selectionBackground: "#334155",
  black: "#1e293b",
  red: "#f87171",
  green: "#4ade80",
  yellow: "#facc15",
  blue: "#60a5fa",
  magenta: "#c084fc",
  cyan: "#22d3ee",
  white: "#e2e8f0",
  brightBlack: "#64748b",
  brightRed: "#fca5a5",
  brightGreen: "#86efac",
  brightYellow: "#fde047",
  brightBlue: "#93c5fd",
  brightMagenta: "#d8b4fe",
  brightCyan: "#67e8f9",
  brightWhite: "#f8fafc",
};

/** Only web links open from a terminal (never javascript: or file:). */
export const isWebLink = (uri: string) => /^https?:\/\//i.test(uri);

/** A new window with no handle back to this page. */
export function openWebLink(uri: string) {
  if (isWebLink(uri)) window.open(uri, "_blank", "noopener,noreferrer");
}

export function createXterm(
  modules: TerminalModules,
  size: { cols: number; rows: number },
  hint: (message: string) => void,
  screenReaderMode: boolean,
): { terminal: Terminal; fit: FitAddon; search: SearchAddon } {
  const terminal = new modules.Terminal({
    ...size,
    cursorBlink: true,
    fontSize: 14,
    scrollback: 5000,
    theme: THEME,
    fontFamily: '"JetBrains Mono", "DejaVu Sans Mono", "Menlo", "Consolas", monospace',
    // OSC 8 hyperlinks (`ls --hyperlink`, compilers' error links): the same rule as plain URLs.
    linkHandler: { activate: (_event, uri) => openWebLink(uri), allowNonHttpProtocols: false },
    // The unicode addon is a "proposed" API in xterm 6 (and search decorations need it too).
    allowProposedApi: true,
    // Rows mirrored into an accessibility tree that screen readers read (off: it costs DOM work per write).
    screenReaderMode,
  });
  // Unicode 11 widths: emoji and CJK take two cells, as the shell (and the worker's mirror) expect.
  terminal.loadAddon(new modules.Unicode11Addon());
  terminal.unicode.activeVersion = "11";
  const fit = new modules.FitAddon();
  terminal.loadAddon(fit);
  terminal.loadAddon(new modules.WebLinksAddon((_event, uri) => openWebLink(uri)));
  attachClipboardKeys(terminal, hint);
  // At most this many matches are highlighted (counting stops there too): a scrollback full of one word stays fast.
  const search = new modules.SearchAddon({ highlightLimit: 1000 });
  terminal.loadAddon(search);
  return { terminal, fit, search };
}

/** How search matches look: the current one stands out (colours from THEME's palette). */
export const SEARCH_DECORATIONS = {
  matchBackground: "#334155",
  matchBorder: "#64748b",
  matchOverviewRuler: "#64748b",
  activeMatchBackground: "#a16207",
  activeMatchBorder: "#facc15",
  activeMatchColorOverviewRuler: "#facc15",
};
