/**
 * Samples the environments' CPU, memory and processes (with their limits, so the server can
 * tell a runaway) on its own schedule, apart from the heartbeat.
 * A sample costs a Docker call per container and can take seconds on a busy host; were
 * the heartbeat to wait for it, liveness and terminal activity would arrive late (a late
 * activity report can even undo an idle decision the server has just made).
 */
import type { EnvironmentUsage } from "../protocol/worker-messages";

type Sample = () => Promise<Record<string, EnvironmentUsage>>;

export class UsageSampler {
  private latest: Record<string, EnvironmentUsage> | null = null;
  /** The environments' memory summed, from the newest sample (kept: every heartbeat reports it). */
  private memoryInUse = 0;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;

  constructor(
    private readonly sample: Sample,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Samples now, then again `intervalMs` after each sample ends (never two at once). */
  start() {
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The newest sample not handed out yet, or an empty record when there is none. */
  take(): Record<string, EnvironmentUsage> {
    const latest = this.latest ?? {};
    this.latest = null;
    return latest;
  }

  /** What the environments' containers use now, summed, as last sampled (0 before the first sample). */
  get environmentsMemoryBytes() {
    return this.memoryInUse;
  }

  private async run() {
    try {
      const usage = await this.sample();
      if (!this.stopped) {
        this.latest = usage;
        this.memoryInUse = Object.values(usage).reduce((sum, reading) => sum + reading.memoryBytes, 0);
      }
    } catch (error) {
      this.onError(error);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }
}
