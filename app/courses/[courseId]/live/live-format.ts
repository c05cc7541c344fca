/** How the live room words times and sizes: short, and relative to a clock that ticks. */
import { useEffect, useState } from "react";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Past this without terminal activity, a student reads as idle rather than active. */
const IDLE_AFTER_MS = 2 * MINUTE;

/** The current time, re-read every `everyMs` so relative times on the page move on. */
export function useNow(everyMs = 10 * SECOND) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "12 s", "4 min", "2 h 5 min", "3 d". */
export function duration(ms: number) {
  const safe = Math.max(0, ms);
  if (safe < MINUTE) return `${Math.floor(safe / SECOND)} s`;
  if (safe < HOUR) return `${Math.floor(safe / MINUTE)} min`;
  if (safe < 24 * HOUR) {
    const minutes = Math.floor((safe % HOUR) / MINUTE);
    return `${Math.floor(safe / HOUR)} h${minutes ? ` ${minutes} min` : ""}`;
  }
  return `${Math.floor(safe / (24 * HOUR))} d`;
}

/** "just now" or "4 min ago". */
export function ago(when: string | Date, now: number) {
  const elapsed = now - new Date(when).getTime();
  return elapsed < 10 * SECOND ? "just now" : `${duration(elapsed)} ago`;
}

/** "active 10 s ago" while the terminal is in use, "idle 12 min" after that. */
export function activity(lastActivityAt: string | Date, now: number) {
  const elapsed = now - new Date(lastActivityAt).getTime();
  return elapsed < IDLE_AFTER_MS ? `active ${ago(lastActivityAt, now)}` : `idle ${duration(elapsed)}`;
}

/** "84 MiB", "1.5 GiB". */
export function bytes(value: number) {
  const mib = value / (1024 * 1024);
  if (mib < 1024) return `${mib < 10 ? mib.toFixed(1).replace(/\.0$/, "") : Math.round(mib)} MiB`;
  return `${(mib / 1024).toFixed(1).replace(/\.0$/, "")} GiB`;
}
