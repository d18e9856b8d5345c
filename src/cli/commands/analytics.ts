/**
 * `retraced analytics QUEUE [--window 1h] [--name NAME] [--group name|errorClass|rule|fingerprint]`:
 * the queue's retry analytics, from the rollups the finish transition keeps.
 * @module
 */
import {
  ANALYTICS_GROUP_BY,
  ANALYTICS_SOURCES,
  formatCount,
  formatPercent,
  type AnalyticsGroupBy,
  type PercentileRange,
  type TimeHistogram,
} from '../../analytics.js';
import { formatDuration } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, withClient } from '../command.js';
import { historyArchiveFrom, historySourceFrom, SOURCE_OPTIONS } from './dlq-filter.js';

const options = {
  window: {
    type: 'string',
    arg: 'DURATION',
    help: 'how far back: 30s, 15m, 2h, 7d, 90d (1 s to 7 d from rollups, to 400 d from the archive) [default: 1h]',
  },
  source: {
    type: 'string',
    arg: 'auto|rollups|archive',
    help: 'the rollups (7 d), the PostgreSQL archive (SQL over archived attempts: the same figures, full breakdowns), or auto: the archive for a window over 7 d when there is one [default: auto]',
  },
  postgres: SOURCE_OPTIONS.postgres,
  'archive-schema': SOURCE_OPTIONS['archive-schema'],
  name: { type: 'string', arg: 'NAME', help: 'only the jobs of this name' },
  // (not --by: across the CLI, --by names who does something)
  group: { type: 'string', arg: 'KEY', help: `one row per ${ANALYTICS_GROUP_BY.join(', ')}` },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

/** `[20 ms, 50 ms)`: a percentile known to within its histogram bucket. */
export function rangeText(p: PercentileRange | null): string {
  if (p === null) return '-';
  return p.toMs === null
    ? `≥ ${formatDuration(p.fromMs)}`
    : `${formatDuration(p.fromMs)}–${formatDuration(p.toMs)}`;
}

function percentiles(h: TimeHistogram): string {
  return `p50 ${rangeText(h.p50)} · p95 ${rangeText(h.p95)} · p99 ${rangeText(h.p99)} (${formatCount(h.count)})`;
}

const rate = (x: number | null): string => (x === null ? '-' : formatPercent(x));

export const analytics = command(
  {
    name: 'analytics',
    usage: 'QUEUE [--window DURATION] [--name NAME] [--group KEY] [--source auto|rollups|archive]',
    args: ['QUEUE'],
    brief: "A queue's retry analytics and a suggested attempts value.",
    summary:
      "A queue's retry analytics over a window, from rollups kept by every finish (they outlive the jobs): attempts at completion, the chance of success at each attempt, time to success and drift percentiles (as histogram bucket bounds), wasted attempts, dead letters, failures by error class, rule and fingerprint, and a suggested attempts value with its reason.",
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced analytics emails --url http://127.0.0.1:7411',
      'retraced analytics emails --window 24h --group fingerprint --redis redis://127.0.0.1:6379 --json',
      'retraced analytics emails --window 90d --source archive --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const by = values.group;
    if (by !== undefined && !(ANALYTICS_GROUP_BY as readonly string[]).includes(by)) {
      throw new ValidationError('--group', `one of ${ANALYTICS_GROUP_BY.join(', ')}`, by);
    }
    const source = historySourceFrom(values, ANALYTICS_SOURCES);
    const r = await withClient(
      values,
      (c) =>
        c.analytics(queue, {
          ...(values.window !== undefined ? { window: values.window } : {}),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(by !== undefined ? { by: by as AnalyticsGroupBy } : {}),
          ...(source !== undefined ? { source } : {}),
        }),
      historyArchiveFrom(values, source !== 'rollups'),
    );
    out.result(r, () => {
      const t = r.totals;
      out.line(
        `${r.queue}${r.name === null ? '' : ` (${r.name})`}: last ${formatDuration(r.window.ms)}, ${r.window.resolution} buckets from ${new Date(r.window.from).toISOString()}, from the ${r.source === 'archive' ? 'archive (finished, archived jobs)' : 'rollups'}`,
      );
      out.line(
        `${formatCount(t.attempts)} attempts, ${formatCount(t.failed)} failed, ${formatCount(t.succeeded)} succeeded, ${formatCount(t.dead)} dead (dead-letter rate ${rate(t.deadLetterRate)}), ${formatCount(t.retries)} retries, ${formatCount(t.wastedAttempts)} wasted on jobs that died`,
      );
      out.line();
      out.table(
        [
          { header: 'ATTEMPT', align: 'right' },
          { header: 'RAN', align: 'right' },
          { header: 'FAILED', align: 'right' },
          { header: 'SUCCEEDED', align: 'right' },
          { header: 'DEAD', align: 'right' },
          { header: 'P(SUCCESS)' },
        ],
        r.attempts.map((a) => [
          String(a.n),
          formatCount(a.attempts),
          formatCount(a.failed),
          formatCount(a.succeeded),
          formatCount(a.dead),
          rate(a.successRate),
        ]),
        '(no attempt ended in the window)',
      );
      out.line();
      out.line(`time to success: ${percentiles(r.timeToSuccess)}`);
      out.line(`drift:           ${percentiles(r.drift)}`);
      if (r.deadReasons.length > 0) {
        out.line(
          `dead by reason:  ${r.deadReasons.map((d) => `${d.reason} ${formatCount(d.count)}`).join(', ')}`,
        );
      }
      if (r.byFingerprint.length > 0) {
        out.line();
        const full = r.source === 'archive';
        out.table(
          [
            { header: 'FAILED', align: 'right' },
            { header: 'DEAD', align: 'right' },
            ...(full
              ? [
                  { header: 'JOBS', align: 'right' as const },
                  { header: 'RECOVERED', align: 'right' as const },
                ]
              : []),
            { header: 'FINGERPRINT' },
            { header: 'ERROR' },
          ],
          r.byFingerprint
            .slice(0, 10)
            .map((f) => [
              formatCount(f.failed),
              formatCount(f.dead),
              ...(full ? [formatCount(f.jobs ?? 0), formatCount(f.recovered ?? 0)] : []),
              f.key,
              f.label ?? '',
            ]),
        );
      }
      if (r.groups !== null) {
        out.line();
        out.table(
          [
            { header: (r.by ?? 'key').toUpperCase() },
            { header: 'ATTEMPTS', align: 'right' },
            { header: 'FAILED', align: 'right' },
            { header: 'SUCCEEDED', align: 'right' },
            { header: 'DEAD', align: 'right' },
          ],
          r.groups.map((g) => [
            g.label ? `${g.key} ${g.label}` : g.key,
            g.attempts === null ? '-' : formatCount(g.attempts),
            formatCount(g.failed),
            g.succeeded === null ? '-' : formatCount(g.succeeded),
            formatCount(g.dead),
          ]),
        );
      }
      out.line();
      out.line(
        r.suggestion.attempts === null
          ? `suggested attempts: none (${r.suggestion.reason})`
          : `suggested attempts: ${r.suggestion.attempts} (${r.suggestion.reason})`,
      );
    });
  },
);
