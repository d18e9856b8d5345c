/**
 * Retry plan: edit a policy (simple fields, or its JSON for phases) and see the schedule the
 * server previews for it (POST /retry-plan), drawn from the first failure with each retry's jitter
 * range as a band. The policy is in the URL, so a plan can be shared.
 */
import { useEffect, useState } from 'preact/hooks';

import { api } from '../api.js';
import { ErrorMessage } from '../components.js';
import { formatDuration } from '../format.js';
import { useLoad } from '../hooks.js';
import { PLAN_MARGIN, layoutPlan } from '../plan.js';
import { navigate } from '../router.js';
import { paths } from '../routes.js';
import { tickStep } from '../timeline.js';
import type { PolicyPreview } from '../types.js';

const DEFAULT_POLICY =
  '{"attempts":6,"backoff":{"type":"exponential","delayMs":1000,"factor":2,"jitter":"full"}}';
const WIDTH = 960;

interface Simple {
  attempts: number;
  backoff: {
    type: string;
    delayMs?: number;
    factor?: number;
    maxDelayMs?: number;
    jitter?: string;
    stepMs?: number;
  };
}

function simpleOf(text: string): Simple | undefined {
  try {
    const p = JSON.parse(text) as Partial<Simple>;
    if (typeof p.attempts === 'number' && typeof p.backoff === 'object' && p.backoff !== null) {
      return p as Simple;
    }
    if (typeof p.attempts === 'number' && p.backoff === undefined) {
      return { attempts: p.attempts, backoff: { type: 'immediate' } };
    }
  } catch {
    // not JSON: the textarea says so
  }
  return undefined;
}

export function RetryPlan({ params }: { params: URLSearchParams }) {
  const text = params.get('policy') ?? DEFAULT_POLICY;
  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);
  const preview = useLoad(async () => {
    let policy: unknown;
    try {
      policy = JSON.parse(text);
    } catch (e) {
      throw new Error(`the policy is not JSON: ${(e as Error).message}`);
    }
    return api<PolicyPreview>('POST', '/retry-plan', { policy });
  }, text);
  const set = (next: string) => navigate(paths.plan(next), { replace: true });
  const simple = simpleOf(text);
  const edit = (change: (s: Simple) => void) => {
    const s: Simple = simple ?? { attempts: 5, backoff: { type: 'exponential', delayMs: 1000 } };
    const copy: Simple = { attempts: s.attempts, backoff: { ...s.backoff } };
    change(copy);
    set(JSON.stringify(copy));
  };
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const b = simple?.backoff;

  return (
    <section aria-labelledby="plan-title">
      <h1 id="plan-title">Retry plan</h1>
      <form class="filters" aria-label="Policy" onSubmit={(e) => e.preventDefault()}>
        <label>
          Attempts
          <input
            type="number"
            min={1}
            max={1000}
            value={simple?.attempts ?? ''}
            onChange={(e) => edit((s) => (s.attempts = Number(e.currentTarget.value)))}
          />
        </label>
        <label>
          Backoff
          <select
            value={b?.type ?? 'exponential'}
            onChange={(e) =>
              edit(
                (s) =>
                  (s.backoff = {
                    type: e.currentTarget.value,
                    ...(e.currentTarget.value === 'immediate' ? {} : { delayMs: s.backoff.delayMs ?? 1000 }),
                  }),
              )
            }
          >
            {['immediate', 'fixed', 'linear', 'exponential'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {b && b.type !== 'immediate' && (
          <label>
            Delay (ms)
            <input
              type="number"
              min={0}
              value={b.delayMs ?? ''}
              onChange={(e) => edit((s) => (s.backoff.delayMs = num(e.currentTarget.value)))}
            />
          </label>
        )}
        {b?.type === 'exponential' && (
          <>
            <label>
              Factor
              <input
                type="number"
                min={1}
                step="any"
                value={b.factor ?? ''}
                onChange={(e) => edit((s) => (s.backoff.factor = num(e.currentTarget.value)))}
              />
            </label>
            <label>
              Jitter
              <select
                value={b.jitter ?? 'none'}
                onChange={(e) => edit((s) => (s.backoff.jitter = e.currentTarget.value))}
              >
                {['none', 'full', 'equal', 'decorrelated'].map((j) => (
                  <option key={j} value={j}>
                    {j}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
        {(b?.type === 'exponential' || b?.type === 'linear') && (
          <label>
            Cap (ms)
            <input
              type="number"
              min={0}
              value={b.maxDelayMs ?? ''}
              onChange={(e) => edit((s) => (s.backoff.maxDelayMs = num(e.currentTarget.value)))}
            />
          </label>
        )}
      </form>
      <label class="block">
        Policy JSON (phases too: {'{"phases":[{"retries":2,"backoff":{"type":"immediate"}}, …]}'})
        <textarea
          rows={3}
          spellcheck={false}
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onBlur={() => draft !== text && set(draft)}
        />
      </label>
      <button type="button" onClick={() => set(draft)}>
        Preview
      </button>
      <ErrorMessage error={preview.error} action="Cannot preview this policy" />
      {preview.data && <PlanChart preview={preview.data} />}
    </section>
  );
}

function PlanChart({ preview }: { preview: PolicyPreview }) {
  const { rows, spanMs, height } = layoutPlan(preview.steps, WIDTH);
  const plot = WIDTH - PLAN_MARGIN.left - PLAN_MARGIN.right;
  const step = tickStep(spanMs, 8);
  const ticks: number[] = [];
  for (let t = 0; t <= spanMs; t += step) ticks.push(t);
  const axisY = height - PLAN_MARGIN.bottom + 6;
  return (
    <>
      <p class="summary">
        <strong>{preview.summary}</strong> ({preview.maxAttempts} attempts at most)
      </p>
      <figure class="plan">
        <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={`Retry schedule: ${preview.summary}`}>
          {ticks.map((t) => {
            const x = PLAN_MARGIN.left + (t / spanMs) * plot;
            return (
              <g key={t} class="tick">
                <line x1={x} x2={x} y1={PLAN_MARGIN.top - 4} y2={axisY} />
                <text x={x} y={axisY + 14} text-anchor="middle">
                  {t === 0 ? 'failure' : `+${formatDuration(t)}`}
                </text>
              </g>
            );
          })}
          {rows.map((r) => (
            <g key={r.attempt} class="plan-row" data-attempt={r.attempt}>
              <text x={8} y={r.y + 15}>{`attempt ${r.attempt}`}</text>
              <rect
                class="band"
                x={r.minX}
                y={r.y + 4}
                width={Math.max(2, r.maxX - r.minX)}
                height={14}
                rx={3}
              />
              <circle class="at" cx={r.atX} cy={r.y + 11} r={4} />
              <title>{`Attempt ${r.attempt}: between +${formatDuration(r.minMs)} and +${formatDuration(r.maxMs)} after the first failure`}</title>
            </g>
          ))}
          <line class="axis" x1={PLAN_MARGIN.left} x2={WIDTH - PLAN_MARGIN.right} y1={axisY} y2={axisY} />
        </svg>
        <figcaption class="legend">
          Bands: when each retry can run, jitter included (from the first failure). Dots: a typical draw.
        </figcaption>
      </figure>
      <ol class="steps">
        {preview.steps.map((s) => (
          <li key={s.attempt}>
            attempt {s.attempt}: after {formatDuration(s.delayMs)}
            {s.minDelayMs !== s.maxDelayMs
              ? ` (${formatDuration(s.minDelayMs)}–${formatDuration(s.maxDelayMs)})`
              : ''}{' '}
            — {s.explanation}
          </li>
        ))}
        <li>then {preview.then}</li>
      </ol>
    </>
  );
}
