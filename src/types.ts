/**
 * The data model: jobs, attempts, retry policies. Data only, no behaviour.
 * @module
 */

/** Where a job is in its life. `scheduled` = waiting for its due time; `dead` = in the dead-letter queue. */
export const JobStates = ['scheduled', 'waiting', 'active', 'completed', 'dead', 'cancelled'] as const;
export type JobState = (typeof JobStates)[number];

/** How a random draw spreads a delay. `decorrelated` follows the AWS "decorrelated jitter" recipe. */
export const Jitters = ['none', 'full', 'equal', 'decorrelated'] as const;
export type Jitter = (typeof Jitters)[number];

/** One way of choosing the delay before a retry. Delays are whole milliseconds. */
export type Backoff =
  /** Retry at once. */
  | { readonly type: 'immediate' }
  /** The same delay every time. */
  | { readonly type: 'fixed'; readonly delayMs: number }
  /** `delayMs + stepMs × (k − 1)` for the k-th retry of the phase; `stepMs` defaults to `delayMs`. */
  | {
      readonly type: 'linear';
      readonly delayMs: number;
      readonly stepMs?: number;
      readonly maxDelayMs?: number;
    }
  /** `delayMs × factor^(k − 1)`, capped at `maxDelayMs`, then jittered. `factor` defaults to 2. */
  | {
      readonly type: 'exponential';
      readonly delayMs: number;
      readonly factor?: number;
      readonly maxDelayMs?: number;
      readonly jitter?: Jitter;
    }
  /** A function registered on the Worker under `name` (see `WorkerOptions.strategies`). */
  | { readonly type: 'custom'; readonly name: string };

export type BackoffType = Backoff['type'];

/** A run of retries that share a backoff, for multi-phase policies. */
export interface RetryPhase {
  /** How many retries this phase allows (≥ 0). */
  readonly retries: number;
  readonly backoff: Backoff;
}

/**
 * A retry policy as users write it: either `{ attempts, backoff }` (attempts counts the first run too)
 * or `{ phases }` (the first run, then each phase's retries in order, then dead-letter).
 * @example { attempts: 5, backoff: { type: 'exponential', delayMs: 5000 } }
 * @example { phases: [{ retries: 2, backoff: { type: 'immediate' } }, { retries: 5, backoff: { type: 'exponential', delayMs: 1000 } }] }
 */
export type RetryPolicy =
  { readonly attempts: number; readonly backoff?: Backoff } | { readonly phases: readonly RetryPhase[] };

/** The one internal shape of a policy: always phases. `maxAttempts = 1 + Σ retries`. */
export interface ResolvedRetryPolicy {
  readonly phases: readonly RetryPhase[];
  readonly maxAttempts: number;
}

/**
 * What caused an attempt: the engine's retry, a person's replay/retry, recovery after a stall, or
 * (the first attempt of a job a scheduler created) its schedule: its `dueAt` is the planned time.
 */
export type AttemptTrigger = 'auto' | 'manual' | 'stall' | 'schedule';
/**
 * How an attempt ended. `interrupted`: its worker shut down before it finished and gave it back;
 * `rate_limited`: the handler threw a `RateLimitError` (an upstream limit), its group or queue
 * paused and the job waits again. Unlike `failed` and `timed_out`, neither counts against the retry
 * budget.
 */
export type AttemptOutcome =
  'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'rate_limited' | 'stalled' | 'cancelled';
export type ErrorClass = 'temporary' | 'permanent' | 'poison';
/**
 * Why a job is dead: retries used up, a permanent error, it stalled its workers too often, or its
 * retry was over the queue's retry budget (one that dead-letters instead of deferring).
 */
export const DeadReasons = ['exhausted', 'permanent', 'poison', 'budget'] as const;
export type DeadReason = (typeof DeadReasons)[number];

/** An error as stored: plain data, stack bounded. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/** The structured half of a delay explanation; the human sentence is `Decision.explanation`. */
export interface DelayDetail {
  readonly strategy: BackoffType | 'handler' | 'rate-limit';
  /** Index of the retry within its phase (1 = first retry of the phase). */
  readonly retry?: number;
  readonly phase?: number;
  readonly baseMs?: number;
  readonly factor?: number;
  readonly stepMs?: number;
  /** Delay before the cap and jitter. */
  readonly rawMs?: number;
  readonly capMs?: number;
  readonly capped?: boolean;
  readonly jitter?: Jitter;
  /** The random draw in [0, 1) that the jitter used, so the schedule can be reproduced. */
  readonly draw?: number;
}

/** What was decided after an attempt. */
export type Decision =
  | { readonly action: 'done' }
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      readonly nextDueAt: number;
      /** `policy` or `handler` (a `TemporaryError` with `retryAfterMs`). */
      readonly source: 'policy' | 'handler';
      readonly explanation: string;
      readonly detail: DelayDetail;
      /** The retry budget deferred this retry (its delay includes the deferral; src/retry-budget.ts). */
      readonly budget?: BudgetNote;
    }
  | { readonly action: 'dead'; readonly reason: DeadReason; readonly explanation: string }
  | { readonly action: 'cancelled'; readonly explanation: string };

/** What a retry budget did to a retry: how long it deferred it, and the budget at that moment. */
export interface BudgetNote {
  readonly deferredMs: number;
  /** First attempts in the budget's window. */
  readonly firstAttempts: number;
  /** Retries the window allowed for them. */
  readonly allowed: number;
}

/** Who replayed a dead job or retried one by hand, and why. */
export interface ManualTrigger {
  readonly by: string;
  readonly note?: string;
  readonly at: number;
  /** The data patch applied, as a diff: one entry per changed leaf (dotted path from `data`). */
  readonly patch?: readonly PatchChange[];
}

export interface PatchChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly op: 'add' | 'replace' | 'remove';
}

/** One attempt, appended when it ends, never rewritten. Times are ms since epoch on the backend's clock. */
export interface Attempt {
  readonly n: number;
  readonly trigger: AttemptTrigger;
  readonly dueAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** startedAt − dueAt: how late the engine was. */
  readonly driftMs: number;
  readonly workerId: string;
  readonly outcome: AttemptOutcome;
  readonly error?: ErrorInfo;
  readonly errorClass?: ErrorClass;
  /** The rule that classified the error: `thrown:PermanentError`, `code:ECONNRESET`, `timeout`, `default`, … */
  readonly rule?: string;
  /**
   * Present only when the worker's own classification was used because the job carries none
   * (see `JobOptionsStored.classify`); absent, the job's stored classification decided.
   */
  readonly classifiedBy?: 'worker';
  readonly decision: Decision;
  readonly manual?: ManualTrigger;
  /** The latest progress value the handler reported in this attempt (`job.progress`), and when. */
  readonly progress?: { readonly value: unknown; readonly at: number };
  /** The lines the handler logged in this attempt (`job.log`), oldest first, bounded (src/progress.ts). */
  readonly logs?: readonly { readonly at: number; readonly line: string }[];
  /** Lines dropped beyond the bounds of an attempt. */
  readonly logsDropped?: number;
  /** The attempt's claim waited for a rate limit: which, and how long (src/rate-limit.ts). */
  readonly rateLimit?: RateLimitWait;
  /** Jobs of a higher priority were claimed while it waited: how many, and how long it waited. */
  readonly priority?: PriorityWait;
  /** The first attempt of a job a scheduler's tick created: which, when planned, how late, the policy. */
  readonly schedule?: ScheduledTick;
  /** A `rate_limited` attempt: the pause its handler asked for, and what it paused. */
  readonly pause?: RateLimitPause;
  /**
   * What the HTTP call this attempt made answered (`job.recordResponse`, the HTTP target handler),
   * bounded to MAX_RESPONSE_BYTES of JSON (src/response-record.ts).
   */
  readonly response?: AttemptResponse;
}

/** The response an attempt's HTTP call got, as recorded (src/response-record.ts bounds it). */
export interface AttemptResponse {
  /** The HTTP status. */
  readonly status: number;
  /** From the request's start to the response's end, ms (redirects included). */
  readonly ms: number;
  /** The response headers of interest (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The start of the body: text, or base64 when it is not UTF-8 text (`bodyEncoding`). */
  readonly body: string;
  /** `base64` when the body excerpt is binary; absent for text. */
  readonly bodyEncoding?: 'base64';
  /** The body's full length, bytes (the excerpt holds at most `maxBodyExcerpt` of them). */
  readonly bodyBytes: number;
  /** Redirects followed before this response. */
  readonly redirects?: number;
}

/** What a job claimed after waiting for a rate limit records on its attempt. */
export interface RateLimitWait {
  readonly scope: 'queue' | 'group';
  /** The group, for scope `group`. */
  readonly group?: string;
  /** The limit's label (`10/s`), or `paused by a handler`. */
  readonly limit: string;
  /** How long the job waited for its token after it was due (see `rateLimitWaitedMs`). */
  readonly waitedMs: number;
  /** `rate limit tenant-42: 10/s, waited 340 ms`. */
  readonly explanation: string;
}

/**
 * What a job claimed after jobs of a higher priority records on its attempt (`priorityWait` in
 * src/transitions.ts): present only when at least one was claimed ahead of it while it waited.
 */
export interface PriorityWait {
  /** Its priority. */
  readonly priority: number;
  /** Its effective priority at the claim: with aging, raised one level per aging step waited. */
  readonly effective: number;
  /** How long it waited ready: claim time − dueAt (ms). */
  readonly waitedMs: number;
  /** Jobs of another priority claimed ahead of it while it waited (of a higher effective priority). */
  readonly ahead: number;
  /** `priority 5 (aged to 7): waited 2400 ms while 1240 jobs of higher priority ran`. */
  readonly explanation: string;
}

/** What the first attempt of a job a scheduler created records (`scheduledTick` in src/schedule.ts). */
export interface ScheduledTick {
  /** The scheduler's id. */
  readonly scheduler: string;
  /** Its missed-tick policy when it ticked: `skip`, `once` or `each:N`. */
  readonly missed: string;
  /** The occurrence the job was created for (its first `dueAt`). */
  readonly plannedAt: number;
  /** When the tick created it (backend clock). */
  readonly createdAt: number;
  /** createdAt − plannedAt: how late the tick was. */
  readonly lateMs: number;
  /** Due occurrences the tick did not run, by the policy (0 = none). */
  readonly skipped: number;
  /** `created 340 ms after its planned time; 5 earlier occurrences missed`. */
  readonly explanation: string;
}

/** What a handler's `RateLimitError` paused: the job's group, or its queue, for `ms`. */
export interface RateLimitPause {
  readonly scope: 'queue' | 'group';
  readonly group?: string;
  readonly ms: number;
}

/** A late result from a worker whose lease had been lost: refused, and recorded here. */
export interface Refusal {
  /** The attempt number the worker had claimed. */
  readonly attempt: number;
  readonly workerId: string;
  readonly at: number;
  /** What the worker tried to report: `succeeded`, `failed`, `timed_out`. */
  readonly outcome: string;
}

/** The attempt in progress, for an active job. */
export interface CurrentAttempt {
  readonly n: number;
  readonly trigger: AttemptTrigger;
  readonly dueAt: number;
  readonly startedAt: number;
  readonly workerId: string;
  readonly leaseExpiresAt: number;
  readonly manual?: ManualTrigger;
  /** The latest progress value the handler reported in this attempt (`job.progress`), and when. */
  readonly progress?: { readonly value: unknown; readonly at: number };
  /** The lines the handler logged in this attempt (`job.log`), oldest first, bounded (src/progress.ts). */
  readonly logs?: readonly { readonly at: number; readonly line: string }[];
  /** Lines dropped beyond the bounds of an attempt. */
  readonly logsDropped?: number;
  /** Its claim waited for a rate limit (recorded on the attempt when it ends). */
  readonly rateLimit?: RateLimitWait;
  /** Jobs of a higher priority were claimed ahead of it (recorded on the attempt when it ends). */
  readonly priority?: PriorityWait;
  /** The first attempt of a job a scheduler created: its tick (recorded on the attempt when it ends). */
  readonly schedule?: ScheduledTick;
}

/**
 * The classification a job carries: the error codes its queue configured, applied over the
 * library's `DEFAULT_CODE_TABLE`, and the class of errors no rule matches.
 */
export interface ClassifyOptionsStored {
  readonly codes: Readonly<Record<string, 'temporary' | 'permanent'>>;
  readonly default: 'temporary' | 'permanent';
}

/**
 * The options a job carries with it, resolved at add time: every worker that runs the job decides
 * with these, whatever its own configuration.
 */
export interface JobOptionsStored {
  readonly retry: ResolvedRetryPolicy;
  /** Per-attempt timeout; 0 = none. */
  readonly timeoutMs: number;
  /** Stalled deliveries (lease expired) that make the job poison. */
  readonly maxStalls: number;
  /**
   * How the job's failures are classified. Absent on a job added without one (by an older version,
   * or a bare backend call): the worker's queue options classify it, and its attempt records say so
   * (`classifiedBy: 'worker'`).
   */
  readonly classify?: ClassifyOptionsStored;
  /** Largest stored result, as JSON bytes. Absent: the worker's queue option applies. */
  readonly maxResultBytes?: number;
}

/** A job as the backends return it. */
export interface Job<Data = unknown, Result = unknown> {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly data: Data;
  readonly state: JobState;
  readonly createdAt: number;
  /** When the job is (or was last) due to run. */
  readonly dueAt: number;
  /** Higher runs first; FIFO within one priority (see `QueueOptions.priorityAgingMs` for aging). */
  readonly priority: number;
  /** The job's group: groups take turns, each under its rate limit (src/rate-limit.ts). */
  readonly group?: string;
  readonly options: JobOptionsStored;
  readonly attempts: readonly Attempt[];
  readonly current?: CurrentAttempt;
  /** A person's replay or retry waiting for the job's next attempt (who, note, patch). */
  readonly pendingManual?: ManualTrigger;
  /** Stalled deliveries since the job was added or last replayed. */
  readonly stalls: number;
  /** Failed attempts since the job was added or last replayed: what the retry policy counts. */
  readonly failures: number;
  readonly result?: Result;
  readonly finishedAt?: number;
  readonly dead?: {
    readonly reason: DeadReason;
    readonly at: number;
    readonly fingerprint: string;
    readonly error?: ErrorInfo;
  };
  readonly cancelled?: { readonly by: string; readonly reason?: string; readonly at: number };
  /** Late results refused because the worker no longer held the lease. */
  readonly refusals: readonly Refusal[];
  /** Read from the archive (src/archive/): the backend no longer holds the job. */
  readonly archived?: true;
  /** The scheduler that created the job, and the occurrence it was planned for (its first `dueAt`). */
  readonly scheduler?: { readonly id: string; readonly plannedAt: number };
  /** The dedup or debounce key the job was created under (src/dedup.ts). */
  readonly dedup?: { readonly mode: 'dedup' | 'debounce'; readonly key: string };
  /** Adds folded into this job by its dedup or debounce key: how many, and the last one's time. */
  readonly folded?: { readonly count: number; readonly lastAt: number };
}

export type StateCounts = Record<JobState, number>;

/**
 * The job waiting longest in a queue: of the next job of each priority (FIFO within one), the one
 * that became runnable first. `since` is its due time (when it was added, its delay ended, or its
 * retry became due), ms since epoch.
 */
export interface OldestWaiting {
  readonly id: string;
  readonly since: number;
  readonly priority: number;
}

/** Retention: how many completed / dead / cancelled jobs to keep and for how long. */
export interface RetentionSettings {
  readonly completed?: { readonly count?: number; readonly ageMs?: number };
  readonly dead?: { readonly count?: number; readonly ageMs?: number };
  readonly cancelled?: { readonly count?: number; readonly ageMs?: number };
}

/** Evictions by retention, counted per state. */
export type EvictionCounts = {
  readonly completed: number;
  readonly dead: number;
  readonly cancelled: number;
};
