/**
 * The course messages a terminal panel shows: each one once (every connect re-sends the
 * recent ones), only the newest few, and never again once dismissed, even after a reload
 * (dismissed ids are remembered in the browser's storage).
 */
export type InboxBroadcast = { key: string; from: string; message: string; at: string };
type Received = { id?: string; from: string; message: string; at: string };
type KeyValueStorage = Pick<Storage, "getItem" | "setItem">;

const STORAGE_KEY = "shellroom:dismissed-broadcasts";
/** Enough for any course's recent messages; older ids are never re-sent anyway. */
const REMEMBERED_DISMISSALS = 50;

export class BroadcastInbox {
  private shown: InboxBroadcast[] = [];
  private readonly seen = new Set<string>();
  private dismissed: string[];
  private unnamed = 0;

  constructor(
    private readonly storage: KeyValueStorage | null,
    private readonly max = 3,
  ) {
    this.dismissed = readDismissed(storage);
  }

  get list(): readonly InboxBroadcast[] {
    return this.shown;
  }

  /** Adds a message unless it was seen or dismissed before; true when the list changed. */
  receive(message: Received): boolean {
    // A message without an id (an older server) cannot repeat: it gets a key of its own.
    const key = message.id ?? `unnamed-${++this.unnamed}`;
    if (this.seen.has(key) || this.dismissed.includes(key)) return false;
    this.seen.add(key);
    this.shown = [...this.shown, { key, from: message.from, message: message.message, at: message.at }]
      .sort((a, b) => a.at.localeCompare(b.at))
      .slice(-this.max);
    return true;
  }

  dismiss(key: string) {
    this.shown = this.shown.filter((message) => message.key !== key);
    if (key.startsWith("unnamed-") || this.dismissed.includes(key)) return;
    this.dismissed = [...this.dismissed, key].slice(-REMEMBERED_DISMISSALS);
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.dismissed));
    } catch {
      // Storage full or blocked (private mode): the dismissal holds for this page only.
    }
  }
}

function readDismissed(storage: KeyValueStorage | null): string[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === "string").slice(-REMEMBERED_DISMISSALS) : [];
  } catch {
    return [];
  }
}

/** The page's localStorage, or null where there is none or it is blocked. */
export function browserStorage(): KeyValueStorage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}
