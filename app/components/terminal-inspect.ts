/**
 * A tab's screen as text, read from xterm's buffer rather than its drawing: the WebGL renderer
 * paints a canvas, so there are no rows in the DOM to read. Hung on the tab's element as
 * `shellroomInspect`, for browser tests and support tooling (a page's own scripts can read
 * xterm anyway: this exposes nothing new).
 */
import type { IBufferLine, Terminal } from "@xterm/xterm";

export interface TerminalInspect {
  /** The rows in view, right-trimmed, one per line. */
  screen(): string;
  /** How the first cell of each occurrence of `text` in view is coloured: "palette:<n>", "rgb:#rrggbb" or "default". */
  foregroundsOf(text: string): string[];
}

export type InspectableHost = HTMLElement & { shellroomInspect?: TerminalInspect };

/** The row's text and, for each character of it, the cell it starts in (wide characters take two cells). */
function cellsOf(line: IBufferLine, cols: number): { text: string; cellAt: number[] } {
  let text = "";
  const cellAt: number[] = [];
  for (let x = 0; x < cols; x++) {
    const cell = line.getCell(x);
    if (!cell || cell.getWidth() === 0) continue;
    const chars = cell.getChars() || " ";
    for (let index = 0; index < chars.length; index++) cellAt.push(x);
    text += chars;
  }
  return { text, cellAt };
}

export function attachInspect(host: InspectableHost, terminal: Terminal) {
  const rowsInView = () => {
    const buffer = terminal.buffer.active;
    const lines: IBufferLine[] = [];
    for (let y = buffer.viewportY; y < buffer.viewportY + terminal.rows; y++) {
      const line = buffer.getLine(y);
      if (line) lines.push(line);
    }
    return lines;
  };
  host.shellroomInspect = {
    screen: () =>
      rowsInView()
        .map((line) => line.translateToString(true))
        .join("\n"),
    foregroundsOf(text) {
      const colours: string[] = [];
      for (const line of rowsInView()) {
        const { text: row, cellAt } = cellsOf(line, terminal.cols);
        for (let at = row.indexOf(text); at >= 0; at = row.indexOf(text, at + 1)) {
          const cell = line.getCell(cellAt[at]!);
          if (!cell) continue;
          if (cell.isFgPalette()) colours.push(`palette:${cell.getFgColor()}`);
          else if (cell.isFgRGB()) colours.push(`rgb:#${cell.getFgColor().toString(16).padStart(6, "0")}`);
          else colours.push("default");
        }
      }
      return colours;
    },
  };
}
