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

describe("output after the server skipped ahead (flow control)", () => {
  it("holds a chunk that starts past the position, then shows it after the repaint", () => {
    const cursor = new TerminalOutputCursor();
    cursor.start(0);
    expect(text(cursor.accept(bytes("abc"), 0))).toBe("abc");
    expect(cursor.holding).toBe(false);
    // Bytes 3-9 were skipped while this browser was behind.
    expect(cursor.accept(bytes("xyz"), 10).byteLength).toBe(0);
    expect(cursor.holding).toBe(true);
    expect(cursor.accept(bytes("more"), 13).byteLength).toBe(0);
    // The repaint's screen covers everything up to 10.
    expect(cursor.start(10).map(text)).toEqual(["xyz", "more"]);
    expect(cursor.holding).toBe(false);
    expect(cursor.position).toBe(17);
    expect(text(cursor.accept(bytes("!"), 17))).toBe("!");
  });

  it("trims held output the repaint already covers, and drops what it covers entirely", () => {
    const cursor = new TerminalOutputCursor();
    cursor.start(0);
    cursor.accept(bytes("0123"), 0);
    cursor.accept(bytes("89ab"), 8);
    cursor.accept(bytes("cdef"), 12);
    expect(cursor.start(14).map(text)).toEqual(["ef"]);
    expect(cursor.position).toBe(16);
  });

  it("goes back to holding when the held output itself has a gap after the screen", () => {
    const cursor = new TerminalOutputCursor();
    cursor.accept(bytes("late"), 20);
    cursor.accept(bytes("next"), 24);
    // The screen only reaches 10: bytes 10-19 are missing, so nothing can be shown yet.
    expect(cursor.start(10)).toEqual([]);
    expect(cursor.holding).toBe(true);
    // A later screen that covers the gap lets the held output through, in order, once.
    expect(cursor.start(20).map(text)).toEqual(["late", "next"]);
    expect(cursor.accept(bytes("next"), 24).byteLength).toBe(0);
  });

  it("shows the part of held output that precedes a gap and holds the rest", () => {
    const cursor = new TerminalOutputCursor();
    cursor.accept(bytes("abc"), 5);
    cursor.accept(bytes("xyz"), 12);
    expect(cursor.start(5).map(text)).toEqual(["abc"]);
    expect(cursor.holding).toBe(true);
    expect(cursor.start(12).map(text)).toEqual(["xyz"]);
    expect(cursor.position).toBe(15);
  });

  it("never mistakes a repeat or an empty chunk for a gap", () => {
    const cursor = new TerminalOutputCursor();
    cursor.start(4);
    expect(cursor.accept(new Uint8Array(0), 9).byteLength).toBe(0);
    expect(cursor.accept(bytes("ab"), 2).byteLength).toBe(0);
    expect(cursor.holding).toBe(false);
    expect(text(cursor.accept(bytes("cd"), 4))).toBe("cd");
  });
});
