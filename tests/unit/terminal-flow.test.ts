import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ACK_EVERY_BYTES, ACK_TRAILING_MS, RenderedOffsetAcks } from "../../app/components/terminal-flow";

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

  it("acks the final position shortly after the output stops", () => {
    const sent: number[] = [];
    const acks = new RenderedOffsetAcks((offset) => sent.push(offset));
    acks.rendered(10);
    vi.advanceTimersByTime(ACK_TRAILING_MS - 1);
    acks.rendered(25);
    vi.advanceTimersByTime(ACK_TRAILING_MS - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([25]);
    vi.advanceTimersByTime(ACK_TRAILING_MS * 5);
    expect(sent).toEqual([25]);
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
