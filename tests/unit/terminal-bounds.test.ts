/**
 * The small mechanisms that bound what travels between browser and PTY: the browser's
 * input sender (one message in flight, retries in order, Ctrl-C first), the server's
 * input window and rate, screens in pieces on both hops, and the size caps.
 */
import { describe, expect, it, vi } from "vitest";
import { AttachRequest, BROWSER_INPUT_WINDOW, SCREEN_PART_CHARS } from "../../protocol/browser-messages";
import { ResizeTerminal } from "../../protocol/worker-messages";
import { MAX_WAITING, TerminalInputSender, type InputReply } from "../../app/components/terminal-input-sender";
import { ScreenPieces } from "../../app/components/terminal-screen-pieces";
import { INPUT_BURST_BYTES, InputFlow } from "../../server/gateway/input-flow";
import { TokenBucket } from "../../server/gateway/token-bucket";
import { SnapshotParts, splitScreen } from "../../runtime-worker/terminals/snapshot-parts";

describe("the browser's input sender", () => {
  function sender() {
    const sent: { data: string; reply: (answer: InputReply) => void }[] = [];
    const dropped = vi.fn();
    const input = new TerminalInputSender((data, reply) => sent.push({ data, reply }), dropped);
    return { sent, dropped, input };
  }

  it("keeps one message in flight, and what is typed meanwhile rides together in the next", () => {
    const { sent, input } = sender();
    input.send("e");
    input.send("c");
    input.send("ho hi\r");
    expect(sent.map((message) => message.data)).toEqual(["e"]);
    sent[0]!.reply({ ok: true });
    expect(sent.map((message) => message.data)).toEqual(["e", "cho hi\r"]);
    sent[1]!.reply({ ok: true });
    expect(input.pending).toBe(0);
  });

  it("sends a refused piece again, before anything typed after it", () => {
    vi.useFakeTimers();
    try {
      const { sent, input } = sender();
      input.send("first");
      input.send("second");
      sent[0]!.reply({ ok: false, error: "busy", code: "input_busy" });
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(1000);
      expect(sent.map((message) => message.data)).toEqual(["first", "firstsecond"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets Ctrl-C go at once, and drops input past its limit with a notice", () => {
    const { sent, dropped, input } = sender();
    input.send("x".repeat(1000));
    input.send("\x03");
    expect(sent.map((message) => message.data)).toEqual(["x".repeat(1000), "\x03"]);
    input.send("y".repeat(MAX_WAITING));
    expect(dropped).toHaveBeenCalledTimes(1);
  });
});

describe("the server's input window and rate", () => {
  it("refuses input past the window with input_busy until the worker answers, and Ctrl-C always passes", () => {
    const flow = new InputFlow();
    const piece = "a".repeat(64 * 1024);
    expect(flow.admit("env/main", piece)).toBeNull();
    expect(flow.admit("env/main", piece)).toBeNull();
    expect(flow.admit("env/main", piece)).toBe("input_busy");
    expect(flow.admit("env/other", piece)).toBeNull();
    expect(flow.admit("env/main", "\x03")).toBeNull();
    expect(flow.inFlightBytes).toBe(3 * piece.length + 1);
    flow.settled("env/main", piece.length);
    flow.settled("env/main", 1);
    expect(flow.admit("env/main", piece)).toBeNull();
    expect(flow.inFlightBytes).toBeLessThanOrEqual(2 * BROWSER_INPUT_WINDOW + 1);
  });

  it("limits a socket's input bytes per second", () => {
    const flow = new InputFlow();
    const piece = "b".repeat(64 * 1024);
    let admitted = 0;
    for (let index = 0; index < 100; index++) {
      const refusal = flow.admit(`env/t${index}`, piece);
      if (refusal === null) admitted += piece.length;
      else expect(refusal).toBe("rate_limited");
    }
    expect(admitted).toBeLessThanOrEqual(INPUT_BURST_BYTES + piece.length);
  });

  it("token buckets refill with time", () => {
    let now = 0;
    const bucket = new TokenBucket(2, 4, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    expect(bucket.waitFor()).toBe(250);
    now += 250;
    expect(bucket.take()).toBe(true);
  });
});

describe("screens in pieces", () => {
  it("the worker splits a long snapshot, hands the pieces out once, and keeps them within a budget", () => {
    const parts = new SnapshotParts(10);
    const screen = "0123456789abcdefghijKLMNO";
    const first = parts.split("env/main", screen);
    expect(first).toMatchObject({ screen: "0123456789", parts: 3 });
    expect(() => parts.part("env/other", first.snapshotId!, 1)).toThrow(/no longer available/);
    expect(parts.part("env/main", first.snapshotId!, 1)).toBe("abcdefghij");
    expect(parts.part("env/main", first.snapshotId!, 2)).toBe("KLMNO");
    expect(parts.size).toBe(0);
    expect(parts.split("env/main", "short")).toEqual({ screen: "short" });
    expect(splitScreen("ab\u{1F600}cd", 3)).toEqual(["ab", "\u{1F600}c", "d"]);
  });

  it("the browser puts a screen back together, and notices a missing piece", () => {
    const pieces = new ScreenPieces();
    pieces.part("main", "s1", 0, "a".repeat(SCREEN_PART_CHARS));
    pieces.part("main", "s1", 1, "b".repeat(SCREEN_PART_CHARS));
    expect(pieces.finish("main", { screen: "end", screenId: "s1", screenParts: 3 })).toBe(
      `${"a".repeat(SCREEN_PART_CHARS)}${"b".repeat(SCREEN_PART_CHARS)}end`,
    );
    pieces.part("main", "s2", 1, "late");
    expect(pieces.finish("main", { screen: "end", screenId: "s2", screenParts: 3 })).toBeNull();
    expect(pieces.finish("main", { screen: "whole" })).toBe("whole");
  });
});

describe("terminal sizes", () => {
  it("caps cols, rows and their product in every message that carries a size", () => {
    const ref = { environmentId: "env1", terminalId: "main" };
    expect(AttachRequest.safeParse({ ...ref, cols: 250, rows: 200 }).success).toBe(true);
    expect(AttachRequest.safeParse({ ...ref, cols: 501, rows: 10 }).success).toBe(false);
    expect(AttachRequest.safeParse({ ...ref, cols: 300, rows: 200 }).success).toBe(false);
    expect(ResizeTerminal.safeParse({ ...ref, cols: 400, rows: 200 }).success).toBe(false);
    expect(ResizeTerminal.safeParse({ ...ref, cols: 400, rows: 125 }).success).toBe(true);
  });
});
