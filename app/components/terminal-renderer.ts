/**
 * Which renderer draws a tab: WebGL (a texture atlas on the GPU: far less layout and paint
 * work per frame than the DOM renderer) when it can have it, xterm's DOM renderer otherwise.
 * A browser gives a page only so many WebGL contexts (Chromium about 16, dropping the oldest
 * past that), so only tabs in view hold one, at most MAX_WEBGL_CONTEXTS per page; a hidden tab
 * gives its context back. A refused context (no WebGL here) or a lost one (the GPU reset, the
 * browser reclaimed it) falls back to the DOM renderer, which needs nothing.
 * `data-renderer` on the tab's element says which draws it (for tests and support).
 */
import type { Terminal } from "@xterm/xterm";
import type { WebglAddon } from "@xterm/addon-webgl";

/** Well under Chromium's 16: the live room and a lab page together keep room for the page's own canvases. */
export const MAX_WEBGL_CONTEXTS = 8;

export type RendererKind = "webgl" | "dom";

/** The page's count of contexts in use, and whether WebGL was refused here at all. */
const page = { inUse: 0, unavailable: false };

export class TerminalRenderer {
  private addon: WebglAddon | null = null;

  constructor(
    private readonly terminal: Terminal,
    private readonly host: HTMLElement,
    /** The addon's class; null when it could not be loaded (the DOM renderer then draws). */
    private readonly Webgl: (new () => WebglAddon) | null,
  ) {}

  get kind(): RendererKind {
    return this.addon ? "webgl" : "dom";
  }

  /** The tab came into view (xterm is open): WebGL if the page has a context to spare. */
  activate() {
    if (!this.addon && this.Webgl && !page.unavailable && page.inUse < MAX_WEBGL_CONTEXTS) {
      const addon = new this.Webgl();
      try {
        this.terminal.loadAddon(addon);
        this.addon = addon;
        page.inUse += 1;
        // Lost (GPU reset, too many contexts): the DOM renderer takes over; the next show tries again.
        addon.onContextLoss(() => this.release());
      } catch {
        // No WebGL2 here (blocked, no GPU, disabled): never ask again on this page.
        page.unavailable = true;
        addon.dispose();
      }
    }
    this.mark();
  }

  /** The tab left view (or closed): its context goes back to the page. */
  release() {
    const addon = this.addon;
    if (!addon) return;
    this.addon = null;
    page.inUse -= 1;
    addon.dispose();
    this.mark();
  }

  private mark() {
    this.host.dataset.renderer = this.kind;
  }
}
