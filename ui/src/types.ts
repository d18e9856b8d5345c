/**
 * The shapes the dashboard reads from the HTTP API (see /openapi.json); only the fields it uses.
 */
export type JobState = 'scheduled' | 'waiting' | 'active' | 'completed' | 'dead' | 'cancelled';
export const JOB_STATES: readonly JobState[] = [
  'scheduled',
  'waiting',
  'active',
  'completed',
  'dead',
  'cancelled',
];

export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export interface PatchChange {
  readonly path: string;
  readonly op: 'add' | 'replace' | 'remove';
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface Manual {
  readonly by: string;
  readonly note?: string;
  readonly at: number;
  readonly patch?: readonly PatchChange[];
}

export type Decision =
  | { readonly action: 'done' }
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      readonly nextDueAt: number;
      readonly source: 'policy' | 'handler';
      readonly explanation: string;
    }
  | { readonly action: 'dead'; readonly reason: string; readonly explanation: string }
  | { readonly action: 'cancelled'; readonly explanation: string };

/** What a handler reported during an attempt (job.progress / job.log). */
export interface Trail {
  readonly progress?: { readonly value: unknown; readonly at: number };
  readonly logs?: readonly { readonly at: number; readonly line: string }[];
  readonly logsDropped?: number;
}

export interface Attempt extends Trail {
  readonly n: number;
  readonly trigger: 'auto' | 'manual' | 'stall' | 'schedule';
  readonly dueAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly driftMs: number;
  readonly workerId: string;
  readonly outcome: string;
  readonly error?: ErrorInfo;
  readonly errorClass?: string;
  readonly rule?: string;
  readonly decision: Decision;
  readonly manual?: Manual;
  /** Its claim waited for a rate limit: which, and how long. */
  readonly rateLimit?: ClaimWait & { readonly scope: 'queue' | 'group'; readonly group?: string };
  /** A `rate_limited` attempt: the pause its handler asked for (an upstream limit), and what it paused. */
  readonly pause?: { readonly scope: 'queue' | 'group'; readonly group?: string; readonly ms: number };
  /** What the attempt's HTTP call answered (HTTP target jobs), bounded. */
  readonly response?: {
    readonly status: number;
    readonly ms: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
    readonly bodyBytes: number;
    readonly redirects?: number;
  };
  /** Jobs of a higher priority ran while it waited. */
  readonly priority?: ClaimWait & {
    readonly priority: number;
    readonly effective: number;
    readonly ahead: number;
  };
  /** The first attempt of a job a scheduler created: its tick. */
  readonly schedule?: {
    readonly scheduler: string;
    readonly missed: string;
    readonly plannedAt: number;
    readonly createdAt: number;
    readonly lateMs: number;
    readonly skipped: number;
    readonly explanation: string;
  };
}

/** What a claim recorded about a wait: how long, and a sentence. */
export interface ClaimWait {
  readonly waitedMs: number;
  readonly explanation: string;
}

export interface CurrentAttempt extends Trail {
  readonly n: number;
  readonly trigger: 'auto' | 'manual' | 'stall';
  readonly dueAt: number;
  readonly startedAt: number;
  readonly workerId: string;
  readonly leaseExpiresAt: number;
  readonly manual?: Manual;
}

export interface Job {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly data: unknown;
  readonly state: JobState;
  readonly createdAt: number;
  readonly dueAt: number;
  readonly options: { readonly retry: unknown; readonly timeoutMs: number; readonly maxStalls: number };
  readonly attempts: readonly Attempt[];
  readonly current?: CurrentAttempt;
  readonly pendingManual?: Manual;
  readonly stalls: number;
  readonly failures: number;
  readonly result?: unknown;
  readonly finishedAt?: number;
  readonly dead?: {
    readonly reason: string;
    readonly at: number;
    readonly fingerprint: string;
    readonly error?: ErrorInfo;
  };
  readonly cancelled?: { readonly by: string; readonly reason?: string; readonly at: number };
  /** Read from the archive: retention evicted it from Redis. */
  readonly archived?: true;
  /** Its rate-limit group (jobs of a group take turns, each group under its limit). */
  readonly group?: string;
  /** Later adds folded into this job by its dedup or debounce key. */
  readonly folded?: { readonly count: number; readonly lastAt: number };
  readonly dedup?: { readonly mode: 'dedup' | 'debounce'; readonly key: string };
}

export type Counts = Readonly<Record<JobState, number>>;

/** The job waiting longest in a queue, and for how long (by the server's clock). */
export interface OldestWaiting {
  readonly id: string;
  readonly since: number;
  readonly priority: number;
  readonly waitedMs: number;
}

export interface QueueSummary {
  readonly name: string;
  readonly paused: boolean;
  readonly counts: Counts;
  readonly oldestWaiting?: OldestWaiting | null;
  /** Finished jobs evicted by retention so far, per state. */
  readonly evictions?: { readonly completed: number; readonly dead: number; readonly cancelled: number };
  /** The PostgreSQL archive: on or off, finished jobs not archived yet, jobs retention holds for it. */
  readonly archive?: {
    readonly enabled: boolean;
    readonly pending: number;
    readonly held: { readonly completed: number; readonly dead: number; readonly cancelled: number };
  };
}

export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly createdAt: number;
  readonly dueAt: number;
  readonly attempts: number;
  readonly lastError?: { readonly name: string; readonly code?: string; readonly message: string };
  readonly finishedAt?: number;
  /** Read from the archive: retention evicted it from Redis. */
  readonly archived?: true;
}

/** Where the jobs view looks (GET /queues/:queue/jobs?source=). */
export const JOB_SOURCES = [
  ['live', 'Redis (live)'],
  ['archive', 'Archive'],
  ['all', 'Redis and archive'],
] as const;

/** Where the analytics read (GET /queues/:q/analytics?source=). */
export const ANALYTICS_SOURCES = [
  ['auto', 'Auto (archive past 7 d)'],
  ['rollups', 'Rollups (7 d)'],
  ['archive', 'Archive'],
] as const;

/** Where the what-if and the audit read recorded jobs (source=). */
export const HISTORY_SOURCES = [
  ['live', 'Redis (live)'],
  ['archive', 'Archive'],
] as const;

export interface Page<T> {
  readonly jobs: T[];
  readonly nextCursor: string | null;
}

export interface DeadSummary {
  readonly id: string;
  readonly name: string;
  readonly reason: string;
  readonly at: number;
  readonly fingerprint: string;
  readonly errorCode?: string;
  /** Read from the archive (source archive or all): retention evicted it from Redis. */
  readonly archived?: true;
}

export interface DeadGroup {
  readonly fingerprint: string;
  readonly label: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** With source archive or all: how many of the count come from the archive. */
  readonly archived?: number;
  readonly names?: readonly string[];
  readonly sample?: { readonly id: string; readonly error?: ErrorInfo };
}

export interface PreviewStep {
  readonly attempt: number;
  readonly phase: number;
  readonly delayMs: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly atMs: number;
  readonly explanation: string;
}

export interface PolicyPreview {
  readonly maxAttempts: number;
  readonly steps: readonly PreviewStep[];
  readonly then: string;
  readonly summary: string;
}

export interface BulkOutcome {
  readonly dryRun: boolean;
  readonly matched: number;
  readonly done: readonly string[];
  readonly failed: readonly { readonly id: string; readonly error: string }[];
  /** By filter: more jobs may match than the request took. */
  readonly more?: boolean;
}

/** One event of the stream (`GET /events`): a transition of a job, or of a queue. */
export interface FeedEvent {
  readonly queue: string;
  readonly type: string;
  readonly jobId: string | null;
  readonly at: number;
  readonly fields: Readonly<Record<string, string>>;
}

/** GET /queues/:queue/analytics (src/analytics.ts). */
export interface HistogramBucket {
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly count: number;
}
export interface PercentileRange {
  readonly fromMs: number;
  readonly toMs: number | null;
}
export interface TimeHistogram {
  readonly buckets: readonly HistogramBucket[];
  readonly count: number;
  readonly p50: PercentileRange | null;
  readonly p95: PercentileRange | null;
  readonly p99: PercentileRange | null;
}
export interface AnalyticsBreakdown {
  readonly key: string;
  readonly label: string | null;
  /** Attempts that failed (or stalled) with it. */
  readonly failed: number;
  readonly dead: number;
  /** Archive only (null from rollups): jobs that failed with this key, and their attempts. */
  readonly jobs?: number | null;
  readonly jobAttempts?: number | null;
  /** Attempts that came next after a failure with it, and of those the ones that succeeded. */
  readonly next: number;
  readonly nextSucceeded: number;
  /** P(next attempt succeeds | this attempt failed with it); null without a next attempt. */
  readonly nextSuccessRate: number | null;
  /** Jobs that succeeded / were dead-lettered after failing with it at least once. */
  readonly recovered: number;
  readonly lost: number;
}
export interface AnalyticsReport {
  readonly queue: string;
  readonly source?: 'rollups' | 'archive';
  readonly window: { from: number; to: number; ms: number; resolution: 'minute' | 'hour'; bucketMs: number };
  readonly name: string | null;
  readonly totals: {
    attempts: number;
    failed: number;
    stalled: number;
    succeeded: number;
    dead: number;
    cancelled: number;
    retries: number;
    wastedAttempts: number;
    deadLetterRate: number | null;
  };
  readonly attempts: readonly {
    n: number;
    attempts: number;
    failed: number;
    stalled: number;
    succeeded: number;
    dead: number;
    successRate: number | null;
  }[];
  readonly timeToSuccess: TimeHistogram;
  readonly drift: TimeHistogram;
  readonly deadReasons: readonly { reason: string; count: number }[];
  readonly cancels: readonly { state: string; count: number }[];
  readonly byErrorClass: readonly AnalyticsBreakdown[];
  readonly byRule: readonly AnalyticsBreakdown[];
  readonly byFingerprint: readonly AnalyticsBreakdown[];
  readonly suggestion: { attempts: number | null; reason: string };
}

/** A scheduler, as GET /queues/:queue/schedulers gives it. */
export interface SchedulerView {
  readonly id: string;
  readonly queue: string;
  readonly spec: { readonly cron?: string; readonly tz?: string; readonly every?: number };
  readonly nextRunAt: number;
  readonly name: string;
  readonly priority?: number;
  /** The rate-limit group of the jobs it creates (absent: none). */
  readonly group?: string;
  readonly missed: 'skip' | 'once' | { readonly each: number };
  readonly overlap: 'allow' | 'skip';
  readonly paused: boolean;
  readonly lastJobId?: string;
  readonly lastTickAt?: number;
}

/** One entry of a scheduler's tick ledger. */
export interface TickView {
  readonly plannedAt: number;
  readonly at: number;
  readonly outcome: 'created' | 'skipped';
  readonly jobId?: string;
  readonly reason?: 'paused' | 'overlap' | 'missed';
  readonly count?: number;
  readonly lastPlannedAt?: number;
  readonly more?: boolean;
}

export interface SchedulerDetailView extends SchedulerView {
  readonly ticks: readonly TickView[];
  readonly upcoming: readonly number[];
}

/** A live worker, as GET /queues/:queue/workers gives it. */
export interface WorkerView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly inFlight: number;
  readonly version: string;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly expiresAt: number;
}

export interface WorkersView {
  readonly now: number;
  readonly workers: readonly WorkerView[];
  readonly lastSeenAt?: number;
}

// Retry intelligence (POST /queues/:queue/whatif, GET /queues/:queue/audit, GET /queues/:queue/radar)

export interface WhatIfPeak {
  readonly count: number;
  readonly at: number | null;
}

export interface WhatIfScenario {
  readonly jobs: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly deadByReason: { readonly exhausted: number; readonly permanent: number; readonly poison: number };
  readonly attempts: number;
  readonly retries: number;
  readonly timeToSuccessMs: { readonly p50: number; readonly p95: number } | null;
  readonly peakRetriesDuePerSecond: WhatIfPeak;
  readonly peakDeadLettersPerMinute: WhatIfPeak;
}

export interface WhatIfReport {
  readonly queue: string;
  readonly scope: {
    readonly source?: 'live' | 'archive';
    readonly read: number;
    readonly limit: number;
    readonly truncated: boolean;
    readonly replayed: number;
    readonly excluded: Readonly<Record<string, number>>;
  };
  readonly seed: number;
  readonly draws: string;
  readonly comparison: {
    readonly recorded: WhatIfScenario;
    readonly alternative: {
      readonly known: number;
      readonly unknown: number;
      readonly optimistic: WhatIfScenario;
      readonly pessimistic: WhatIfScenario;
    };
  };
  readonly classification: { readonly summary: string } | null;
  readonly summary: readonly string[];
}

export interface AuditFinding {
  readonly kind: string;
  readonly jobId: string;
  readonly name: string;
  readonly attempt: number;
  readonly expectedDelayMs?: number;
  readonly recordedDelayMs?: number;
  readonly actualDelayMs?: number;
  readonly driftMs?: number;
  readonly message: string;
}

export interface AuditReport {
  readonly scope?: { readonly source?: 'live' | 'archive'; readonly read: number };
  readonly findings: readonly AuditFinding[];
  readonly findingsTruncated: boolean;
  readonly summary: readonly string[];
}

export interface RadarReport {
  readonly now: number;
  readonly horizonMs: number;
  readonly retries: number;
  readonly overdue: number;
  readonly firstRuns: number;
  readonly perSecond: readonly number[];
  readonly peak: { readonly count: number; readonly atS: number | null };
  readonly burstThreshold: number;
  readonly burstRule: string;
  readonly bursts: readonly {
    readonly startS: number;
    readonly endS: number;
    readonly retries: number;
    readonly peakPerSecond: number;
    readonly names: readonly { readonly name: string; readonly retries: number }[];
  }[];
  readonly policies: readonly {
    readonly name: string;
    readonly jitter: boolean;
    readonly retries: number;
    readonly peakPerSecond: number;
  }[];
  readonly withoutJitter: readonly string[];
  readonly truncated: boolean;
}

// Rate limits (GET /queues/:queue/rate-limits/state)

export interface RateLimitLabel {
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  readonly label: string;
}

/** Why a bucket is paused: the handler's RateLimitError (its message is user text). */
export interface RateLimitPause {
  readonly at: number;
  readonly until: number;
  readonly jobId: string;
  readonly attempt: number;
  readonly message: string;
}

export interface BucketState {
  readonly limit: RateLimitLabel | null;
  /** Jobs it lets start now; null = no bucket, no bound. */
  readonly tokens: number | null;
  readonly nextTokenAt?: number;
  readonly pause?: RateLimitPause;
}

export interface GroupState extends BucketState {
  /** '' = the jobs without a group taking their turn. */
  readonly group: string;
  readonly waiting: number;
  readonly ownLimit: boolean;
  readonly turn?: number;
  readonly parkedUntil?: number;
}

export interface RateLimitStateView {
  readonly at: number;
  readonly queue: BucketState;
  readonly groupLimit: RateLimitLabel | null;
  readonly ownLimits: number;
  readonly counts: { readonly turns: number; readonly parked: number; readonly paused: number };
  readonly groups: readonly GroupState[];
  readonly nextCursor?: string;
}

export type GroupFilter = 'waiting' | 'turns' | 'parked' | 'paused';
