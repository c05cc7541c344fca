/**
 * Joins a repainted screen with live output without losing or duplicating bytes: the
 * screen covers output up to `offset`; later chunks carry their own start offsets.
 */
export class TerminalOutputCursor {
  private position: number | null = null;

  /** Called with the attach reply's offset: everything before it is on screen. */
  start(offset: number) {
    this.position = offset;
  }

  /** Forgets the position while re-attaching; chunks are dropped until start(). */
  reset() {
    this.position = null;
  }

  /** The part of a chunk not yet on screen (empty when all of it already is). */
  accept(chunk: Uint8Array, offset: number): Uint8Array {
    if (this.position === null) return new Uint8Array(0);
    const end = offset + chunk.byteLength;
    if (end <= this.position) return new Uint8Array(0);
    const fresh = offset < this.position ? chunk.subarray(this.position - offset) : chunk;
    this.position = end;
    return fresh;
  }
}
