/**
 * The rules of the tab strip, kept apart from xterm and the socket so they can be tested:
 * order and names, which tabs go when shells end, and new tab ids.
 */
import { MAX_TERMINALS_PER_ENVIRONMENT } from "../../protocol/browser-messages";

/** Every environment's first terminal. */
export const MAIN_TERMINAL = "main";

/**
 * Names are positions ("Terminal 1", "Terminal 2", …), so the owner and an instructor
 * watching see the same name for the same tab.
 */
export const tabLabel = (index: number) => `Terminal ${index + 1}`;

/**
 * The strip's order after the server listed the open terminals: the tabs already shown keep
 * their places (creation order), new ones are added in the server's order, "main" first.
 */
export function mergeTabOrder(current: readonly string[], listed: readonly string[]): string[] {
  const order = [...current];
  for (const id of listed) {
    if (!order.includes(id) && order.length < MAX_TERMINALS_PER_ENVIRONMENT) order.push(id);
  }
  return order.includes(MAIN_TERMINAL) ? [MAIN_TERMINAL, ...order.filter((id) => id !== MAIN_TERMINAL)] : order;
}

/**
 * What to do once ended shells have had a moment to be explained (an environment stop ends
 * every shell just before its notice): ended tabs disappear while a live one remains;
 * when none does, one stays (the one in view if it ended) to offer a new shell.
 */
export function planEndedTabs(tabs: readonly { id: string; ended: boolean }[], activeId: string): { remove: string[]; lastEnded: string | null } {
  const ended = tabs.filter((tab) => tab.ended).map((tab) => tab.id);
  if (ended.length === 0) return { remove: [], lastEnded: null };
  if (ended.length < tabs.length) return { remove: ended, lastEnded: null };
  const keep = ended.includes(activeId) ? activeId : ended[0];
  return { remove: ended.filter((id) => id !== keep), lastEnded: keep };
}

/** The tab to show once `removed` is gone: its left neighbour, else its right one. */
export function tabAfterRemoval(order: readonly string[], removed: string): string | null {
  const index = order.indexOf(removed);
  const rest = order.filter((id) => id !== removed);
  if (rest.length === 0) return null;
  return rest[Math.max(0, Math.min(index - 1, rest.length - 1))];
}

/** Arrow keys, Home and End move along the strip (the ARIA tabs pattern), wrapping around. */
export function tabForKey(order: readonly string[], current: string, key: string): string | null {
  const index = order.indexOf(current);
  if (index < 0 || order.length === 0) return null;
  switch (key) {
    case "ArrowRight":
      return order[(index + 1) % order.length];
    case "ArrowLeft":
      return order[(index - 1 + order.length) % order.length];
    case "Home":
      return order[0];
    case "End":
      return order[order.length - 1];
    default:
      return null;
  }
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** `t-` and six random lowercase letters or digits (the server's /^[a-z0-9-]+$/), not yet taken. */
export function newTerminalId(taken: ReadonlySet<string>, randomBytes: (length: number) => Uint8Array = cryptoBytes): string {
  for (;;) {
    const id = `t-${Array.from(randomBytes(6), (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join("")}`;
    if (!taken.has(id)) return id;
  }
}

function cryptoBytes(length: number) {
  return crypto.getRandomValues(new Uint8Array(length));
}
