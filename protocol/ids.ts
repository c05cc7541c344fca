import { z } from "zod";

/** What an entity id and a terminal id may be made of (shared with the hand-written guards of the hottest messages). */
export const ENTITY_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
export const MAX_ENTITY_ID = 64;
export const TERMINAL_ID_PATTERN = /^[a-z0-9-]+$/;
export const MAX_TERMINAL_ID = 32;

/** EntityId's check, for the hand-written guards of the hottest messages. */
export const isEntityId = (value: unknown): value is string =>
  typeof value === "string" && value.length >= 1 && value.length <= MAX_ENTITY_ID && ENTITY_ID_PATTERN.test(value);

/** TerminalId's check, for the same guards. */
export const isTerminalId = (value: unknown): value is string =>
  typeof value === "string" && value.length >= 1 && value.length <= MAX_TERMINAL_ID && TERMINAL_ID_PATTERN.test(value);

/** What `z.number().int().min(0)` accepts (zod's int is a safe integer), for the same guards. */
export const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** A string's length as zod measures it: in code points (a surrogate pair is one; a lone surrogate is one too). */
export function codePoints(text: string) {
  let count = text.length;
  for (let index = 0; index < text.length - 1; index++) {
    if ((text.charCodeAt(index) & 0xfc00) === 0xd800 && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      count--;
      index++;
    }
  }
  return count;
}

/** Database ids are cuid-like strings; bounded so a client cannot send megabytes as an id. */
export const EntityId = z.string().min(1).max(MAX_ENTITY_ID).regex(ENTITY_ID_PATTERN, "must be an id");

/** A terminal inside an environment (several tabs per environment later). */
export const TerminalId = z.string().min(1).max(MAX_TERMINAL_ID).regex(TERMINAL_ID_PATTERN, "must be a terminal id");

/**
 * A terminal's size. Every cell costs the worker memory (its screen mirror) and time
 * (reflow on resize, serialization for a repaint), so both sides and their product are
 * capped: 500 x 100 or 250 x 200 fit, a 4K screen at a small font (about 550 x 145) is
 * clamped by the browser.
 */
export const MIN_TERMINAL_COLS = 2;
export const MIN_TERMINAL_ROWS = 1;
export const MAX_TERMINAL_COLS = 500;
export const MAX_TERMINAL_ROWS = 200;
export const MAX_TERMINAL_CELLS = 50_000;

export const TerminalSize = z.object({
  cols: z.number().int().min(MIN_TERMINAL_COLS).max(MAX_TERMINAL_COLS),
  rows: z.number().int().min(MIN_TERMINAL_ROWS).max(MAX_TERMINAL_ROWS),
});
export type TerminalSize = z.infer<typeof TerminalSize>;

/** For request schemas that spread TerminalSize's shape: the cell cap, as a zod refinement. */
export const withinCellLimit = (size: TerminalSize) => size.cols * size.rows <= MAX_TERMINAL_CELLS;
export const CELL_LIMIT_MESSAGE = `cols x rows must be at most ${MAX_TERMINAL_CELLS}`;

/**
 * Bytes as they arrive: MessagePack hands them over as a Buffer, a Uint8Array or an ArrayBuffer
 * depending on the sender and the runtime. Read as a Uint8Array view (no copy).
 */
export const Bytes = z
  .custom<ArrayBuffer | ArrayBufferView>((value) => value instanceof ArrayBuffer || ArrayBuffer.isView(value), "must be bytes")
  .transform((value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
