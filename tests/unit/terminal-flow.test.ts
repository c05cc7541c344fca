import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ACK_EVERY_BYTES, ACK_IDLE_MS, ACK_SOON_BYTES, ACK_TRAILING_MS, RenderedOffsetAcks } from "../../app/components/terminal-flow";

describe("acknowledging rendered output", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("acks at once every 64 KiB of progress, so a fast stream never waits on a timer", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    acks.rendered(ACK_EVERY_BYTES - 1);
    expect(sent).toEqual([]);
    acks.rendered(ACK_EVERY_BYTES);
    expect(sent).toEqual([ACK_EVERY_BYTES]);
    acks.rendered(ACK_EVERY_BYTES * 2 + 5);
    expect(sent).toEqual([ACK_EVERY_BYTES, ACK_EVERY_BYTES * 2 + 5]);
  });

  it("acks the final position shortly after output of some size stops", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    acks.rendered(10);
    vi.advanceTimersByTime(ACK_TRAILING_MS - 1);
    acks.rendered(ACK_SOON_BYTES + 25);
    vi.advanceTimersByTime(ACK_TRAILING_MS - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([ACK_SOON_BYTES + 25]);
    vi.advanceTimersByTime(ACK_IDLE_MS * 5);
    expect(sent).toEqual([ACK_SOON_BYTES + 25]);
  });

  it("acks a typist's echoes together once the typing pauses, not one ack per keystroke", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    // Ten keystrokes 200 ms apart, each echoing one byte.
    for (let offset = 1; offset <= 10; offset++) {
      acks.rendered(offset);
      vi.advanceTimersByTime(200);
    }
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(ACK_IDLE_MS - 200 - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([10]);
    // Output of some size after the echoes brings the trailing ack back to its short delay.
    acks.rendered(11);
    acks.rendered(11 + ACK_SOON_BYTES);
    vi.advanceTimersByTime(ACK_TRAILING_MS);
    expect(sent).toEqual([10, 11 + ACK_SOON_BYTES]);
  });

  it("never goes backwards (a repaint's offset or a late write callback behind the position)", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    acks.rendered(500);
    acks.rendered(300);
    vi.runAllTimers();
    expect(sent).toEqual([500]);
    acks.rendered(500);
    vi.runAllTimers();
    expect(sent).toEqual([500]);
  });

  it("sends nothing once disposed (the tab re-attached or closed)", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    acks.rendered(10);
    acks.dispose();
    vi.runAllTimers();
    acks.rendered(ACK_EVERY_BYTES * 3);
    expect(sent).toEqual([]);
  });
});
