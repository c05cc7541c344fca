/**
 * Joins a repainted screen with live output without losing or duplicating bytes: the
 * screen covers output up to `offset`; later chunks carry their own start offsets.
 *
 * Live output can overtake the attach reply (the server relays output to the room as soon
 * as it arrives, the reply a moment later), so chunks that come before `start()` are held,
 * not thrown away: `start()` hands back the part of them the screen does not show yet.
 */

/** A burst bigger than this while attaching is not worth keeping: the screen repaints it. */
const MAX_HELD_BYTES = 1024 * 1024;

export class TerminalOutputCursor {
  private position: number | null = null;
  private held: { chunk: Uint8Array; offset: number }[] = [];
  private heldBytes = 0;

  /**
   * Called with the attach reply's offset: everything before it is on screen. Returns,
   * in order, the output that arrived early and comes after the screen.
   */
  start(offset: number): Uint8Array[] {
    this.position = offset;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    return held
      .sort((a, b) => a.offset - b.offset)
      .map(({ chunk, offset: at }) => this.accept(chunk, at))
      .filter((fresh) => fresh.byteLength > 0);
  }

  /** Forgets the position (and anything held) while re-attaching. */
  reset() {
    this.position = null;
    this.held = [];
    this.heldBytes = 0;
  }

  /**
   * The part of a chunk not yet on screen (empty when all of it already is). Before
   * start() nothing is shown: the chunk is held for start() to sort out.
   */
  accept(chunk: Uint8Array, offset: number): Uint8Array {
    if (this.position === null) {
      if (this.heldBytes + chunk.byteLength <= MAX_HELD_BYTES) {
        this.held.push({ chunk, offset });
        this.heldBytes += chunk.byteLength;
      }
      return new Uint8Array(0);
    }
    const end = offset + chunk.byteLength;
    if (end <= this.position) return new Uint8Array(0);
    const fresh = offset < this.position ? chunk.subarray(this.position - offset) : chunk;
    this.position = end;
    return fresh;
  }
}
