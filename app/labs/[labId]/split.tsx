"use client";
/**
 * The handle between instructions and terminal: drag it with a mouse, pen or finger, or
 * focus it and use the arrow keys (Shift for bigger steps, Home/End for the limits, Enter
 * or a double click for the default). The width is remembered in this browser.
 */
import { useCallback, useEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type PointerEvent } from "react";

const STORAGE_KEY = "shellroom:lab-split";
const DEFAULT_PERCENT = 40;
const MIN_PERCENT = 20;
const MAX_PERCENT = 75;
const STEP = 2;
const BIG_STEP = 10;

const clamp = (value: number) => Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, value));

function remembered(): number | null {
  try {
    const value = Number(window.localStorage.getItem(STORAGE_KEY));
    return Number.isFinite(value) && value > 0 ? clamp(value) : null;
  } catch {
    return null; // storage refused (private mode, policy): the default it is
  }
}

function remember(percent: number) {
  try {
    window.localStorage.setItem(STORAGE_KEY, percent.toFixed(1));
  } catch {
    // Not remembered; the split still works for this page.
  }
}

export type Split = ReturnType<typeof useSplit>;

export function useSplit() {
  const [percent, setPercent] = useState(DEFAULT_PERCENT);
  const [dragging, setDragging] = useState(false);
  const containerRef = useRef<HTMLElement>(null);

  // Read after mounting: the server render knows nothing of this browser's storage.
  useEffect(() => {
    const saved = remembered();
    if (saved !== null) setPercent(saved);
  }, []);

  const set = useCallback((next: number, save = true) => {
    const value = clamp(next);
    setPercent(value);
    if (save) remember(value);
  }, []);

  const fromPointer = useCallback((clientX: number) => {
    const box = containerRef.current?.getBoundingClientRect();
    if (!box || box.width === 0) return null;
    return ((clientX - box.left) / box.width) * 100;
  }, []);

  const style = { "--lab-left": `${percent}%` } as CSSProperties;
  return { percent, set, dragging, setDragging, fromPointer, containerRef, style };
}

export function SplitHandle({ split, controls }: { split: Split; controls: string }) {
  const { percent, set, dragging, setDragging, fromPointer } = split;

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    setDragging(true);
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (!dragging) return;
    const next = fromPointer(event.clientX);
    if (next !== null) set(next, false);
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    if (!dragging) return;
    setDragging(false);
    if (event.currentTarget.hasPointerCapture(event.pointerId)) event.currentTarget.releasePointerCapture(event.pointerId);
    const next = fromPointer(event.clientX);
    set(next ?? percent);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? BIG_STEP : STEP;
    const moves: Record<string, number> = {
      ArrowLeft: percent - step,
      ArrowDown: percent - step,
      ArrowRight: percent + step,
      ArrowUp: percent + step,
      Home: MIN_PERCENT,
      End: MAX_PERCENT,
      Enter: DEFAULT_PERCENT,
    };
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    set(next);
  };

  return (
    <div
      className="lab-divider"
      role="separator"
      tabIndex={0}
      aria-orientation="vertical"
      aria-controls={controls}
      aria-label="Resize instructions and terminal"
      aria-valuemin={MIN_PERCENT}
      aria-valuemax={MAX_PERCENT}
      aria-valuenow={Math.round(percent)}
      aria-valuetext={`Instructions take ${Math.round(percent)}% of the width`}
      title="Drag, or use the arrow keys, to resize. Double-click to reset."
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onDoubleClick={() => set(DEFAULT_PERCENT)}
      onKeyDown={onKeyDown}
    >
      <span className="lab-divider-grip" aria-hidden="true" />
    </div>
  );
}
