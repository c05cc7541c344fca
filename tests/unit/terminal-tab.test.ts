import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { ACK_IDLE_MS } from "../../app/components/terminal-flow";
import { GAP_REPAINT_WAIT_MS, TerminalTab } from "../../app/components/terminal-tab";

/** Just enough of xterm: writes are queued, and "parsed" (callbacks run) when the test says so. */
function fakeTerminal() {
  const queue: { data: string | Uint8Array; callback?: () => void }[] = [];
  const screen: string[] = [];
  const terminal = {
    options: {},
    cols: 80,
    rows: 24,
    write: (data: string | Uint8Array, callback?: () => void) => {
      queue.push({ data, callback });
    },
    onData: () => ({ dispose() {} }),
    onResize: () => ({ dispose() {} }),
    dispose() {},
  };
  const parse = () => {
    for (const { data, callback } of queue.splice(0)) {
      if (data === "\x1bc") screen.length = 0;
      else screen.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      callback?.();
    }
    return screen.join("");
  };
  return { terminal: terminal as unknown as Terminal, parse };
}

function newTab() {
  const { terminal, parse } = fakeTerminal();
  const host = { hidden: true, dataset: {}, remove() {} } as unknown as HTMLElement;
  const tab = new TerminalTab("main", host, terminal, {} as FitAddon, { input: () => undefined, resize: () => undefined }, false);
  const acks: number[] = [];
  return { tab, parse, acks, sendAck: (offset: number) => acks.push(offset) };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("a terminal tab's output, repaints and acks", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("acks only what xterm has parsed, then the final position", () => {
    const { tab, parse, acks, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("$ ", 2, sendAck);
    tab.output(bytes("ls\r\n"), 2);
    vi.advanceTimersByTime(ACK_IDLE_MS * 2);
    expect(acks).toEqual([]);
    expect(parse()).toBe("$ ls\r\n");
    vi.advanceTimersByTime(ACK_IDLE_MS);
    expect(acks).toEqual([6]);
  });

  it("after skipped output, shows the repaint and what follows it, once, and acks past it", () => {
    const { tab, parse, acks, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("", 0, sendAck);
    expect(tab.output(bytes("abc"), 0)).toBe(false);
    // The server skipped 3-99 while this tab was behind: the next chunk starts at 100.
    expect(tab.output(bytes("late"), 100)).toBe(true);
    expect(parse()).toBe("abc");
    expect(tab.repaint("SCREEN", 100)).toBe(false);
    expect(parse()).toBe("SCREENlate");
    vi.advanceTimersByTime(ACK_IDLE_MS);
    expect(acks.at(-1)).toBe(104);
    // A repeat of the chunk changes nothing.
    tab.output(bytes("late"), 100);
    expect(parse()).toBe("SCREENlate");
  });

  it("ignores a repaint that brings nothing new, so the screen does not flash", () => {
    const { tab, parse, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("$ ", 2, sendAck);
    tab.output(bytes("x"), 2);
    expect(tab.repaint("$ ", 2)).toBe(false);
    expect(parse()).toBe("$ x");
  });

  it("attaches again when no repaint comes after a gap", () => {
    const { tab, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("", 0, sendAck);
    const reattach = vi.fn();
    expect(tab.output(bytes("far"), 50)).toBe(true);
    tab.watchGap(reattach);
    tab.watchGap(reattach);
    vi.advanceTimersByTime(GAP_REPAINT_WAIT_MS);
    expect(reattach).toHaveBeenCalledTimes(1);
  });

  it("does not attach again when the repaint arrived in time", () => {
    const { tab, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("", 0, sendAck);
    const reattach = vi.fn();
    tab.output(bytes("far"), 50);
    tab.watchGap(reattach);
    tab.repaint("S", 50);
    vi.advanceTimersByTime(GAP_REPAINT_WAIT_MS * 2);
    expect(reattach).not.toHaveBeenCalled();
  });

  it("sends no ack for a stream a new attach replaced (a new shell starts over at 0)", () => {
    const { tab, parse, acks, sendAck } = newTab();
    tab.beginAttach();
    tab.attachedWith("", 0, sendAck);
    tab.output(bytes("old shell"), 0);
    const seq = tab.beginAttach();
    expect(tab.isCurrentAttach(seq)).toBe(true);
    parse();
    vi.advanceTimersByTime(ACK_IDLE_MS);
    expect(acks).toEqual([]);
    tab.attachedWith("new$ ", 5, sendAck);
    expect(parse()).toBe("new$ ");
    vi.advanceTimersByTime(ACK_IDLE_MS);
    expect(acks).toEqual([5]);
  });
});
