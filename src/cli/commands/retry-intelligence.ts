/**
 * `retraced whatif QUEUE`, `retraced audit QUEUE`, `retraced radar QUEUE`: the retry intelligence
 * of the library (src/whatif.ts, src/audit.ts, src/radar.ts), as tables or `--json`, against Redis
 * directly or a running server. All three only read.
 * @module
 */
import type { AuditReport } from '../../audit.js';
import type { ClassifyOptions } from '../../classify.js';
import { formatDuration } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import type { RadarReport } from '../../radar.js';
import type { RetryPolicy } from '../../types.js';
import type { ScenarioStats, WhatIfReport } from '../../whatif.js';
import {
  agoValue,
  CONNECTION_OPTIONS,
  durationValue,
  intValue,
  jsonValue,
  listValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  stringValue,
  timeValue,
  type OptionSpecs,
  type Values,
} from '../args.js';
import type { Client } from '../client.js';
import { HistorySources } from '../../recorded.js';
import { historyArchiveFrom, historySourceFrom, SOURCE_OPTIONS } from './dlq-filter.js';
import { command, withClient } from '../command.js';
import type { Output } from '../output.js';

const n = (v: number): string => v.toLocaleString('en-US');

const SCOPE_OPTIONS = {
  source: {
    type: 'string',
    arg: 'live|archive',
    help: 'read the jobs from Redis (live) or the PostgreSQL archive (finished jobs kept for months; with --redis give --postgres) [default: live]',
  },
  postgres: SOURCE_OPTIONS.postgres,
  'archive-schema': SOURCE_OPTIONS['archive-schema'],
  name: { type: 'string', arg: 'NAME', help: 'only jobs of this name' },
  since: {
    type: 'string',
    arg: 'TIME',
    help: 'finished since: ISO date, ms since epoch, or ago (30m, 2h, 1d)',
  },
  until: { type: 'string', arg: 'TIME', help: 'finished until, same forms as --since' },
  limit: {
    type: 'string',
    arg: 'N',
    help: 'most recorded jobs read, the most recently finished first [default: 10000, at most 100000]',
  },
} as const satisfies OptionSpecs;

/** `--since 30m` counts back from the scheduler's clock (attempts are stamped by it). */
async function windowOf(
  values: Values<typeof SCOPE_OPTIONS>,
  client: Pick<Client, 'now'>,
): Promise<{ from?: number; to?: number }> {
  const relative =
    agoValue(values.since, '--since') !== undefined || agoValue(values.until, '--until') !== undefined;
  const now = relative ? await client.now() : Date.now();
  const from = timeValue(values.since, '--since', now);
  const to = timeValue(values.until, '--until', now);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

// whatif --------------------------------------------------------------------------------------------

const whatifOptions = {
  policy: { type: 'string', arg: 'JSON', help: 'the alternative retry policy, as JSON or @file.json' },
  attempts: { type: 'string', arg: 'N', help: "instead of --policy: each job's own policy with N attempts" },
  classify: {
    type: 'string',
    arg: 'JSON',
    help: 'the alternative code table, as JSON or @file.json: {"codes":{"ECONNRESET":"permanent"}}',
  },
  permanent: { type: 'string', arg: 'CODE[,CODE]', help: 'shorthand: these error codes permanent' },
  temporary: { type: 'string', arg: 'CODE[,CODE]', help: 'shorthand: these error codes temporary' },
  seed: { type: 'string', arg: 'N', help: 'seed of the jitter draws (reported; default: a random one)' },
  'seeded-draws': {
    type: 'boolean',
    help: 'draw every jitter from the seed (default: reuse the recorded draw where there is one)',
  },
  ...SCOPE_OPTIONS,
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

function classifyFrom(values: Values<typeof whatifOptions>): ClassifyOptions | undefined {
  const given =
    values.classify === undefined ? undefined : (jsonValue(values.classify, '--classify') as ClassifyOptions);
  const perm = listValue(values.permanent) ?? [];
  const temp = listValue(values.temporary) ?? [];
  if (given === undefined && perm.length === 0 && temp.length === 0) return undefined;
  const base = (typeof given === 'object' && given !== null ? given : {}) as ClassifyOptions;
  const codes = { ...(base.codes ?? {}) } as Record<string, 'temporary' | 'permanent'>;
  for (const c of perm) codes[c] = 'permanent';
  for (const c of temp) codes[c] = 'temporary';
  return { ...base, codes };
}

const pct = (s: ScenarioStats): string =>
  s.timeToSuccessMs === null
    ? '—'
    : `${formatDuration(s.timeToSuccessMs.p50)} / ${formatDuration(s.timeToSuccessMs.p95)}`;

function printWhatIf(r: WhatIfReport, out: Output): void {
  const { recorded: rec, alternative: alt } = r.comparison;
  const { optimistic: opt, pessimistic: pes } = alt;
  const row = (label: string, f: (s: ScenarioStats) => string): string[] => [label, f(rec), f(opt), f(pes)];
  out.table(
    [
      { header: 'METRIC' },
      { header: 'RECORDED', align: 'right' },
      { header: 'ALTERNATIVE (OPTIMISTIC)', align: 'right' },
      { header: '(PESSIMISTIC)', align: 'right' },
    ],
    [
      row('jobs', (s) => n(s.jobs)),
      row('succeeded', (s) => n(s.succeeded)),
      row('dead-lettered', (s) => n(s.dead)),
      row('  exhausted / permanent / poison', (s) =>
        [s.deadByReason.exhausted, s.deadByReason.permanent, s.deadByReason.poison].map(n).join(' / '),
      ),
      row('attempts', (s) => n(s.attempts)),
      row('retries', (s) => n(s.retries)),
      row('time to success p50 / p95', pct),
      row('peak retries due per second', (s) => n(s.peakRetriesDuePerSecond.count)),
      row('peak dead-letters per minute', (s) => n(s.peakDeadLettersPerMinute.count)),
    ],
  );
  out.line();
  for (const l of r.summary) out.line(l);
  const policy =
    r.retry !== null
      ? `policy ${JSON.stringify(r.retry)}`
      : r.attempts !== null
        ? `each job's own policy with ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`
        : "each job's own policy";
  out.line(
    `${policy}; ${r.classify ? `code table ${JSON.stringify(r.classify)}` : 'classification as recorded'}; seed ${r.seed} (draws: ${r.draws})`,
  );
  const ex = r.scope.excluded;
  out.line(
    `read ${n(r.scope.read)} finished jobs from ${r.scope.source === 'archive' ? 'the archive' : 'Redis'} (bound ${n(r.scope.limit)}${r.scope.truncated ? ', more matched: the oldest were not read' : ''}); replayed ${n(r.scope.replayed)}; not replayed: ${n(ex.manual)} run again by a person, ${n(ex['unknown-strategy'])} with a custom strategy not known here`,
  );
}

export const whatif = command(
  {
    name: 'whatif',
    usage: 'QUEUE [--policy JSON | --attempts N] [--classify JSON | --permanent CODES]',
    args: ['QUEUE'],
    brief: 'Replays recorded jobs under another retry policy or code table (changes nothing).',
    summary:
      "Replays the most recently finished jobs of a queue under another retry policy (--policy, or --attempts N with each job's own backoff) and/or error-code table (--classify, --permanent, --temporary), attempt by attempt through the worker's own decision code, beside what really happened. Where the alternative runs attempts the record does not have, it prints optimistic and pessimistic bounds. Changes nothing.",
    options: whatifOptions,
    groups: SHARED_GROUPS,
    examples: [
      `retraced whatif demo --policy '{"attempts":8,"backoff":{"type":"exponential","delayMs":500,"jitter":"full"}}' --seed 7`,
      'retraced whatif demo --attempts 1',
      'retraced whatif demo --permanent ECONNRESET --since 1h',
      'retraced whatif payments --attempts 3 --source archive --since 90d --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const retry =
      values.policy === undefined ? undefined : (jsonValue(values.policy, '--policy') as RetryPolicy);
    const attempts = intValue(values.attempts, '--attempts', 1, 1000);
    if (retry !== undefined && attempts !== undefined) {
      throw new ValidationError('--attempts', 'absent when --policy is given');
    }
    const classify = classifyFrom(values);
    const seed = intValue(values.seed, '--seed', 0, 4294967295);
    const limit = intValue(values.limit, '--limit', 1, 100_000);
    const name = stringValue(values.name, '--name', 128);
    const source = historySourceFrom(values, HistorySources);
    const report = await withClient(
      values,
      async (c) =>
        c.whatIf(queue, {
          ...(source !== undefined ? { source } : {}),
          ...(retry !== undefined ? { retry } : {}),
          ...(attempts !== undefined ? { attempts } : {}),
          ...(classify !== undefined ? { classify } : {}),
          ...(name !== undefined ? { filter: { name } } : {}),
          window: await windowOf(values, c),
          ...(limit !== undefined ? { limit } : {}),
          ...(seed !== undefined ? { seed } : {}),
          draws: values['seeded-draws'] === true ? 'seeded' : 'recorded',
        }),
      historyArchiveFrom(values, source === 'archive'),
    );
    out.result(report, () => printWhatIf(report, out));
  },
);

// audit ---------------------------------------------------------------------------------------------

const auditOptions = {
  tolerance: {
    type: 'string',
    arg: 'DURATION',
    help: 'differences up to this are not findings [default: 50ms]',
  },
  drift: { type: 'string', arg: 'DURATION', help: 'the least drift that can be an outlier [default: 1s]' },
  ...SCOPE_OPTIONS,
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

const ms = (v: number | undefined): string => (v === undefined ? '' : formatDuration(v));

function printAudit(r: AuditReport, out: Output): void {
  out.table(
    [
      { header: 'JOB' },
      { header: 'NAME' },
      { header: 'ATTEMPT', align: 'right' },
      { header: 'FINDING' },
      { header: 'EXPECTED', align: 'right' },
      { header: 'RECORDED', align: 'right' },
      { header: 'ACTUAL', align: 'right' },
      { header: 'WHAT' },
    ],
    r.findings.map((f) => [
      f.jobId,
      f.name,
      String(f.attempt),
      out.paint(f.kind === 'drift' ? 'yellow' : 'red', f.kind),
      ms(f.expectedDelayMs),
      ms(f.recordedDelayMs),
      ms(f.actualDelayMs ?? f.driftMs),
      f.message,
    ]),
    '(no findings)',
  );
  out.line();
  for (const l of r.summary) out.line(l);
  out.line(
    `tolerance ${formatDuration(r.toleranceMs)}; drift outliers over ${formatDuration(r.driftOutlierMs)}; read ${n(r.scope.read)} finished jobs from ${r.scope.source === 'archive' ? 'the archive' : 'Redis'} (bound ${n(r.scope.limit)}${r.scope.truncated ? ', more matched' : ''})${r.findingsTruncated ? `; first ${n(r.findings.length)} findings listed` : ''}`,
  );
}

export const audit = command(
  {
    name: 'audit',
    usage: 'QUEUE [--since TIME] [--tolerance DURATION]',
    args: ['QUEUE'],
    brief: 'Checks recorded retries against their stored policies (a self-audit).',
    summary:
      "For each recorded retry of the most recently finished jobs, recomputes the delay the job's stored policy should have produced (with the recorded jitter draw) and compares it with the recorded delay and with when the next attempt really started. Flags delays off by more than the tolerance, wrong decisions, early starts, ignored Retry-After, drift outliers and jobs with more attempts than their policy.",
    options: auditOptions,
    groups: SHARED_GROUPS,
    examples: [
      'retraced audit demo',
      'retraced audit payments --since 2h --tolerance 100ms --json',
      'retraced audit payments --source archive --since 30d --url http://127.0.0.1:7411',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const toleranceMs = durationValue(values.tolerance, '--tolerance');
    const driftMs = durationValue(values.drift, '--drift');
    const limit = intValue(values.limit, '--limit', 1, 100_000);
    const name = stringValue(values.name, '--name', 128);
    const source = historySourceFrom(values, HistorySources);
    const report = await withClient(
      values,
      async (c) =>
        c.audit(queue, {
          ...(source !== undefined ? { source } : {}),
          window: await windowOf(values, c),
          ...(name !== undefined ? { filter: { name } } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(toleranceMs !== undefined ? { toleranceMs } : {}),
          ...(driftMs !== undefined ? { driftMs } : {}),
        }),
      historyArchiveFrom(values, source === 'archive'),
    );
    out.result(report, () => printAudit(report, out));
  },
);

// radar ---------------------------------------------------------------------------------------------

const radarOptions = {
  horizon: { type: 'string', arg: 'DURATION', help: 'how far ahead to look [default: 5m, at most 1h]' },
  max: { type: 'string', arg: 'N', help: 'most scheduled jobs read [default: 10000, at most 50000]' },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

const BARS = ' ▁▂▃▄▅▆▇█';

/** One character per bucket of `size` seconds, scaled to the busiest bucket. */
export function sparkline(perSecond: readonly number[], size: number): string {
  const buckets: number[] = [];
  for (let i = 0; i < perSecond.length; i += size) {
    buckets.push(perSecond.slice(i, i + size).reduce((a, b) => a + b, 0));
  }
  const top = Math.max(0, ...buckets);
  return buckets.map((b) => (b === 0 ? BARS[0] : BARS[Math.max(1, Math.round((b / top) * 8))])).join('');
}

function printRadar(r: RadarReport, out: Output): void {
  const size = Math.max(1, Math.ceil(r.perSecond.length / 60));
  out.line(
    `${n(r.retries)} retries due in the next ${formatDuration(r.horizonMs)} (${n(r.overdue)} overdue), ${n(r.firstRuns)} delayed first runs; peak ${n(r.peak.count)} in one second${r.peak.atS === null ? '' : ` at +${r.peak.atS} s`}`,
  );
  out.line(`|${sparkline(r.perSecond, size)}|  (one character per ${size} s)`);
  out.line();
  out.table(
    [
      { header: 'BURST' },
      { header: 'RETRIES', align: 'right' },
      { header: 'PEAK/S', align: 'right' },
      { header: 'JOB NAMES' },
    ],
    r.bursts.map((b) => [
      `+${b.startS} s … +${b.endS} s`,
      n(b.retries),
      n(b.peakPerSecond),
      b.names.map((x) => `${x.name} (${n(x.retries)})`).join(', '),
    ]),
    '(no bursts)',
  );
  out.line(`burst rule: ${r.burstRule}`);
  out.line();
  out.table(
    [
      { header: 'JOB NAME' },
      { header: 'RETRIES', align: 'right' },
      { header: 'PEAK/S', align: 'right' },
      { header: 'JITTER' },
      { header: 'POLICY' },
    ],
    r.policies.map((p) => [
      p.name,
      n(p.retries),
      n(p.peakPerSecond),
      p.jitter ? 'yes' : out.paint('yellow', 'no'),
      p.policy === null ? '(unreadable)' : JSON.stringify(p.policy.phases),
    ]),
    '(no retries due)',
  );
  if (r.truncated) out.line(`(only the first ${n(r.read)} scheduled jobs were read: raise --max)`);
}

export const radar = command(
  {
    name: 'radar',
    usage: 'QUEUE [--horizon DURATION]',
    args: ['QUEUE'],
    brief: 'Shows the retries due in the next minutes, bursts, and policies without jitter.',
    summary:
      'The storm radar: from the scheduled set, the retries due in each second of the next minutes (by the scheduler clock), bursts flagged (a second with at least max(10, 4 × the mean) retries due; consecutive ones merge), and which job names retry with a policy that has no jitter.',
    options: radarOptions,
    groups: SHARED_GROUPS,
    examples: ['retraced radar demo', 'retraced radar payments --horizon 15m --json'],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const horizonMs = durationValue(values.horizon, '--horizon');
    const max = intValue(values.max, '--max', 1, 50_000);
    const report = await withClient(values, (c) =>
      c.radar(queue, {
        ...(horizonMs !== undefined ? { horizonMs } : {}),
        ...(max !== undefined ? { max } : {}),
      }),
    );
    out.result(report, () => printRadar(report, out));
  },
);
