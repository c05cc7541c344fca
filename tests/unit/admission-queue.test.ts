/**
 * The admission queue's pure parts: the order, a position, who can be admitted at all, the
 * estimate from measured facts (none when there are no facts), the typical start, and which
 * changes free a place (and so run the pump).
 */
import { describe, expect, it } from "vitest";
import { admissible, estimateWaitSeconds, freesPlace, positionOf, queueOrder, RecentStarts, type QueuedEntry } from "../../server/environments/admission-queue";
import { ENVIRONMENT_STATES } from "../../server/environments/lifecycle";
import { ordinal, queueLine, waitWords } from "../../app/labs/[labId]/queue-words";

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, seconds));
const entry = (id: string, seconds: number, workerId: string | null = null): QueuedEntry => ({ id, queuedAt: at(seconds), workerId });

describe("the order", () => {
  it("is first queued first; the id breaks a tie, so every replica sees one order", () => {
    const entries = [entry("c", 5), entry("a", 9), entry("b", 5), entry("d", 1)];
    expect([...entries].sort(queueOrder).map((queued) => queued.id)).toEqual(["d", "b", "c", "a"]);
  });

  it("a position is 1 + those queued before: the first is 1st, and one leaving moves those behind up", () => {
    const entries = [entry("a", 1), entry("b", 2), entry("c", 3)];
    expect(entries.map((queued) => positionOf(entries, queued))).toEqual([1, 2, 3]);
    const withoutB = entries.filter((queued) => queued.id !== "b");
    expect(positionOf(withoutB, entries[2]!)).toBe(2);
    // Arriving later never moves anyone ahead of those already waiting.
    expect(positionOf([...entries, entry("z", 0)], entries[0]!)).toBe(2);
    expect(positionOf([...entries, entry("late", 60)], entries[2]!)).toBe(3);
  });

  it("an entry bound to a worker that is not live cannot be admitted anywhere; an unbound one can go to any live worker", () => {
    const live = new Set(["w1"]);
    expect(admissible({ workerId: null }, live)).toBe(true);
    expect(admissible({ workerId: "w1" }, live)).toBe(true);
    expect(admissible({ workerId: "w2" }, live)).toBe(false);
  });
});

describe("the estimate", () => {
  const window = 5 * 60_000;

  it("is null with nothing to measure from: no place freed lately, or no start measured", () => {
    expect(estimateWaitSeconds({ position: 3, freedInWindow: 0, windowMs: window, typicalStartSeconds: 2 })).toBeNull();
    expect(estimateWaitSeconds({ position: 3, freedInWindow: 10, windowMs: window, typicalStartSeconds: null })).toBeNull();
  });

  it("is the places ahead freeing at the measured rate, plus a typical start, in whole seconds", () => {
    // 30 places freed in 5 minutes: one every 10 s; 4th in line -> 40 s, and 2.5 s to start.
    expect(estimateWaitSeconds({ position: 4, freedInWindow: 30, windowMs: window, typicalStartSeconds: 2.5 })).toBe(43);
    expect(estimateWaitSeconds({ position: 1, freedInWindow: 300, windowMs: window, typicalStartSeconds: 0.2 })).toBe(2);
  });

  it("grows with the position and shrinks as places free faster", () => {
    const wait = (position: number, freedInWindow: number) => estimateWaitSeconds({ position, freedInWindow, windowMs: window, typicalStartSeconds: 1 })!;
    expect(wait(12, 30)).toBeGreaterThan(wait(2, 30));
    expect(wait(12, 60)).toBeLessThan(wait(12, 30));
  });

  it("the typical start is the median of recent starts (an outlier does not drag it), none before the first", () => {
    const starts = new RecentStarts();
    expect(starts.typicalSeconds()).toBeNull();
    for (const seconds of [1, 2, 60]) starts.record(seconds);
    expect(starts.typicalSeconds()).toBe(2);
    starts.record(3);
    expect(starts.typicalSeconds()).toBe(2.5);
    // Only the recent ones count: 50 fast starts later, the old slow ones are gone.
    for (let index = 0; index < 50; index++) starts.record(0.5);
    expect(starts.typicalSeconds()).toBe(0.5);
  });
});

describe("what runs the pump", () => {
  it("a place frees when an environment leaves STARTING or RUNNING for anything else, and only then", () => {
    const freeing = [];
    for (const from of ENVIRONMENT_STATES) for (const to of ENVIRONMENT_STATES) if (freesPlace({ from, to })) freeing.push(`${from}->${to}`);
    expect(freeing.sort()).toEqual(
      [
        "RUNNING->DELETED",
        "RUNNING->FAILED",
        "RUNNING->INTERRUPTED",
        "RUNNING->PENDING",
        "RUNNING->QUEUED",
        "RUNNING->STOPPED",
        "RUNNING->STOPPING",
        "STARTING->DELETED",
        "STARTING->FAILED",
        "STARTING->INTERRUPTED",
        "STARTING->PENDING",
        "STARTING->QUEUED",
        "STARTING->STOPPED",
        "STARTING->STOPPING",
      ].sort(),
    );
  });
});

describe("what a queued student reads", () => {
  it("an ordinal place and the estimate in seconds or minutes", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112].map(ordinal)).toEqual([
      "1st",
      "2nd",
      "3rd",
      "4th",
      "11th",
      "12th",
      "13th",
      "21st",
      "22nd",
      "23rd",
      "101st",
      "111th",
      "112th",
    ]);
    expect(queueLine(12, 40)).toBe("You are 12th in line · about 40 s");
    expect(queueLine(1, 200)).toBe("You are 1st in line · about 3 min");
  });

  it("with no estimate, it says it waits for a place to free up (never a made-up time)", () => {
    expect(waitWords(null)).toBeNull();
    expect(queueLine(3, null)).toBe("You are 3rd in line · waiting for a place to free up");
  });
});
