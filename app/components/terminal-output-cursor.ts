/**
 * Joins a repainted screen with live output without losing or duplicating bytes: the
 * screen covers output up to `offset`; later chunks carry their own start offsets.
 *
 * Live output can overtake the attach reply (the server relays output to the room as soon
 * as it arrives, the reply a moment later), so chunks that come before `start()` are held,
 * not thrown away: `start()` hands back the part of them the screen does not show yet.
 *
 * A chunk that starts past the position is a gap: the server skipped output while this
 * browser was behind (flow control). The cursor goes back to holding until a repaint (or a
 * new attach) says where the screen stands, via `start()` again.
 */

/** A burst bigger than this while holding is not worth keeping: the screen repaints it. */
const MAX_HELD_BYTES = 1024 * 1024;

export class TerminalOutputCursor {
  private at: number | null = null;
  private held: { chunk: Uint8Array; offset: number }[] = [];
  private heldBytes = 0;

  /** Waiting for a screen (before the first start(), after reset(), or after a gap). */
  get holding(): boolean {
    return this.at === null;
  }

  /** The offset up to which output has been handed out (null while holding). */
  get position(): number | null {
    return this.at;
  }

  /**
   * Called with a screen's offset (attach reply or repaint): everything before it is on
   * screen. Returns, in order and contiguous from `offset`, the held output that comes
   * after the screen. If the held output itself has a gap, the cursor is holding again.
   */
  start(offset: number): Uint8Array[] {
    const held = this.held.sort((a, b) => a.offset - b.offset);
    this.held = [];
    this.heldBytes = 0;
    this.at = offset;
    const fresh: Uint8Array[] = [];
    for (const { chunk, offset: chunkOffset } of held) {
      const part = this.accept(chunk, chunkOffset);
      if (part.byteLength > 0) fresh.push(part);
    }
    return fresh;
  }

  /** Forgets the position (and anything held) while re-attaching. */
  reset() {
    this.at = null;
    this.held = [];
    this.heldBytes = 0;
  }

  /**
   * The part of a chunk not yet on screen (empty when all of it already is). While holding
   * nothing is shown: the chunk is kept for start() to sort out.
   */
  accept(chunk: Uint8Array, offset: number): Uint8Array {
    if (chunk.byteLength === 0) return chunk;
    if (this.at !== null && offset > this.at) this.at = null; // a gap: wait for a screen
    if (this.at === null) {
      this.hold(chunk, offset);
      return new Uint8Array(0);
    }
    const end = offset + chunk.byteLength;
    if (end <= this.at) return new Uint8Array(0);
    const fresh = offset < this.at ? chunk.subarray(this.at - offset) : chunk;
    this.at = end;
    return fresh;
  }

  private hold(chunk: Uint8Array, offset: number) {
    if (this.heldBytes + chunk.byteLength > MAX_HELD_BYTES) return;
    this.held.push({ chunk, offset });
    this.heldBytes += chunk.byteLength;
  }
}
