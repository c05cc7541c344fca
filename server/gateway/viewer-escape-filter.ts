/**
 * Cleans a student's terminal output before it goes to viewers (an instructor who watches read-only).
 * The student's own terminal gets the raw bytes. The viewer's terminal is a different matter: the
 * student controls this output, so it must not be able to act on the viewer's browser. The filter
 * blocks every OSC (clipboard writes with OSC 52, titles, OSC 8 hyperlinks of any scheme), every
 * DCS/SOS/PM/APC string, and anything the viewer's terminal would answer (DSR, DA, DECRQM,
 * window reports, XTVERSION, ENQ, DECID).
 *
 * It keeps the length: each chunk carries its byte offset in the raw stream, and viewers drop
 * duplicates by offset. So a blocked byte is replaced, never removed. It becomes NUL, which terminals
 * ignore. Nothing is held back either. An ESC, a CSI prefix, or the 0xC2 lead byte of a C1 control
 * is passed on before the filter knows what follows. If the sequence turns out to be blocked, the
 * filter blanks the part still in the current chunk. When the viewer has already received the start
 * (from an earlier chunk, or as an unfinished sequence this one interrupts), the first replaced byte
 * is CAN instead. CAN makes the viewer's parser abandon the sequence. For a 0xC2 lead byte it also
 * makes xterm.js's UTF-8 decoder discard the byte.
 *
 * The filter works on bytes. A C1 control counts only in its UTF-8 form C2 80..C2 9F, because
 * xterm.js drops any other byte in 0x80..0x9F as invalid UTF-8. Other non-ASCII bytes inside an ESC
 * or CSI sequence are treated as part of the sequence. That can only make the filter block more.
 */

const GROUND = 0;
const ESC = 1; // after ESC, or a C1 control, which is treated as ESC + (byte - 0x40)
const ESC_INTER = 2; // ESC followed by intermediate bytes, e.g. "ESC (" of "ESC ( B"
const CSI = 3;
const OSC = 4; // blocked string that BEL also ends
const STRING = 5; // blocked DCS/SOS/PM/APC, ended by ST (or CAN/SUB)

const NUL = 0x00;
const CAN = 0x18;
const SUB = 0x1a;

/** CSI sequences that make the viewer's terminal answer, or that act on its window. */
function isBlockedCsi(first: number, intermediates: string, final: string): boolean {
  return (
    "nctx".includes(final) || // DSR/CPR, DA1/DA2/DA3, window ops and reports, DECREQTPARM
    (intermediates.includes("$") && "pwu".includes(final)) || // DECRQM, DECRQPSR, DECRQTSR
    (intermediates.includes("*") && final === "y") || // DECRQCRA (checksum report)
    (first === 0x3e && final === "q") || // CSI > q: XTVERSION
    (first === 0x3f && "umS".includes(final)) // CSI ? u kitty keyboard, ? m XTQMODKEYS, ? S XTSMGRAPHICS
  );
}

/** Streaming and length-preserving: state carries across chunks. */
export class ViewerEscapeFilter {
  private state = GROUND;
  /** Where the current ESC/C1/CSI sequence began in this chunk; -1 means in an earlier chunk. */
  private start = -1;
  /** The viewer's parser was already inside an unfinished sequence when this one began. */
  private startOpen = false;
  /** Position of a 0xC2 byte that may begin a C1 control (-1: end of the previous chunk). */
  private lead: number | null = null;
  private first = -1; // first byte after the CSI introducer, e.g. "?" or ">"
  private intermediates = ""; // distinct CSI intermediate bytes (0x20-0x2F), so at most 16
  private out = new Uint8Array(0);

  /**
   * Returns a new array the same length as `chunk`, with every byte of a blocked sequence replaced
   * by NUL (or CAN, see above). The input is never changed.
   */
  push(chunk: Uint8Array): Uint8Array {
    const out = (this.out = new Uint8Array(chunk));
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i], i);
    this.start = -1;
    if (this.lead !== null) this.lead = -1;
    this.out = new Uint8Array(0);
    return out;
  }

  /** True while the viewer has received the start of an ESC or CSI sequence that has not ended. */
  get midSequence(): boolean {
    return this.state === ESC || this.state === ESC_INTER || this.state === CSI;
  }

  private step(b: number, i: number): void {
    const inString = this.state === OSC || this.state === STRING;
    if (this.lead !== null) {
      const lead = this.lead;
      this.lead = null;
      if (b >= 0x80 && b <= 0x9f) return this.control(b, lead, i);
      // 0xC2 began an ordinary character (or an invalid one). Inside a blocked string, that is content.
      if (inString && lead >= 0) this.out[lead] = NUL;
    }
    if (b === 0xc2) {
      this.lead = i; // passed on for now; blanked later if it turns out to be a blocked C1 control
    } else if (b === 0x1b) {
      this.begin(i); // also ends a blocked string: "ESC \" is ST, and any other ESC starts a new sequence
    } else if (inString) {
      this.out[i] = NUL;
      if (b === CAN || b === SUB || (b === 0x07 && this.state === OSC)) this.state = GROUND;
    } else if (b === CAN || b === SUB) {
      this.state = GROUND; // aborts any sequence, in the viewer's parser too
    } else if (b === 0x05) {
      this.out[i] = NUL; // ENQ asks for an answerback, and C0 controls also run inside sequences
    } else if (this.state === ESC) {
      this.escape(b, i);
    } else if (this.state === ESC_INTER) {
      if (b >= 0x30 && b <= 0x7e) this.state = GROUND;
    } else if (this.state === CSI) {
      this.csi(b, i);
    }
  }

  /** A C1 control, C2 80..C2 9F, starting at `lead`: the same as ESC followed by (byte - 0x40). */
  private control(b: number, lead: number, i: number): void {
    this.begin(lead);
    this.escape(b - 0x40, i);
  }

  private begin(at: number): void {
    this.startOpen = this.midSequence;
    this.start = at;
    this.state = ESC;
  }

  private escape(b: number, i: number): void {
    if (b === 0x5b) {
      this.state = CSI; // "["
      this.first = -1;
      this.intermediates = "";
    } else if (b === 0x5d) {
      this.block(i, OSC); // "]"
    } else if (b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) {
      this.block(i, STRING); // "P" DCS, "X" SOS, "^" PM, "_" APC
    } else if (b === 0x5c || b === 0x5a) {
      this.block(i, GROUND); // "\" ST, which ends a blocked string; "Z" DECID
    } else if (b >= 0x20 && b <= 0x2f) {
      this.state = ESC_INTER;
    } else if (b >= 0x30 && b <= 0x7e) {
      this.state = GROUND; // e.g. ESC 7, ESC =, ESC c: they act only on the screen
    }
  }

  private csi(b: number, i: number): void {
    if (b >= 0x20 && b <= 0x3f) {
      if (this.first < 0) this.first = b;
      const c = String.fromCharCode(b);
      if (b < 0x30 && !this.intermediates.includes(c)) this.intermediates += c;
    } else if (b >= 0x40 && b <= 0x7e) {
      this.state = GROUND;
      if (isBlockedCsi(this.first, this.intermediates, String.fromCharCode(b))) this.block(i, GROUND);
    }
  }

  /** Blanks the current sequence up to and including byte `i`, then moves to state `next`. */
  private block(i: number, next: number): void {
    const from = Math.max(this.start, 0);
    this.out.fill(NUL, from, i + 1);
    if (this.start < 0 || this.startOpen) this.out[from] = CAN;
    this.state = next;
  }
}

/**
 * One-shot form for a whole string, e.g. a serialized screen. Blocked sequences are removed, and so
 * is any NUL, which terminals ignore anyway. A CAN stays where one is needed to cancel an interrupted
 * sequence. A CAN is also appended if the text ends inside an ESC or CSI sequence.
 */
export function filterForViewer(text: string): string {
  const filter = new ViewerEscapeFilter();
  const out = filter.push(new TextEncoder().encode(text)).filter((b) => b !== NUL);
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(out) + (filter.midSequence ? "\x18" : "");
}
