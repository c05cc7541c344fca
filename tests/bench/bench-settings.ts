/** The bench's settings, from the environment (see tests/bench/run-bench.ts for each variable), and where it writes. */
import path from "node:path";

export const projectRoot = path.resolve(import.meta.dirname, "../..");
export const RESULTS_FILE = path.join(projectRoot, ".data/bench-results.json");

const intFromEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
export const COLD_SAMPLES = intFromEnv("BENCH_COLD_SAMPLES", 5);
export const ECHO_SAMPLES = intFromEnv("BENCH_ECHO_SAMPLES", 300);
export const ECHO_BLOCKS = 3; // platform and baseline alternate in blocks, so drift hits both alike
export const THROUGHPUT_BYTES = intFromEnv("BENCH_THROUGHPUT_BYTES", 50_000_000);
export const THROUGHPUT_RUNS = intFromEnv("BENCH_THROUGHPUT_RUNS", 3);
export const POOL_SAMPLES = intFromEnv("BENCH_POOL_SAMPLES", 5);
export const WARM_POOL_SIZE = intFromEnv("BENCH_WARM_POOL_SIZE", 5);
export const BURST_SIZE = intFromEnv("BENCH_BURST_SIZE", 50);
export const CONCURRENT_TERMINALS = intFromEnv("BENCH_CONCURRENT_TERMINALS", 100);
export const CONCURRENT_ECHO_SAMPLES = intFromEnv("BENCH_CONCURRENT_ECHO_SAMPLES", 30);
export const FLOOD_SECONDS = intFromEnv("BENCH_FLOOD_SECONDS", 10);
export const CONTAINMENT_SECONDS = intFromEnv("BENCH_CONTAINMENT_SECONDS", 20);
export const CONTAINMENT_ECHO_SAMPLES = intFromEnv("BENCH_CONTAINMENT_ECHO_SAMPLES", 100);
export const RUNTIME_SIZES = (process.env.BENCH_RUNTIME_SIZES ?? "10")
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
export const RUNTIME_ROUNDS = intFromEnv("BENCH_RUNTIME_ROUNDS", 2);
export const CLASS_SIZE = intFromEnv("BENCH_CLASS_SIZE", 100);
export const IDLE_ENVIRONMENTS = intFromEnv("BENCH_IDLE_ENVIRONMENTS", 300);
export const CLASS_ROUNDS = intFromEnv("BENCH_CLASS_ROUNDS", 4);
export const IDLE_CONCURRENCY = intFromEnv("BENCH_IDLE_CONCURRENCY", 10);
export const IDLE_ECHO_SAMPLES = intFromEnv("BENCH_IDLE_ECHO_SAMPLES", 300);
export const IDLE_SETTLE_SECONDS = intFromEnv("BENCH_IDLE_SETTLE_SECONDS", 20);
export const WIRE_ECHO_SAMPLES = intFromEnv("BENCH_WIRE_ECHO_SAMPLES", 1000);
/** Untimed echoes per side before (1): a deployed server has run for days, its JIT warm (0: none). */
/** Between (1)'s timed keystrokes: 0, back to back; about 200, a typist's pace. */
export const WIRE_ECHO_PAUSE_MS = Math.max(0, Number(process.env.BENCH_WIRE_ECHO_PAUSE_MS ?? 0) || 0);
export const WIRE_ECHO_WARMUP = Math.max(0, Number(process.env.BENCH_WIRE_ECHO_WARMUP ?? 2000) || 0);
export const WIRE_THROUGHPUT_BYTES = intFromEnv("BENCH_WIRE_THROUGHPUT_BYTES", 16_000_000);
export const WIRE_THROUGHPUT_RUNS = intFromEnv("BENCH_WIRE_THROUGHPUT_RUNS", 2);
export const WIRE_TERMINALS = intFromEnv("BENCH_WIRE_TERMINALS", 100);
export const WIRE_ACTIVE_SAMPLES = intFromEnv("BENCH_WIRE_ACTIVE_SAMPLES", 20);
export const WIRE_BYSTANDER_SAMPLES = intFromEnv("BENCH_WIRE_BYSTANDER_SAMPLES", 300);
export const WIRE_FLOOD_SECONDS = intFromEnv("BENCH_WIRE_FLOOD_SECONDS", 4);
/** The wire phase's worker's SHELLROOM_TERMINAL_OUTPUT_RATE; unset: the product's default. */
export const WIRE_OUTPUT_RATE = process.env.BENCH_WIRE_OUTPUT_RATE ? intFromEnv("BENCH_WIRE_OUTPUT_RATE", 0) || undefined : undefined;
export const PHASES = new Set((process.env.BENCH_PHASES ?? "raw,terminals,pool,containment,runtime,class,wire").split(",").map((phase) => phase.trim()));
/** Phases that use the platform in this process (containment and class run their own processes). */
export const IN_PROCESS_PHASES = ["raw", "terminals", "pool", "runtime"];
