/**
 * How the lab page words a place in the admission queue: "You are 12th in line · about 40 s".
 * Pure, so the words are tested without a browser.
 */

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st, 111th. */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  const suffix = ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** "about 40 s", "about 3 min"; null when the server had nothing to estimate from. */
export function waitWords(estimateSeconds: number | null): string | null {
  if (estimateSeconds === null) return null;
  if (estimateSeconds < 90) return `about ${Math.max(1, Math.round(estimateSeconds))} s`;
  return `about ${Math.round(estimateSeconds / 60)} min`;
}

/** The one line a queued student reads (and a screen reader announces when it changes). */
export function queueLine(position: number, estimateSeconds: number | null): string {
  const wait = waitWords(estimateSeconds);
  return `You are ${ordinal(position)} in line · ${wait ?? "waiting for a place to free up"}`;
}
