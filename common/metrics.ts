/**
 * A small Prometheus text-format registry (counters, gauges, histograms with labels).
 * Gauges that mirror state elsewhere are filled by collectors right before a scrape.
 */
type Labels = Record<string, string>;

const labelKey = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const formatLabels = (labels: Labels, extra: Labels = {}) => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([name, value]) => `${name}="${escape(value)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" | "histogram") {}
  abstract lines(): string[];
  header() {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) { super(name, help, "counter"); }
  inc(labels: Labels = {}, by = 1) {
    const key = labelKey(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }
  lines() {
    return [...this.values.values()].map(({ labels, value }) => `${this.name}${formatLabels(labels)} ${value}`);
  }
}

export class Gauge extends Metric {
  private values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) { super(name, help, "gauge"); }
  set(labels: Labels, value: number) {
    this.values.set(labelKey(labels), { labels, value });
  }
  /** Replaces every series at once (a collector's fresh reading). */
  reset() {
    this.values = new Map();
  }
  lines() {
    return [...this.values.values()].map(({ labels, value }) => `${this.name}${formatLabels(labels)} ${value}`);
  }
}

export class Histogram extends Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(name: string, help: string, private readonly buckets: number[]) {
    super(name, help, "histogram");
    this.counts = buckets.map(() => 0);
  }
  observe(value: number) {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((bound, index) => { if (value <= bound) this.counts[index]! += 1; });
  }
  lines() {
    return [
      ...this.buckets.map((bound, index) => `${this.name}_bucket${formatLabels({}, { le: String(bound) })} ${this.counts[index]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: Array<() => Promise<void>> = [];

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** Runs before each scrape: for gauges that mirror the database or the runtime. */
  collect(collector: () => Promise<void>) {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collector) => collector().catch(() => undefined)));
    return `${this.metrics.flatMap((metric) => [...metric.header(), ...metric.lines()]).join("\n")}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
