/**
 * "Why isn't it running?", the pure half: from facts read once (the job and its attempt records,
 * the queue's pause flag and priority aging, the jobs ahead of it, the live workers, its scheduler)
 * and the backend's clock, what holds a job back, as a list of typed holds with a sentence each,
 * or what finished it. No backend, no clock of its own: `Queue.explain` gathers the facts.
 *
 * Holds come from recorded state only, in the order a reader needs them: when it is due (with the
 * retry decision that set the time), the queue's pause, the jobs a claim takes first (priority,
 * aging, FIFO), no live worker. Extension point: a hold kind is a member of {@link Hold}; the
 * `rate-limit` and `retry-budget` kinds are declared for the gatherers that know those states
 * (`HOLD_SOURCES`: a source reads what it needs and returns holds, appended in order).
 * @module
 */
import type { Backend, WaitingAhead } from './backend.js';
import { formatDuration } from './duration.js';
import type { Scheduler } from './schedule.js';
import type { Job, JobState } from './types.js';
import type { WorkerRegistry } from './workers.js';

/** Most jobs counted ahead of one (beyond: "at least"). */
export const MAX_COUNTED_AHEAD = 10_000;

/** The job is not due yet: when, and what set that time. */
export interface DueHold {
  readonly kind: 'due';
  readonly dueAt: number;
  readonly inMs: number;
  /** `retry`: a retry decision; `delay`: added with a delay or runAt; `schedule`: a scheduler's planned time. */
  readonly cause: 'retry' | 'delay' | 'schedule';
  /** The attempt it waits to run. */
  readonly attempt: number;
  /** For a retry: which retry (1 = the first), the strategy and the decision's explanation. */
  readonly retry?: number;
  readonly strategy?: string;
  /** `policy` or `handler` (a Retry-After the handler gave). */
  readonly source?: 'policy' | 'handler';
  readonly explanation?: string;
  readonly text: string;
}

export interface PausedHold {
  readonly kind: 'paused';
  readonly text: string;
}

/** A claim takes other waiting jobs first. */
export interface PriorityHold {
  readonly kind: 'priority';
  readonly ahead: number;
  /** At least `ahead` (counting stopped at {@link MAX_COUNTED_AHEAD}). */
  readonly atLeast: boolean;
  readonly higher: number;
  readonly same: number;
  /** Lower priorities that aging put ahead. */
  readonly aged: number;
  readonly priority: number;
  /** With aging: its effective priority now (priority + waited / agingMs). */
  readonly effectivePriority?: number;
  readonly agingMs: number;
  readonly text: string;
}

export interface NoWorkerHold {
  readonly kind: 'no-worker';
  /** When a worker was last alive on the queue; undefined: never. */
  readonly lastSeenAt: number | undefined;
  readonly forMs: number | undefined;
  readonly text: string;
}

/** The job does not exist yet: its scheduler creates it at its planned time. */
export interface SchedulerHold {
  readonly kind: 'scheduler';
  readonly schedulerId: string;
  readonly plannedAt: number;
  readonly paused: boolean;
  /** The scheduler's next run (kept while paused). */
  readonly nextRunAt: number;
  readonly text: string;
}

/** Declared for the rate-limit gatherer: a token bucket (queue or group) is empty until `until`. */
export interface RateLimitHold {
  readonly kind: 'rate-limit';
  readonly scope: 'queue' | 'group';
  readonly group?: string;
  readonly until: number;
  readonly text: string;
}

/**
 * The queue's retry budget deferred this retry (read from the retry decision's `budget` note): by
 * how much, and the budget at that moment.
 */
export interface RetryBudgetHold {
  readonly kind: 'retry-budget';
  readonly until?: number;
  readonly deferredMs?: number;
  /** First attempts in the budget's window, and the retries it allowed for them. */
  readonly firstAttempts?: number;
  readonly allowed?: number;
  readonly text: string;
}

export type Hold =
  DueHold | PausedHold | PriorityHold | NoWorkerHold | SchedulerHold | RateLimitHold | RetryBudgetHold;
export type HoldKind = Hold['kind'];

/** What `queue.explain(id)` answers. */
export interface Explanation {
  readonly queue: string;
  readonly id: string;
  /** `not-created`: a scheduler's job that does not exist yet. */
  readonly state: JobState | 'not-created';
  /** The backend's clock when it looked. */
  readonly now: number;
  /** One sentence: running, finished how, next to be claimed, or the first hold. */
  readonly summary: string;
  /** What keeps it from running now, in order (empty: running, finished, or next in line). */
  readonly holds: readonly Hold[];
  /** For a finished job: what finished it. */
  readonly finished?: {
    readonly state: 'completed' | 'dead' | 'cancelled';
    readonly at: number;
    readonly text: string;
  };
  /** For a job a scheduler created: which, and the occurrence. */
  readonly scheduler?: { readonly id: string; readonly plannedAt: number };
}

/** Everything explain reads, once. */
export interface ExplainFacts {
  readonly queue: string;
  readonly id: string;
  readonly now: number;
  /** null: no such job. */
  readonly job: Job | null;
  readonly paused: boolean;
  readonly agingMs: number;
  readonly ahead: WaitingAhead | null;
  readonly workers: WorkerRegistry;
  /** For a job that does not exist but whose id is a scheduler's (`sch:<id>:<ms>`). */
  readonly scheduler?: Scheduler | null;
  readonly plannedAt?: number;
}

const dur = (ms: number): string => formatDuration(Math.max(0, ms));
const iso = (t: number): string => new Date(t).toISOString();

function dueHold(f: ExplainFacts, job: Job): DueHold {
  const inMs = job.dueAt - f.now;
  const attempt = job.attempts.length + 1;
  const last = job.attempts[job.attempts.length - 1];
  const when = inMs > 0 ? `due in ${dur(inMs)} (${iso(job.dueAt)})` : `due since ${dur(-inMs)}`;
  if (last && last.decision.action === 'retry') {
    const d = last.decision;
    const retry = attempt - 1;
    const strategy = d.source === 'handler' ? 'handler' : (d.detail?.strategy ?? 'policy');
    const how = d.source === 'handler' ? 'the handler asked for this delay: ' : '';
    return {
      kind: 'due',
      dueAt: job.dueAt,
      inMs,
      cause: 'retry',
      attempt,
      retry,
      strategy,
      source: d.source,
      explanation: d.explanation,
      text: `${when}: retry ${retry} (attempt ${attempt}), ${how}${d.explanation}`,
    };
  }
  const cause = job.scheduler && job.attempts.length === 0 ? 'schedule' : 'delay';
  return {
    kind: 'due',
    dueAt: job.dueAt,
    inMs,
    cause,
    attempt,
    text:
      cause === 'schedule'
        ? `${when}: the planned time of scheduler ${job.scheduler?.id ?? ''}`
        : `${when}: added with a delay (attempt ${attempt})`,
  };
}

/** The retry budget's deferral of the retry the job waits for, as its decision recorded it. */
function budgetHold(job: Job): RetryBudgetHold | undefined {
  const last = job.attempts[job.attempts.length - 1];
  if (!last || last.decision.action !== 'retry' || !last.decision.budget) return undefined;
  const b = last.decision.budget;
  return {
    kind: 'retry-budget',
    until: job.dueAt,
    deferredMs: b.deferredMs,
    firstAttempts: b.firstAttempts,
    allowed: b.allowed,
    text: `deferred ${dur(b.deferredMs)} by the queue's retry budget: ${b.allowed} retr${b.allowed === 1 ? 'y' : 'ies'} allowed for ${b.firstAttempts} first attempt${b.firstAttempts === 1 ? '' : 's'} in its window`,
  };
}

function priorityHold(f: ExplainFacts, job: Job, a: WaitingAhead): PriorityHold | undefined {
  const ahead = a.same + a.higher + a.aged;
  if (ahead === 0) return undefined;
  const parts: string[] = [];
  if (a.higher > 0) parts.push(`${a.higher} of higher priority`);
  if (a.aged > 0) parts.push(`${a.aged} of lower priority that waited longer (aging)`);
  if (a.same > 0) parts.push(`${a.same} of its priority (${a.priority}) that became due before it`);
  const effective =
    f.agingMs > 0 ? a.priority + Math.floor(Math.max(0, f.now - job.dueAt) / f.agingMs) : undefined;
  const aging =
    f.agingMs > 0
      ? `; aging +1 level per ${dur(f.agingMs)} waited: its effective priority is ${effective} now`
      : '';
  return {
    kind: 'priority',
    ahead,
    atLeast: a.capped,
    higher: a.higher,
    same: a.same,
    aged: a.aged,
    priority: a.priority,
    ...(effective !== undefined ? { effectivePriority: effective } : {}),
    agingMs: f.agingMs,
    text: `behind ${a.capped ? 'at least ' : ''}${ahead} job${ahead === 1 ? '' : 's'} a claim takes first: ${parts.join(', ')}${aging}`,
  };
}

function noWorkerHold(f: ExplainFacts): NoWorkerHold | undefined {
  if (f.workers.workers.length > 0) return undefined;
  const seen = f.workers.lastSeenAt;
  const forMs = seen === undefined ? undefined : Math.max(0, f.now - seen);
  return {
    kind: 'no-worker',
    lastSeenAt: seen,
    forMs,
    text:
      forMs === undefined
        ? `no worker has ever registered on queue ${f.queue}`
        : `no live worker on queue ${f.queue} for ${dur(forMs)} (last seen ${iso(seen as number)})`,
  };
}

function finishedText(
  job: Job,
): { state: 'completed' | 'dead' | 'cancelled'; at: number; text: string } | undefined {
  const last = job.attempts[job.attempts.length - 1];
  const at = job.finishedAt ?? last?.finishedAt ?? 0;
  if (job.state === 'completed') {
    return {
      state: 'completed',
      at,
      text: `completed at ${iso(at)}: attempt ${last?.n ?? job.attempts.length} succeeded${last ? ` on worker ${last.workerId}` : ''}`,
    };
  }
  if (job.state === 'dead' && job.dead) {
    const err = job.dead.error ?? last?.error;
    const why =
      job.dead.reason === 'exhausted'
        ? `its retries were used up (${job.attempts.length} attempt${job.attempts.length === 1 ? '' : 's'})`
        : job.dead.reason === 'permanent'
          ? `a permanent error (${last?.rule ?? 'classified permanent'})`
          : job.dead.reason === 'poison'
            ? `it stalled its workers ${job.stalls} times (poison)`
            : `its retry was over the queue's retry budget, which dead-letters (${job.dead.reason})`;
    return {
      state: 'dead',
      at: job.dead.at,
      text: `dead-lettered at ${iso(job.dead.at)}: ${why}${err ? `; last error ${err.name}${err.code ? ` [${err.code}]` : ''}: ${err.message}` : ''}`,
    };
  }
  if (job.state === 'cancelled' && job.cancelled) {
    const c = job.cancelled;
    return {
      state: 'cancelled',
      at: c.at,
      text: `cancelled at ${iso(c.at)} by ${c.by}${c.reason ? `: ${c.reason}` : ''}`,
    };
  }
  return undefined;
}

/** The explanation of one job from its facts (see the module comment). Pure. */
export function explainJob(f: ExplainFacts, extra: readonly Hold[] = []): Explanation {
  const base = { queue: f.queue, id: f.id, now: f.now };
  const job = f.job;
  if (!job) {
    const s = f.scheduler;
    if (!s || f.plannedAt === undefined) {
      return { ...base, state: 'not-created', summary: `no job ${f.id} in queue ${f.queue}`, holds: [] };
    }
    const hold: SchedulerHold = {
      kind: 'scheduler',
      schedulerId: s.id,
      plannedAt: f.plannedAt,
      paused: s.paused,
      nextRunAt: s.nextRunAt,
      text: s.paused
        ? `not created yet: scheduler ${s.id} is paused (its occurrence at ${iso(f.plannedAt)} is skipped while it is)`
        : f.plannedAt >= s.nextRunAt
          ? `not created yet: scheduler ${s.id} creates it at ${iso(f.plannedAt)}${f.plannedAt === s.nextRunAt ? ` (its next run, in ${dur(f.plannedAt - f.now)})` : ''}`
          : `not created: scheduler ${s.id} is past this occurrence (next run ${iso(s.nextRunAt)}); its tick ledger says why`,
    };
    return { ...base, state: 'not-created', summary: hold.text, holds: [hold, ...extra] };
  }
  const origin = job.scheduler ? { scheduler: job.scheduler } : {};
  if (job.state === 'active') {
    const c = job.current;
    const summary = c
      ? `running: attempt ${c.n} on worker ${c.workerId} since ${iso(c.startedAt)} (${dur(f.now - c.startedAt)}), lease until ${iso(c.leaseExpiresAt)}`
      : 'running';
    return { ...base, state: 'active', summary, holds: [], ...origin };
  }
  const fin = finishedText(job);
  if (fin) return { ...base, state: job.state, summary: fin.text, holds: [], finished: fin, ...origin };

  const holds: Hold[] = [];
  if (job.state === 'scheduled' && job.dueAt > f.now) {
    holds.push(dueHold(f, job));
    const b = budgetHold(job);
    if (b) holds.push(b);
  }
  if (f.paused) {
    holds.push({
      kind: 'paused',
      text: `queue ${f.queue} is paused: nothing is claimed until it is resumed`,
    });
  }
  if (f.ahead) {
    const p = priorityHold(f, job, f.ahead);
    if (p) holds.push(p);
  }
  const nw = noWorkerHold(f);
  if (nw) holds.push(nw);
  holds.push(...extra);
  const summary =
    holds[0]?.text ??
    (job.state === 'scheduled'
      ? `due since ${dur(f.now - job.dueAt)}: the next claim on queue ${f.queue} promotes and runs it`
      : `next in line: the next claim on queue ${f.queue} takes it`);
  return { ...base, state: job.state, summary, holds, ...origin };
}

/** What a hold source gets: the backend and the job (null: not created). */
export interface HoldContext {
  readonly backend: Backend;
  readonly queue: string;
  readonly job: Job | null;
  readonly now: number;
}

/**
 * Gatherers of holds beyond the core ones, run by `Queue.explain` in this order and appended:
 * the place for the rate-limit and retry-budget holds (each returns [] when it does not apply).
 */
export const HOLD_SOURCES: readonly ((ctx: HoldContext) => Promise<readonly Hold[]>)[] = [rateLimitHolds];

/**
 * A waiting job whose queue's bucket, or whose group's, has no token now (src/rate-limit.ts): until
 * when. Claims take nothing from an empty bucket; a group's turn is skipped until its token.
 */
async function rateLimitHolds(ctx: HoldContext): Promise<readonly Hold[]> {
  const job = ctx.job;
  if (!job || job.state !== 'waiting') return [];
  const holds: Hold[] = [];
  const limits = await ctx.backend.getRateLimits(ctx.queue);
  if (limits.queueNextTokenAt !== undefined) {
    const until = limits.queueNextTokenAt;
    const what = limits.queue ? `queue rate limit ${limits.queue.label}` : 'queue paused by a handler';
    holds.push({
      kind: 'rate-limit',
      scope: 'queue',
      until,
      text: `${what}: no token until ${new Date(until).toISOString()} (in ${dur(until - ctx.now)})`,
    });
  }
  if (job.group !== undefined) {
    const until = await ctx.backend.groupNextTokenAt(ctx.queue, job.group);
    if (until !== undefined) {
      const limit = limits.groups[job.group] ?? limits.group;
      const what = limit
        ? `rate limit of group ${job.group} (${limit.label})`
        : `group ${job.group} paused by a handler`;
      holds.push({
        kind: 'rate-limit',
        scope: 'group',
        group: job.group,
        until,
        text: `${what}: empty until ${new Date(until).toISOString()} (in ${dur(until - ctx.now)})`,
      });
    }
  }
  return holds;
}
