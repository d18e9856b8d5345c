/**
 * Retry intelligence of one queue: the what-if (a form: another retry policy and/or error-code
 * table, replayed over recorded history by POST /queues/:queue/whatif, which changes nothing;
 * recorded beside the alternative's optimistic and pessimistic bounds), the self-audit's findings
 * (GET /queues/:queue/audit), and the storm radar (GET /queues/:queue/radar: retries due per second
 * as a chart, bursts, policies without jitter).
 */
import { useState } from 'preact/hooks';

import { api, enc, query } from '../api.js';
import { ErrorMessage, Loading } from '../components.js';
import { formatDuration } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { paths } from '../routes.js';
import {
  HISTORY_SOURCES,
  type AuditReport,
  type RadarReport,
  type WhatIfReport,
  type WhatIfScenario,
} from '../types.js';

const n = (v: number): string => v.toLocaleString('en-US');
const tts = (s: WhatIfScenario): string =>
  s.timeToSuccessMs === null
    ? '—'
    : `${formatDuration(s.timeToSuccessMs.p50)} / ${formatDuration(s.timeToSuccessMs.p95)}`;

const ROWS: readonly [string, (s: WhatIfScenario) => string][] = [
  ['jobs', (s) => n(s.jobs)],
  ['succeeded', (s) => n(s.succeeded)],
  ['dead-lettered', (s) => n(s.dead)],
  ['attempts', (s) => n(s.attempts)],
  ['retries', (s) => n(s.retries)],
  ['time to success p50 / p95', tts],
  ['peak retries due per second', (s) => n(s.peakRetriesDuePerSecond.count)],
  ['peak dead-letters per minute', (s) => n(s.peakDeadLettersPerMinute.count)],
];

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

function WhatIf({ queue, source }: { queue: string; source: string }) {
  const [policy, setPolicy] = useState(
    '{"attempts":8,"backoff":{"type":"exponential","delayMs":500,"jitter":"full"}}',
  );
  const [codes, setCodes] = useState('');
  const [seed, setSeed] = useState('1');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [report, setReport] = useState<WhatIfReport | undefined>();
  const run = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { seed: Number(seed), source };
      if (policy.trim() !== '') body.retry = parseJson(policy, 'The retry policy');
      if (codes.trim() !== '') body.classify = { codes: parseJson(codes, 'The code table') };
      if (name.trim() !== '') body.filter = { name: name.trim() };
      setReport(await api<WhatIfReport>('POST', `/queues/${enc(queue)}/whatif`, body));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const c = report?.comparison;
  return (
    <section aria-labelledby="whatif-h">
      <h2 id="whatif-h">What-if</h2>
      <p class="muted">
        Replays the recorded jobs under another policy or code table, through the worker's own decision code.
        A simulation: nothing is changed.
      </p>
      <form class="whatif-form" onSubmit={(e) => void run(e)}>
        <label>
          Retry policy (JSON; empty: each job's own)
          <textarea rows={2} value={policy} onInput={(e) => setPolicy(e.currentTarget.value)} />
        </label>
        <label>
          Error codes (JSON, such as {'{"ECONNRESET":"permanent"}'}; empty: as recorded)
          <input type="text" value={codes} onInput={(e) => setCodes(e.currentTarget.value)} />
        </label>
        <label>
          Job name (empty: every job)
          <input type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Seed of the jitter draws
          <input type="number" min={0} value={seed} onInput={(e) => setSeed(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Run the what-if (changes nothing)
        </button>
      </form>
      <ErrorMessage error={error} action="What-if" />
      {report && c && (
        <div class="whatif-result">
          <div class="table-wrap">
            <table class="whatif-table">
              <caption>Recorded beside the alternative (seed {report.seed})</caption>
              <thead>
                <tr>
                  <th scope="col">metric</th>
                  <th scope="col" class="num">
                    recorded
                  </th>
                  <th scope="col" class="num">
                    alternative, optimistic
                  </th>
                  <th scope="col" class="num">
                    alternative, pessimistic
                  </th>
                </tr>
              </thead>
              <tbody>
                {ROWS.map(([label, f]) => (
                  <tr key={label}>
                    <th scope="row">{label}</th>
                    <td class="num">{f(c.recorded)}</td>
                    <td class="num">{f(c.alternative.optimistic)}</td>
                    <td class="num">{f(c.alternative.pessimistic)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ul class="whatif-summary">
            {report.summary.map((line) => (
              <li key={line}>{line}</li>
            ))}
            <li>
              read {n(report.scope.read)} finished jobs from{' '}
              {report.scope.source === 'archive' ? 'the archive' : 'Redis'} (bound {n(report.scope.limit)}
              {report.scope.truncated ? ', more matched' : ''}), replayed {n(report.scope.replayed)}
            </li>
          </ul>
        </div>
      )}
    </section>
  );
}

function Audit({ queue, source }: { queue: string; source: string }) {
  const { data, error, loading } = useLoad(
    () => api<AuditReport>('GET', `/queues/${enc(queue)}/audit${source === 'live' ? '' : query({ source })}`),
    `audit:${queue}:${source}`,
  );
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Self-audit</h2>
      <Loading when={loading && !data} />
      <ErrorMessage error={error} action="Audit" />
      {data && (
        <>
          <ul class="audit-summary">
            {data.summary.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
          {data.findings.length > 0 && (
            <div class="table-wrap">
              <table class="audit-table">
                <caption>Findings{data.findingsTruncated ? ' (the first ones)' : ''}</caption>
                <thead>
                  <tr>
                    <th scope="col">job</th>
                    <th scope="col" class="num">
                      attempt
                    </th>
                    <th scope="col">finding</th>
                    <th scope="col" class="num">
                      expected
                    </th>
                    <th scope="col" class="num">
                      recorded
                    </th>
                    <th scope="col" class="num">
                      actual
                    </th>
                    <th scope="col">what</th>
                  </tr>
                </thead>
                <tbody>
                  {data.findings.map((f) => (
                    <tr key={`${f.jobId}:${f.attempt}:${f.kind}`}>
                      <td>
                        <Link href={paths.job(queue, f.jobId)}>{f.jobId}</Link>
                      </td>
                      <td class="num">{f.attempt}</td>
                      <td>{f.kind}</td>
                      <td class="num">
                        {f.expectedDelayMs === undefined ? '' : formatDuration(f.expectedDelayMs)}
                      </td>
                      <td class="num">
                        {f.recordedDelayMs === undefined ? '' : formatDuration(f.recordedDelayMs)}
                      </td>
                      <td class="num">
                        {f.actualDelayMs !== undefined
                          ? formatDuration(f.actualDelayMs)
                          : f.driftMs !== undefined
                            ? formatDuration(f.driftMs)
                            : ''}
                      </td>
                      <td>{f.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

/** Retries due per second as bars; the hot seconds (at or over the burst threshold) marked. */
function RadarChart({ r }: { r: RadarReport }) {
  const W = 3;
  const H = 80;
  const max = Math.max(1, ...r.perSecond);
  const width = r.perSecond.length * W;
  return (
    <svg
      class="radar"
      viewBox={`0 0 ${width} ${H}`}
      width="100%"
      height={H}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Retries due per second over the next ${formatDuration(r.horizonMs)}: ${n(r.retries)} in all, peak ${n(r.peak.count)}`}
    >
      {r.perSecond.map((c, i) =>
        c === 0 ? null : (
          <rect
            key={i}
            class={c >= r.burstThreshold ? 'hot' : 'ok'}
            x={i * W}
            y={H - (c / max) * H}
            width={W - 1}
            height={(c / max) * H}
          >
            <title>{`+${i} s: ${c} retries due`}</title>
          </rect>
        ),
      )}
    </svg>
  );
}

function Radar({ queue }: { queue: string }) {
  const { data, error, loading, reload } = useLoad(
    () => api<RadarReport>('GET', `/queues/${enc(queue)}/radar${query({ horizonMs: 300_000 })}`),
    `radar:${queue}`,
  );
  return (
    <section aria-labelledby="radar-h">
      <h2 id="radar-h">Storm radar</h2>
      <Loading when={loading && !data} />
      <ErrorMessage error={error} action="Radar" />
      {data && (
        <>
          <p class="radar-summary">
            {n(data.retries)} retries due in the next {formatDuration(data.horizonMs)} ({n(data.overdue)}{' '}
            overdue), peak {n(data.peak.count)} in one second; {data.bursts.length} burst
            {data.bursts.length === 1 ? '' : 's'}.{' '}
            <button type="button" onClick={reload}>
              Refresh
            </button>
          </p>
          <RadarChart r={data} />
          <p class="muted">Burst rule: {data.burstRule}.</p>
          {data.bursts.length > 0 && (
            <ul class="radar-bursts">
              {data.bursts.map((b) => (
                <li key={b.startS}>
                  +{b.startS} s to +{b.endS} s: {n(b.retries)} retries (peak {n(b.peakPerSecond)}/s) —{' '}
                  {b.names.map((x) => `${x.name} (${n(x.retries)})`).join(', ')}
                </li>
              ))}
            </ul>
          )}
          {data.policies.length > 0 && (
            <div class="table-wrap">
              <table class="radar-policies">
                <caption>Retries due by job name and policy</caption>
                <thead>
                  <tr>
                    <th scope="col">job name</th>
                    <th scope="col" class="num">
                      retries
                    </th>
                    <th scope="col" class="num">
                      peak per second
                    </th>
                    <th scope="col">jitter</th>
                  </tr>
                </thead>
                <tbody>
                  {data.policies.map((p, i) => (
                    <tr key={`${p.name}:${i}`}>
                      <td>{p.name}</td>
                      <td class="num">{n(p.retries)}</td>
                      <td class="num">{n(p.peakPerSecond)}</td>
                      <td>{p.jitter ? 'yes' : 'no: synchronised retries'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

export function RetryIntelligence({ queue }: { queue: string }) {
  // Where the what-if and the audit read recorded jobs: Redis, or the archive (months of history).
  const [source, setSource] = useState('live');
  return (
    <section>
      <h1>Retry intelligence of {queue}</h1>
      <form class="filters" aria-label="Recorded jobs" onSubmit={(e) => e.preventDefault()}>
        <label>
          Source
          <select name="source" value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            {HISTORY_SOURCES.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </form>
      <WhatIf queue={queue} source={source} />
      <Audit queue={queue} source={source} />
      <Radar queue={queue} />
    </section>
  );
}
