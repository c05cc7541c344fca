/**
 * A screen mirror as escape sequences that repaint it, within a size: past MAX_SNAPSHOT_CHARS
 * older scrollback is left out. The screen alone and the newest scrollback lines are serialized
 * first (cheap) to estimate what a line costs, so the whole is serialized once, not cut down by trial.
 */
import type { Terminal } from "@xterm/headless";
import type { SerializeAddon } from "@xterm/addon-serialize";

/**
 * A snapshot is at most about this many characters: past it, older scrollback is left out
 * (truecolour text costs ~40 characters per cell). Serializing is one synchronous call on
 * the worker's thread (~20 ms for this much), so this also bounds how long a repaint holds
 * everyone else up. The screen itself is always included (cols x rows is capped).
 */
export const MAX_SNAPSHOT_CHARS = 512 * 1024;

export function serializeCapped(mirror: Terminal, serializer: SerializeAddon): string {
  const available = Math.max(0, mirror.buffer.active.length - mirror.rows);
  let screen = serializer.serialize({ scrollback: 0 });
  if (available > 0 && screen.length < MAX_SNAPSHOT_CHARS) {
    // The newest scrollback lines as a sample too: a cleared screen says little about them.
    const sampled = Math.min(available, 100);
    const sample = serializer.serialize({ range: { start: available - sampled, end: available - 1 } });
    const perLine = Math.max(1, screen.length / mirror.rows, sample.length / sampled);
    let lines = Math.min(available, Math.floor((MAX_SNAPSHOT_CHARS - screen.length) / perLine));
    screen = serializer.serialize({ scrollback: lines });
    // The screen was lighter than the scrollback: one cut, in proportion.
    if (screen.length > MAX_SNAPSHOT_CHARS * 1.25 && lines > 0) {
      lines = Math.floor(lines * (MAX_SNAPSHOT_CHARS / screen.length) * 0.9);
      screen = serializer.serialize({ scrollback: lines });
    }
  }
  return screen;
}
