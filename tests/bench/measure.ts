/** Small statistics and formatting helpers for the benchmark. No timing assertions here. */

/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function summarize(samples: readonly number[]) {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    min: samples.length ? Math.min(...samples) : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

export const now = () => performance.now();

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return "n/a";
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "n/a";
}

export interface Figure {
  figure: string;
  unit: "ms" | "bytes/s";
  platform: number;
  baseline: number;
  /** platform / baseline. */
  ratio: number;
  samples: { platform: number; baseline: number };
}

export function figure(name: string, unit: Figure["unit"], platform: number, baseline: number, samples: Figure["samples"]): Figure {
  return { figure: name, unit, platform, baseline, ratio: platform / baseline, samples };
}

export function renderTable(figures: readonly Figure[]): string {
  const format = (unit: Figure["unit"], value: number) => (unit === "ms" ? formatMs(value) : formatRate(value));
  const rows = [
    ["figure", "platform", "raw docker", "ratio"],
    ...figures.map((f) => [f.figure, format(f.unit, f.platform), format(f.unit, f.baseline), formatRatio(f.ratio)]),
  ];
  return renderRows(rows);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A figure that compares the platform with itself: no warm pool vs. a warm pool. */
export interface PoolFigure {
  figure: string;
  unit: "ms";
  /** Template pool size 0. */
  cold: number;
  /** Started from the warm pool. */
  pool: number;
  /** pool / cold. */
  ratio: number;
  samples: { cold: number; pool: number };
}

export function poolFigure(name: string, cold: number, pool: number, samples: PoolFigure["samples"]): PoolFigure {
  return { figure: name, unit: "ms", cold, pool, ratio: pool / cold, samples };
}

export function renderPoolTable(figures: readonly PoolFigure[]): string {
  return renderRows([
    ["figure", "cold (pool 0)", "warm pool", "ratio pool/cold"],
    ...figures.map((f) => [f.figure, formatMs(f.cold), formatMs(f.pool), formatRatio(f.ratio)]),
  ]);
}

/** Running `limit` at a time; results in the order of `items`. */
export async function inBatches<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export const MiB = 1024 * 1024;

export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(1)} MiB` : "n/a";
}

/** Columns padded to their widest cell; the first row is the header. */
export function renderRows(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]! + 3))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}
