/**
 * What-if: recorded history replayed under another retry policy and/or error-code table. Pure: jobs
 * in, a report out; no backend, no clock. Every decision of the simulation is made by the worker's
 * own functions (`decideAfterFailure` in decide.ts, which plans with backoff.ts; `classifyError` in
 * classify.ts; `countsAsFailure` / `keepsPreviousDelay` in transitions.ts), never a copy.
 *
 * The model (also in docs/retry-intelligence.md):
 * - Scope: finished jobs (completed or dead) whose whole history is automatic. A job run again by a
 *   person (a manual attempt) or whose policy names a custom strategy not known here is counted as
 *   excluded, never simulated.
 * - Each recorded attempt's outcome (success, or the failure with its error) is taken as what that
 *   attempt number would do under any policy; its drift (start − due) and run time are kept, and the
 *   delays between attempts are the alternative policy's. Stalls and interruptions replay as they
 *   happened (the retry policy does not govern them); so does the retry budget (a recorded
 *   deferral is added to the alternative's delay, a budget dead-letter ends the job).
 * - When the alternative runs an attempt the record does not have (the recorded job was
 *   dead-lettered sooner), that outcome is unknown: the optimistic scenario lets it succeed
 *   (drift 0, run time of the job's last recorded attempt); the pessimistic scenario lets it, and
 *   every later one, fail like the last recorded failure until the policy dead-letters. A job whose
 *   alternative never leaves the record is `known`: both scenarios agree on it.
 * - Jitter: with `draws: 'recorded'` (the default) a retry whose recorded decision kept its random
 *   draw (`detail.draw`) reuses it, so replaying a history under its own policy reproduces it to the
 *   millisecond; every other draw comes from a seeded generator (mulberry32, seeded from the seed
 *   and the job id, so a job's draws do not depend on which other jobs are in scope).
 * @module
 */
import { MAX_ATTEMPTS, resolveRetryPolicy, type CustomStrategy } from './backoff.js';
import {
  classifyError,
  resolveClassifyOptions,
  storedClassifyOptions,
  type Classification,
  type ClassifyOptions,
  type ResolvedClassifyOptions,
} from './classify.js';
import { decideAfterFailure } from './decide.js';
import { ValidationError } from './errors.js';
import {
  resolveHistoryScope,
  resolveHistorySource,
  type HistorySource,
  type ResolvedHistoryScope,
} from './recorded.js';
import { countsAsFailure } from './transitions.js';
import type {
  Attempt,
  Backoff,
  ClassifyOptionsStored,
  DeadReason,
  Job,
  ResolvedRetryPolicy,
  RetryPolicy,
} from './types.js';
import { assertInt } from './validate.js';

// Random source ------------------------------------------------------------------------------------

/** mulberry32: a small, fast, well-mixed 32-bit generator; returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of one job's generator: FNV-1a of its id, mixed with the run's seed. */
export function jobSeed(seed: number, id: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// Scenarios ----------------------------------------------------------------------------------------

/** How one job's history ends in one scenario. Times are ms since epoch on the backend's clock. */
export interface Run {
  readonly outcome: 'succeeded' | 'dead';
  readonly deadReason?: DeadReason;
  /** Attempts made (every recorded or simulated attempt, stalls and interruptions included). */
  readonly attempts: number;
  /** When the last attempt finished. */
  readonly endedAt: number;
  /** From the first attempt's due time to the successful attempt's end. */
  readonly timeToSuccessMs?: number;
  /** When each retry the retry policy scheduled (after a failure) was due. */
  readonly retriesDueAt: readonly number[];
}

export interface JobReplay {
  readonly id: string;
  readonly name: string;
  readonly recorded: Run;
  /** The alternative stayed within the recorded attempts: both scenarios are the same, and certain. */
  readonly known: boolean;
  readonly optimistic: Run;
  readonly pessimistic: Run;
}

/** What the replay uses instead of what was recorded. */
export interface Alternative {
  /** Absent: each job's own stored policy. */
  readonly retry?: ResolvedRetryPolicy | undefined;
  /** Without `retry`: each job's own policy, with this many attempts (see {@link withAttempts}). */
  readonly attempts?: number | undefined;
  /** Absent: each attempt's recorded classification. */
  readonly classify?: ResolvedClassifyOptions | undefined;
  readonly seed: number;
  /** `recorded`: reuse a recorded jitter draw where there is one; `seeded`: every draw from the seed. */
  readonly draws: 'recorded' | 'seeded';
  readonly strategies?: Readonly<Record<string, CustomStrategy>> | undefined;
}

export type Exclusion = 'manual' | 'unfinished' | 'unknown-strategy';

/**
 * A policy with another number of attempts: its phases in order, cut where the retries run out, or
 * the last phase extended (a policy of no retries gets immediate ones).
 */
export function withAttempts(p: ResolvedRetryPolicy, attempts: number): ResolvedRetryPolicy {
  let left = attempts - 1;
  const phases = p.phases.map((ph) => {
    const retries = Math.min(ph.retries, left);
    left -= retries;
    return { retries, backoff: ph.backoff };
  });
  const last = phases[phases.length - 1];
  if (left > 0 && last) last.retries += left;
  else if (left > 0) phases.push({ retries: left, backoff: { type: 'immediate' } });
  return resolveRetryPolicy({ phases });
}

/** The policy a job is replayed under. */
export function policyFor(
  job: Pick<Job, 'options'>,
  alt: Pick<Alternative, 'retry' | 'attempts'>,
): ResolvedRetryPolicy {
  if (alt.retry) return alt.retry;
  return alt.attempts === undefined ? job.options.retry : withAttempts(job.options.retry, alt.attempts);
}

/** Why a job cannot be replayed, or undefined when it can. */
export function exclusionOf(
  job: Pick<Job, 'state' | 'attempts' | 'options'>,
  alt: Pick<Alternative, 'retry' | 'attempts' | 'strategies'>,
): Exclusion | undefined {
  if ((job.state !== 'completed' && job.state !== 'dead') || job.attempts.length === 0) return 'unfinished';
  if (job.attempts.some((a) => a.trigger === 'manual')) return 'manual';
  const last = job.attempts[job.attempts.length - 1] as Attempt;
  if (last.outcome !== 'succeeded' && last.decision.action !== 'dead') return 'unfinished';
  const policy = policyFor(job, alt);
  const known = alt.strategies ?? {};
  const custom = policy.phases.some(
    (p) => p.backoff.type === 'custom' && !Object.hasOwn(known, (p.backoff as { name: string }).name),
  );
  return custom ? 'unknown-strategy' : undefined;
}

/** The recorded run: what really happened. The job must be replayable (see {@link exclusionOf}). */
export function recordedRun(job: Pick<Job, 'attempts'>): Run {
  const a = job.attempts;
  const first = a[0] as Attempt;
  const last = a[a.length - 1] as Attempt;
  const retriesDueAt: number[] = [];
  for (const r of a) {
    if (countsAsFailure(r.outcome) && r.decision.action === 'retry') retriesDueAt.push(r.decision.nextDueAt);
  }
  const end = { attempts: a.length, endedAt: last.finishedAt, retriesDueAt };
  if (last.outcome === 'succeeded') {
    return { outcome: 'succeeded', ...end, timeToSuccessMs: last.finishedAt - first.dueAt };
  }
  const reason = last.decision.action === 'dead' ? last.decision.reason : 'exhausted';
  return { outcome: 'dead', deadReason: reason, ...end };
}

/**
 * The classification of a recorded failure: as recorded, or under another code table. The record
 * keeps the error's own code, the rule that matched (`code:X` may name a code found on the error's
 * cause, `http:503` a status) and, when the handler asked for a delay, that delay: the table is
 * applied by `classifyError` to an error rebuilt from those. Thrown Permanent/TemporaryError and
 * timeouts are classified by their own rules, whatever the table.
 */
export function classificationOf(rec: Attempt, table?: ResolvedClassifyOptions): Classification {
  const d = rec.decision;
  const retryAfterMs = d.action === 'retry' && d.source === 'handler' ? d.delayMs : undefined;
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };
  const rule = rec.rule ?? 'default';
  const recorded: Classification = {
    errorClass: rec.errorClass === 'permanent' ? 'permanent' : 'temporary',
    rule,
    ...after,
  };
  if (table === undefined || rule.startsWith('thrown:')) return recorded;
  if (rec.outcome === 'timed_out') return classifyError(undefined, table, { timedOut: true });
  const ruleCode = rule.startsWith('code:') ? rule.slice(5) : undefined;
  const status = rule.startsWith('http:') ? Number(rule.slice(5)) : undefined;
  const rebuilt = {
    ...(rec.error?.code !== undefined ? { code: rec.error.code } : {}),
    ...(ruleCode !== undefined && ruleCode !== rec.error?.code ? { cause: { code: ruleCode } } : {}),
    ...(status !== undefined && Number.isInteger(status) ? { status } : {}),
    ...after,
  };
  return classifyError(rebuilt, table);
}

const MAX_STEPS = 4000;

/** What the retry budget did after a recorded failure: dead-lettered it, deferred it by ms, or nothing. */
export function recordedBudget(rec: Attempt): 'dead' | number | undefined {
  const d = rec.decision;
  if (d.action === 'dead' && d.reason === 'budget') return 'dead';
  return d.action === 'retry' ? d.budget?.deferredMs : undefined;
}

/** One job under the alternative, in one scenario; `beyond` says whether it left the record. */
function simulate(
  job: Pick<Job, 'id' | 'options' | 'attempts'>,
  alt: Alternative,
  mode: 'optimistic' | 'pessimistic',
): { run: Run; beyond: boolean } {
  const recs = job.attempts;
  const policy = policyFor(job, alt);
  const seeded = seededRandom(jobSeed(alt.seed, job.id));
  const first = recs[0] as Attempt;
  const lastRec = recs[recs.length - 1] as Attempt;
  // What an attempt past the record is assumed to be like (pessimistic): the last recorded failure.
  const lastFailure = [...recs].reverse().find((r) => countsAsFailure(r.outcome)) ?? lastRec;
  const retriesDueAt: number[] = [];
  let due = first.dueAt;
  let failures = 0;
  let prev: number | undefined;
  let beyond = false;
  for (let k = 0; k < MAX_STEPS; k++) {
    let rec = recs[k];
    let drift: number;
    let runMs: number;
    if (rec !== undefined) {
      drift = rec.startedAt - rec.dueAt;
      runMs = rec.finishedAt - rec.startedAt;
    } else {
      beyond = true;
      drift = 0;
      runMs = lastRec.finishedAt - lastRec.startedAt;
      if (mode === 'optimistic') {
        const end = due + runMs;
        const run = { attempts: k + 1, endedAt: end, retriesDueAt, timeToSuccessMs: end - first.dueAt };
        return { run: { outcome: 'succeeded', ...run }, beyond };
      }
      rec = lastFailure;
    }
    const end = due + drift + runMs;
    const done = { attempts: k + 1, endedAt: end, retriesDueAt };
    switch (rec.outcome) {
      case 'succeeded':
        return { run: { outcome: 'succeeded', ...done, timeToSuccessMs: end - first.dueAt }, beyond };
      case 'failed':
      case 'timed_out': {
        const recordedDraw =
          alt.draws === 'recorded' && rec.decision.action === 'retry' && k < recs.length
            ? rec.decision.detail.draw
            : undefined;
        let used = recordedDraw === undefined;
        const random = (): number => {
          if (used) return seeded();
          used = true;
          return recordedDraw as number;
        };
        const d = decideAfterFailure({
          classification: classificationOf(rec, alt.classify),
          policy,
          failuresBefore: failures,
          prevDelayMs: prev,
          random,
          ...(rec.error !== undefined ? { error: rec.error } : {}),
          strategies: alt.strategies,
        });
        failures++;
        if (d.action === 'dead') return { run: { outcome: 'dead', deadReason: d.reason, ...done }, beyond };
        // The retry budget is the queue's traffic, kept as recorded (like drift): a retry it
        // dead-lettered ends the job, a deferral is added to the alternative's delay.
        const budget = k < recs.length ? recordedBudget(rec) : undefined;
        if (budget === 'dead') return { run: { outcome: 'dead', deadReason: 'budget', ...done }, beyond };
        due = end + d.delayMs + (budget ?? 0);
        retriesDueAt.push(due);
        prev = d.delayMs + (budget ?? 0);
        break;
      }
      default:
        // A stall or an interruption: the engine's own rules, as recorded (poison ends the job).
        // Neither counts as a failure nor changes the previous delay (`keepsPreviousDelay`; stall
        // recovery never sets it).
        if (rec.decision.action === 'dead') {
          return { run: { outcome: 'dead', deadReason: rec.decision.reason, ...done }, beyond };
        }
        due = end + (rec.decision.action === 'retry' ? rec.decision.delayMs : 0);
    }
  }
  // Unreachable with policies of at most MAX_ATTEMPTS attempts; said rather than looped forever.
  return {
    run: { outcome: 'dead', deadReason: 'exhausted', attempts: MAX_STEPS, endedAt: due, retriesDueAt },
    beyond: true,
  };
}

/** One job replayed under the alternative, beside what was recorded. The job must be replayable. */
export function replayJob(
  job: Pick<Job, 'id' | 'name' | 'options' | 'attempts'>,
  alt: Alternative,
): JobReplay {
  const optimistic = simulate(job, alt, 'optimistic');
  const pessimistic = simulate(job, alt, 'pessimistic');
  const known = !optimistic.beyond && !pessimistic.beyond;
  return {
    id: job.id,
    name: job.name,
    recorded: recordedRun(job),
    known,
    optimistic: optimistic.run,
    pessimistic: pessimistic.run,
  };
}

// Statistics -------------------------------------------------------------------------------------

export interface Peak {
  /** Most events in one bucket. */
  readonly count: number;
  /** Start of that bucket (ms since epoch); null when there were none. */
  readonly at: number | null;
}

export interface ScenarioStats {
  readonly jobs: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly deadByReason: Readonly<Record<DeadReason, number>>;
  readonly attempts: number;
  /** Retries the retry policy scheduled (after failures). */
  readonly retries: number;
  /** Nearest-rank percentiles over the succeeded jobs; null when none succeeded. */
  readonly timeToSuccessMs: { readonly p50: number; readonly p95: number } | null;
  /** Most retries due within one second (buckets aligned on whole seconds since epoch). */
  readonly peakRetriesDuePerSecond: Peak;
  /** Dead-letter volume: most jobs dead-lettered within one minute (aligned on whole minutes). */
  readonly peakDeadLettersPerMinute: Peak;
}

/** The nearest-rank percentile of ascending values (`p` in 0–100); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(i, sorted.length - 1)];
}

/** The bucket (of `size` ms, aligned on multiples of it) holding the most of `times`; earliest on ties. */
export function peak(times: Iterable<number>, size: number): Peak {
  const counts = new Map<number, number>();
  for (const t of times) {
    const b = Math.floor(t / size) * size;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  let best: Peak = { count: 0, at: null };
  for (const [at, count] of counts) {
    if (count > best.count || (count === best.count && best.at !== null && at < best.at)) {
      best = { count, at };
    }
  }
  return best;
}

export function scenarioStats(runs: readonly Run[]): ScenarioStats {
  const deadByReason: Record<DeadReason, number> = { exhausted: 0, permanent: 0, poison: 0, budget: 0 };
  const tts: number[] = [];
  let succeeded = 0;
  let attempts = 0;
  let retries = 0;
  for (const r of runs) {
    attempts += r.attempts;
    retries += r.retriesDueAt.length;
    if (r.outcome === 'succeeded') {
      succeeded++;
      tts.push(r.timeToSuccessMs ?? 0);
    } else deadByReason[r.deadReason ?? 'exhausted']++;
  }
  tts.sort((a, b) => a - b);
  const p50 = percentile(tts, 50);
  const p95 = percentile(tts, 95);
  return {
    jobs: runs.length,
    succeeded,
    dead: runs.length - succeeded,
    deadByReason,
    attempts,
    retries,
    timeToSuccessMs: p50 === undefined || p95 === undefined ? null : { p50, p95 },
    peakRetriesDuePerSecond: peak(
      (function* () {
        for (const r of runs) yield* r.retriesDueAt;
      })(),
      1000,
    ),
    peakDeadLettersPerMinute: peak(
      runs.filter((r) => r.outcome === 'dead').map((r) => r.endedAt),
      60_000,
    ),
  };
}

/** The classification dry run: the recorded failures under another code table. */
export interface ClassificationDryRun {
  /** Recorded failed or timed-out attempts examined. */
  readonly failedAttempts: number;
  /** Of those, how many the table classifies permanent… */
  readonly permanent: number;
  /** …of which were recorded temporary (so the job was retried after them). */
  readonly newlyPermanent: number;
  /** Recorded permanent, temporary under the table. */
  readonly newlyTemporary: number;
  /** Jobs with at least one attempt the table classifies permanent… */
  readonly jobsWithPermanent: number;
  /** …that in fact succeeded later. */
  readonly laterSucceeded: number;
  /** By rule under the table (`code:ECONNRESET` → 1240), permanent attempts only. */
  readonly permanentByRule: Readonly<Record<string, number>>;
  readonly summary: string;
}

export function classificationDryRun(
  jobs: readonly Pick<Job, 'attempts'>[],
  table: ResolvedClassifyOptions,
): ClassificationDryRun {
  const fold = classificationFold(table);
  for (const job of jobs) fold.add(job);
  return fold.result();
}

/** {@link classificationDryRun} one job at a time (the what-if streams jobs from the archive). */
export function classificationFold(table: ResolvedClassifyOptions): {
  add(job: Pick<Job, 'attempts'>): void;
  result(): ClassificationDryRun;
} {
  let failedAttempts = 0;
  let permanent = 0;
  let newlyPermanent = 0;
  let newlyTemporary = 0;
  let jobsWithPermanent = 0;
  let laterSucceeded = 0;
  const permanentByRule: Record<string, number> = {};
  const add = (job: Pick<Job, 'attempts'>): void => {
    let firstPermanent = -1;
    job.attempts.forEach((rec, i) => {
      if (!countsAsFailure(rec.outcome)) return;
      failedAttempts++;
      const c = classificationOf(rec, table);
      const was = rec.errorClass === 'permanent' ? 'permanent' : 'temporary';
      if (c.errorClass === 'permanent') {
        permanent++;
        permanentByRule[c.rule] = (permanentByRule[c.rule] ?? 0) + 1;
        if (was === 'temporary') newlyPermanent++;
        if (firstPermanent < 0) firstPermanent = i;
      } else if (was === 'permanent') newlyTemporary++;
    });
    if (firstPermanent < 0) return;
    jobsWithPermanent++;
    if (job.attempts.slice(firstPermanent + 1).some((a) => a.outcome === 'succeeded')) laterSucceeded++;
  };
  const result = (): ClassificationDryRun => {
    const n = (v: number): string => v.toLocaleString('en-US');
    const s = (v: number, one: string, many: string): string => `${n(v)} ${v === 1 ? one : many}`;
    const summary =
      `with this code table, ${s(permanent, 'attempt', 'attempts')} would have been permanent ` +
      `(${n(newlyPermanent)} of them recorded temporary), in ${s(jobsWithPermanent, 'job', 'jobs')}; ` +
      `${n(laterSucceeded)} of those jobs later succeeded`;
    return {
      failedAttempts,
      permanent,
      newlyPermanent,
      newlyTemporary,
      jobsWithPermanent,
      laterSucceeded,
      permanentByRule: { ...permanentByRule },
      summary,
    };
  };
  return { add, result };
}

// The report -------------------------------------------------------------------------------------

export interface WhatIfComparison {
  readonly recorded: ScenarioStats;
  readonly alternative: {
    /** Jobs whose alternative outcome the record settles (both scenarios agree on them). */
    readonly known: number;
    /** Jobs the alternative runs past their record: their outcome is a bound, not a fact. */
    readonly unknown: number;
    /** Every unknown attempt succeeds at once: an upper bound on successes, a lower one on attempts. */
    readonly optimistic: ScenarioStats;
    /** Every unknown attempt fails like the job's last recorded failure, until the policy gives up. */
    readonly pessimistic: ScenarioStats;
  };
}

/** The side-by-side comparison of replayed jobs. */
export function compare(replays: readonly JobReplay[]): WhatIfComparison {
  const known = replays.filter((r) => r.known).length;
  return {
    recorded: scenarioStats(replays.map((r) => r.recorded)),
    alternative: {
      known,
      unknown: replays.length - known,
      optimistic: scenarioStats(replays.map((r) => r.optimistic)),
      pessimistic: scenarioStats(replays.map((r) => r.pessimistic)),
    },
  };
}

/** Whether any phase of a policy draws at random (so the seed matters). */
export function usesJitter(policy: ResolvedRetryPolicy): boolean {
  return policy.phases.some((p) => hasJitter(p.backoff));
}

/** A backoff that spreads its delays at random: exponential with jitter, or a custom strategy (may). */
export function hasJitter(b: Backoff): boolean {
  return (b.type === 'exponential' && (b.jitter ?? 'none') !== 'none') || b.type === 'custom';
}

// Options and the whole report ----------------------------------------------------------------------

/** What `queue.whatIf` takes. */
export interface WhatIfOptions {
  /** The alternative retry policy; absent, each job's own. */
  readonly retry?: RetryPolicy | undefined;
  /** Instead of `retry`: each job's own policy with this many attempts (its backoffs kept). */
  readonly attempts?: number | undefined;
  /** The alternative error-code table (merged over the defaults, as a queue's is); absent, as recorded. */
  readonly classify?: ClassifyOptions | undefined;
  /** Which jobs: only those of this name. */
  readonly filter?: { readonly name?: string | undefined } | undefined;
  /** Jobs finished in this window (ms since epoch). */
  readonly window?: { readonly from?: number | undefined; readonly to?: number | undefined } | undefined;
  /** Most recorded jobs read (the most recent first). @default 10000, at most 100000 */
  readonly limit?: number | undefined;
  /** Seed of the jitter draws; absent, a random one (reported, so a run can be repeated). */
  readonly seed?: number | undefined;
  /** @default 'recorded' */
  readonly draws?: 'recorded' | 'seeded' | undefined;
  /**
   * Where the recorded jobs are read: the backend (`live`, the default) or the queue's archive
   * (`archive`: finished jobs kept for months, streamed in pages; most recently finished first).
   */
  readonly source?: HistorySource | undefined;
}

export interface ResolvedWhatIf {
  readonly retry: ResolvedRetryPolicy | undefined;
  readonly attempts: number | undefined;
  readonly classify: ResolvedClassifyOptions | undefined;
  /** The codes as given (without the default table), for the report. */
  readonly classifyGiven: ClassifyOptionsStored | undefined;
  readonly scope: ResolvedHistoryScope;
  readonly seed: number;
  readonly draws: 'recorded' | 'seeded';
  readonly source: HistorySource;
}

const WHATIF_KEYS = ['retry', 'attempts', 'classify', 'filter', 'window', 'limit', 'seed', 'draws', 'source'];

/** Validates what-if options; errors name the field (`retry.attempts`, `window.from`, …). */
export function resolveWhatIfOptions(o: WhatIfOptions | undefined, randomSeed: () => number): ResolvedWhatIf {
  if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o))) {
    throw new ValidationError('options', 'an object', o);
  }
  const extra = Object.keys(o ?? {}).find((k) => !WHATIF_KEYS.includes(k));
  if (extra !== undefined) throw new ValidationError(extra, `absent (known: ${WHATIF_KEYS.join(', ')})`);
  const retry = o?.retry === undefined ? undefined : resolveRetryPolicy(o.retry, 'retry');
  const attempts = o?.attempts === undefined ? undefined : assertInt(o.attempts, 'attempts', 1, MAX_ATTEMPTS);
  if (retry !== undefined && attempts !== undefined) {
    throw new ValidationError('attempts', 'absent when retry is given (retry.attempts says it)', attempts);
  }
  const classify = o?.classify === undefined ? undefined : resolveClassifyOptions(o.classify, 'classify');
  const classifyGiven = o?.classify === undefined ? undefined : storedClassifyOptions(o.classify, 'classify');
  const f = o?.filter;
  if (f !== undefined && (typeof f !== 'object' || f === null || Array.isArray(f))) {
    throw new ValidationError('filter', 'an object { name? }', f);
  }
  const w = o?.window;
  if (w !== undefined && (typeof w !== 'object' || w === null || Array.isArray(w))) {
    throw new ValidationError('window', 'an object { from?, to? } (ms since epoch)', w);
  }
  const scope = resolveHistoryScope({ from: w?.from, to: w?.to, name: f?.name, limit: o?.limit });
  const seed = o?.seed === undefined ? randomSeed() >>> 0 : assertInt(o.seed, 'seed', 0, 0xffffffff);
  const draws = o?.draws ?? 'recorded';
  if (draws !== 'recorded' && draws !== 'seeded') {
    throw new ValidationError('draws', 'one of recorded, seeded', draws);
  }
  const source = resolveHistorySource(o?.source);
  return { retry, attempts, classify, classifyGiven, scope, seed, draws, source };
}

export interface WhatIfReport {
  readonly queue: string;
  /** What was read: the bound, how many, whether more matched, and what could not be replayed. */
  readonly scope: {
    /** Where the jobs were read: the backend (`live`) or the archive. */
    readonly source: HistorySource;
    readonly from: number | null;
    readonly to: number | null;
    readonly name: string | null;
    readonly limit: number;
    readonly read: number;
    readonly truncated: boolean;
    readonly replayed: number;
    readonly excluded: Readonly<Record<Exclusion, number>>;
  };
  /** The alternative policy; null: each job's own stored policy. */
  readonly retry: ResolvedRetryPolicy | null;
  /** Each job's own policy with this many attempts; null: not asked. */
  readonly attempts: number | null;
  /** The alternative codes as given (merged over the defaults) and default class; null: as recorded. */
  readonly classify: ClassifyOptionsStored | null;
  readonly seed: number;
  readonly draws: 'recorded' | 'seeded';
  readonly comparison: WhatIfComparison;
  /** With `classify`: the recorded failures under the table. */
  readonly classification: ClassificationDryRun | null;
  /** One-line findings, for tables and the dashboard. */
  readonly summary: readonly string[];
}

const EXCLUSIONS: readonly Exclusion[] = ['manual', 'unfinished', 'unknown-strategy'];

/** The whole what-if over jobs already read: pure. */
export function whatIfReport(
  queue: string,
  read: { readonly jobs: readonly Job[]; readonly truncated: boolean },
  o: ResolvedWhatIf,
  strategies?: Readonly<Record<string, CustomStrategy>>,
): WhatIfReport {
  const fold = whatIfFold(queue, o, strategies);
  for (const job of read.jobs) fold.add(job);
  return fold.report(read.truncated);
}

/**
 * {@link whatIfReport} one job at a time, for jobs streamed in pages (from the archive): each job
 * is replayed as it comes and only its replay (a few numbers) is kept, not the job.
 */
export function whatIfFold(
  queue: string,
  o: ResolvedWhatIf,
  strategies?: Readonly<Record<string, CustomStrategy>>,
): { add(job: Job): void; report(truncated: boolean): WhatIfReport } {
  const alt: Alternative = {
    retry: o.retry,
    attempts: o.attempts,
    classify: o.classify,
    seed: o.seed,
    draws: o.draws,
    strategies,
  };
  const excluded = Object.fromEntries(EXCLUSIONS.map((e) => [e, 0])) as Record<Exclusion, number>;
  const replays: JobReplay[] = [];
  const classifying = o.classify === undefined ? undefined : classificationFold(o.classify);
  let read = 0;
  const add = (job: Job): void => {
    read++;
    const why = exclusionOf(job, alt);
    if (why !== undefined) {
      excluded[why]++;
      return;
    }
    replays.push(replayJob(job, alt));
    classifying?.add(job);
  };
  const report = (truncated: boolean): WhatIfReport => {
    const comparison = compare(replays);
    const classification = classifying ? classifying.result() : null;
    return {
      queue,
      scope: {
        source: o.source,
        from: o.scope.from ?? null,
        to: o.scope.to ?? null,
        name: o.scope.name ?? null,
        limit: o.scope.limit,
        read,
        truncated,
        replayed: replays.length,
        excluded: { ...excluded },
      },
      retry: o.retry ?? null,
      attempts: o.attempts ?? null,
      classify: o.classifyGiven ?? null,
      seed: o.seed,
      draws: o.draws,
      comparison,
      classification,
      summary: summarise(comparison, classification),
    };
  };
  return { add, report };
}

function range(lo: number, hi: number): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  return lo === hi ? n(lo) : `${n(lo)}–${n(hi)}`;
}

function summarise(c: WhatIfComparison, cls: ClassificationDryRun | null): string[] {
  const { recorded: r, alternative: a } = c;
  const n = (v: number): string => v.toLocaleString('en-US');
  const out = [
    `recorded: ${n(r.succeeded)} of ${n(r.jobs)} jobs succeeded, ${n(r.dead)} dead-lettered, ${n(r.attempts)} attempts`,
    `alternative: ${range(a.pessimistic.succeeded, a.optimistic.succeeded)} succeeded, ` +
      `${range(a.optimistic.dead, a.pessimistic.dead)} dead-lettered, ` +
      `${range(a.optimistic.attempts, a.pessimistic.attempts)} attempts` +
      (a.unknown === 0
        ? ' (every outcome settled by the record)'
        : ` (${n(a.unknown)} jobs run past their record: optimistic–pessimistic bounds)`),
  ];
  if (cls) out.push(cls.summary);
  return out;
}
