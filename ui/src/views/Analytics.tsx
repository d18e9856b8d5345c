/**
 * Retry analytics of one queue (GET /queues/:queue/analytics): totals, the suggested attempts with
 * its reason, attempts at completion as a small chart and a table (with the chance of success at
 * each attempt), time to success and drift as histograms with their percentiles (bucket bounds),
 * and failures by error class, rule and fingerprint. Window and job name live in the URL.
 */
import { api, enc, query } from '../api.js';
import { ErrorMessage, Loading } from '../components.js';
import { formatDuration, formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { paths } from '../routes.js';
import {
  ANALYTICS_SOURCES,
  type AnalyticsBreakdown,
  type AnalyticsReport,
  type PercentileRange,
  type TimeHistogram,
} from '../types.js';

const WINDOWS = ['15m', '1h', '6h', '24h', '7d', '30d', '90d'] as const;

const pct = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 1000) / 10}%`);

function range(p: PercentileRange | null): string {
  if (p === null) return '—';
  return p.toMs === null
    ? `≥ ${formatDuration(p.fromMs)}`
    : `${formatDuration(p.fromMs)}–${formatDuration(p.toMs)}`;
}

interface Bar {
  readonly label: string;
  readonly parts: readonly { readonly count: number; readonly cls: string; readonly what: string }[];
}

/** Vertical bars (stacked parts), each with a title; the same numbers are in a table beside it. */
function Bars({ bars, label }: { bars: readonly Bar[]; label: string }) {
  const W = 28;
  const H = 80;
  const max = Math.max(1, ...bars.map((b) => b.parts.reduce((t, p) => t + p.count, 0)));
  return (
    <svg
      class="hist"
      viewBox={`0 0 ${bars.length * W + 4} ${H + 18}`}
      width={bars.length * W + 4}
      height={H + 18}
      role="img"
      aria-label={label}
    >
      {bars.map((b, i) => {
        let y = H;
        return (
          <g key={b.label} transform={`translate(${i * W + 2},0)`}>
            <title>{`${b.label}: ${b.parts.map((p) => `${p.count} ${p.what}`).join(', ')}`}</title>
            {b.parts.map((p) => {
              const h = (p.count / max) * H;
              y -= h;
              return <rect key={p.cls} class={p.cls} x={2} y={y} width={W - 4} height={h} />;
            })}
            <text x={W / 2} y={H + 13} text-anchor="middle">
              {b.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The histogram's non-empty span of buckets as bars, labelled by their lower bound. */
function histBars(h: TimeHistogram, what: string): Bar[] {
  const first = h.buckets.findIndex((b) => b.count > 0);
  if (first < 0) return [];
  let last = first;
  h.buckets.forEach((b, i) => {
    if (b.count > 0) last = i;
  });
  return h.buckets.slice(first, last + 1).map((b) => ({
    label: formatDuration(b.fromMs).replace(' ', ''),
    parts: [
      {
        count: b.count,
        cls: 'ok',
        what: `${what} from ${formatDuration(b.fromMs)}${b.toMs === null ? '' : ` to ${formatDuration(b.toMs)}`}`,
      },
    ],
  }));
}

function Histogram({ title, h, what }: { title: string; h: TimeHistogram; what: string }) {
  return (
    <div class="hist-box">
      <h3>{title}</h3>
      <p>
        p50 {range(h.p50)} · p95 {range(h.p95)} · p99 {range(h.p99)} <span class="muted">({h.count})</span>
      </p>
      {h.count > 0 && <Bars bars={histBars(h, what)} label={`${title}: histogram of ${h.count} ${what}`} />}
    </div>
  );
}

function BreakdownTable({
  caption,
  rows,
  queue,
  full,
}: {
  caption: string;
  rows: readonly AnalyticsBreakdown[];
  queue?: string;
  /** From the archive: the jobs that failed with each key and their attempts. */
  full: boolean;
}) {
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{queue ? 'fingerprint' : 'key'}</th>
            {queue && <th scope="col">error</th>}
            <th scope="col" class="num">
              failed attempts
            </th>
            <th scope="col" class="num">
              next attempt succeeded
            </th>
            <th scope="col" class="num">
              jobs recovered
            </th>
            <th scope="col" class="num">
              jobs lost
            </th>
            <th scope="col" class="num">
              dead jobs
            </th>
            {full && (
              <>
                <th scope="col" class="num">
                  jobs hit
                </th>
                <th scope="col" class="num">
                  their attempts
                </th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 20).map((r) => (
            <tr key={r.key}>
              <td class="mono">
                {queue && r.dead > 0 ? (
                  <Link href={paths.dlq(queue, { fingerprint: r.key })}>{r.key}</Link>
                ) : (
                  r.key
                )}
              </td>
              {queue && <td class="clip">{r.label ?? ''}</td>}
              <td class="num">{r.failed}</td>
              <td class="num" title={`${r.nextSucceeded} of ${r.next} next attempts`}>
                {pct(r.nextSuccessRate)}
                {r.next > 0 && (
                  <span class="muted">
                    {' '}
                    ({r.nextSucceeded}/{r.next})
                  </span>
                )}
              </td>
              <td class="num">{r.recovered}</td>
              <td class="num">{r.lost}</td>
              <td class="num">{r.dead}</td>
              {full && (
                <>
                  <td class="num">{r.jobs ?? '—'}</td>
                  <td class="num">{r.jobAttempts ?? '—'}</td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Analytics({ queue, params }: { queue: string; params: URLSearchParams }) {
  const window = params.get('window') ?? '1h';
  const name = params.get('name') ?? undefined;
  // The default source (auto) stays out of the URL, as in the Jobs view.
  const source = params.get('source') ?? 'auto';
  const report = useLoad(
    () =>
      api<AnalyticsReport>(
        'GET',
        `/queues/${enc(queue)}/analytics${query({
          window,
          ...(name ? { name } : {}),
          ...(source !== 'auto' ? { source } : {}),
        })}`,
      ),
    `${queue}?${params.toString()}`,
  );
  const set = (next: { window?: string; name?: string; source?: string }) => {
    const merged = { window, name, source, ...next };
    navigate(
      paths.analytics(queue, { ...merged, source: merged.source === 'auto' ? undefined : merged.source }),
      { replace: true },
    );
  };
  const r = report.data;
  const full = r?.source === 'archive';
  return (
    <section aria-labelledby="analytics-title">
      <div class="title-row">
        <h1 id="analytics-title">
          Retry analytics of <Link href={paths.jobs(queue)}>{queue}</Link>
        </h1>
      </div>
      <form
        class="filters"
        aria-label="Analytics window"
        onSubmit={(e) => {
          e.preventDefault();
          const v = new FormData(e.currentTarget).get('name');
          set({ name: typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined });
        }}
      >
        <label>
          Window
          <select value={window} onChange={(e) => set({ window: e.currentTarget.value })}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select name="source" value={source} onChange={(e) => set({ source: e.currentTarget.value })}>
            {ANALYTICS_SOURCES.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Job name
          <input name="name" type="text" maxLength={128} defaultValue={name ?? ''} placeholder="every name" />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorMessage error={report.error} action="Could not load the analytics" />
      <Loading when={report.loading && !r} />
      {r && (
        <>
          <p class="muted">
            From {formatTime(r.window.from)} to {formatTime(r.window.to)} UTC, {r.window.resolution} buckets;{' '}
            {r.source === 'archive'
              ? 'read from the PostgreSQL archive (finished, archived jobs), with full breakdowns.'
              : 'read from the rollups, kept apart from the jobs, so they outlive retention.'}
          </p>
          <dl class="facts">
            <dt>Attempts</dt>
            <dd>{r.totals.attempts}</dd>
            <dt>Failed</dt>
            <dd>{r.totals.failed}</dd>
            <dt>Stalled</dt>
            <dd>{r.totals.stalled}</dd>
            <dt>Succeeded</dt>
            <dd>{r.totals.succeeded}</dd>
            <dt>Dead</dt>
            <dd>
              {r.totals.dead} ({pct(r.totals.deadLetterRate)} of finished, stall deaths included)
            </dd>
            <dt>Cancelled</dt>
            <dd>
              {r.totals.cancelled}
              {r.cancels.length > 0 && (
                <span class="muted"> ({r.cancels.map((c) => `${c.count} ${c.state}`).join(', ')})</span>
              )}
            </dd>
            <dt>Retries</dt>
            <dd>{r.totals.retries}</dd>
            <dt>Wasted</dt>
            <dd>{r.totals.wastedAttempts} retries of jobs that died anyway</dd>
          </dl>
          <h2>Suggested attempts: {r.suggestion.attempts ?? 'none'}</h2>
          <p class="suggestion">{r.suggestion.reason}</p>
          <h2>Attempts</h2>
          {r.attempts.length > 0 && (
            <Bars
              label={`Jobs finished at each attempt: ${r.attempts.map((a) => `attempt ${a.n}: ${a.succeeded} succeeded, ${a.dead} dead`).join('; ')}`}
              bars={r.attempts.map((a) => ({
                label: String(a.n),
                parts: [
                  { count: a.succeeded, cls: 'ok', what: 'succeeded' },
                  { count: a.dead, cls: 'bad', what: 'dead' },
                ],
              }))}
            />
          )}
          <div class="table-wrap">
            <table class="attempt-table">
              <caption class="sr-only">Attempts by number</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    attempt
                  </th>
                  <th scope="col" class="num">
                    ran
                  </th>
                  <th scope="col" class="num">
                    failed
                  </th>
                  <th scope="col" class="num">
                    stalled
                  </th>
                  <th scope="col" class="num">
                    succeeded
                  </th>
                  <th scope="col" class="num">
                    dead
                  </th>
                  <th scope="col" class="num">
                    P(success | previous failed)
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.attempts.map((a) => (
                  <tr key={a.n}>
                    <td class="num">{a.n}</td>
                    <td class="num">{a.attempts}</td>
                    <td class="num">{a.failed}</td>
                    <td class="num">{a.stalled}</td>
                    <td class="num">{a.succeeded}</td>
                    <td class="num">{a.dead}</td>
                    <td class="num">{pct(a.successRate)}</td>
                  </tr>
                ))}
                {r.attempts.length === 0 && (
                  <tr>
                    <td colSpan={7} class="muted">
                      No attempt ended in this window.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <div class="hists">
            <Histogram title="Time to success" h={r.timeToSuccess} what="jobs" />
            <Histogram title="Drift (start − due)" h={r.drift} what="attempts" />
          </div>
          {r.deadReasons.length > 0 && (
            <p>Dead by reason: {r.deadReasons.map((d) => `${d.reason} ${d.count}`).join(', ')}</p>
          )}
          <p class="muted">
            Below, per error: how often the attempt after a failure with it succeeded (P(next succeeds |
            failed with it)), and the jobs that failed with it and later succeeded (recovered) or died (lost).
            A minute or hour keeps at most 64 keys of each kind; the rest count under (other).
          </p>
          <BreakdownTable caption="Failures by error class" rows={r.byErrorClass} full={full} />
          <BreakdownTable caption="Failures by classifying rule" rows={r.byRule} full={full} />
          <BreakdownTable
            caption="Failures by error fingerprint"
            rows={r.byFingerprint}
            queue={queue}
            full={full}
          />
        </>
      )}
    </section>
  );
}
