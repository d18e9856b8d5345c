/**
 * Summaries, the terminal table, the Markdown and JSON reports and the SVG ratio chart.
 * @module
 */
import type { MetricDef, Scenario, Sizes } from './scenario.js';
import { fmtNumber, fmtRatio, median } from './stats.js';
import { SYSTEM_LABELS, type SystemName } from './types.js';

export interface RunRecord {
  readonly scenario: string;
  readonly system: SystemName;
  readonly rep: number;
  readonly valid: boolean;
  readonly metrics: Record<string, number>;
  readonly problems: string[];
  readonly notes: string[];
  readonly details?: Record<string, unknown>;
  readonly wallMs: number;
  /** Average cores other processes on the machine kept busy during the run (Linux only). */
  readonly foreignCores?: number;
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redis: string;
  readonly redisConfig: string;
  readonly ioredis: string;
  readonly nodeRedisForBee: string;
  readonly msgpackrNative: boolean;
  readonly retracedCommit: string;
}

export interface SystemInfo {
  readonly name: SystemName;
  readonly label: string;
  readonly version: string;
  readonly settings: string;
}

export interface SummaryRow {
  readonly scenario: string;
  readonly metric: MetricDef;
  /** Median over the runs, or null when any run was INVALID (or none ran). */
  readonly medians: Partial<Record<SystemName, number | null>>;
  readonly invalid: Partial<Record<SystemName, number>>;
  readonly runs: Partial<Record<SystemName, number>>;
  /** ReTraced / peer of the medians. */
  readonly ratios: Partial<Record<SystemName, number | null>>;
}

export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface Report {
  readonly date: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly kind: 'full' | 'partial' | 'smoke';
  readonly command: string;
  readonly reps: number;
  readonly sizes: Sizes;
  readonly machine: Machine;
  readonly systems: SystemInfo[];
  readonly scenarios: { name: string; title: string; method: string }[];
  readonly summary: SummaryRow[];
  readonly targets: TargetRow[];
  readonly runs: RunRecord[];
}

export function summarise(
  scenarios: readonly Scenario[],
  systems: readonly SystemName[],
  runs: readonly RunRecord[],
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const sc of scenarios) {
    for (const metric of sc.metrics) {
      if (!metric.summary) continue;
      const medians: Partial<Record<SystemName, number | null>> = {};
      const invalid: Partial<Record<SystemName, number>> = {};
      const count: Partial<Record<SystemName, number>> = {};
      for (const sys of systems) {
        const mine = runs.filter((r) => r.scenario === sc.name && r.system === sys);
        count[sys] = mine.length;
        invalid[sys] = mine.filter((r) => !r.valid).length;
        const values = mine
          .map((r) => r.metrics[metric.key])
          .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        medians[sys] =
          mine.length > 0 && invalid[sys] === 0 && values.length === mine.length ? median(values) : null;
      }
      const ratios: Partial<Record<SystemName, number | null>> = {};
      const r = medians.retraced;
      for (const sys of systems) {
        if (sys === 'retraced') continue;
        const p = medians[sys];
        ratios[sys] = r != null && p != null && p !== 0 ? r / p : null;
      }
      rows.push({ scenario: sc.name, metric, medians, invalid, runs: count, ratios });
    }
  }
  return rows;
}

function cell(row: SummaryRow, sys: SystemName): string {
  const runs = row.runs[sys] ?? 0;
  if (runs === 0) return 'n/a';
  if ((row.invalid[sys] ?? 0) > 0) return `INVALID (${row.invalid[sys]}/${runs})`;
  const v = row.medians[sys];
  return v == null ? '—' : fmtNumber(v, row.metric.unit);
}

function ratioCell(row: SummaryRow, sys: SystemName): string {
  const x = row.ratios[sys];
  return x == null ? '—' : fmtRatio(x);
}

function metricLabel(row: SummaryRow): string {
  return `${row.metric.label} (${row.metric.better === 'higher' ? '↑' : '↓'})`;
}

export function terminalTable(rows: readonly SummaryRow[], systems: readonly SystemName[]): string {
  const peers = systems.filter((s) => s !== 'retraced');
  const header = [
    'scenario',
    'metric',
    ...systems.map((s) => SYSTEM_LABELS[s]),
    ...(systems.includes('retraced') ? peers.map((p) => `ReTraced/${SYSTEM_LABELS[p]}`) : []),
  ];
  const body = rows.map((r) => [
    r.scenario,
    metricLabel(r),
    ...systems.map((s) => cell(r, s)),
    ...(systems.includes('retraced') ? peers.map((p) => ratioCell(r, p)) : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownSummary(rows: readonly SummaryRow[], systems: readonly SystemName[]): string {
  const peers = systems.filter((s) => s !== 'retraced');
  const withRatios = systems.includes('retraced');
  const header = [
    'scenario',
    'metric',
    ...systems.map((s) => SYSTEM_LABELS[s]),
    ...(withRatios ? peers.map((p) => `ReTraced / ${SYSTEM_LABELS[p]}`) : []),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        `\`${r.scenario}\``,
        metricLabel(r),
        ...systems.map((s) => cell(r, s)),
        ...(withRatios ? peers.map((p) => ratioCell(r, p)) : []),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function find(rows: readonly SummaryRow[], scenario: string, key: string): SummaryRow | undefined {
  return rows.find((r) => r.scenario === scenario && r.metric.key === key);
}

/** The issue's targets, checked against this run's medians. */
export function checkTargets(rows: readonly SummaryRow[], sizes: Sizes): TargetRow[] {
  const out: TargetRow[] = [];
  const vsFasterPeer = (scenario: string, factor: number, what: string): void => {
    const r = find(rows, scenario, 'throughput');
    if (!r) return;
    const me = r.medians.retraced;
    const peers = (['bullmq', 'bee'] as const).map((p) => r.medians[p]).filter((v): v is number => v != null);
    if (me == null || peers.length === 0) {
      return void out.push({ target: `${what}: ≥ ${factor}× the faster peer`, measured: '—', met: null });
    }
    const ratio = me / Math.max(...peers);
    out.push({
      target: `${what}: ≥ ${factor}× the faster peer`,
      measured: fmtRatio(ratio),
      met: ratio >= factor,
    });
  };
  const atMost = (scenario: string, key: string, limit: number, what: string): void => {
    const r = find(rows, scenario, key);
    if (!r) return;
    const me = r.medians.retraced;
    out.push({
      target: `${what} ≤ ${limit} ms`,
      measured: me == null ? '—' : `${fmtNumber(me, 'ms')} ms`,
      met: me == null ? null : me <= limit,
    });
  };
  vsFasterPeer('enqueue-bulk', 1.5, 'bulk enqueue');
  vsFasterPeer('process-c1', 2, 'process, concurrency 1');
  vsFasterPeer('process-c100', 2.5, 'process, concurrency 100');
  vsFasterPeer('process-5x20', 2, 'five workers × 20');
  const retry = find(rows, 'retry-path', 'throughput');
  if (retry) {
    const x = retry.ratios.bullmq;
    out.push({
      target: 'retry path: ≥ 5× BullMQ',
      measured: x == null ? '—' : fmtRatio(x),
      met: x == null ? null : x >= 5,
    });
  }
  atMost('delayed-drift', 'p99', 10, 'delayed start drift p99');
  atMost('idle-latency', 'p50', 1, 'idle latency p50');
  atMost('idle-latency', 'p99', 5, 'idle latency p99');
  const mem = find(rows, 'memory', 'bytesPerJob');
  if (mem) {
    const me = mem.medians.retraced;
    const b = mem.medians.bullmq;
    out.push({
      target: "memory per retained job with three attempts: ≤ BullMQ's",
      measured: me == null || b == null ? '—' : `${fmtNumber(me, 'B/job')} vs ${fmtNumber(b, 'B/job')} B/job`,
      met: me == null || b == null ? null : me <= b,
    });
  }
  const e2e = find(rows, 'e2e-1', 'ms');
  if (e2e) {
    const me = e2e.medians.retraced;
    const full = sizes.jobs === 10_000;
    out.push({
      target: '10,000 jobs end to end, one worker: ≤ 0.5 s',
      measured:
        me == null
          ? '—'
          : `${(me / 1000).toFixed(2)} s${full ? '' : ` (${sizes.jobs.toLocaleString('en-US')} jobs)`}`,
      met: me == null || !full ? null : me <= 500,
    });
  }
  return out;
}

function mark(met: boolean | null): string {
  return met === null ? '—' : met ? 'met' : 'not met';
}

export function markdownReport(
  rep: Report,
  scenarios: readonly Scenario[],
  chartFile: string | undefined,
): string {
  const systems = rep.systems.map((s) => s.name);
  const m = rep.machine;
  const out: string[] = [];
  out.push(`# ReTraced benchmark, ${rep.date}${rep.kind === 'full' ? '' : ` (${rep.kind})`}`, '');
  out.push(
    `Command: \`${rep.command}\` · ${rep.reps} repetition${rep.reps === 1 ? '' : 's'} per system and scenario, systems alternating run by run · started ${rep.startedAt}, finished ${rep.finishedAt}.`,
    '',
  );
  out.push('## Machine', '');
  out.push(`- ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}`);
  out.push(`- Node ${m.node}; redis-server ${m.redis} (${m.redisConfig})`);
  out.push(
    `- ioredis ${m.ioredis} (ReTraced and BullMQ), node-redis ${m.nodeRedisForBee} (Bee-Queue); msgpackr native acceleration (BullMQ): ${m.msgpackrNative ? 'on' : 'OFF'}`,
  );
  out.push('', '## Systems', '');
  for (const s of rep.systems) {
    out.push(
      `- **${s.label} ${s.version}**${s.name === 'retraced' ? ` (${m.retracedCommit})` : ''}: ${s.settings}`,
    );
  }
  out.push('', '## Summary (medians)', '');
  out.push(
    `Sizes: N = ${rep.sizes.jobs.toLocaleString('en-US')} jobs; delayed: ${rep.sizes.delayedJobs.toLocaleString('en-US')} jobs over ${rep.sizes.delayedSpreadMs / 1000} s (lead ${rep.sizes.delayedLeadMs} ms); idle latency: ${rep.sizes.idleSamples} samples. ↑ higher is better, ↓ lower is better; ratios are ReTraced's value / the peer's (for ↑ above 1× means ReTraced is ahead, for ↓ below 1×). A cell is INVALID when any of its runs failed its correctness checks.`,
    '',
  );
  out.push(markdownSummary(rep.summary, systems), '');
  const disturbed = rep.runs.filter((r) => (r.foreignCores ?? 0) > 0.25);
  if (disturbed.length > 0) {
    const worst = Math.max(...disturbed.map((r) => r.foreignCores ?? 0));
    out.push(
      `**${disturbed.length} of ${rep.runs.length} runs were disturbed** by other processes on the machine (more than 0.25 cores busy on average, up to ${worst.toFixed(2)}; see "other CPU" below). Systems alternate run by run, so a disturbance is spread over all of them, but treat these numbers with care.`,
      '',
    );
  }
  if (chartFile) out.push(`![Throughput ratios ReTraced / peer](${chartFile})`, '');
  if (rep.targets.length > 0) {
    out.push('## Targets (issue #3)', '', '| target | measured | |', '|---|---:|---|');
    for (const t of rep.targets) out.push(`| ${t.target} | ${t.measured} | ${mark(t.met)} |`);
    out.push('');
  }
  out.push(
    '## Every run',
    '',
    '"other CPU": the average number of cores that processes other than the harness, its workers and its redis-server kept busy during the run (a shared machine disturbs timings; above 0.25 the run is flagged).',
    '',
    '| scenario | rep | system | result | wall | other CPU | checks |',
    '|---|---:|---|---|---:|---:|---|',
  );
  for (const r of rep.runs) {
    const sc = scenarios.find((s) => s.name === r.scenario);
    const values = (sc?.metrics ?? [])
      .filter((md) => r.metrics[md.key] !== undefined)
      .map((md) => `${md.label} ${fmtNumber(r.metrics[md.key]!, md.unit)} ${md.unit}`)
      .join(', ');
    const checks = r.valid
      ? r.notes.length > 0
        ? `ok; ${r.notes.join('; ')}`
        : 'ok'
      : `**INVALID**: ${r.problems.join('; ')}`;
    out.push(
      `| ${r.scenario} | ${r.rep} | ${SYSTEM_LABELS[r.system]} | ${values || '—'} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.foreignCores === undefined ? '?' : r.foreignCores.toFixed(2)} | ${checks.replace(/\|/g, '\\|')} |`,
    );
  }
  const mem = rep.runs.filter((r) => r.scenario === 'memory' && r.details);
  if (mem.length > 0) {
    out.push('', '### Memory breakdown (last run of each system)', '');
    for (const sys of systems) {
      const r = [...mem].reverse().find((x) => x.system === sys);
      if (!r?.details) continue;
      const d = r.details as {
        keys: number;
        perJobKeys: number;
        perJobKeyBytesPerJob: number;
        sharedKeyBytesPerJob: number;
        largestSharedKeys: { key: string; bytes: number }[];
      };
      out.push(
        `- ${SYSTEM_LABELS[sys]}: ${d.keys.toLocaleString('en-US')} keys (${d.perJobKeys.toLocaleString('en-US')} per-job keys: ${Math.round(d.perJobKeyBytesPerJob)} B/job; shared keys: ${Math.round(d.sharedKeyBytesPerJob)} B/job; largest shared: ${d.largestSharedKeys
          .slice(0, 4)
          .map((k) => `\`${k.key}\` ${k.bytes.toLocaleString('en-US')} B`)
          .join(', ')})`,
      );
    }
  }
  out.push('', '## Method', '');
  for (const s of scenarios.filter((x) => rep.scenarios.some((y) => y.name === x.name))) {
    out.push(`- **\`${s.name}\`** — ${s.title}. ${s.method}`);
  }
  out.push('');
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A hand-written SVG bar chart of the throughput ratios ReTraced / peer per scenario. */
export function ratioChart(
  rows: readonly SummaryRow[],
  systems: readonly SystemName[],
  subtitle: readonly string[],
): string {
  const peers = systems.filter((s) => s !== 'retraced');
  const data = rows.filter((r) => r.metric.chart);
  const colors: Record<string, string> = { bullmq: '#d9534f', bee: '#f0ad4e' };
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const left = 130;
  const plotW = 560;
  const legendY = 30 + subtitle.length * 16;
  const top = legendY + 22;
  const groupH = peers.length * (barH + gap) - gap;
  const height = top + data.length * (groupH + groupGap) + 40;
  const width = left + plotW + 70;
  const maxRatio = Math.max(2, ...data.flatMap((r) => peers.map((p) => r.ratios[p] ?? 0)));
  const scaleMax = Math.ceil(maxRatio * 1.1 * 2) / 2;
  const x = (v: number): number => left + (v / scaleMax) * plotW;
  const plotBottom = height - 30;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">Throughput, ReTraced / peer (medians; &gt; 1× = ReTraced faster)</text>`,
  );
  subtitle.forEach((line, i) =>
    parts.push(`<text x="10" y="${38 + i * 16}" fill="#555">${esc(line)}</text>`),
  );
  let lx = left;
  for (const p of peers) {
    parts.push(
      `<rect x="${lx}" y="${legendY}" width="10" height="10" fill="${colors[p] ?? '#888'}"/><text x="${lx + 14}" y="${legendY + 9}">ReTraced / ${esc(SYSTEM_LABELS[p])}</text>`,
    );
    lx += 170;
  }
  // Grid and the 1× line first, so that bars and labels are drawn over them.
  for (let t = 0; t <= scaleMax + 1e-9; t += scaleMax > 6 ? 1 : 0.5) {
    const tx = x(t);
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${plotBottom}" stroke="#eee"/>`);
    parts.push(`<text x="${tx}" y="${plotBottom + 14}" text-anchor="middle" fill="#555">${t}×</text>`);
  }
  parts.push(
    `<line x1="${x(1)}" y1="${top - 6}" x2="${x(1)}" y2="${plotBottom}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  data.forEach((r, gi) => {
    const gy = top + gi * (groupH + groupGap);
    parts.push(
      `<text x="${left - 8}" y="${gy + groupH / 2 + 4}" text-anchor="end">${esc(r.scenario)}</text>`,
    );
    peers.forEach((p, pi) => {
      const y = gy + pi * (barH + gap);
      const v = r.ratios[p];
      if (v == null) {
        const why = (r.invalid[p] ?? 0) > 0 || (r.invalid.retraced ?? 0) > 0 ? 'INVALID' : 'n/a';
        parts.push(`<text x="${left + 4}" y="${y + barH - 4}" fill="#999">${why}</text>`);
        return;
      }
      parts.push(
        `<rect x="${left}" y="${y}" width="${Math.max(1, x(v) - left).toFixed(1)}" height="${barH}" fill="${colors[p] ?? '#888'}"/>`,
      );
      parts.push(
        `<text x="${(x(v) + 4).toFixed(1)}" y="${y + barH - 4}" paint-order="stroke" stroke="#fff" stroke-width="3">${fmtRatio(v)}</text>`,
      );
    });
  });
  parts.push(`<line x1="${left}" y1="${top - 6}" x2="${left}" y2="${plotBottom}" stroke="#333"/>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
