import { describe, expect, it } from "vitest";
import { OutputBudget, outputBudgetFromEnv, DEFAULT_CONTENDED_RATE, DEFAULT_OUTPUT_RATE } from "../../runtime-worker/terminals/output-budget";
import { TypingWatch } from "../../runtime-worker/terminals/typing-watch";

describe("a terminal's output budget", () => {
  it("lets a burst through at once, then asks the terminal to wait as long as the rate needs", () => {
    let now = 0;
    const budget = new OutputBudget({ bytesPerSecond: 1000, burstBytes: 5000, now: () => now });
    expect(budget.spend(5000)).toBe(0);
    expect(budget.spend(500)).toBe(500); // 500 bytes over: half a second at 1000 B/s
    now += 500;
    expect(budget.spend(0)).toBe(0); // paid back
    now += 10_000;
    expect(budget.spend(6000)).toBe(1000); // the bucket holds the burst, not ten seconds' worth
  });

  it("takes the operator's rate, never one so low the terminal is unusable, and a burst of at least two seconds' worth", () => {
    expect(outputBudgetFromEnv({}).bytesPerSecond).toBe(DEFAULT_OUTPUT_RATE);
    expect(outputBudgetFromEnv({ SHELLROOM_TERMINAL_OUTPUT_RATE: "10" }).bytesPerSecond).toBe(DEFAULT_OUTPUT_RATE);
    const fast = outputBudgetFromEnv({ SHELLROOM_TERMINAL_OUTPUT_RATE: String(32 * 1024 * 1024) });
    expect(fast.bytesPerSecond).toBe(32 * 1024 * 1024);
    expect(fast.burstBytes).toBe(64 * 1024 * 1024);
  });

  it("holds output to the tighter contended bucket only while others type, and that bucket fills meanwhile", () => {
    let now = 0;
    const budget = new OutputBudget({ bytesPerSecond: 10_000, burstBytes: 100_000, contended: { bytesPerSecond: 1000, burstBytes: 2000 }, now: () => now });
    // Alone: the full burst passes, the contended bucket is not spent.
    expect(budget.spend(50_000, false)).toBe(0);
    // Others type: its burst passes, then its rate holds the terminal.
    expect(budget.spend(2000, true)).toBe(0);
    expect(budget.spend(500, true)).toBe(500);
    now += 500;
    expect(budget.spend(0, true)).toBe(0);
    // Nobody else types again: the full bucket's rate applies (it has 48 000 left), not the contended one.
    expect(budget.spend(40_000, false)).toBe(0);
    // Contention comes back after a pause long enough to refill the contended bucket (but not past its burst).
    now += 60_000;
    expect(budget.spend(3000, true)).toBe(1000);
  });

  it("takes the operator's contended rate, never above the full rate nor so low the terminal is unusable", () => {
    expect(outputBudgetFromEnv({}).contended).toEqual({ bytesPerSecond: DEFAULT_CONTENDED_RATE, burstBytes: 2 * DEFAULT_CONTENDED_RATE });
    expect(outputBudgetFromEnv({ SHELLROOM_TERMINAL_CONTENDED_RATE: "10" }).contended!.bytesPerSecond).toBe(DEFAULT_CONTENDED_RATE);
    expect(outputBudgetFromEnv({ SHELLROOM_TERMINAL_CONTENDED_RATE: String(4 * 1024 * 1024) }).contended).toEqual({
      bytesPerSecond: 4 * 1024 * 1024,
      burstBytes: 8 * 1024 * 1024,
    });
    const capped = outputBudgetFromEnv({ SHELLROOM_TERMINAL_OUTPUT_RATE: String(512 * 1024), SHELLROOM_TERMINAL_CONTENDED_RATE: String(4 * 1024 * 1024) });
    expect(capped.contended!.bytesPerSecond).toBe(512 * 1024);
  });
});

describe("who on the worker is typing", () => {
  it("counts the other terminals typed in within the window, never the terminal itself", () => {
    let now = 0;
    const watch = new TypingWatch(3000, () => now);
    const [flooder, student, another] = [{}, {}, {}];
    expect(watch.othersTyping(flooder)).toBe(false);
    watch.typed(flooder);
    expect(watch.othersTyping(flooder)).toBe(false); // its own typing (the command that floods) does not count
    expect(watch.othersTyping(student)).toBe(true);
    watch.typed(student);
    watch.typed(flooder);
    watch.typed(flooder);
    // The flooder typed last, again and again: the student is still remembered.
    expect(watch.othersTyping(flooder)).toBe(true);
    now += 2999;
    expect(watch.othersTyping(flooder)).toBe(true);
    now += 2;
    expect(watch.othersTyping(flooder)).toBe(false);
    watch.typed(student);
    watch.typed(another);
    expect(watch.othersTyping(flooder)).toBe(true);
    watch.forget(another);
    expect(watch.othersTyping(flooder)).toBe(true); // the student still counts
    watch.forget(student);
    expect(watch.othersTyping(flooder)).toBe(false);
  });
});
