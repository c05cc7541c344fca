/**
 * Output acknowledgements on the worker link, both halves: the server batches what it handed
 * over (riding on the next input to the worker, else one message for every terminal with news,
 * at once past 32 KiB or a few ms later),
 * and the worker releases each sent message once an acknowledgement covers its end.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "socket.io";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OutputAck } from "../../protocol/worker-messages";
import { ACK_DELAY_MS, ACK_EVERY_BYTES, OutputAckBatcher, acksToCarry, outputAcksOn } from "../../server/gateway/output-acks";
import { OutputAcks } from "../../runtime-worker/terminals/output-acks";

const main = { environmentId: "e1", terminalId: "main" };
const second = { environmentId: "e1", terminalId: "t-2" };

describe("the server's batched acknowledgements", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("a burst of echoes shares one acknowledgement, cumulative per terminal", () => {
    const sent: OutputAck[][] = [];
    const batcher = new OutputAckBatcher((acks) => sent.push(acks));
    for (let offset = 0; offset < 20; offset++) batcher.handed(main, offset + 1, 1);
    batcher.handed(second, 7, 7);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([
      [
        { ...main, offset: 20 },
        { ...second, offset: 7 },
      ],
    ]);
    // Nothing new: nothing sent.
    vi.advanceTimersByTime(ACK_DELAY_MS * 10);
    expect(sent).toHaveLength(1);
  });

  it("a flood is acknowledged at once every 32 KiB, without waiting for the timer", () => {
    const sent: OutputAck[][] = [];
    const batcher = new OutputAckBatcher((acks) => sent.push(acks));
    batcher.handed(main, ACK_EVERY_BYTES / 2, ACK_EVERY_BYTES / 2);
    expect(sent).toHaveLength(0);
    batcher.handed(main, ACK_EVERY_BYTES, ACK_EVERY_BYTES / 2);
    expect(sent).toEqual([[{ ...main, offset: ACK_EVERY_BYTES }]]);
  });

  it("acknowledgements ride on the next input to the worker: then none is sent alone", () => {
    const sent: OutputAck[][] = [];
    const socket = new EventEmitter() as unknown as Socket;
    const batcher = outputAcksOn(socket, (acks) => sent.push(acks));
    expect(acksToCarry(socket)).toBeUndefined();
    batcher.handed(main, 1, 1);
    batcher.handed(second, 3, 3);
    expect(acksToCarry(socket)).toEqual([
      { ...main, offset: 1 },
      { ...second, offset: 3 },
    ]);
    vi.advanceTimersByTime(ACK_DELAY_MS * 2);
    expect(sent).toEqual([]);
    // No input comes: the timer sends them.
    batcher.handed(main, 2, 1);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([[{ ...main, offset: 2 }]]);
    // The worker's socket dropped: nothing waits, nothing rides.
    batcher.handed(main, 3, 1);
    (socket as unknown as EventEmitter).emit("disconnect");
    expect(acksToCarry(socket)).toBeUndefined();
    vi.advanceTimersByTime(ACK_DELAY_MS * 2);
    expect(sent).toHaveLength(1);
  });

  it("never goes backwards for a terminal, and sends nothing once closed", () => {
    const sent: OutputAck[][] = [];
    const batcher = new OutputAckBatcher((acks) => sent.push(acks));
    batcher.handed(main, 500, 100);
    batcher.handed(main, 400, 100);
    batcher.flush();
    expect(sent).toEqual([[{ ...main, offset: 500 }]]);
    batcher.handed(main, 600, 100);
    batcher.close();
    vi.advanceTimersByTime(ACK_DELAY_MS * 2);
    expect(sent).toHaveLength(1);
  });
});

describe("the worker's waiting messages", () => {
  it("releases, in order, exactly the messages an acknowledgement covers", () => {
    const acks = new OutputAcks();
    const released: string[] = [];
    acks.wait(main, 10, () => released.push("a"));
    acks.wait(main, 25, () => released.push("b"));
    acks.wait(second, 5, () => released.push("other"));
    acks.wait(main, 40, () => released.push("c"));
    acks.acked(main, 24);
    expect(released).toEqual(["a"]);
    acks.acked(main, 40);
    expect(released).toEqual(["a", "b", "c"]);
    // An older acknowledgement after a newer one changes nothing.
    acks.acked(main, 10);
    expect(released).toEqual(["a", "b", "c"]);
    expect(acks.size).toBe(1);
  });

  it("forgets a terminal whose shell ended, and everything when the link drops", () => {
    const acks = new OutputAcks();
    const released: string[] = [];
    acks.wait(main, 10, () => released.push("old shell"));
    acks.forget(main);
    // The new shell's offsets start again: an acknowledgement for it never releases the old one's.
    acks.wait(main, 3, () => released.push("new shell"));
    acks.acked(main, 50);
    expect(released).toEqual(["new shell"]);
    acks.wait(second, 5, () => released.push("lost"));
    acks.clear();
    acks.acked(second, 5);
    expect(released).toEqual(["new shell"]);
    expect(acks.size).toBe(0);
  });
});
