/** A runtime driver whose every call from the worker is timed (bench-side, no platform change). */
import type { RuntimeDriver } from "../../runtime-worker/driver";
import { percentile } from "./measure";

/** Durations of the worker's calls into its runtime driver, by method (bench-side, no platform change). */
export interface DriverTimings {
  reset(): void;
  snapshot(): Record<string, { n: number; p50: number; p95: number; max: number }>;
}

/** The driver behind a proxy that times every call the worker makes (calls inside the driver are not counted). */
export function timedDriver(driver: RuntimeDriver): { driver: RuntimeDriver; timings: DriverTimings } {
  let samples = new Map<string, number[]>();
  const record = (name: string, ms: number) => {
    const list = samples.get(name) ?? [];
    list.push(ms);
    samples.set(name, list);
  };
  const proxy = new Proxy(driver, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        const began = performance.now();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(() => record(property, performance.now() - began));
        record(property, performance.now() - began);
        return result;
      };
    },
  });
  return {
    driver: proxy,
    timings: {
      reset: () => {
        samples = new Map();
      },
      snapshot: () =>
        Object.fromEntries(
          [...samples].map(([name, list]) => [
            name,
            {
              n: list.length,
              p50: percentile(list, 50),
              p95: percentile(list, 95),
              max: Math.max(...list),
            },
          ]),
        ),
    },
  };
}
