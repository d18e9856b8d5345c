/**
 * Renders a job's story as a terminal timeline: each attempt's due and actual start (the drift),
 * its duration, outcome, error, class and the rule behind it, and the decision with its
 * explanation. Used by the demo and the CLI. What a job holds (its name, errors, notes, the
 * explanations of custom strategies) is shown escaped, never obeyed by the terminal (terminal.ts).
 * @module
 */
import { foldedText } from './dedup.js';
import { formatDuration } from './duration.js';
import { paint, render, type Colour } from './terminal.js';
import type { Attempt, AttemptResponse, Job } from './types.js';

export interface TimelineOptions {
  /** ANSI colours. @default false */
  readonly color?: boolean;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

export function renderTimeline(job: Job, options: TimelineOptions = {}): string {
  return timelineLines(job)
    .map((line) => render(line, options.color === true))
    .join('\n');
}

/**
 * The lines of {@link renderTimeline} before `render` (terminal.ts): colours are marks and job text
 * is raw, so each line must be rendered, as the CLI's `Output.line` does.
 * @internal
 */
export function timelineLines(job: Job): string[] {
  const lines: string[] = [];
  const state =
    job.state === 'dead' && job.dead
      ? `dead (${job.dead.reason})`
      : job.state === 'cancelled' && job.cancelled
        ? `cancelled by ${job.cancelled.by}${job.cancelled.reason ? `: ${job.cancelled.reason}` : ''}`
        : job.state;
  lines.push(
    `${paint('bold', `job ${job.id}`)} ${JSON.stringify(job.name)} on ${job.queue}: ${paint(stateColor(job.state), state)}, ` +
      `${job.attempts.length} attempt${job.attempts.length === 1 ? '' : 's'}` +
      (job.stalls ? `, ${job.stalls} stall${job.stalls === 1 ? '' : 's'}` : ''),
  );
  lines.push(
    paint(
      'dim',
      `  created ${clock(job.createdAt)} UTC, policy: up to ${job.options.retry.maxAttempts} attempts` +
        // (older stored jobs have no priority: 0)
        (job.priority ? `, priority ${job.priority}` : ''),
    ),
  );
  if (job.folded) {
    lines.push(
      paint(
        'dim',
        `  ${foldedText(job.folded.count, job.dedup?.mode, job.dedup?.key)}, the last at ${clock(job.folded.lastAt)} UTC`,
      ),
    );
  } else if (job.dedup) lines.push(paint('dim', `  ${job.dedup.mode} key ${JSON.stringify(job.dedup.key)}`));
  for (const a of job.attempts) lines.push(...renderAttempt(a));
  if (job.current) {
    const c = job.current;
    lines.push(
      `  #${c.n} ${c.trigger.padEnd(6)} due ${clock(c.dueAt)}  started ${clock(c.startedAt)} (drift ${formatDuration(c.startedAt - c.dueAt)})  ` +
        paint('blue', `running on ${c.workerId}`),
    );
    lines.push(...renderWaits(c));
    lines.push(...renderTrail(c));
  } else if (job.state === 'scheduled' || job.state === 'waiting') {
    lines.push(paint('dim', `  next attempt due ${clock(job.dueAt)}`));
  }
  for (const r of job.refusals) {
    lines.push(
      paint(
        'magenta',
        `  refused: late ${r.outcome} for attempt #${r.attempt} from ${r.workerId} at ${clock(r.at)} (lease lost)`,
      ),
    );
  }
  return lines;
}

function stateColor(state: string): Colour {
  return state === 'completed' ? 'green' : state === 'dead' ? 'red' : state === 'active' ? 'blue' : 'yellow';
}

function renderAttempt(a: Attempt): string[] {
  const outcomeColor = a.outcome === 'succeeded' ? 'green' : a.outcome === 'stalled' ? 'magenta' : 'red';
  const head =
    `  #${a.n} ${a.trigger.padEnd(6)} due ${clock(a.dueAt)}  started ${clock(a.startedAt)} (drift ${formatDuration(a.driftMs)})  ` +
    `took ${formatDuration(a.finishedAt - a.startedAt)}  ${paint(outcomeColor, a.outcome)}  on ${a.workerId}`;
  const out = [head];
  // Why the start was late, when a rate limit held the claim back (the drift above includes it).
  if (a.rateLimit) out.push(`       ${paint('yellow', `waited: ${a.rateLimit.explanation}`)}`);
  if (a.manual) {
    const patch = a.manual.patch?.length
      ? `, patch: ${a.manual.patch.map((p) => `${p.op} ${p.path}`).join(', ')}`
      : '';
    out.push(
      paint(
        'cyan',
        `       replayed by ${a.manual.by}${a.manual.note ? ` ("${a.manual.note}")` : ''}${patch}`,
      ),
    );
  }
  out.push(...renderWaits(a));
  if (a.error) {
    const code = a.error.code ? ` [${a.error.code}]` : '';
    out.push(`       ${paint('red', `${a.error.name}: ${a.error.message}${code}`)}`);
    const by = a.classifiedBy === 'worker' ? ", by the worker's table" : '';
    if (a.errorClass) out.push(`       class ${a.errorClass} (rule ${a.rule ?? '?'}${by})`);
  }
  const d = a.decision;
  const arrow =
    d.action === 'done'
      ? paint('green', '→ done')
      : d.action === 'retry'
        ? paint(
            'yellow',
            `→ retry at ${clock(d.nextDueAt)} (in ${formatDuration(d.delayMs)}, ${d.source}): ${d.explanation}`,
          )
        : d.action === 'dead'
          ? paint('red', `→ dead-letter (${d.reason}): ${d.explanation}`)
          : paint('yellow', `→ ${d.explanation}`);
  out.push(`       ${arrow}`);
  if (a.pause) {
    const what = a.pause.scope === 'group' ? `group ${a.pause.group ?? '?'}` : 'the queue';
    out.push(
      `       ${paint('yellow', `paused ${what} for ${formatDuration(a.pause.ms)} (upstream rate limit; not a failed attempt)`)}`,
    );
  }
  if (a.response) out.push(`       ${paint('cyan', responseLine(a.response))}`);
  out.push(...renderTrail(a));
  return out;
}

/** An attempt's HTTP response in one line (the body excerpt is in its logs and `--json`). */
export function responseLine(r: AttemptResponse): string {
  const headers = Object.entries(r.headers).map(([k, v]) => `; ${k}: ${v}`);
  return `response ${r.status} in ${formatDuration(r.ms)}${r.redirects ? ` after ${r.redirects} redirect${r.redirects === 1 ? '' : 's'}` : ''}, ${r.bodyBytes} byte${r.bodyBytes === 1 ? '' : 's'}${headers.join('')}`;
}

/**
 * What decided when the attempt ran, as its record says: the scheduler tick that created the job,
 * jobs of a higher priority (a rate limit's wait is printed under the attempt's head line).
 */
function renderWaits(a: Pick<Attempt, 'priority' | 'schedule'>): string[] {
  const out: string[] = [];
  if (a.schedule) {
    const s = a.schedule;
    out.push(
      paint(
        'dim',
        `       scheduler ${s.scheduler}: tick planned ${clock(s.plannedAt)}, ${s.explanation} (missed policy ${s.missed})`,
      ),
    );
  }
  if (a.priority) out.push(`       ${paint('yellow', `waited: ${a.priority.explanation}`)}`);
  return out;
}

/** How many log lines of an attempt `jobs show` prints (the API and the dashboard have them all). */
export const SHOWN_LOG_LINES = 20;

/**
 * An attempt's progress and log lines (job.progress / job.log): the handler's own text, escaped
 * by `render` like everything a job holds, one terminal line each.
 */
function renderTrail(a: Pick<Attempt, 'progress' | 'logs' | 'logsDropped'>): string[] {
  const out: string[] = [];
  if (a.progress) {
    out.push(paint('cyan', `       progress ${JSON.stringify(a.progress.value)} at ${clock(a.progress.at)}`));
  }
  const logs = a.logs ?? [];
  const hidden = Math.max(0, logs.length - SHOWN_LOG_LINES);
  if (hidden > 0) {
    out.push(
      paint(
        'dim',
        `       … ${hidden} earlier log line${hidden === 1 ? '' : 's'} (jobs show --json has them all)`,
      ),
    );
  }
  for (const l of logs.slice(hidden)) out.push(`       ${paint('dim', `log ${clock(l.at)}`)} ${l.line}`);
  if (a.logsDropped) {
    out.push(
      paint(
        'yellow',
        `       ${a.logsDropped} log line${a.logsDropped === 1 ? '' : 's'} dropped (over the per-attempt bound)`,
      ),
    );
  }
  return out;
}
