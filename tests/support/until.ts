/**
 * Polling with a deadline, for tests that must pass on a loaded host: never a fixed sleep,
 * never a timing assertion; a generous deadline and a message saying what never happened.
 */

/** Resolves with the probe's first truthy value; throws `timed out waiting for <what>` at the deadline. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until `read` gives the same non-zero value five polls in a row: a paused stream's
 * buffered length once everything between the reader and the writer is full.
 */
export async function untilSteady(what: string, read: () => number, timeoutMs = 20_000): Promise<number> {
  let last = -1;
  let steady = 0;
  return until(
    what,
    () => {
      const now = read();
      steady = now > 0 && now === last ? steady + 1 : 0;
      last = now;
      return steady >= 5 ? now : 0;
    },
    timeoutMs,
  );
}
