import { describe, expect, it, vi } from "vitest";
import { BrowserRequests } from "../../protocol/browser-contract";
import { readAttachReply, readBroadcast, readControl, readExit, readOutput, readReplyTo, readTabs } from "../../app/components/terminal-messages";

describe("messages the terminal panel accepts from the server", () => {
  it("reads output whether its bytes come as an ArrayBuffer (browsers) or a view on one", () => {
    const buffer = new TextEncoder().encode("hello").buffer;
    expect(readOutput({ environmentId: "e1", terminalId: "main", data: buffer, offset: 3 })?.data).toEqual(new TextEncoder().encode("hello"));
    const view = new Uint8Array([0, 104, 105, 0]).subarray(1, 3);
    expect(readOutput({ environmentId: "e1", terminalId: "t-a", data: view, offset: 0 })?.data).toEqual(new Uint8Array([104, 105]));
  });

  it("ignores malformed pushes instead of crashing, and reads a malformed reply as a coded failure", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(readOutput({ environmentId: "e1", terminalId: "main", data: "text", offset: 0 })).toBeNull();
    expect(readOutput({ environmentId: "e1", terminalId: "main", data: new Uint8Array(1), offset: -1 })).toBeNull();
    expect(readOutput({ environmentId: "e1", terminalId: "../etc", data: new Uint8Array(1), offset: 0 })).toBeNull();
    expect(readOutput(null)).toBeNull();
    expect(readControl({ environmentId: "e1" })).toBeNull();
    expect(readBroadcast({ courseId: "c1", from: "Ada", message: 42, at: "" })).toBeNull();
    expect(readReplyTo(BrowserRequests.close, undefined)).toMatchObject({ ok: false, code: "malformed_reply" });
    // Told with the event's name (once a minute per event, however many arrive).
    expect(warn.mock.calls.map(([text]) => String(text))).toEqual(
      expect.arrayContaining([expect.stringContaining("terminal:output"), expect.stringContaining("terminal:close")]),
    );
    warn.mockRestore();
  });

  it("keeps the valid, distinct terminal ids of a tab list, at most eight", () => {
    const ids = ["main", "main", "BAD ID", 7, "t-a", ...Array.from({ length: 10 }, (_, index) => `t-${index}`)];
    const tabs = readTabs({ environmentId: "e1", terminals: ids });
    expect(tabs?.terminals.slice(0, 3)).toEqual(["main", "t-a", "t-0"]);
    expect(tabs?.terminals).toHaveLength(8);
  });

  it("reads an attach reply, with or without the tab list and controller of newer servers", () => {
    expect(readAttachReply({ ok: true, screen: "$ ", offset: 2, mode: "owner", terminals: ["main"], controller: "Ms Lovelace" })).toEqual({
      ok: true,
      screen: "$ ",
      offset: 2,
      mode: "owner",
      terminals: ["main"],
      controller: "Ms Lovelace",
    });
    const older = readAttachReply({ ok: true, screen: "", offset: 0, mode: "watch" });
    expect(older).toMatchObject({ ok: true, mode: "watch" });
    expect(older && older.ok && older.terminals).toBeUndefined();
    expect(readAttachReply({ ok: false, code: "forbidden", error: "You cannot open this terminal." })).toEqual({
      ok: false,
      code: "forbidden",
      error: "You cannot open this terminal.",
    });
    // A refusal from an older server (no code) or a newer one (a code this page does not know) reads as "failed".
    expect(readAttachReply({ ok: false, error: "Nope." })).toEqual({ ok: false, code: "failed", error: "Nope." });
    expect(readAttachReply({ ok: false, code: "solar_flare", error: "Nope." })).toEqual({ ok: false, code: "failed", error: "Nope." });
    expect(
      readAttachReply({ ok: false, code: "terminal_closed", error: "This terminal is not open; the student has others.", terminals: ["t-2", "../x", "t-2"] }),
    ).toEqual({
      ok: false,
      code: "terminal_closed",
      error: "This terminal is not open; the student has others.",
      terminals: ["t-2"],
    });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(readAttachReply({ ok: true, screen: "", offset: 0, mode: "admin" })).toMatchObject({ ok: false, code: "malformed_reply" });
    vi.restoreAllMocks();
  });

  it("treats an exit without a terminal id as the main terminal's", () => {
    expect(readExit({ environmentId: "e1", exitCode: 0 })).toEqual({ environmentId: "e1", terminalId: "main" });
  });
});

describe("a broadcast from the course's staff", () => {
  it("is kept as plain text, cut rather than dropped when it is very long", () => {
    const long = readBroadcast({ courseId: "c1", from: "Ada", message: "x".repeat(20_000), at: "2026-11-23T10:00:00Z" });
    expect(long?.message).toHaveLength(10_000);
    expect(readBroadcast({ courseId: "c1", from: "Ada", message: "<b>hi</b>", at: "" })?.message).toBe("<b>hi</b>");
    expect(readBroadcast({ courseId: "c1", from: "Ada", message: "", at: "" })).toBeNull();
  });
});
