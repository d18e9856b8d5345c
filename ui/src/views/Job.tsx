/**
 * One job: its state, the attempt timeline drawn on a time axis, every attempt as text (due, start
 * and drift, duration, outcome, error with class, rule and stack, the decision with its delay and
 * explanation, a person's replay with who, note and the patch as a diff), the retries the policy
 * still allows, and data and result as collapsible JSON. Live: reloads on the job's events.
 */
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { api, enc } from '../api.js';
import { Badge, ErrorMessage, JsonTree, LiveDot, Loading, PatchDiff } from '../components.js';
import { formatDuration, formatSigned, formatTime } from '../format.js';
import { useEvents, useLoad, useThrottled } from '../hooks.js';
import { Link } from '../router.js';
import { paths } from '../routes.js';
import type { Attempt, Job as JobT, Manual, PolicyPreview, Trail } from '../types.js';
import { JobReplay } from './JobReplay.js';
import { Timeline } from './Timeline.js';

export function Job({ queue, id }: { queue: string; id: string }) {
  const job = useLoad(() => api<JobT>('GET', `/queues/${enc(queue)}/jobs/${enc(id)}`), `${queue}/${id}`);
  const reload = useThrottled(job.reload, 300);
  const live = useEvents(
    [queue],
    (e) => {
      if (e.jobId === id) reload();
    },
    reload,
  );
  const [now, setNow] = useState(Date.now());
  const running = job.data?.state === 'active';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [running]);

  const j = job.data;
  return (
    <section aria-labelledby="job-title">
      <div class="title-row">
        <h1 id="job-title">
          Job <span class="mono">{id}</span> in <Link href={paths.jobs(queue)}>{queue}</Link>
        </h1>
        <LiveDot live={live} />
      </div>
      <ErrorMessage error={job.error} action="Could not load the job" />
      <Loading when={job.loading && !j} />
      {j && (
        <>
          <dl class="facts">
            <dt>name</dt>
            <dd>{j.name}</dd>
            <dt>state</dt>
            <dd>
              <Badge kind={j.state}>{j.state}</Badge>
              {j.archived && (
                <>
                  {' '}
                  <Badge kind="archived">archived</Badge> (read from the archive: retention evicted it from
                  Redis)
                </>
              )}
            </dd>
            <dt>created</dt>
            <dd class="mono">{formatTime(j.createdAt)}</dd>
            <dt>{j.state === 'scheduled' || j.state === 'waiting' ? 'due' : 'last due'}</dt>
            <dd class="mono">{formatTime(j.dueAt)}</dd>
            {j.group !== undefined && (
              <>
                <dt>group</dt>
                <dd class="mono">{j.group}</dd>
              </>
            )}
            {j.folded && (
              <>
                <dt>folded</dt>
                <dd>
                  {j.folded.count} later add{j.folded.count === 1 ? '' : 's'} folded into this job
                  {j.dedup ? ` (${j.dedup.mode} key ${j.dedup.key})` : ''}, the last at{' '}
                  <span class="mono">{formatTime(j.folded.lastAt)}</span>
                </dd>
              </>
            )}
            <dt>failures (retry budget)</dt>
            <dd>{j.failures}</dd>
            <dt>stalls</dt>
            <dd>
              {j.stalls} of {j.options.maxStalls} before poison
            </dd>
            {j.dead && (
              <>
                <dt>dead</dt>
                <dd>
                  {j.dead.reason} at <span class="mono">{formatTime(j.dead.at)}</span>, fingerprint{' '}
                  <Link href={paths.dlq(queue, { fingerprint: j.dead.fingerprint })} class="mono">
                    {j.dead.fingerprint}
                  </Link>
                </dd>
              </>
            )}
            {j.cancelled && (
              <>
                <dt>cancelled</dt>
                <dd>
                  by {j.cancelled.by}
                  {j.cancelled.reason ? `: ${j.cancelled.reason}` : ''}
                </dd>
              </>
            )}
          </dl>
          {(j.state === 'scheduled' || j.state === 'waiting') && (
            <Why queue={queue} id={id} version={`${j.state}/${j.attempts.length}/${j.dueAt}`} />
          )}
          <h2>Timeline</h2>
          {j.attempts.length === 0 && !j.current ? (
            <p>No attempt yet: due {formatTime(j.dueAt)}.</p>
          ) : (
            <Timeline
              input={{
                createdAt: j.createdAt,
                attempts: j.attempts,
                current: j.current,
                nextDueAt: j.state === 'scheduled' || j.state === 'waiting' ? j.dueAt : undefined,
                now: running ? Math.max(now, j.current?.startedAt ?? 0) : now,
              }}
            />
          )}
          <h2>Attempts</h2>
          <ol class="attempts">
            {j.attempts.map((a) => (
              <AttemptItem key={a.n} attempt={a} />
            ))}
            {j.current && (
              <li class="attempt" data-attempt={j.current.n}>
                <h3>
                  Attempt {j.current.n} <Badge kind="active">running</Badge> ({j.current.trigger})
                </h3>
                <p>
                  due <span class="mono">{formatTime(j.current.dueAt)}</span>, started{' '}
                  <span class="mono">{formatTime(j.current.startedAt)}</span> (drift{' '}
                  {formatSigned(j.current.startedAt - j.current.dueAt)}) on worker {j.current.workerId}; lease
                  until <span class="mono">{formatTime(j.current.leaseExpiresAt)}</span>
                </p>
                {j.current.manual && <ManualInfo manual={j.current.manual} />}
                <TrailInfo trail={j.current} />
              </li>
            )}
          </ol>
          {j.pendingManual && (
            <div class="pending-manual">
              <h3>Manual replay waiting for the next attempt</h3>
              <ManualInfo manual={j.pendingManual} />
            </div>
          )}
          <Remaining job={j} />
          {j.state === 'dead' && <JobReplay queue={queue} job={j} onDone={job.reload} />}
          <h2>Data and result</h2>
          <JsonTree value={j.data} label="data" />
          {j.result !== undefined && <JsonTree value={j.result} label="result" />}
          <details class="raw">
            <summary>Options</summary>
            <JsonTree value={j.options} label="options" open={1} />
          </details>
        </>
      )}
    </section>
  );
}

function decisionText(a: Attempt): string {
  const d = a.decision;
  if (d.action === 'retry') {
    return `retry in ${formatDuration(d.delayMs)} (${d.source === 'handler' ? 'the handler asked' : 'policy'}): ${d.explanation}; due ${formatTime(d.nextDueAt)}`;
  }
  if (d.action === 'dead') return `dead-lettered (${d.reason}): ${d.explanation}`;
  if (d.action === 'cancelled') return `cancelled: ${d.explanation}`;
  return 'done';
}

function AttemptItem({ attempt: a }: { attempt: Attempt }) {
  return (
    <li class="attempt" data-attempt={a.n}>
      <h3>
        Attempt {a.n} <Badge kind={a.outcome}>{a.outcome}</Badge> ({a.trigger})
      </h3>
      <p>
        due <span class="mono">{formatTime(a.dueAt)}</span>, started{' '}
        <span class="mono">{formatTime(a.startedAt)}</span> (drift{' '}
        <span class="drift-value">{formatSigned(a.driftMs)}</span>), ran{' '}
        {formatDuration(a.finishedAt - a.startedAt)} on worker {a.workerId}
      </p>
      {a.schedule && (
        <p class="attempt-wait schedule-tick">
          Scheduled by <code>{a.schedule.scheduler}</code>, tick planned{' '}
          <span class="mono">{formatTime(a.schedule.plannedAt)}</span>: {a.schedule.explanation} (missed
          policy {a.schedule.missed})
        </p>
      )}
      {a.rateLimit && <p class="attempt-wait">Waited for its turn: {a.rateLimit.explanation}</p>}
      {a.priority && <p class="attempt-wait priority-wait">Waited for its turn: {a.priority.explanation}</p>}
      {a.error && (
        <div class="attempt-error">
          <p>
            <strong>{a.error.name}</strong>
            {a.error.code ? ` [${a.error.code}]` : ''}: {a.error.message}
          </p>
          <p>
            class <strong>{a.errorClass ?? '—'}</strong>, rule <code>{a.rule ?? '—'}</code>
          </p>
          {a.error.stack && (
            <details>
              <summary>Stack</summary>
              <pre>{a.error.stack}</pre>
            </details>
          )}
        </div>
      )}
      <p class="decision">
        <strong>Then:</strong> <span class="decision-text">{decisionText(a)}</span>
      </p>
      {a.pause && (
        <p class="attempt-pause">
          Paused {a.pause.scope === 'group' ? `group ${a.pause.group ?? '?'}` : 'the queue'} for{' '}
          {formatDuration(a.pause.ms)}: an upstream rate limit, not a failed attempt
        </p>
      )}
      {a.response && <ResponseInfo response={a.response} />}
      {a.manual && <ManualInfo manual={a.manual} />}
      <TrailInfo trail={a} />
    </li>
  );
}

/** What the attempt's HTTP call answered: status, time, the headers kept and the body excerpt, as text. */
function ResponseInfo({ response: r }: { response: NonNullable<Attempt['response']> }) {
  const headers = Object.entries(r.headers);
  return (
    <div class="attempt-response">
      <p>
        Response <strong>{r.status}</strong> in {formatDuration(r.ms)}
        {r.redirects ? ` after ${r.redirects} redirect${r.redirects === 1 ? '' : 's'}` : ''}, {r.bodyBytes}{' '}
        byte
        {r.bodyBytes === 1 ? '' : 's'}
      </p>
      {(headers.length > 0 || r.body !== '') && (
        <details>
          <summary>Headers and body excerpt</summary>
          {headers.length > 0 && (
            <dl>
              {headers.map(([k, v]) => (
                <Fragment key={k}>
                  <dt class="mono">{k}</dt>
                  <dd class="mono">{v}</dd>
                </Fragment>
              ))}
            </dl>
          )}
          {r.body !== '' && <pre>{r.body}</pre>}
        </details>
      )}
    </div>
  );
}

/**
 * What the handler reported during the attempt (job.progress / job.log): the progress value as
 * JSON text and each log line as text, never as HTML (Preact writes them as text nodes).
 */
function TrailInfo({ trail }: { trail: Trail }) {
  const logs = trail.logs ?? [];
  if (!trail.progress && logs.length === 0 && !trail.logsDropped) return null;
  return (
    <div class="trail">
      {trail.progress && (
        <p class="progress">
          Progress <code class="progress-value">{JSON.stringify(trail.progress.value)}</code> at{' '}
          <span class="mono">{formatTime(trail.progress.at)}</span>
        </p>
      )}
      {logs.length > 0 && (
        <details class="logs" open={logs.length <= 10}>
          <summary>
            {logs.length} log line{logs.length === 1 ? '' : 's'}
          </summary>
          <ol class="log-lines">
            {logs.map((l, i) => (
              <li key={i}>
                <span class="mono log-at">{formatTime(l.at)}</span> <span class="log-line">{l.line}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
      {trail.logsDropped ? (
        <p class="logs-dropped">
          {trail.logsDropped} more line{trail.logsDropped === 1 ? '' : 's'} dropped (over the per-attempt
          bound)
        </p>
      ) : null}
    </div>
  );
}

function ManualInfo({ manual }: { manual: Manual }) {
  return (
    <div class="manual">
      <p>
        Manual trigger by <strong class="manual-by">{manual.by}</strong> at{' '}
        <span class="mono">{formatTime(manual.at)}</span>
        {manual.note ? (
          <>
            : <q class="manual-note">{manual.note}</q>
          </>
        ) : null}
      </p>
      {manual.patch && <PatchDiff changes={manual.patch} caption="Data patch" />}
    </div>
  );
}

/** What the job's policy would still do after its next failure (POST /retry-plan). */
function Remaining({ job }: { job: JobT }) {
  const open = job.state === 'scheduled' || job.state === 'waiting' || job.state === 'active';
  const plan = useLoad(
    () =>
      open
        ? api<PolicyPreview>('POST', '/retry-plan', { policy: job.options.retry })
        : Promise.resolve(undefined),
    `${job.id}:${open}`,
  );
  if (!open) return null;
  const next = job.failures + 1;
  const steps = plan.data?.steps.filter((s) => s.attempt > next) ?? [];
  return (
    <section aria-labelledby="remaining-title">
      <h2 id="remaining-title">Remaining retries</h2>
      <ErrorMessage error={plan.error} action="The policy cannot be previewed here" />
      {plan.data && (
        <>
          <p>
            The next attempt counts as {next} of {plan.data.maxAttempts}.{' '}
            {steps.length === 0
              ? 'If it fails, the job is dead-lettered.'
              : `If it fails, the policy retries ${steps.length} more time${steps.length === 1 ? '' : 's'}:`}
          </p>
          <ol class="remaining">
            {steps.map((s) => (
              <li key={s.attempt}>
                attempt {s.attempt}: after {formatDuration(s.delayMs)}
                {s.minDelayMs !== s.maxDelayMs
                  ? ` (range ${formatDuration(s.minDelayMs)}–${formatDuration(s.maxDelayMs)})`
                  : ''}{' '}
                — {s.explanation}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

interface Explanation {
  readonly summary: string;
  readonly holds: readonly {
    readonly kind: string;
    readonly text: string;
    /** A rate-limit hold: the queue's bucket or its group's. */
    readonly scope?: 'queue' | 'group';
    readonly group?: string;
  }[];
}

/** Why a scheduled or waiting job is not running (GET …/why): each hold, in order. */
function Why({ queue, id, version }: { queue: string; id: string; version: string }) {
  const why = useLoad(
    () => api<Explanation>('GET', `/queues/${enc(queue)}/jobs/${enc(id)}/why`),
    `${queue}/${id}/${version}`,
  );
  const e = why.data;
  return (
    <section class="why" aria-labelledby="why-title">
      <h2 id="why-title">Why isn't it running?</h2>
      <ErrorMessage error={why.error} action="Could not explain the job" />
      {e && e.holds.length === 0 && <p>{e.summary}</p>}
      {e && e.holds.length > 0 && (
        <ul>
          {e.holds.map((h, i) => (
            <li key={`${h.kind}-${i}`} data-hold={h.kind}>
              <Badge kind="scheduled">{h.kind}</Badge> {h.text}
              {h.kind === 'rate-limit' && (
                <>
                  {' '}
                  <Link
                    href={paths.rateLimits(queue, h.scope === 'group' && h.group ? { group: h.group } : {})}
                  >
                    {h.scope === 'group' && h.group ? `See group ${h.group}` : 'See the rate limits'}
                  </Link>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
