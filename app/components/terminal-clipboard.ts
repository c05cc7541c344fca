/**
 * Copy and paste in a terminal. The shell owns Ctrl+C (interrupt), so copying is
 * Ctrl+Shift+C and pasting Ctrl+Shift+V, as in desktop terminals. Plain Ctrl+V and macOS's
 * Cmd+C / Cmd+V are left to the browser: its native copy and paste events land on xterm's
 * textarea, which xterm handles itself (bracketed paste included), and that works even on
 * plain http where `navigator.clipboard` does not exist.
 */
import type { Terminal } from "@xterm/xterm";

export const PASTE_HINT = "Use your browser's paste (Ctrl+V / right-click) here";
export const COPY_HINT = "Copying was blocked: use your browser's copy (right-click → Copy)";
/** How long a Ctrl+Shift+V without a clipboard API waits for the browser's own paste event. */
const NATIVE_PASTE_WAIT_MS = 250;

/**
 * copy / paste: done here. native-copy / native-paste: kept from xterm (which would send
 * ^V, for instance) so that the browser's own copy or paste event happens.
 */
export type ClipboardKey = "copy" | "paste" | "native-copy" | "native-paste";

type KeyLike = Pick<KeyboardEvent, "key" | "code" | "ctrlKey" | "shiftKey" | "altKey" | "metaKey">;

/** The letter a shortcut means: the typed one on Latin layouts, else the physical key. */
function letterOf(event: KeyLike) {
  if (/^[a-z]$/i.test(event.key)) return event.key.toLowerCase();
  return /^Key[A-Z]$/.test(event.code) ? event.code.slice(3).toLowerCase() : "";
}

export function clipboardKey(event: KeyLike, isMac: boolean): ClipboardKey | null {
  const letter = letterOf(event);
  if (event.altKey || (letter !== "c" && letter !== "v")) return null;
  if (event.ctrlKey && event.shiftKey && !event.metaKey) return letter === "c" ? "copy" : "paste";
  // Ctrl+V pastes on Windows and Linux; on a Mac it is the shell's ^V.
  if (!isMac && event.ctrlKey && !event.shiftKey && !event.metaKey && letter === "v") return "native-paste";
  if (isMac && event.metaKey && !event.ctrlKey && !event.shiftKey) return letter === "c" ? "native-copy" : "native-paste";
  return null;
}

/** Wires the shortcuts into one xterm; `hint` shows a short message to the person typing. */
export function attachClipboardKeys(terminal: Terminal, hint: (message: string) => void, isMac = runsOnMac()) {
  terminal.attachCustomKeyEventHandler((event) => {
    const action = clipboardKey(event, isMac);
    if (!action) return true;
    if (action === "native-copy" && !terminal.hasSelection()) return true;
    // xterm sees keydown, keypress and keyup: act once, keep all three from it.
    if (event.type !== "keydown") return false;
    if (action === "copy") {
      // Even with nothing selected, xterm must not get it: it would send ^C.
      event.preventDefault();
      if (terminal.hasSelection()) copySelection(terminal, hint);
    } else if (action === "paste") {
      pasteFromClipboard(terminal, event, hint);
    }
    return false;
  });
}

function runsOnMac() {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);
}

/** Undefined outside secure contexts (plain http on a LAN), whatever the DOM types say. */
function asyncClipboard(): Partial<Clipboard> | undefined {
  return typeof navigator === "undefined" ? undefined : (navigator.clipboard as Clipboard | undefined);
}

function copySelection(terminal: Terminal, hint: (message: string) => void) {
  const text = terminal.getSelection();
  if (!text) return;
  const fallback = () => {
    if (!copyWithTextarea(text)) hint(COPY_HINT);
    terminal.focus();
  };
  const clipboard = asyncClipboard();
  if (typeof clipboard?.writeText === "function") clipboard.writeText(text).catch(fallback);
  else fallback();
}

/** The pre-clipboard-API way: select text in a hidden textarea and ask for a copy. */
function copyWithTextarea(text: string) {
  const textarea = document.createElement("textarea");
  textarea.value = text;
  textarea.setAttribute("readonly", "");
  textarea.setAttribute("aria-hidden", "true");
  textarea.style.cssText = "position:fixed;top:0;left:-9999px;opacity:0;";
  document.body.append(textarea);
  textarea.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    textarea.remove();
  }
}

function pasteFromClipboard(terminal: Terminal, event: KeyboardEvent, hint: (message: string) => void) {
  const clipboard = asyncClipboard();
  if (typeof clipboard?.readText === "function") {
    // One paste, ours: the browser's own (Ctrl+Shift+V pastes natively in some) is cancelled.
    event.preventDefault();
    clipboard.readText().then(
      (text) => {
        if (text) terminal.paste(text);
      },
      () => hint(PASTE_HINT),
    );
    return;
  }
  // No clipboard API: some browsers still paste natively on Ctrl+Shift+V; hint only if not.
  const element = terminal.element;
  if (!element) return hint(PASTE_HINT);
  let pasted = false;
  const onPaste = () => {
    pasted = true;
  };
  element.addEventListener("paste", onPaste, true);
  setTimeout(() => {
    element.removeEventListener("paste", onPaste, true);
    if (!pasted) hint(PASTE_HINT);
  }, NATIVE_PASTE_WAIT_MS);
}
