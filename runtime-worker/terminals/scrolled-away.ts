/**
 * Output the screen mirror need not parse. A flood of plain text (`cat` of a log, `yes`,
 * base64) scrolls through the mirror's whole buffer many times over, and only its last
 * buffer-full can show in a repaint. So when the unparsed output ends in a long run of plain
 * text, the part of it that the following line feeds push out of the buffer entirely is left
 * out (replaced by a CR LF), and the mirror ends cell for cell where parsing all of it would
 * have: a flood then costs the worker a byte scan, not xterm's parse (~50 MB/s, a core).
 *
 * Why it is exact (each condition below is one reason):
 * - The left-out text holds only printable characters, CR, LF, TAB and BS: no escape, no C1
 *   control, no BEL, no charset shift. Text like that moves the cursor and writes cells, and
 *   changes no other state (attributes, modes, tab stops, the parser's state).
 * - It starts right after "x CR LF", x in 0x40-0x7E but not one of "[]PX^_": x ends whatever
 *   escape or control sequence was open before it (or a string, OSC/DCS/APC, is still open:
 *   then the text would have been swallowed by it, and the replacing CR LF is swallowed the same way).
 * - It ends right after a CR LF, as the replacing CR LF does: the cursor is at column 0 either way.
 * - The plain text after it holds at least 2 x rows + scrollback line feeds, and the scroll
 *   region is the whole screen: every line either version wrote or left is scrolled out of
 *   the buffer, and the cursor ends on the same cell.
 */
import type { Terminal } from "@xterm/headless";

/** Replaces a left-out run of output in the mirror's input. */
export const CRLF = Buffer.from("\r\n");

const CR = 0x0d;
const LF = 0x0a;
/** 1 for bytes plain text may hold (see above); UTF-8's lead byte 0xc2 is out: it starts the C1 controls. */
const PLAIN = new Uint8Array(256);
for (let byte = 0x20; byte < 0x7f; byte++) PLAIN[byte] = 1;
for (let byte = 0x80; byte <= 0xff; byte++) PLAIN[byte] = byte === 0xc2 ? 0 : 1;
for (const byte of [0x08, 0x09, LF, CR]) PLAIN[byte] = 1;

/** Ends an escape or control sequence in progress rather than opening another (the introducers after ESC). */
const isSettlingByte = (byte: number | undefined) => byte !== undefined && byte >= 0x40 && byte <= 0x7e && !"[]PX^_".includes(String.fromCharCode(byte));

/** Where the plain text at the end of `bytes` begins (`bytes.length` when its last byte is not plain). */
export function plainFrom(bytes: Uint8Array): number {
  let index = bytes.length;
  while (index > 0 && PLAIN[bytes[index - 1]!] === 1) index--;
  return index;
}

/** Line feeds after a left-out run that scroll everything it touched out of a mirror of this shape. */
export const linesThatHide = (rows: number, scrollback: number) => 2 * rows + scrollback;

/**
 * The part of `text` (plain text, all of it) that may be left out: [start, end), or null when
 * none may. `lines` is linesThatHide for the mirror's shape now.
 */
export function scrolledAwaySpan(text: Uint8Array, lines: number): { start: number; end: number } | null {
  let start = 3;
  while (start <= text.length && !(text[start - 1] === LF && text[start - 2] === CR && isSettlingByte(text[start - 3]))) start++;
  if (start > text.length) return null;
  // Back from the end: past `lines` line feeds, to the first CR LF.
  let end = text.length;
  for (let feeds = 0; feeds < lines && end > start; feeds++) end = text.lastIndexOf(LF, end - 1);
  if (end <= start) return null;
  while (end > start && text[end - 1] !== CR) end = text.lastIndexOf(LF, end - 1);
  end += 1; // just after that LF
  return end - start > CRLF.length ? { start, end } : null;
}

/**
 * Whether the mirror's scroll region is the whole screen, per buffer (each has its own).
 * Kept from the escape sequences that set it; a partial region is assumed until one resets it.
 */
export class ScrollRegionWatch {
  private readonly partial = { normal: false, alternate: false };

  constructor(private readonly terminal: Terminal) {
    // Handlers that return false: xterm's own handling still runs after them.
    terminal.parser.registerCsiHandler({ final: "r" }, (params) => {
      const [top = 0, bottom = 0] = params.map((param) => (typeof param === "number" ? param : NaN));
      if (Number.isNaN(top) || Number.isNaN(bottom)) {
        this.partial[terminal.buffer.active.type] = true;
        return false;
      }
      const effectiveBottom = bottom === 0 || bottom > terminal.rows ? terminal.rows : bottom;
      if (effectiveBottom > Math.max(top, 1)) this.partial[terminal.buffer.active.type] = top > 1 || effectiveBottom < terminal.rows;
      return false;
    });
    const resetAll = () => {
      this.partial.normal = this.partial.alternate = false;
      return false;
    };
    terminal.parser.registerEscHandler({ final: "c" }, resetAll); // RIS
  }

  /** True while plain text's line feeds scroll the whole screen (into the scrollback). */
  get whole() {
    return !this.partial[this.terminal.buffer.active.type];
  }
}

/**
 * Unparsed output, with where its plain text ends at the start (`plainTo`) and begins at the
 * end (`plainFrom`), found once when it arrives. They may understate the plain text, never overstate it.
 */
export interface OutputPiece {
  bytes: Uint8Array;
  plainTo: number;
  plainFrom: number;
}

export function outputPiece(bytes: Uint8Array): OutputPiece {
  const from = plainFrom(bytes);
  let to = 0;
  if (from === 0) to = bytes.length;
  else while (PLAIN[bytes[to]!] === 1) to++;
  return { bytes, plainTo: to, plainFrom: from };
}

/** Below this much plain text in a row, looking for a run to leave out is not worth a copy. */
const MIN_PLAIN_BYTES = 16 * 1024;

/** The runs of plain text in `run` that cross pieces, as [start, end) in the pieces joined, in order. */
function plainSegments(run: readonly OutputPiece[]) {
  const segments: Array<{ start: number; end: number }> = [];
  let at = 0;
  let start = 0;
  for (const piece of run) {
    if (piece.plainFrom !== 0) {
      segments.push({ start, end: at + piece.plainTo });
      start = at + piece.plainFrom;
    }
    at += piece.bytes.byteLength;
  }
  segments.push({ start, end: at });
  return segments;
}

/**
 * A part of `run` (unparsed output, in order) that scrolls away unseen: the output before it,
 * the part itself, and the output after it. The latest run of plain text that has one wins.
 * Null when there is none. The caller leaves the part out only if the scroll region is still
 * the whole screen once the output before it is parsed (ScrollRegionWatch), else parses it.
 */
export function scrolledAwayPart(run: readonly OutputPiece[], lines: number): { before: OutputPiece[]; part: Uint8Array; after: OutputPiece[] } | null {
  const all = plainSegments(run);
  const long = all.filter((segment) => segment.end - segment.start >= MIN_PLAIN_BYTES);
  if (long.length === 0) return null;
  const joined = run.length === 1 ? run[0]!.bytes : Buffer.concat(run.map((piece) => piece.bytes));
  for (const segment of long.reverse()) {
    const span = scrolledAwaySpan(joined.subarray(segment.start, segment.end), lines);
    if (!span) continue;
    const cutFrom = segment.start + span.start;
    const cutTo = segment.start + span.end;
    // What is known of the plain text at either end carries over.
    const before: OutputPiece = { bytes: joined.subarray(0, cutFrom), plainTo: Math.min(all[0]!.end, cutFrom), plainFrom: segment.start };
    const after: OutputPiece = { bytes: joined.subarray(cutTo), plainTo: segment.end - cutTo, plainFrom: Math.max(0, all.at(-1)!.start - cutTo) };
    const nonEmpty = (piece: OutputPiece) => (piece.bytes.byteLength > 0 ? [piece] : []);
    return { before: nonEmpty(before), part: joined.subarray(cutFrom, cutTo), after: nonEmpty(after) };
  }
  return null;
}
