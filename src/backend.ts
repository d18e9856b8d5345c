/**
 * The storage port. `Queue` and `Worker` talk to storage only through this interface; the
 * implementations live in `backends/memory` (the executable model) and `backends/redis`.
 *
 * Every method that changes a job is one atomic transition, timed by the backend's own clock
 * (Redis `TIME`, or the memory backend's injected clock): callers pass durations, never instants.
 * Callers validate input before calling; a backend trusts what it is given but never partially
 * applies a transition.
 *
 * Deliberately not in the port: retry strategies and error classification (pure, in the worker),
 * size limits and input validation (in `options.ts`), patching a dead job's data (in `dlq.ts`).
 *
 * @module
 */
import type { RestoreRequest, RestoreResult } from './restore.js';
import type { DedupRequest } from './dedup.js';
import type { JobQuery, SearchResult } from './job-index.js';
import type { RollupBucket, RollupResolution } from './rollup.js';
import type { WorkerBeat, WorkerRegistry } from './workers.js';
import type {
  RateLimitState,
  RateLimits,
  ResolvedRateLimitSettings,
  ResolvedRateLimitStateQuery,
} from './rate-limit.js';
import type {
  DueSchedulers,
  SchedulerRecord,
  SchedulerResume,
  SchedulerUpsert,
  SchedulerUpsertResult,
  TickRecord,
  TickRequest,
  TickResult,
} from './schedule.js';
import type {
  Attempt,
  AttemptResponse,
  AttemptTrigger,
  DeadReason,
  DelayDetail,
  ErrorClass,
  ErrorInfo,
  EvictionCounts,
  Job,
  JobState,
  ManualTrigger,
  OldestWaiting,
  RateLimitPause,
  RetentionSettings,
  StateCounts,
} from './types.js';

export interface AddRequest {
  /** Caller-supplied id (idempotent add) or undefined for a generated one. */
  readonly id: string | undefined;
  readonly name: string;
  /** JSON text of the data, already validated and size-checked. */
  readonly data: string;
  /** JSON text of the resolved `JobOptionsStored`. */
  readonly opts: string;
  readonly maxStalls: number;
  /** Run after this many ms (relative to the backend clock). 0 = now. */
  readonly delayMs: number;
  /** Or at this absolute time (ms since epoch). Wins over delayMs when set. */
  readonly runAt: number | undefined;
  /**
   * The trace context of the span that added the job (JSON text of W3C trace-context headers, see
   * tracing.ts), handed back with every claim of the job; undefined when not traced.
   */
  readonly trace?: string | undefined;
  /**
   * Higher runs first, FIFO within one priority; undefined = the queue's stored default
   * (`setDefaultPriority`, 0 when none), read by the add transition itself. Validated by the caller.
   */
  readonly priority?: number | undefined;
  /**
   * Fold this add into the job its key names, by the rules of src/dedup.ts (`foldsInto`); else
   * create the job and point the key at it. Not with `id`; a debounce's due time is `ms` after now.
   */
  readonly dedup?: DedupRequest | undefined;
  /**
   * The job's group (undefined = none): groups take turns at claims, one job each, each under its
   * rate limit. Validated by the caller (`GROUP_RULE`).
   */
  readonly group?: string | undefined;
}

/** See `Backend.waitingAhead`. */
export interface WaitingAhead {
  readonly priority: number;
  /** Jobs of its own priority added (or made due) before it. */
  readonly same: number;
  /** Jobs of a higher priority. */
  readonly higher: number;
  /** Jobs of a lower priority that aging put ahead of it. */
  readonly aged: number;
  /** `max` was reached: there are at least this many. */
  readonly capped: boolean;
}

export interface AddResult {
  readonly id: string;
  /** false when a job with this id already existed, or the add was folded into `id`. */
  readonly created: boolean;
  readonly state: JobState;
  /** The add was folded into job `id` by its dedup or debounce key (src/dedup.ts). */
  readonly folded?: true;
}

export interface ClaimRequest {
  readonly workerId: string;
  readonly leaseMs: number;
  /** Claim at most this many jobs. */
  readonly max: number;
  /**
   * The worker has nothing in flight, so it may take a suspect (a job that stalled before) alone.
   * A busy worker's claim stops at a suspect at the head of the queue.
   */
  readonly exclusiveOk?: boolean;
}

/** A job handed to a worker, with a lease. */
export interface ClaimedJob {
  readonly id: string;
  readonly name: string;
  /** JSON text. */
  readonly data: string;
  /** JSON text of `JobOptionsStored`. */
  readonly opts: string;
  /** This attempt's number: also the lease token. */
  readonly attempt: number;
  readonly trigger: AttemptTrigger;
  readonly dueAt: number;
  readonly startedAt: number;
  readonly leaseExpiresAt: number;
  readonly failures: number;
  readonly stalls: number;
  /** The delay chosen before this attempt, for decorrelated jitter. */
  readonly prevDelayMs: number | undefined;
  readonly manual: ManualTrigger | undefined;
  /** A suspect, run alone: the worker claims nothing else until it ends. */
  readonly exclusive: boolean;
  /** The producer's trace context, as added (`AddRequest.trace`). */
  readonly trace?: string | undefined;
  /** The job's group, as added. */
  readonly group?: string | undefined;
}

export interface ClaimResult {
  readonly jobs: ClaimedJob[];
  /** Jobs recovered from expired leases during this claim. */
  readonly recovered: number;
  /**
   * When nothing was claimed, or a rate limit stopped the claim before `max` jobs: ms until the next
   * scheduled job is due, the next lease expires, or a rate limit that holds jobs back gives its
   * next token (undefined if none), so a worker knows how long it may block before claiming again
   * (also the claim half of `finishAndClaim`: a throttled finish needs no claim of its own to learn
   * it).
   */
  readonly nextWakeInMs: number | undefined;
  readonly paused: boolean;
}

/** The decision a worker took after an attempt, minus the times only the backend knows. */
export type FinishDecision =
  | { readonly action: 'done' }
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      readonly source: 'policy' | 'handler';
      readonly explanation: string;
      readonly detail: DelayDetail;
    }
  | { readonly action: 'dead'; readonly reason: DeadReason; readonly explanation: string };

export interface FinishRequest {
  readonly id: string;
  /** The attempt number (lease token) the worker claimed. */
  readonly attempt: number;
  readonly workerId: string;
  /**
   * How long after its claim the handler started (ms on the worker's monotonic clock, counted from
   * just before the claim request was sent, so it covers the claim's round trip and any time held
   * in the prefetch buffer): the attempt's startedAt is the claim time plus this, at most the finish
   * time. Never earlier than the real start; later by at most the claim request's one-way trip.
   * For a job given back unstarted, until it was given back. @default 0
   */
  readonly heldMs?: number;
  /**
   * `interrupted` (worker shutdown) and `rate_limited` (a handler's `RateLimitError`) do not count
   * against the retry budget.
   */
  readonly outcome: 'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'rate_limited';
  /**
   * A `rate_limited` attempt's pause (recorded as the attempt's `pause`): the bucket of the job's
   * group (scope `group`, the job's own group) or of its queue gives no token for `ms` from the
   * finish. Its decision is a retry with delay 0.
   */
  readonly pause?: RateLimitPause;
  /** What the attempt's HTTP call answered (`Attempt.response`), already bounded by the worker. */
  readonly response?: AttemptResponse | undefined;
  /** JSON text of the result, when succeeded. */
  readonly result?: string;
  readonly error?: ErrorInfo;
  readonly errorClass?: ErrorClass;
  readonly rule?: string;
  /** `worker`: the job carries no classification, the worker's own classified it (`Attempt.classifiedBy`). */
  readonly classifiedBy?: 'worker';
  /** Fingerprint of the error, for DLQ grouping. */
  readonly fingerprint?: string;
  readonly fingerprintLabel?: string;
  readonly decision: FinishDecision;
}

export type FinishResult =
  | { readonly ok: true; readonly state: JobState; readonly nextDueAt?: number; readonly finishedAt: number }
  | { readonly ok: false; readonly reason: 'stale' | 'not_found' };

/**
 * What a handler reported since the last write (`job.progress` / `job.log`), for its attempt: applied
 * only while the worker still holds that attempt's lease (a stale worker writes nothing).
 */
export interface TrailWrite {
  readonly id: string;
  readonly attempt: number;
  readonly workerId: string;
  /** JSON text of the latest progress value (checked: at most MAX_PROGRESS_BYTES); undefined = none. */
  readonly progress?: string | undefined;
  /** JSON texts of the lines, in order (each cut by the worker at MAX_LOG_LINE_CHARS). */
  readonly lines: readonly string[];
  /** Lines the worker dropped before sending (its buffer was full): added to the attempt's count. */
  readonly dropped?: number;
}

export type TrailResult =
  | { readonly ok: true; readonly kept: number; readonly dropped: number }
  | { readonly ok: false; readonly reason: 'stale' };

export interface RenewRequest {
  readonly id: string;
  readonly attempt: number;
}

export interface RetryBudgetEntry {
  /** undefined: the queue's budget; else the job name's own. */
  readonly name: string | undefined;
  /** `encodeRetryBudget` text. */
  readonly budget: string;
  /** The time (ms) up to which the budget has placed retries: later than now while it defers. */
  readonly bookedUntil: number;
}

export interface Page {
  readonly offset: number;
  readonly limit: number;
}

/**
 * Summary of a dead job, enough to filter and group without loading its history. `errorCode` is
 * the code of the job's last error (see `lastErrorOf` in summary.ts): for a dead job, the error
 * that killed it.
 */
export interface DeadSummary {
  readonly id: string;
  readonly name: string;
  readonly reason: DeadReason;
  readonly at: number;
  readonly fingerprint: string;
  readonly errorCode: string | undefined;
}

/**
 * Which dead jobs to list: every field given must match (an empty filter matches every dead job).
 * The backend answers it itself, reading only the summary fields of each dead job.
 */
export interface DeadFilter {
  readonly reason?: readonly DeadReason[];
  readonly errorCode?: string;
  readonly name?: string;
  readonly fingerprint?: string;
  /** Dead at or after (ms since epoch). */
  readonly from?: number;
  /** Dead at or before (ms since epoch). */
  readonly to?: number;
}

/** One id looked up by `peekDead`: null if unknown; its summary when dead. */
export type DeadPeek = null | { readonly state: JobState; readonly dead: DeadSummary | undefined };

export interface DeadGroupStats {
  readonly fingerprint: string;
  /** `name|code|normalised message`. */
  readonly label: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface ReplayRequest {
  readonly id: string;
  /** The attempt count the caller saw: the replay is refused if the job changed since. */
  readonly expectedAttempts: number;
  /** New data JSON when a patch was applied. */
  readonly data: string | undefined;
  readonly by: string;
  readonly note: string | undefined;
  /** JSON text of the patch diff. */
  readonly patch: string | undefined;
  /**
   * Also accept a scheduled job (waiting for its retry): it runs now, its retry budget kept.
   * A dead job's budget starts afresh.
   */
  readonly alsoScheduled?: boolean;
}

export type ReplayResult =
  | { readonly ok: true; readonly at: number }
  | { readonly ok: false; readonly reason: 'not_found' | 'not_dead' | 'changed'; readonly state?: JobState };
// 'not_dead': the job is in a state the request does not accept.

export type CancelResult =
  | { readonly ok: true; readonly previous: JobState }
  | { readonly ok: false; readonly reason: 'not_found' | 'finished'; readonly state?: JobState };

/** One sweep of a queue's retention rules (see `Backend.sweepRetention`). */
export interface RetentionSweep {
  /** No other sweep of this queue, by any process, starts within this many ms of this one. */
  readonly intervalMs: number;
  /** Most jobs this sweep evicts, over all states. */
  readonly max: number;
}

export interface RetentionSweepResult {
  /** false when another sweep of the queue ran within its interval (or there is no such queue): nothing was done. */
  readonly ran: boolean;
  readonly evicted: number;
}

/** An archiver's request for its next batch of a queue (`Backend.claimArchive`). */
export interface ArchiveClaim {
  /** Who asks: one archiver at a time holds a queue (a lease, renewed by each claim). */
  readonly owner: string;
  readonly leaseMs: number;
  /** Most jobs in the batch. */
  readonly max: number;
  /** Only jobs noted at or after this time (the caller's cursor past its batches in flight). */
  readonly from?: number;
}

/** One finished job to archive: `mark` is what `markArchived` gives back (its note's time). */
export interface ArchiveEntry {
  readonly id: string;
  readonly mark: number;
  /** The job as read now: null when it is gone (purged); a job no longer finished is not archived. */
  readonly job: Job | null;
}

export type ArchiveBatch =
  { readonly busy: true } | { readonly busy: false; readonly entries: readonly ArchiveEntry[] };

export interface ArchiveStatus {
  /** The queue has an archive: finished jobs are noted and held until archived. */
  readonly enabled: boolean;
  /** Finished jobs not archived yet. */
  readonly pending: number;
  /** Jobs the retention rules would evict now but holds because they are not archived yet. */
  readonly held: EvictionCounts;
}

/** A transition, as published on the queue's event feed. */
export interface QueueEvent {
  /** Feed position (Redis stream id, or a counter). */
  readonly seq: string;
  readonly type: string;
  readonly jobId?: string;
  readonly at: number;
  readonly fields: Readonly<Record<string, string>>;
}

/** A scheduled job as the storm radar reads it (`Backend.scheduledDue`). */
export interface ScheduledEntry {
  readonly id: string;
  readonly name: string;
  readonly dueAt: number;
  /** Attempts made so far: 0 for a delayed first run, 1 or more for a retry. */
  readonly attemptsMade: number;
  /** JSON text of the job's stored options (`JobOptionsStored`: its retry policy). */
  readonly opts: string;
}

/** The scheduled jobs due up to a horizon, earliest first, read at one instant of the backend's clock. */
export interface ScheduledWindow {
  /** The backend's clock when read. */
  readonly now: number;
  /** Due at or before `now + horizonMs` (overdue ones first), at most `max`. */
  readonly entries: readonly ScheduledEntry[];
  /** More scheduled jobs were due within the horizon than `max`. */
  readonly more: boolean;
}

export interface Backend {
  readonly kind: string;

  /** The backend's clock, ms since epoch. */
  now(): Promise<number>;

  add(queue: string, jobs: readonly AddRequest[]): Promise<AddResult[]>;
  getJob(queue: string, id: string): Promise<Job | null>;
  /** Most recent first for finished states; due order for scheduled; FIFO for waiting. */
  listJobs(queue: string, state: JobState, page: Page): Promise<Job[]>;
  counts(queue: string): Promise<StateCounts>;
  /**
   * The scheduled jobs due at or before now + `horizonMs` (backend clock), earliest first, at most
   * `max`: the storm radar's read. Reads only; bounded by `max` (Redis: one script, a ZRANGEBYSCORE
   * with LIMIT and one HMGET per job).
   */
  scheduledDue(queue: string, horizonMs: number, max: number): Promise<ScheduledWindow>;
  /** The job waiting longest (see {@link OldestWaiting}), or null; reads one job per priority, never scans. */
  oldestWaiting(queue: string): Promise<OldestWaiting | null>;
  setPaused(queue: string, paused: boolean): Promise<void>;
  isPaused(queue: string): Promise<boolean>;
  cancel(queue: string, id: string, by: string, reason: string | undefined): Promise<CancelResult>;

  claim(queue: string, req: ClaimRequest): Promise<ClaimResult>;
  /** Resolves when work may be available, after `timeoutMs` at the latest, or when `signal` aborts. */
  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
  /**
   * `waitForWork` on several queues at once (a worker consuming several queues): resolves with the
   * queues that may have work now (a wake for them arrived; [] after `timeoutMs`, or when `signal`
   * aborts or `interrupt` fires). `signal` is the caller closing; `interrupt` only ends this wait
   * (the caller wants to wait on another set of queues), and ends it gently: on Redis, CLIENT
   * UNBLOCK rather than dropping the connections.
   */
  waitForAnyWork(
    queues: readonly string[],
    timeoutMs: number,
    signal: AbortSignal,
    interrupt?: AbortSignal,
  ): Promise<string[]>;
  /** Extends leases; false for each lease no longer held. */
  renew(queue: string, leases: readonly RenewRequest[], leaseMs: number): Promise<boolean[]>;
  /**
   * Finishes attempts and claims up to `claim.max` new jobs for the same worker in one atomic
   * step (one round trip on Redis): how a busy worker moves from one job to the next. With
   * `claim.max` 0 it only finishes (a worker closing, or one with no room for more).
   */
  finishAndClaim(
    queue: string,
    reqs: readonly FinishRequest[],
    claim: ClaimRequest,
  ): Promise<[FinishResult[], ClaimResult]>;
  /**
   * Stores an attempt's progress and log lines with that attempt (bounded per attempt,
   * src/progress.ts) and publishes `progress` / `log` events; one atomic step, refused as `stale`
   * unless the job is active with this attempt number and worker.
   */
  writeTrail(queue: string, write: TrailWrite): Promise<TrailResult>;
  /** Recovers jobs whose lease expired; returns how many. */
  recoverStalled(queue: string): Promise<number>;

  /**
   * Dead jobs matching the filter, most recently dead first; the page counts matching jobs. Reads
   * summaries only (never a job's history); Redis filters in the script, a bounded slice per call.
   */
  listDead(queue: string, filter: DeadFilter, page: Page): Promise<DeadSummary[]>;
  /** For each id, in order: null if unknown, else its state (and its summary if dead). Reads only. */
  peekDead(queue: string, ids: readonly string[]): Promise<DeadPeek[]>;
  deadGroups(queue: string): Promise<DeadGroupStats[]>;
  replay(queue: string, req: ReplayRequest): Promise<ReplayResult>;
  /**
   * Restores a dead job read from the archive, as archived (src/restore.ts): its hash or record,
   * attempt records, options, search facets, and its place in the dead set and its fingerprint's
   * group, dead at its dead-letter time; event `restored`. Refused (with the state) when the
   * backend has a job with this id. One transition.
   */
  restoreDead(queue: string, req: RestoreRequest): Promise<RestoreResult>;
  /** Deletes dead jobs by id; returns the ids deleted, in order (ids not dead are skipped). */
  purgeDead(queue: string, ids: readonly string[]): Promise<string[]>;

  getRetention(queue: string): Promise<RetentionSettings>;
  setRetention(queue: string, settings: RetentionSettings): Promise<void>;
  evictions(queue: string): Promise<EvictionCounts>;
  /**
   * Priority aging of the queue: a waiting job gains one priority level per `agingMs` waited
   * (`levelRank` in transitions.ts); 0 = strict order between priorities (the default). Applies at
   * once to every waiting job (ranks are recomputed).
   */
  setPriorityAging(queue: string, agingMs: number): Promise<void>;
  /**
   * The retry analytics rollup buckets (src/rollup.ts) of one resolution that start at `starts`,
   * in that order; a bucket never written, or expired, is left out. Reads only.
   */
  readRollups(
    queue: string,
    resolution: RollupResolution,
    starts: readonly number[],
  ): Promise<RollupBucket[]>;
  /**
   * Turns the queue's rollups on (the default) or off: off, the finish transition writes none
   * (for the bench's with / without comparison, or a queue whose analytics nobody reads).
   */
  setRollups(queue: string, on: boolean): Promise<void>;
  /**
   * Sets (budget text, `encodeRetryBudget`) or removes (null) the queue's retry budget, or with
   * `name` that job name's own (src/retry-budget.ts). Enforced by the finish transition.
   */
  setRetryBudget(queue: string, name: string | undefined, budget: string | null): Promise<void>;
  /** The queue's budget (name undefined) and the names' own, with how far each is booked ahead. */
  getRetryBudgets(queue: string): Promise<RetryBudgetEntry[]>;
  getPriorityAging(queue: string): Promise<number>;
  /**
   * The priority a job added without one gets (0 = none stored), kept with the queue so that every
   * producer (a `Queue` without the option, the HTTP API, the CLI) applies the same. Jobs already
   * added keep theirs.
   */
  setDefaultPriority(queue: string, priority: number): Promise<void>;
  getDefaultPriority(queue: string): Promise<number>;
  /**
   * Changes the queue's rate limits (each key given is set, `null` removes it; src/rate-limit.ts).
   * Buckets keep their state; groups parked under the old limits take turns again at once.
   */
  setRateLimits(queue: string, settings: ResolvedRateLimitSettings): Promise<void>;
  /** The queue's rate limits, and when its bucket gives its next token if it is empty now. */
  getRateLimits(queue: string): Promise<RateLimits>;
  /** When group `group`'s bucket gives its next token, if it has none now (read-only, for explain). */
  groupNextTokenAt(queue: string, group: string): Promise<number | undefined>;
  /**
   * The rate-limit view (read-only, one read by the backend's clock): the queue's bucket, the
   * default group limit, and one page of groups (`rateLimitStateView` in src/rate-limit.ts builds
   * it from the raw state on both backends). At most `query.limit` groups are read per call.
   */
  rateLimitState(queue: string, query: ResolvedRateLimitStateQuery): Promise<RateLimitState>;
  /**
   * Applies the retention rules now, as a finish does for its state (age, then count; counted in
   * `evictions`, published as `evicted`), so a quiet queue does not keep expired jobs: what live
   * workers and servers call every few seconds (`retention-sweeper.ts`). At most one sweep per
   * queue per `sweep.intervalMs` across processes, at most `sweep.max` evictions.
   */
  sweepRetention(queue: string, sweep: RetentionSweep): Promise<RetentionSweepResult>;

  /** Reads the queue's event feed after `afterSeq` (exclusive; '0' for the start). */
  readEvents(queue: string, afterSeq: string, count: number): Promise<QueueEvent[]>;
  /**
   * The seq of the newest event of the queue's feed ('0' when it is empty): where a reader that
   * wants only what happens from now on starts, in one cheap read whatever the feed's length.
   */
  eventTail(queue: string): Promise<string>;

  /**
   * Jobs matching a query that names at least one facet (`queryFacets`, src/job-index.ts), newest
   * created first, served by the search indexes: a page of at most `limit` jobs from `cursor` (a
   * `next` of an earlier page; undefined for the first). Redis examines at most `SEARCH_BUDGET`
   * candidates per call, so a page may be short while `next` is set.
   */
  searchJobs(
    queue: string,
    query: JobQuery,
    cursor: string | undefined,
    limit: number,
  ): Promise<SearchResult>;

  /** Names of the queues this backend holds (any queue that ever had a job or a setting). */
  listQueues(): Promise<string[]>;

  /**
   * Turns the queue's archive on or off (`src/archive/`). On: each job that finishes (completed,
   * dead, cancelled) is noted for the archiver, the finished jobs already there too, and retention
   * never evicts a noted job until `markArchived`. Off: notes dropped, retention as before.
   */
  setArchive(queue: string, on: boolean): Promise<void>;
  /** The next noted jobs, oldest first, for the archiver holding the queue (else `busy`). */
  claimArchive(queue: string, claim: ArchiveClaim): Promise<ArchiveBatch>;
  /** Drops the notes of archived jobs (each only if not noted again since); returns how many. */
  markArchived(queue: string, entries: readonly Pick<ArchiveEntry, 'id' | 'mark'>[]): Promise<number>;
  archiveStatus(queue: string): Promise<ArchiveStatus>;
  /**
   * Marks the whole backend (every queue, present and future) as archived: from then on setting
   * retention on a queue turns its archive on first (`setArchive`), so a queue created after the
   * archiver last listed the queues cannot evict a finished job before it is archived. Set by an
   * archiver of every queue; off: as before (a queue is archived once an archiver lists it).
   */
  setArchiveDefault(on: boolean): Promise<void>;
  /** Whether `setArchiveDefault(true)` is in force. */
  archiveDefault(): Promise<boolean>;

  /** Read the attempt records only. */
  getAttempts(queue: string, id: string): Promise<Attempt[] | null>;

  /**
   * Creates or updates a scheduler, atomically (any number of processes may upsert the same id at
   * once: one scheduler results). Name, data, options and policies are replaced; the spec's next run
   * and anchor only when the spec is new or changed, so re-upserting the same spec (every process at
   * start-up) moves nothing. A paused scheduler stays paused.
   */
  upsertScheduler(queue: string, req: SchedulerUpsert): Promise<SchedulerUpsertResult>;
  getScheduler(queue: string, id: string): Promise<SchedulerRecord | null>;
  /** Every scheduler of the queue, by next run. */
  listSchedulers(queue: string): Promise<SchedulerRecord[]>;
  /** The newest `limit` entries of a scheduler's tick ledger, newest first ([] for an unknown id). */
  schedulerTicks(queue: string, id: string, limit: number): Promise<TickRecord[]>;
  /** Stops ticking (the next run is kept, to count what the pause skips when it ends). */
  pauseScheduler(queue: string, id: string): Promise<'ok' | 'unchanged' | 'not_found'>;
  /**
   * Ticks again from `resume.nextRunAt`, recording the occurrences the pause skipped; `changed` when
   * its next run is no longer `resume.expectNextRunAt` (read again and retry).
   */
  resumeScheduler(
    queue: string,
    id: string,
    resume: SchedulerResume,
  ): Promise<'ok' | 'unchanged' | 'not_found' | 'changed'>;
  /** Deletes a scheduler and its ledger (the jobs it created stay). false when unknown. */
  removeScheduler(queue: string, id: string): Promise<boolean>;
  /** Unpaused schedulers due now (backend clock), earliest first, at most `max`. Reads only. */
  dueSchedulers(queue: string, max: number): Promise<DueSchedulers>;
  /**
   * Applies planned ticks, each atomically and only if its scheduler is unchanged since it was read
   * and due by the backend's clock: creates the jobs (trigger `schedule`, due at their planned time,
   * `job.scheduler` set) through the same job creation as `add`, skips what the overlap policy
   * refuses, records every tick in the ledger, and sets the next run. Two processes ticking the same
   * scheduler create its jobs once: the second finds it `stale`.
   */
  tickSchedulers(queue: string, reqs: readonly TickRequest[]): Promise<TickResult[]>;

  /**
   * A worker's heartbeat: registers it (first beat) or refreshes its entry, which then lives `ttlMs`
   * from now (backend clock); records that a worker was seen on the queue now.
   */
  workerHeartbeat(queue: string, beat: WorkerBeat, ttlMs: number): Promise<void>;
  /**
   * How many waiting jobs a claim takes before job `id`, by the queue's claim order (priorities,
   * aging, FIFO): of its own priority, of higher ones, and of lower ones ahead by aging; at most
   * `max` counted (`capped`). null when the job is not waiting. Reads only.
   */
  waitingAhead(queue: string, id: string, max: number): Promise<WaitingAhead | null>;
  /** Removes a worker's entry at once (it closed). */
  workerLeave(queue: string, id: string): Promise<void>;
  /** The live workers of the queue (entries not expired by the backend's clock), by id. */
  listWorkers(queue: string): Promise<WorkerRegistry>;

  close(): Promise<void>;
}
