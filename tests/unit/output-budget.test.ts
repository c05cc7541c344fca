import { describe, expect, it } from "vitest";
import { OutputBudget, outputBudgetFromEnv, DEFAULT_OUTPUT_RATE } from "../../runtime-worker/terminals/output-budget";

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
});
