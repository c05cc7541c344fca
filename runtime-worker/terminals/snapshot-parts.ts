/**
 * Snapshots too long for one message travel in pieces. The reply to an attach carries the
 * first piece and an id; the server fetches the others one request at a time, so no
 * message between worker and server is ever larger than one piece (a whole screen used to
 * exceed the socket's message limit, and the server then dropped the worker). Pieces are
 * kept briefly and within a character budget: a caller that never fetches them costs little.
 */
import { randomBytes } from "node:crypto";
import { SNAPSHOT_PART_CHARS } from "../../protocol/worker-messages";
import { WorkerRequestError } from "../request-error";

const KEEP_MS = 30_000;
/** Characters kept across all unfetched snapshots (UTF-16: twice this in bytes). */
const KEEP_CHARS = 8 * 1024 * 1024;

interface Kept {
  terminalKey: string;
  parts: string[];
  chars: number;
  expiresAt: number;
}

/** Cuts a string into pieces of at most `size` characters, never inside a surrogate pair. */
export function splitScreen(screen: string, size: number): string[] {
  const parts: string[] = [];
  for (let start = 0; start < screen.length;) {
    let end = Math.min(screen.length, start + size);
    const last = screen.charCodeAt(end - 1);
    if (end < screen.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(screen.slice(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [""];
}

export class SnapshotParts {
  private readonly kept = new Map<string, Kept>();
  private keptChars = 0;

  constructor(private readonly partChars = SNAPSHOT_PART_CHARS) {}

  /** The first piece, and when there are more, the id and count to fetch them by. */
  split(terminalKey: string, screen: string): { screen: string; snapshotId?: string; parts?: number } {
    if (screen.length <= this.partChars) return { screen };
    const parts = splitScreen(screen, this.partChars);
    const rest = parts.slice(1);
    const chars = screen.length - parts[0]!.length;
    this.evict(chars);
    const snapshotId = randomBytes(12).toString("base64url");
    this.kept.set(snapshotId, { terminalKey, parts: rest, chars, expiresAt: Date.now() + KEEP_MS });
    this.keptChars += chars;
    return { screen: parts[0]!, snapshotId, parts: parts.length };
  }

  /** Piece `index` (1 ..parts-1); the snapshot is forgotten once its last piece was taken. */
  part(terminalKey: string, snapshotId: string, index: number): string {
    const kept = this.kept.get(snapshotId);
    if (!kept || kept.terminalKey !== terminalKey || kept.expiresAt < Date.now()) {
      throw new WorkerRequestError("snapshot_gone", "This snapshot is no longer available: attach again.");
    }
    const data = kept.parts[index - 1];
    if (data === undefined) throw new WorkerRequestError("snapshot_gone", "No such snapshot piece.");
    if (index === kept.parts.length) this.forget(snapshotId);
    return data;
  }

  get size() {
    return this.keptChars;
  }

  private forget(snapshotId: string) {
    const kept = this.kept.get(snapshotId);
    if (!kept) return;
    this.kept.delete(snapshotId);
    this.keptChars -= kept.chars;
  }

  /** Drops expired snapshots, then the oldest, until `incoming` more characters fit. */
  private evict(incoming: number) {
    const now = Date.now();
    for (const [snapshotId, kept] of this.kept) if (kept.expiresAt < now) this.forget(snapshotId);
    for (const snapshotId of this.kept.keys()) {
      if (this.keptChars + incoming <= KEEP_CHARS) break;
      this.forget(snapshotId);
    }
  }
}
