/**
 * Response schemas: they document each answer in the OpenAPI document and drive serialisation.
 * None uses `required` (a missing field must never turn an answer into a 500) and every object keeps
 * `additionalProperties: true`, so fields the core adds later still reach clients.
 * @module
 */
import { MAX_LOG_BYTES, MAX_LOG_LINES, MAX_PROGRESS_BYTES } from '../progress.js';
import { MAX_RESPONSE_BYTES } from '../response-record.js';
import { JobStates } from '../types.js';

const open = { additionalProperties: true } as const;
const time = { type: 'number', description: 'ms since epoch' } as const;
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable, `field` names the offending input.',
  properties: { type: str, title: str, status: int, code: str, detail: str, field: str },
  ...open,
} as const;

const stateCounts = {
  type: 'object',
  properties: Object.fromEntries(JobStates.map((s) => [s, int])),
  ...open,
} as const;

const retentionRule = { type: 'object', properties: { count: int, ageMs: int }, ...open } as const;
export const retention = {
  type: 'object',
  properties: { completed: retentionRule, dead: retentionRule, cancelled: retentionRule },
  ...open,
} as const;

/** The job waiting longest (null when nothing waits): its id, since when, and its priority. */
const oldestWaiting = {
  type: ['object', 'null'],
  description:
    'The job waiting longest: of the next job of each priority, the one runnable first; null when nothing waits',
  properties: {
    id: str,
    since: { ...time, description: 'when it became runnable (its due time), ms since epoch' },
    priority: int,
    waitedMs: { type: 'number', description: "how long it has waited, by the backend's clock" },
  },
  ...open,
} as const;

const evictionCounts = {
  type: 'object',
  properties: { completed: int, dead: int, cancelled: int },
  ...open,
} as const;

/** A queue's archive: on or off, its backlog, and what retention holds back for it. */
const archiveState = {
  type: 'object',
  description:
    'The PostgreSQL archive of the queue: whether it is on, finished jobs not archived yet (the backlog), and jobs retention would evict now but holds until they are archived',
  properties: { enabled: { type: 'boolean' }, pending: int, held: evictionCounts },
  ...open,
} as const;

export const queueSummary = {
  type: 'object',
  properties: {
    name: str,
    paused: { type: 'boolean' },
    counts: stateCounts,
    oldestWaiting,
    evictions: {
      ...evictionCounts,
      description: 'Finished jobs evicted by retention since the queue began (a running total per state)',
    },
    archive: archiveState,
  },
  ...open,
} as const;

export const queueDetail = {
  type: 'object',
  properties: { ...queueSummary.properties, retention },
  ...open,
} as const;

export const pauseState = {
  type: 'object',
  properties: { name: str, paused: { type: 'boolean' } },
  ...open,
} as const;

export const added = {
  type: 'object',
  properties: {
    id: str,
    created: { type: 'boolean' },
    state: { type: 'string', enum: [...JobStates] },
    folded: {
      type: 'boolean',
      enum: [true],
      description:
        'Present when the add was folded into job `id` by its dedup or debounce key (nothing created).',
    },
  },
  ...open,
} as const;

const errorInfo = { type: 'object', properties: { name: str, code: str, message: str }, ...open } as const;

export const jobSummary = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    state: str,
    createdAt: time,
    dueAt: time,
    attempts: { type: 'integer', description: 'Attempts made so far.' },
    lastError: {
      ...errorInfo,
      description:
        'The error of the most recent attempt that recorded one (a later success or cancel does not erase it); absent if none did.',
    },
    finishedAt: time,
    archived: {
      type: 'boolean',
      enum: [true],
      description: 'Present when the job was read from the archive (GET …/jobs?source=archive or all).',
    },
  },
  ...open,
} as const;

const manual = {
  type: 'object',
  description: 'Who retried or replayed by hand, why, and the data patch as a diff.',
  properties: { by: str, note: str, at: time, patch: { type: 'array', items: { type: 'object', ...open } } },
  ...open,
} as const;

/** What a handler reported during an attempt (src/progress.ts): on attempt records and `current`. */
const trailProps = {
  progress: {
    type: 'object',
    description: 'The latest progress value the handler reported in this attempt (job.progress), and when.',
    properties: { value: { description: `Any JSON value (at most ${MAX_PROGRESS_BYTES} bytes).` }, at: time },
    ...open,
  },
  logs: {
    type: 'array',
    description: `The lines the handler logged in this attempt (job.log), oldest first: at most ${MAX_LOG_LINES} lines / ${MAX_LOG_BYTES} bytes per attempt.`,
    items: { type: 'object', properties: { at: time, line: str }, ...open },
  },
  logsDropped: { type: 'integer', description: 'Lines dropped beyond the bounds of the attempt.' },
} as const;

/** Jobs of a higher priority ran while the attempt's job waited (src/transitions.ts priorityWait). */
const priorityWait = {
  type: 'object',
  description:
    'Jobs of a higher priority were claimed while the job waited: its priority, its effective priority at the claim (with aging), how long it waited ready (waitedMs), how many ran ahead of it (ahead) and a sentence. Absent when none did.',
  properties: { priority: int, effective: int, waitedMs: int, ahead: int, explanation: str },
  ...open,
} as const;

/** The tick that created the job, on its first attempt (src/schedule.ts scheduledTick). */
const scheduledTick = {
  type: 'object',
  description:
    "The first attempt of a job a scheduler created: the scheduler, the occurrence it was planned for (plannedAt), when its tick created it (createdAt) and how late (lateMs), the scheduler's missed-tick policy (missed: skip, once or each:N), the due occurrences that tick did not run (skipped) and a sentence.",
  properties: {
    scheduler: str,
    missed: str,
    plannedAt: time,
    createdAt: time,
    lateMs: int,
    skipped: int,
    explanation: str,
  },
  ...open,
} as const;

const attempt = {
  type: 'object',
  properties: {
    n: int,
    trigger: { type: 'string', enum: ['auto', 'manual', 'stall', 'schedule'] },
    dueAt: time,
    startedAt: time,
    finishedAt: time,
    driftMs: { type: 'number', description: 'startedAt − dueAt' },
    workerId: str,
    outcome: str,
    error: { ...errorInfo, properties: { ...errorInfo.properties, stack: str } },
    errorClass: str,
    rule: str,
    classifiedBy: {
      type: 'string',
      enum: ['worker'],
      description: "Present when the job carried no classification and the worker's own classified it.",
    },
    decision: {
      type: 'object',
      description: 'done | retry (delay, explanation) | dead (reason) | cancelled',
      ...open,
    },
    manual,
    ...trailProps,
    rateLimit: {
      type: 'object',
      description:
        "The attempt's claim waited for a rate limit: scope queue | group, the group, the limit (10/s), how long after it was due (waitedMs) and a sentence.",
      properties: {
        scope: { type: 'string', enum: ['queue', 'group'] },
        group: str,
        limit: str,
        waitedMs: int,
        explanation: str,
      },
      ...open,
    },
    priority: priorityWait,
    schedule: scheduledTick,
    pause: {
      type: 'object',
      description: "A rate_limited attempt: what its handler's RateLimitError paused, and for how long.",
      properties: { scope: { type: 'string', enum: ['queue', 'group'] }, group: str, ms: int },
      ...open,
    },
    response: {
      type: 'object',
      description: `What the attempt's HTTP call answered (an HTTP target job, or job.recordResponse): status, ms, the headers of interest, the start of the body (base64 when bodyEncoding says so), its full size, the redirects followed; at most ${MAX_RESPONSE_BYTES} bytes of JSON.`,
      properties: {
        status: int,
        ms: int,
        headers: { type: 'object', additionalProperties: str },
        body: str,
        bodyEncoding: { type: 'string', enum: ['base64'] },
        bodyBytes: int,
        redirects: int,
      },
      ...open,
    },
  },
  ...open,
} as const;

export const job = {
  type: 'object',
  description: 'A job with its full attempt history.',
  properties: {
    id: str,
    queue: str,
    name: str,
    data: { description: 'The job data, as JSON.' },
    state: str,
    createdAt: time,
    dueAt: time,
    priority: { type: 'integer', description: 'Higher runs first; FIFO within one priority.' },
    group: { type: 'string', description: 'The job group: groups take turns, each under its rate limit.' },
    options: { type: 'object', ...open },
    attempts: { type: 'array', items: attempt },
    current: {
      type: 'object',
      description:
        'The attempt in progress (active jobs), with its progress and lines so far, and what its claim recorded (rateLimit, priority, schedule: as on an attempt).',
      properties: { ...trailProps, priority: priorityWait, schedule: scheduledTick },
      ...open,
    },
    stalls: int,
    failures: int,
    result: { description: 'The result, for a completed job.' },
    finishedAt: time,
    dead: { type: 'object', ...open },
    cancelled: { type: 'object', ...open },
    refusals: { type: 'array', items: { type: 'object', ...open } },
    scheduler: {
      type: 'object',
      description: 'The scheduler that created the job and the occurrence it was planned for.',
      properties: { id: str, plannedAt: time },
      ...open,
    },
    dedup: {
      type: 'object',
      description: 'The dedup or debounce key the job was created under.',
      properties: { mode: { type: 'string', enum: ['dedup', 'debounce'] }, key: str },
      ...open,
    },
    folded: {
      type: 'object',
      description: 'Adds folded into this job by its key: how many, and when the last one was.',
      properties: { count: int, lastAt: time },
      ...open,
    },
    archived: {
      type: 'boolean',
      enum: [true],
      description: 'Present when the job was read from the archive: retention evicted it from the backend.',
    },
  },
  ...open,
} as const;

export const deadSummary = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    reason: str,
    at: time,
    fingerprint: str,
    errorCode: str,
    archived: {
      type: 'boolean',
      enum: [true],
      description: 'Read from the archive: retention evicted the job from Redis (source archive or all).',
    },
  },
  ...open,
} as const;

export const deadGroup = {
  type: 'object',
  properties: {
    fingerprint: str,
    label: str,
    count: int,
    firstSeen: time,
    lastSeen: time,
    archived: {
      ...int,
      description: 'With source archive or all: how many of the count were read from the archive.',
    },
    names: { type: 'array', items: str, description: "Job names among the group's most recent dead jobs." },
    sample: {
      type: 'object',
      description: 'The most recent dead job of the group and its final error.',
      properties: { id: str, error: { ...errorInfo, properties: { ...errorInfo.properties, stack: str } } },
      ...open,
    },
  },
  ...open,
} as const;

export const page = (item: object) =>
  ({
    type: 'object',
    properties: {
      jobs: { type: 'array', items: item },
      nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
    },
    ...open,
  }) as const;

export const replayResult = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    matched: int,
    replayed: { type: 'array', items: str, description: 'Replayed (or, on a dry run, would be).' },
    failed: { type: 'array', items: { type: 'object', properties: { id: str, error: str }, ...open } },
  },
  ...open,
} as const;

export const purgeResult = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    purged: { type: 'integer', description: 'Purged (or, on a dry run, would be).' },
    ids: { type: 'array', items: str, description: 'On a dry run: the dead jobs that would be purged.' },
  },
  ...open,
} as const;

export const policyPreview = {
  type: 'object',
  properties: {
    maxAttempts: int,
    steps: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: int,
          phase: int,
          delayMs: int,
          minDelayMs: int,
          maxDelayMs: int,
          atMs: int,
          explanation: str,
        },
        ...open,
      },
    },
    then: str,
    summary: str,
  },
  ...open,
} as const;

export const tickRecord = {
  type: 'object',
  description:
    'One tick of a scheduler: when it was planned, when it ran, and the job it created or why it created none.',
  properties: {
    plannedAt: { ...time, description: 'The occurrence (the first one, for a run of skipped ones).' },
    at: { ...time, description: 'When the tick ran (backend clock): at − plannedAt is how late it was.' },
    outcome: { type: 'string', enum: ['created', 'skipped'] },
    jobId: str,
    reason: { type: 'string', enum: ['paused', 'overlap', 'missed'] },
    count: { ...int, description: 'A run of skipped occurrences: how many.' },
    lastPlannedAt: time,
    more: { type: 'boolean', description: 'More occurrences were skipped than counted.' },
  },
  ...open,
} as const;

export const scheduler = {
  type: 'object',
  properties: {
    id: str,
    queue: str,
    spec: {
      type: 'object',
      description: '{ cron, tz } or { every } (ms)',
      properties: { cron: str, tz: str, every: int },
      ...open,
    },
    nextRunAt: { ...time, description: 'The next planned run (while paused: the one that was next).' },
    anchor: { ...time, description: 'Where an every schedule counts from.' },
    name: str,
    data: { description: 'The data of every job it creates.' },
    options: { type: 'object', ...open },
    priority: int,
    group: { ...str, description: 'The rate-limit group of the jobs it creates (absent: none).' },
    missed: { description: "'skip', 'once' or { each: N }" },
    overlap: { type: 'string', enum: ['allow', 'skip'] },
    paused: { type: 'boolean' },
    createdAt: time,
    updatedAt: time,
    lastJobId: str,
    lastTickAt: time,
  },
  ...open,
} as const;

export const schedulerDetail = {
  type: 'object',
  properties: {
    ...scheduler.properties,
    ticks: { type: 'array', items: tickRecord, description: 'The tick ledger, newest first.' },
    upcoming: {
      type: 'array',
      items: time,
      description: 'The next runs (none while paused).',
    },
  },
  ...open,
} as const;

export const schedulerUpserted = {
  type: 'object',
  properties: {
    ...scheduler.properties,
    created: { type: 'boolean', description: 'No scheduler had this id.' },
    specChanged: { type: 'boolean', description: 'Its spec is new or changed: its next run was reset.' },
  },
  ...open,
} as const;

export const workerInfo = {
  type: 'object',
  description: 'A live worker, as its last heartbeat said.',
  properties: {
    id: str,
    host: str,
    pid: int,
    queues: { type: 'array', items: str },
    concurrency: int,
    inFlight: { ...int, description: 'Jobs running or claimed when it last beat.' },
    version: str,
    startedAt: time,
    heartbeatAt: { ...time, description: 'Its last heartbeat.' },
    expiresAt: { ...time, description: 'When its entry goes without another heartbeat.' },
  },
  ...open,
} as const;

export const workerRegistry = {
  type: 'object',
  properties: {
    now: { ...time, description: "The backend's clock when it looked." },
    workers: { type: 'array', items: workerInfo },
    lastSeenAt: {
      ...time,
      description: 'The last time any worker was alive on the queue; absent if none ever registered.',
    },
  },
  ...open,
} as const;

const hold = {
  type: 'object',
  description:
    'One thing that holds the job: kind due | paused | priority | no-worker | scheduler | rate-limit | retry-budget, a sentence (text), and the facts of its kind.',
  properties: {
    kind: {
      type: 'string',
      enum: ['due', 'paused', 'priority', 'no-worker', 'scheduler', 'rate-limit', 'retry-budget'],
    },
    text: str,
    dueAt: time,
    inMs: int,
    cause: { type: 'string', enum: ['retry', 'delay', 'schedule'] },
    attempt: int,
    retry: int,
    strategy: str,
    source: { type: 'string', enum: ['policy', 'handler'] },
    explanation: str,
    ahead: int,
    atLeast: { type: 'boolean' },
    higher: int,
    same: int,
    aged: int,
    priority: int,
    effectivePriority: int,
    agingMs: int,
    lastSeenAt: time,
    forMs: int,
    schedulerId: str,
    plannedAt: time,
    paused: { type: 'boolean' },
    nextRunAt: time,
    scope: { type: 'string', enum: ['queue', 'group'] },
    group: str,
    until: time,
    deferredMs: int,
    firstAttempts: int,
    allowed: int,
  },
  ...open,
} as const;

export const explanation = {
  type: 'object',
  description: 'Why a job is not running (holds, in order), or that it runs, or what finished it.',
  properties: {
    queue: str,
    id: str,
    state: { type: 'string', enum: [...JobStates, 'not-created'] },
    now: { ...time, description: "The backend's clock when it looked." },
    summary: str,
    holds: { type: 'array', items: hold },
    finished: {
      type: 'object',
      properties: { state: str, at: time, text: str },
      ...open,
    },
    scheduler: { type: 'object', properties: { id: str, plannedAt: time }, ...open },
  },
  ...open,
} as const;

/** 4xx/5xx answers for the OpenAPI document, sent as application/problem+json. */
export const problems = {
  '4xx': {
    description: 'Bad input, unknown job, wrong state, or no token',
    content: { 'application/problem+json': { schema: problem } },
  },
  '5xx': {
    description: 'Backend unavailable or closed',
    content: { 'application/problem+json': { schema: problem } },
  },
} as const;

const num = { type: 'number' } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const percentile = {
  type: ['object', 'null'],
  description: 'The histogram bucket the percentile falls in (toMs null: no upper bound); null without data',
  properties: { fromMs: num, toMs: nullableNum },
  ...open,
} as const;
const timeHistogram = {
  type: 'object',
  properties: {
    buckets: {
      type: 'array',
      description: 'Fixed 1-2-5 bounds: values fromMs <= v < toMs; toMs null on the last',
      items: { type: 'object', properties: { fromMs: num, toMs: nullableNum, count: int }, ...open },
    },
    count: int,
    p50: percentile,
    p95: percentile,
    p99: percentile,
  },
  ...open,
} as const;
const breakdownProps = {
  failed: { ...int, description: 'attempts that failed (or stalled) with it' },
  dead: { ...int, description: 'jobs dead-lettered with it on their last attempt' },
  next: { ...int, description: 'attempts that came next after a failure with it and ended with a verdict' },
  nextSucceeded: { ...int, description: 'of those, the ones that succeeded' },
  nextSuccessRate: {
    ...nullableNum,
    description:
      'nextSucceeded / next: P(next attempt succeeds | this attempt failed with it); null without one',
  },
  recovered: { ...int, description: 'jobs that succeeded after failing with it at least once' },
  lost: { ...int, description: 'jobs dead-lettered after failing with it at least once' },
} as const;
const breakdown = {
  type: 'array',
  description: `By key, most failed first; '(other)' holds the keys a bucket refused past 64 of a kind`,
  items: {
    type: 'object',
    properties: {
      key: str,
      label: { type: ['string', 'null'] },
      ...breakdownProps,
      jobs: { type: ['integer', 'null'], description: 'archive only: jobs that failed with this key' },
      jobAttempts: { type: ['integer', 'null'], description: 'archive only: every attempt of those jobs' },
    },
    ...open,
  },
} as const;
const nullableInt = { type: ['integer', 'null'] } as const;

/** A retry analytics report (src/analytics.ts). */
export const analyticsReport = {
  type: 'object',
  properties: {
    queue: str,
    source: { type: 'string', enum: ['rollups', 'archive'], description: 'where the figures were read' },
    window: {
      type: 'object',
      properties: {
        from: { ...time, description: 'start of the first bucket read (at or before to − ms)' },
        to: time,
        ms: int,
        resolution: { type: 'string', enum: ['minute', 'hour'] },
        bucketMs: int,
      },
      ...open,
    },
    name: { type: ['string', 'null'] },
    totals: {
      type: 'object',
      properties: {
        attempts: int,
        failed: int,
        stalled: { ...int, description: 'attempts whose lease expired (recovered)' },
        succeeded: int,
        dead: { ...int, description: 'dead-lettered, stall deaths (poison) included' },
        cancelled: { ...int, description: 'jobs cancelled (not in deadLetterRate)' },
        retries: int,
        wastedAttempts: { ...int, description: 'retries of jobs dead-lettered anyway' },
        deadLetterRate: nullableNum,
      },
      ...open,
    },
    attempts: {
      type: 'array',
      description: 'By attempt number; successRate = P(success at n | attempt n−1 failed)',
      items: {
        type: 'object',
        properties: {
          n: int,
          attempts: int,
          failed: int,
          stalled: int,
          succeeded: int,
          dead: int,
          successRate: nullableNum,
        },
        ...open,
      },
    },
    timeToSuccess: timeHistogram,
    drift: timeHistogram,
    deadReasons: {
      type: 'array',
      items: { type: 'object', properties: { reason: str, count: int }, ...open },
    },
    cancels: {
      type: 'array',
      description: 'jobs cancelled, by the state they were cancelled in',
      items: { type: 'object', properties: { state: str, count: int }, ...open },
    },
    byErrorClass: breakdown,
    byRule: breakdown,
    byFingerprint: breakdown,
    by: { type: ['string', 'null'] },
    groups: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: {
          key: str,
          label: { type: ['string', 'null'] },
          attempts: nullableInt,
          failed: int,
          succeeded: nullableInt,
          dead: int,
          cancelled: nullableInt,
          next: nullableInt,
          nextSucceeded: nullableInt,
          nextSuccessRate: nullableNum,
          recovered: nullableInt,
          lost: nullableInt,
        },
        ...open,
      },
    },
    suggestion: {
      type: 'object',
      properties: { attempts: { type: ['integer', 'null'] }, reason: str },
      ...open,
    },
  },
  ...open,
} as const;
// Retry intelligence: what-if, audit, storm radar ---------------------------------------------------

const nullableTime = { type: ['number', 'null'], description: 'ms since epoch, or null' } as const;
const obj = (properties: Record<string, unknown>, description?: string) =>
  ({ type: 'object', properties, ...(description ? { description } : {}), ...open }) as const;
const peakOf = (description: string) => obj({ count: int, at: nullableTime }, description);
const historyScope = obj(
  {
    source: { type: 'string', enum: ['live', 'archive'], description: 'where the jobs were read' },
    from: nullableTime,
    to: nullableTime,
    name: { type: ['string', 'null'] },
    limit: int,
    read: { ...int, description: 'recorded jobs read (the most recently finished first)' },
    truncated: { type: 'boolean', description: 'more finished jobs matched than limit' },
  },
  'Which recorded jobs were read, and the bound',
);

const scenario = obj(
  {
    jobs: int,
    succeeded: int,
    dead: int,
    deadByReason: obj({ exhausted: int, permanent: int, poison: int }),
    attempts: int,
    retries: { ...int, description: 'retries the policy scheduled after failures' },
    timeToSuccessMs: {
      type: ['object', 'null'],
      description: 'nearest-rank percentiles from the first due time to success; null when none succeeded',
      properties: { p50: int, p95: int },
      ...open,
    },
    peakRetriesDuePerSecond: peakOf('most retries due within one whole second'),
    peakDeadLettersPerMinute: peakOf('dead-letter volume: most jobs dead-lettered within one whole minute'),
  },
  'One scenario over the replayed jobs',
);

export const whatIfReport = obj(
  {
    queue: str,
    scope: obj({
      ...historyScope.properties,
      replayed: int,
      excluded: obj(
        { manual: int, unfinished: int, 'unknown-strategy': int },
        'jobs read but not replayed: run again by a person, not finished, or a custom strategy the server cannot run',
      ),
    }),
    retry: {
      type: ['object', 'null'],
      description: 'the alternative policy (null: each job its own)',
      ...open,
    },
    classify: {
      type: ['object', 'null'],
      description: 'the alternative code table (null: as recorded)',
      ...open,
    },
    seed: int,
    draws: str,
    comparison: obj({
      recorded: scenario,
      alternative: obj(
        {
          known: { ...int, description: 'jobs whose alternative outcome the record settles' },
          unknown: { ...int, description: 'jobs the alternative runs past their record' },
          optimistic: scenario,
          pessimistic: scenario,
        },
        'Bounds: every attempt past the record succeeds (optimistic) or fails like the last recorded one (pessimistic)',
      ),
    }),
    classification: {
      type: ['object', 'null'],
      description: 'the recorded failures under the alternative code table',
      properties: {
        failedAttempts: int,
        permanent: int,
        newlyPermanent: int,
        newlyTemporary: int,
        jobsWithPermanent: int,
        laterSucceeded: int,
        permanentByRule: { type: 'object', additionalProperties: int },
        summary: str,
      },
      ...open,
    },
    summary: { type: 'array', items: str },
  },
  'A simulation over recorded history: nothing was changed',
);

export const auditReport = obj({
  queue: str,
  scope: historyScope,
  toleranceMs: int,
  driftOutlierMs: { ...int, description: 'drifts above this are outliers (Q3 + 3 × IQR, at least driftMs)' },
  checked: obj({ jobs: int, retries: int, verified: int, noDraw: int, unknownStrategy: int }),
  counts: { type: 'object', additionalProperties: int },
  findings: {
    type: 'array',
    items: obj({
      kind: {
        type: 'string',
        enum: ['delay', 'decision', 'due', 'early', 'retry-after', 'drift', 'attempts'],
      },
      jobId: str,
      name: str,
      attempt: int,
      expectedDelayMs: int,
      recordedDelayMs: int,
      actualDelayMs: int,
      driftMs: int,
      attempts: int,
      maxAttempts: int,
      message: str,
    }),
  },
  findingsTruncated: { type: 'boolean' },
  summary: { type: 'array', items: str },
});

export const radarReport = obj({
  queue: str,
  now: time,
  horizonMs: int,
  read: int,
  truncated: { type: 'boolean', description: 'more scheduled jobs were due within the horizon than max' },
  retries: int,
  overdue: int,
  firstRuns: { ...int, description: 'delayed first runs due within the horizon (not retries)' },
  perSecond: { type: 'array', items: int, description: 'retries due in each second from now' },
  peak: obj({ count: int, atS: { type: ['integer', 'null'] } }),
  burstThreshold: int,
  burstRule: str,
  bursts: {
    type: 'array',
    items: obj({
      startS: int,
      endS: int,
      retries: int,
      peakPerSecond: int,
      names: { type: 'array', items: obj({ name: str, retries: int }) },
    }),
  },
  policies: {
    type: 'array',
    items: obj({
      name: str,
      policy: { type: ['object', 'null'], ...open },
      jitter: { type: 'boolean' },
      retries: int,
      peakPerSecond: int,
    }),
  },
  withoutJitter: { type: 'array', items: str },
});

/** GET / PUT /queues/:queue/retry-budget */
export const retryBudgets = {
  type: 'object',
  properties: {
    budgets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: ['string', 'null'], description: "null: the queue's budget; else a job name's own" },
          ratio: num,
          windowMs: int,
          minPerSecond: int,
          onExhausted: { type: 'string', enum: ['defer', 'dead'] },
          bookedUntil: {
            ...time,
            description: 'retries are placed up to this time: later than now while deferring',
          },
        },
        ...open,
      },
    },
  },
  ...open,
} as const;

const rateLimitView = {
  type: 'object',
  properties: { rate: { type: 'number' }, per: int, burst: int, label: str },
  ...open,
} as const;

const pauseRecord = {
  type: 'object',
  description: "The handler's RateLimitError that paused this bucket, in force now.",
  properties: {
    at: { ...time, description: 'when the pause began' },
    until: { ...time, description: 'when it ends' },
    jobId: str,
    attempt: int,
    message: { ...str, description: "the error's message (user text)" },
  },
  ...open,
} as const;

const bucketFields = {
  limit: { ...rateLimitView, type: ['object', 'null'], description: 'The limit that applies; null = none.' },
  tokens: {
    type: ['integer', 'null'],
    description: 'Jobs the bucket lets start now (0: empty); null = no bucket, no bound.',
  },
  nextTokenAt: { ...time, description: 'When its next token exists, if later than now.' },
  pause: pauseRecord,
} as const;

/** The rate-limit view (GET /queues/{queue}/rate-limits/state). */
export const rateLimitState = {
  type: 'object',
  properties: {
    at: { ...time, description: "The backend's clock when it was read." },
    queue: { type: 'object', description: "The queue's bucket.", properties: bucketFields, ...open },
    groupLimit: {
      ...rateLimitView,
      type: ['object', 'null'],
      description: 'The limit of each group without its own; null = none.',
    },
    ownLimits: {
      ...int,
      description: 'How many groups have a limit of their own (GET …/rate-limits lists them).',
    },
    counts: {
      type: 'object',
      properties: {
        turns: { ...int, description: 'groups taking turns (the jobs without a group count as one)' },
        parked: { ...int, description: 'groups with waiting jobs and an empty bucket' },
        paused: { ...int, description: "groups paused by a handler's RateLimitError" },
      },
      ...open,
    },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          group: { ...str, description: "The group key (user text); '' = the jobs without a group." },
          waiting: int,
          ownLimit: {
            type: 'boolean',
            description: "limit is the group's own (else the default group limit)",
          },
          ...bucketFields,
          turn: { ...int, description: 'Its place in the ring of turns: 0 = served next.' },
          parkedUntil: { ...time, description: 'Parked: claims skip it until its next token.' },
        },
        ...open,
      },
    },
    nextCursor: { ...str, description: 'Pass as cursor for the next page; absent on the last.' },
  },
  ...open,
} as const;

/** A queue's rate limits (GET / PUT /queues/{queue}/rate-limits). */
export const rateLimits = {
  type: 'object',
  properties: {
    queue: {
      ...rateLimitView,
      type: ['object', 'null'],
      description: 'The limit of the whole queue; null = none.',
    },
    group: {
      ...rateLimitView,
      type: ['object', 'null'],
      description: 'The limit of each group without its own; null = none.',
    },
    groups: {
      type: 'object',
      description: 'The groups with a limit of their own, by group.',
      additionalProperties: rateLimitView,
    },
    queueNextTokenAt: {
      ...time,
      description: "When the queue's bucket gives its next token, if it has none now (limited or paused).",
    },
  },
  ...open,
} as const;
