/**
 * The few Prometheus primitives the metrics endpoint needs (counter, gauge, histogram) and the
 * text exposition format 0.0.4. Label sets are small and fixed by the code, never by requests.
 * @module
 */

export type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels));
}

/** A counter or a gauge: one value per label set. */
export class Series {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string, type: 'counter' | 'gauge') {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  inc(labels: Labels, by = 1): void {
    const k = key(labels);
    const entry = this.#values.get(k);
    if (entry) entry.value += by;
    else this.#values.set(k, { labels, value: by });
  }

  set(labels: Labels, value: number): void {
    this.#values.set(key(labels), { labels, value });
  }

  render(): string {
    let out = header(this.name, this.help, this.type);
    for (const { labels, value } of this.#values.values()) {
      out += `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
    }
    return out;
  }
}

/** A histogram with fixed upper bounds (`le`), cumulative as the format requires. */
export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly #values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const k = key(labels);
    let entry = this.#values.get(k);
    if (!entry) {
      entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#values.set(k, entry);
    }
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) entry.counts[i] = (entry.counts[i] ?? 0) + 1;
    entry.sum += value;
    entry.count++;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const { labels, counts, sum, count } of this.#values.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += counts[i] ?? 0;
        out += `${this.name}_bucket${formatLabels(labels, ['le', formatValue(b)])} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${formatLabels(labels, ['le', '+Inf'])} ${count}\n`;
      out += `${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}\n`;
      out += `${this.name}_count${formatLabels(labels)} ${count}\n`;
    }
    return out;
  }
}
