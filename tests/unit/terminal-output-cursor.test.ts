import { describe, expect, it } from "vitest";
import { TerminalOutputCursor } from "../../app/components/terminal-output-cursor";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunk: Uint8Array) => new TextDecoder().decode(chunk);

describe("joining a repainted screen with live output", () => {
  it("drops chunks the screen already shows and trims one that straddles it", () => {
    const cursor = new TerminalOutputCursor();
    cursor.start(10);
    expect(text(cursor.accept(bytes("0123456789"), 0))).toBe("");
    expect(text(cursor.accept(bytes("89abc"), 8))).toBe("abc");
    expect(text(cursor.accept(bytes("def"), 13))).toBe("def");
  });

  it("shows nothing until the screen has arrived, so output is never doubled", () => {
    const cursor = new TerminalOutputCursor();
    expect(cursor.accept(bytes("early"), 0).byteLength).toBe(0);
    cursor.start(5);
    expect(text(cursor.accept(bytes("late"), 5))).toBe("late");
    cursor.reset();
    expect(cursor.accept(bytes("while reattaching"), 9).byteLength).toBe(0);
  });

  it("ignores a duplicate delivery of the same chunk", () => {
    const cursor = new TerminalOutputCursor();
    cursor.start(0);
    expect(text(cursor.accept(bytes("once"), 0))).toBe("once");
    expect(cursor.accept(bytes("once"), 0).byteLength).toBe(0);
  });
});

describe("output that overtakes the attach reply", () => {
  it("is held, then shown in order past what the screen already covers", () => {
    const cursor = new TerminalOutputCursor();
    // The prompt (bytes 0-8) reached the browser before the reply whose screen covers 0-4.
    expect(cursor.accept(bytes("mpt$ "), 4).byteLength).toBe(0);
    expect(cursor.accept(bytes("prom"), 0).byteLength).toBe(0);
    expect(cursor.start(4).map(text)).toEqual(["mpt$ "]);
    expect(text(cursor.accept(bytes("ls"), 9))).toBe("ls");
  });

  it("is forgotten when the browser re-attaches again", () => {
    const cursor = new TerminalOutputCursor();
    cursor.accept(bytes("stale"), 0);
    cursor.reset();
    expect(cursor.start(0)).toEqual([]);
  });
});
