/**
 * Request and response JSON schemas of the HTTP API: the one source of truth for validation,
 * serialisation and the OpenAPI document. Request schemas are strict (`additionalProperties: false`,
 * types, lengths); the library validates again and its messages win where it knows more (retry
 * policy combinations, data size). Response schemas document the shape and never drop fields
 * (`additionalProperties: true`), so a field the core adds later still reaches clients.
 *
 * The TypeScript types next to each request schema describe what the schema lets through.
 * @module
 */
import { BACKOFF_KEYS, BACKOFF_REQUIRED, BACKOFF_TYPES, MAX_ATTEMPTS, type BackoffKey } from '../backoff.js';
import { INSTANT_PATTERN } from '../instant.js';
import { MAX_BULK, MAX_PATCHED_BYTES } from '../dlq.js';
import {
  type BackoffType,
  DeadReasons,
  Jitters,
  JobStates,
  type DeadReason,
  type ErrorClass,
  type JobState,
  type RetentionSettings,
  type RetryPolicy,
} from '../types.js';
import {
  DEFAULT_GROUP_PAGE,
  GROUP_FILTERS,
  GROUP_RULE,
  MAX_BURST,
  MAX_GROUP_PAGE,
  MAX_RATE,
  MAX_RATE_PERIOD_MS,
  MIN_RATE,
  type GroupFilter,
} from '../rate-limit.js';
import { MAX_PRIORITY, MAX_PRIORITY_AGING_MS, MIN_PRIORITY } from '../transitions.js';
import {
  MAX_MISSED_EACH,
  MIN_EVERY_MS,
  SCHEDULER_ID_RULE,
  TICK_LEDGER_LENGTH,
  type MissedPolicy,
  type OverlapPolicy,
  type ScheduleSpec,
} from '../schedule.js';
import { MAX_DURATION_MS, Rules, type TextRule } from '../validate.js';
import {
  DEFAULT_TARGET_TIMEOUT_MS,
  HTTP_METHODS,
  MAX_TARGET_BODY_BYTES,
  MAX_TARGET_TIMEOUT_MS,
} from '../http-target.js';
import { DEFAULT_HISTORY_LIMIT, HISTORY_PAGE, MAX_HISTORY_LIMIT } from '../recorded.js';
import {
  DEFAULT_RADAR_HORIZON_MS,
  DEFAULT_RADAR_MAX,
  MAX_RADAR_HORIZON_MS,
  MAX_RADAR_MAX,
} from '../radar.js';

// Shared pieces ------------------------------------------------------------------------------------

/** A string schema from one of the library's text rules (src/validate.ts): the same rule, not a copy. */
function text<D extends string>(rule: TextRule, description?: D) {
  return {
    type: 'string',
    minLength: rule.minLength,
    maxLength: rule.maxLength,
    pattern: rule.pattern,
    ...(description === undefined ? {} : { description }),
  } as const;
}

const REASONS: readonly DeadReason[] = DeadReasons;

const queueName = text(Rules.queueName, 'Queue name: 1-64 of A-Z a-z 0-9 _ . -');
export const jobId = text(Rules.jobId, 'Job id: 1-128 of A-Z a-z 0-9 _ . : -');
const jobName = text(Rules.jobName);
const durationMs = { type: 'integer', minimum: 0, maximum: MAX_DURATION_MS } as const;
export const who = text(Rules.who, 'Who does this (recorded with the job).');
export const note = text(Rules.note);
/** A time in a query string or body: ms since epoch, or an ISO 8601 date-time. */
const timeInput = {
  type: 'string',
  minLength: 1,
  maxLength: 40,
  pattern: INSTANT_PATTERN,
  description: 'ms since epoch, or an ISO 8601 date-time such as 2026-01-31T12:00:00Z',
} as const;
const cursor = {
  type: 'string',
  maxLength: 200,
  description: 'Opaque: the nextCursor of a previous page (any other text is refused with 400).',
} as const;
const limit = { type: 'integer', minimum: 1, maximum: 500, default: 50 } as const;

export const queueParams = {
  type: 'object',
  properties: { queue: queueName },
  required: ['queue'],
  additionalProperties: false,
} as const;
export interface QueueParams {
  queue: string;
}

export const jobParams = {
  type: 'object',
  properties: { queue: queueName, id: jobId },
  required: ['queue', 'id'],
  additionalProperties: false,
} as const;
export interface JobParams {
  queue: string;
  id: string;
}

// Retry policies -----------------------------------------------------------------------------------

/** The schema of each backoff key; the types and which keys each takes come from the library. */
const BACKOFF_KEY_SCHEMAS: Readonly<Record<Exclude<BackoffKey, 'type'>, object>> = {
  delayMs: durationMs,
  stepMs: durationMs,
  maxDelayMs: { ...durationMs, description: 'At least delayMs.' },
  factor: { type: 'number', minimum: 1, maximum: 1000 },
  jitter: { type: 'string', enum: [...Jitters] },
  name: text(Rules.strategyName),
};

/**
 * Two properties that exclude each other, as `not: both(a, b)` (`type` keeps a body that is not an
 * object from failing here: it fails on its type instead).
 */
export function both<A extends string, B extends string>(a: A, b: B) {
  return { type: 'object', required: [a, b] } as const;
}

/** How the delay before a retry is chosen, among `types`. */
function backoffOf(types: readonly BackoffType[]) {
  return {
    type: 'object',
    description: 'How the delay before a retry is chosen.',
    properties: { type: { type: 'string', enum: [...types] } },
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: types.map((type) => ({
      type: 'object',
      properties: Object.fromEntries(
        BACKOFF_KEYS[type].map((k) => [k, k === 'type' ? { const: type } : BACKOFF_KEY_SCHEMAS[k]]),
      ),
      required: [...BACKOFF_REQUIRED[type]],
      additionalProperties: false,
    })),
  } as const;
}

/**
 * `{ attempts, backoff? }` or `{ phases }`, never both (the library checks the same, and two rules a
 * schema cannot say, written in the descriptions: at most MAX_ATTEMPTS − 1 retries in all, and a
 * `maxDelayMs` at least `delayMs`).
 */
function retryPolicyOf(types: readonly BackoffType[]) {
  const backoff = backoffOf(types);
  return {
    type: 'object',
    description: `Either { attempts, backoff? } (attempts counts the first run) or { phases: [{ retries, backoff }] } (at most ${MAX_ATTEMPTS - 1} retries in all).`,
    properties: {
      attempts: { type: 'integer', minimum: 1, maximum: MAX_ATTEMPTS },
      backoff,
      phases: {
        type: 'array',
        maxItems: 100,
        items: {
          type: 'object',
          properties: { retries: { type: 'integer', minimum: 0, maximum: MAX_ATTEMPTS - 1 }, backoff },
          required: ['retries', 'backoff'],
          additionalProperties: false,
        },
      },
    },
    anyOf: [{ required: ['attempts'] }, { required: ['phases'] }],
    allOf: [{ not: both('attempts', 'phases') }, { not: both('phases', 'backoff') }],
    additionalProperties: false,
  } as const;
}

export const retryPolicy = retryPolicyOf(BACKOFF_TYPES);

// Jobs ---------------------------------------------------------------------------------------------

const jobOptions = {
  type: 'object',
  description: 'Every job option the library has (see JobOptions).',
  properties: {
    id: { ...jobId, description: 'Caller-chosen id: adding the same id again returns the existing job.' },
    delay: { ...durationMs, description: 'Run after this many ms.' },
    runAt: { ...timeInput, description: 'Run at this time (ms since epoch or ISO 8601). Not with delay.' },
    retry: retryPolicy,
    timeout: { ...durationMs, description: 'Per-attempt timeout in ms; 0 = none.' },
    maxStalls: { type: 'integer', minimum: 1, maximum: 1000 },
    priority: {
      type: 'integer',
      minimum: MIN_PRIORITY,
      maximum: MAX_PRIORITY,
      description: "Higher runs first, FIFO within one priority. Default: the queue's default (0).",
    },
    group: text(
      GROUP_RULE,
      "The job's group (a tenant, say): groups take turns at claims, one job each, each under its rate limit (PUT /queues/{queue}/rate-limits).",
    ),
    dedup: {
      type: 'object',
      description:
        'Throttle: later adds with the same key within ttlMs of the first return its job (folded: true) and change nothing but its fold count; a cancelled or deleted job ends the window early. Not with id or debounce.',
      properties: {
        key: text(Rules.dedupKey),
        ttlMs: { ...durationMs, minimum: 1, description: 'The window, from the add that created the job.' },
      },
      required: ['key', 'ttlMs'],
      additionalProperties: false,
    },
    debounce: {
      type: 'object',
      description:
        'Debounce: the job is due delayMs after the last add with the key; a later add while it has not started replaces its data and pushes its due time (folded: true). Not with id, dedup, delay or runAt.',
      properties: {
        key: text(Rules.dedupKey),
        delayMs: { ...durationMs, minimum: 1, description: 'Run this long after the last add.' },
      },
      required: ['key', 'delayMs'],
      additionalProperties: false,
    },
  },
  allOf: [
    { not: both('delay', 'runAt') },
    { not: both('dedup', 'debounce') },
    { not: both('id', 'dedup') },
    { not: both('id', 'debounce') },
    { not: both('debounce', 'delay') },
    { not: both('debounce', 'runAt') },
  ],
  additionalProperties: false,
} as const;
export interface JobOptionsBody {
  id?: string;
  delay?: number;
  runAt?: string;
  retry?: RetryPolicy;
  timeout?: number;
  maxStalls?: number;
  priority?: number;
  group?: string;
  dedup?: { key: string; ttlMs: number };
  debounce?: { key: string; delayMs: number };
}

const rateLimitFields = {
  rate: {
    type: 'number',
    minimum: MIN_RATE,
    maximum: MAX_RATE,
    description: 'Jobs per `per` ms (fractions allowed: 0.5 per 1000 ms is one every 2 s).',
  },
  per: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_RATE_PERIOD_MS,
    description: 'The period, in ms (default 1000).',
  },
  burst: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_BURST,
    description: 'Most jobs started at once after a quiet spell (default: rate rounded up, at least 1).',
  },
} as const;
const rateLimitBodyLimit = {
  type: 'object',
  properties: rateLimitFields,
  required: ['rate'],
  additionalProperties: false,
} as const;
/** A change of a queue's rate limits: what is given is set, what `remove` names goes, the rest stays. */
export const rateLimitBody = {
  type: 'object',
  description:
    'Token buckets enforced by claims: the whole queue (queueLimit), each group without its own limit (groupLimit), single groups (groups). Keys not given are kept.',
  properties: {
    queueLimit: { ...rateLimitBodyLimit, description: 'The limit of the whole queue.' },
    groupLimit: { ...rateLimitBodyLimit, description: 'The limit of each group that has none of its own.' },
    groups: {
      type: 'array',
      maxItems: 1000,
      description: 'Limits of single groups.',
      items: {
        type: 'object',
        properties: { group: text(GROUP_RULE), ...rateLimitFields },
        required: ['group', 'rate'],
        additionalProperties: false,
      },
    },
    remove: {
      type: 'array',
      maxItems: 2,
      items: { type: 'string', enum: ['queueLimit', 'groupLimit'] },
      description: 'Limits to remove: the queue limit, the default group limit.',
    },
    removeGroups: {
      type: 'array',
      maxItems: 1000,
      items: text(GROUP_RULE),
      description: 'Groups whose own limit to remove (they fall back to the default group limit).',
    },
  },
  additionalProperties: false,
} as const;
interface RateLimitBodyLimit {
  rate: number;
  per?: number;
  burst?: number;
}
export interface RateLimitBody {
  queueLimit?: RateLimitBodyLimit;
  groupLimit?: RateLimitBodyLimit;
  groups?: (RateLimitBodyLimit & { group: string })[];
  remove?: ('queueLimit' | 'groupLimit')[];
  removeGroups?: string[];
}

/** GET /queues/{queue}/rate-limits/state: which groups, how many, from where. */
export const rateLimitStateQuery = {
  type: 'object',
  properties: {
    filter: {
      type: 'string',
      enum: GROUP_FILTERS,
      default: 'waiting',
      description:
        'waiting: the groups taking turns in turn order, then the parked ones (empty bucket) by next token; turns; parked; paused (by a handler, soonest end first).',
    },
    limit: { type: 'integer', minimum: 1, maximum: MAX_GROUP_PAGE, default: DEFAULT_GROUP_PAGE },
    cursor: {
      ...cursor,
      description:
        'Opaque: the nextCursor of a previous page of the same filter (any other text is refused with 400).',
    },
    group: text(GROUP_RULE, "One group's row only, whatever the filter."),
  },
  additionalProperties: false,
} as const;
export interface RateLimitStateQueryString {
  filter: GroupFilter;
  limit: number;
  cursor?: string;
  group?: string;
}

export const priorityAgingBody = {
  type: 'object',
  properties: {
    agingMs: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_PRIORITY_AGING_MS,
      description: 'A waiting job gains one priority level per this many ms waited; 0 = strict order.',
    },
  },
  required: ['agingMs'],
  additionalProperties: false,
} as const;
export interface PriorityAgingBody {
  agingMs: number;
}

export const defaultPriorityBody = {
  type: 'object',
  properties: {
    priority: {
      type: 'integer',
      minimum: MIN_PRIORITY,
      maximum: MAX_PRIORITY,
      description: 'The priority of jobs added without one (higher runs first); 0 = none.',
    },
  },
  required: ['priority'],
  additionalProperties: false,
} as const;
export interface DefaultPriorityBody {
  priority: number;
}

const newJob = {
  type: 'object',
  properties: { name: jobName, data: { description: 'Any JSON value.' }, options: jobOptions },
  required: ['name', 'data'],
  additionalProperties: false,
} as const;
export interface NewJobBody {
  name: string;
  data: unknown;
  options?: JobOptionsBody;
}

export const addJobBody = newJob;

/** An HTTP target job (src/http-target.ts): the URL to call, run by `retraced worker --http`. */
export const addHttpJobBody = {
  type: 'object',
  properties: {
    target: {
      type: 'object',
      description:
        "What the built-in handler calls. Its host must be in the worker's allow-list (private and loopback addresses refused unless allowed); 2xx succeeds; 429 pauses the job's group (or queue) for its Retry-After without charging an attempt; 408/425/5xx are retried (Retry-After honoured); other statuses dead-letter (the worker's flags change these). The response (status, headers of interest, a body excerpt) is recorded on the attempt (`response`).",
      properties: {
        url: {
          type: 'string',
          minLength: 1,
          maxLength: 2048,
          pattern: '^[hH][tT][tT][pP][sS]?://',
          description: 'An http or https URL, without credentials.',
        },
        method: { type: 'string', enum: [...HTTP_METHODS], default: 'POST' },
        headers: {
          type: 'object',
          maxProperties: 50,
          propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$" },
          additionalProperties: {
            type: 'string',
            maxLength: 4096,
            pattern: '^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$',
          },
          description:
            'Request headers (not Host, Content-Length, Transfer-Encoding, Connection or the X-Retraced-* signature headers).',
        },
        body: {
          type: 'string',
          maxLength: MAX_TARGET_BODY_BYTES,
          description: `The request body as text, at most ${MAX_TARGET_BODY_BYTES} bytes of UTF-8; not with GET or HEAD.`,
        },
        timeoutMs: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_TARGET_TIMEOUT_MS,
          description: `Per request (and per redirect hop), ms; absent, the worker's default (--http-timeout, ${DEFAULT_TARGET_TIMEOUT_MS} ms), and never above its --http-max-timeout.`,
        },
      },
      required: ['url'],
      additionalProperties: false,
    },
    options: jobOptions,
  },
  required: ['target'],
  additionalProperties: false,
} as const;
export interface AddHttpJobBody {
  target: Record<string, unknown>;
  options?: JobOptionsBody;
}
export const addBulkBody = {
  type: 'object',
  properties: { jobs: { type: 'array', minItems: 1, maxItems: 1000, items: newJob } },
  required: ['jobs'],
  additionalProperties: false,
} as const;
export interface AddBulkBody {
  jobs: NewJobBody[];
}

export const listJobsQuery = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: [...JobStates], default: 'waiting' },
    name: jobName,
    errorClass: {
      type: 'string',
      enum: ['temporary', 'permanent', 'poison'],
      description: 'The class of an error of any attempt (indexed).',
    },
    rule: text(
      Rules.errorCode,
      'The rule that classified an error of any attempt, such as code:ECONNRESET (indexed).',
    ),
    errorCode: text(Rules.errorCode, 'The code of an error of any attempt (indexed).'),
    fingerprint: {
      ...text(Rules.fingerprint),
      description: 'The fingerprint of an error of any attempt (indexed).',
    },
    trigger: {
      type: 'string',
      enum: ['manual', 'stall'],
      description: 'The job was run again by a person (manual) or recovered from a stall (indexed).',
    },
    minAttempts: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      description: 'Attempts made, at least (2 or more is indexed).',
    },
    maxAttempts: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'Attempts made, at most.' },
    from: { ...timeInput, description: 'createdAt (finishedAt for finished states) at or after this time.' },
    to: { ...timeInput, description: 'createdAt (finishedAt for finished states) at or before this time.' },
    text: {
      ...text(Rules.errorCode),
      description:
        "A substring of the job's data as JSON text (case-sensitive): checked on each candidate, never indexed.",
    },
    source: {
      type: 'string',
      enum: ['live', 'archive', 'all'],
      default: 'live',
      description:
        "Where to look: Redis (live), the PostgreSQL archive of finished jobs (archive: any filters, newest created first), or both (all: with an indexed filter merged newest created first, one cursor over both; without one, the state's own list, then the archived jobs Redis no longer holds). Archived jobs are marked archived. On a server without an archive (--postgres) archive finds nothing and all is live.",
    },
    cursor: { ...cursor, maxLength: 400 },
    limit,
  },
  additionalProperties: false,
} as const;
export interface ListJobsQuery {
  state: JobState;
  name?: string;
  errorClass?: ErrorClass;
  rule?: string;
  errorCode?: string;
  fingerprint?: string;
  trigger?: 'manual' | 'stall';
  minAttempts?: number;
  maxAttempts?: number;
  from?: string;
  to?: string;
  text?: string;
  source: 'live' | 'archive' | 'all';
  cursor?: string;
  limit: number;
}

export const cancelBody = {
  type: 'object',
  properties: { by: who, reason: note },
  required: ['by'],
  additionalProperties: false,
} as const;
export interface CancelBody {
  by: string;
  reason?: string;
}

const patch = {
  description: 'JSON Merge Patch (RFC 7386) applied to the job data; the diff is recorded.',
} as const;
export const retryBody = {
  type: 'object',
  properties: { by: who, note, patch },
  required: ['by'],
  additionalProperties: false,
} as const;
export interface RetryBody {
  by: string;
  note?: string;
  patch?: unknown;
}

// Queues -------------------------------------------------------------------------------------------

const retentionRule = {
  type: 'object',
  properties: { count: { type: 'integer', minimum: 0 }, ageMs: durationMs },
  additionalProperties: false,
} as const;
export const retentionBody = {
  type: 'object',
  description: 'How many finished jobs to keep, and for how long, per state.',
  properties: { completed: retentionRule, dead: retentionRule, cancelled: retentionRule },
  additionalProperties: false,
} as const;
export type RetentionBody = RetentionSettings;

// DLQ ----------------------------------------------------------------------------------------------

const reasonList = {
  type: 'string',
  pattern: `^(${REASONS.join('|')})(,(${REASONS.join('|')}))*$`,
  description: `Comma-separated: ${REASONS.join(', ')}`,
} as const;
const fingerprint = text(Rules.fingerprint);
const errorCode = text(Rules.errorCode);

const dlqQueryFilter = {
  reason: reasonList,
  errorCode,
  name: jobName,
  fingerprint,
  from: { ...timeInput, description: 'Dead at or after this time.' },
  to: { ...timeInput, description: 'Dead at or before this time.' },
} as const;
const dlqSource = {
  type: 'string',
  enum: ['live', 'archive', 'all'],
  default: 'live',
  description:
    'Where to look: Redis (live), the PostgreSQL archive (archive: the jobs dead when archived), or both (all: merged most recently dead first, one cursor over both; a job Redis holds is shown, and counted, from Redis only). Archived jobs are marked archived. On a server without an archive (--postgres) archive finds nothing and all is live.',
} as const;

export const dlqListQuery = {
  type: 'object',
  properties: { ...dlqQueryFilter, source: dlqSource, cursor: { ...cursor, maxLength: 400 }, limit },
  additionalProperties: false,
} as const;
export interface DlqListQuery {
  reason?: string;
  errorCode?: string;
  name?: string;
  fingerprint?: string;
  from?: string;
  to?: string;
  source: 'live' | 'archive' | 'all';
  cursor?: string;
  limit: number;
}

export const dlqGroupsQuery = {
  type: 'object',
  properties: { ...dlqQueryFilter, source: dlqSource },
  additionalProperties: false,
} as const;
export type DlqGroupsQuery = Omit<DlqListQuery, 'cursor' | 'limit'>;

const dlqFilter = {
  type: 'object',
  description: 'Matches dead jobs; {} matches every dead job.',
  properties: {
    reason: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'string', enum: [...REASONS] } },
    errorCode,
    name: jobName,
    fingerprint,
    from: timeInput,
    to: timeInput,
  },
  additionalProperties: false,
} as const;
export interface DlqFilterBody {
  reason?: DeadReason[];
  errorCode?: string;
  name?: string;
  fingerprint?: string;
  from?: string;
  to?: string;
}
const idList = { type: 'array', minItems: 1, maxItems: MAX_BULK, items: jobId } as const;
const BULK_BOUND = `At most ${MAX_BULK}; a replay with a patch at most ${MAX_PATCHED_BYTES} bytes of patch in all (jobs × patch size), so fewer with a patch over ${Math.floor(MAX_PATCHED_BYTES / MAX_BULK)} bytes (400 naming the field beyond it).`;

export const replayBody = {
  type: 'object',
  description: 'Give ids or filter (not both).',
  properties: {
    ids: { ...idList, description: `Dead jobs to replay. ${BULK_BOUND}` },
    filter: dlqFilter,
    by: who,
    note,
    patch,
    dryRun: { type: 'boolean', default: false, description: 'Report what would happen; change nothing.' },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_BULK,
      default: 1000,
      description: `Most jobs a filter replays. ${BULK_BOUND}`,
    },
    source: {
      ...dlqSource,
      description:
        'With a filter: the dead jobs of Redis (live), of the archive (archive) or both (all), as GET …/dlq lists them. A dead job only the archive holds (retention evicted it) is restored into Redis with its whole history, then replayed like any other. Ids are looked up in both, always.',
    },
  },
  required: ['by'],
  anyOf: [{ required: ['ids'] }, { required: ['filter'] }],
  not: both('ids', 'filter'),
  additionalProperties: false,
} as const;
export interface ReplayBody {
  ids?: string[];
  filter?: DlqFilterBody;
  source?: 'live' | 'archive' | 'all';
  by: string;
  note?: string;
  patch?: unknown;
  dryRun: boolean;
  limit: number;
}

export const purgeBody = {
  type: 'object',
  description: 'Give ids or filter (not both).',
  properties: { ids: idList, filter: dlqFilter, dryRun: { type: 'boolean', default: false } },
  anyOf: [{ required: ['ids'] }, { required: ['filter'] }],
  not: both('ids', 'filter'),
  additionalProperties: false,
} as const;
export interface PurgeBody {
  ids?: string[];
  filter?: DlqFilterBody;
  dryRun: boolean;
}

// Misc ---------------------------------------------------------------------------------------------

export const retryPlanBody = {
  type: 'object',
  // Custom strategies live in workers: the server cannot preview them.
  properties: { policy: retryPolicyOf(BACKOFF_TYPES.filter((t) => t !== 'custom')) },
  required: ['policy'],
  additionalProperties: false,
} as const;
export interface RetryPlanBody {
  policy: RetryPolicy;
}

/** The queue-name rule without its anchors, for a comma-separated list of names. */
const QUEUE_NAME = Rules.queueName.pattern.slice(1, -1);
export const eventsQuery = {
  type: 'object',
  properties: {
    queue: {
      type: 'string',
      maxLength: 2000,
      pattern: `^${QUEUE_NAME}(,${QUEUE_NAME}){0,49}$`,
      description: 'Comma-separated queue names (at most 50); every queue when absent.',
    },
  },
  additionalProperties: false,
} as const;
export interface EventsQuery {
  queue?: string;
}

/** GET /queues/:queue/analytics */
export const analyticsQuery = {
  type: 'object',
  properties: {
    window: {
      type: 'string',
      minLength: 2,
      maxLength: 5,
      // Every text it allows is 1 s to 400 d: 1-999 s, 1-9999 m, 1-168 h, 1-400 d.
      pattern:
        '^(?:[1-9][0-9]{0,2}s|[1-9][0-9]{0,3}m|(?:[1-9]|[1-9][0-9]|1[0-5][0-9]|16[0-8])h|(?:[1-9]|[1-9][0-9]|[1-3][0-9]{2}|400)d)$',
      default: '1h',
      description:
        'How far back: 1-999 s, 1-9999 m, 1-168 h or 1-400 d, such as 30s, 15m, 2h, 7d, 90d. Over 7 d only from the archive (else 409 RETRACED_ERR_SOURCE_UNAVAILABLE).',
    },
    name: { ...jobName, description: 'Only the jobs of this name.' },
    by: {
      type: 'string',
      enum: ['name', 'errorClass', 'rule', 'fingerprint'],
      description: 'Adds `groups`: one row per job name, error class, rule or fingerprint.',
    },
    source: {
      type: 'string',
      enum: ['auto', 'rollups', 'archive'],
      default: 'auto',
      description:
        'Where to read: the rollups the finish transition keeps (7 d), the PostgreSQL archive (SQL over the archived attempts of finished jobs: the same figures on the same jobs, up to 400 d, with full breakdowns by class, rule and fingerprint), or auto: the archive for a window over 7 d when the server has one (--postgres), else the rollups. archive on a server without one: 409 RETRACED_ERR_SOURCE_UNAVAILABLE naming querystring.source.',
    },
  },
  additionalProperties: false,
} as const;
export interface AnalyticsQuery {
  window?: string;
  name?: string;
  by?: 'name' | 'errorClass' | 'rule' | 'fingerprint';
  source: 'auto' | 'rollups' | 'archive';
}

// Schedulers ---------------------------------------------------------------------------------------

export const schedulerId = text(
  SCHEDULER_ID_RULE,
  "Scheduler id: 1-100 of A-Z a-z 0-9 _ . : -, not '.' or '..'",
);

export const schedulerParams = {
  type: 'object',
  properties: { queue: queueName, id: schedulerId },
  required: ['queue', 'id'],
  additionalProperties: false,
} as const;
export interface SchedulerParams {
  queue: string;
  id: string;
}

/**
 * A scheduler's job options: a job's, without the id and the timing (due at the planned time), and
 * without dedup and debounce (the scheduler's overlap policy says what a tick does while a job runs).
 */
const {
  id: _id,
  delay: _delay,
  runAt: _runAt,
  dedup: _dedup,
  debounce: _debounce,
  ...schedulerJobOptionProps
} = jobOptions.properties;
const scheduleSpec = {
  type: 'object',
  description: '{ cron, tz? } (tz: an IANA time zone, default UTC) or { every } (ms, anchored at creation).',
  properties: {
    cron: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: '5 or 6 fields (seconds first), names and @daily-style macros, as cron-parser reads them.',
    },
    tz: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'An IANA time zone such as Europe/Paris.',
    },
    every: {
      type: 'integer',
      minimum: MIN_EVERY_MS,
      maximum: MAX_DURATION_MS,
      description:
        'Run every this many ms, counted from when the scheduler was created (or its spec changed).',
    },
  },
  anyOf: [{ required: ['cron'] }, { required: ['every'] }],
  allOf: [{ not: both('every', 'cron') }, { not: both('every', 'tz') }],
  additionalProperties: false,
} as const;

export const schedulerBody = {
  type: 'object',
  description:
    'The whole scheduler: upserting replaces its job template and policies; the same spec keeps its next run.',
  properties: {
    spec: scheduleSpec,
    name: jobName,
    data: { description: 'Any JSON value: the data of every job it creates.' },
    options: {
      type: 'object',
      description:
        'The options of every job it creates (no id, delay or runAt: a job is due at its planned time; no dedup or debounce: the overlap policy decides).',
      properties: schedulerJobOptionProps,
      additionalProperties: false,
    },
    missed: {
      description: `What a tick does with occurrences missed while no scheduler loop ran: 'skip' (default: run the latest only if at most a minute late), 'once' (one job for all), or { each: N } (one per occurrence, the latest N, 1-${MAX_MISSED_EACH}).`,
      oneOf: [
        { type: 'string', enum: ['skip', 'once'] },
        {
          type: 'object',
          properties: { each: { type: 'integer', minimum: 1, maximum: MAX_MISSED_EACH } },
          required: ['each'],
          additionalProperties: false,
        },
      ],
    },
    overlap: {
      type: 'string',
      enum: ['allow', 'skip'],
      description:
        "'skip': a tick while the job it created last is unfinished creates nothing (recorded). Default allow.",
    },
  },
  required: ['spec', 'name', 'data'],
  additionalProperties: false,
} as const;
export interface SchedulerBody {
  spec: ScheduleSpec;
  name: string;
  data: unknown;
  options?: Omit<JobOptionsBody, 'id' | 'delay' | 'runAt'>;
  missed?: MissedPolicy;
  overlap?: OverlapPolicy;
}

export const schedulerQuery = {
  type: 'object',
  properties: {
    ticks: {
      type: 'integer',
      minimum: 1,
      maximum: TICK_LEDGER_LENGTH,
      default: 50,
      description: 'How many entries of the tick ledger, newest first.',
    },
  },
  additionalProperties: false,
} as const;
export interface SchedulerQuery {
  ticks: number;
}

// Retry intelligence: what-if, audit, storm radar ---------------------------------------------------

const classifyOptions = {
  type: 'object',
  description: 'An error-code table, merged over the default one, and the class of errors no rule matches.',
  properties: {
    codes: {
      type: 'object',
      maxProperties: 500,
      propertyNames: { minLength: 1, maxLength: 200 },
      additionalProperties: { type: 'string', enum: ['temporary', 'permanent'] },
    },
    default: { type: 'string', enum: ['temporary', 'permanent'] },
  },
  additionalProperties: false,
} as const;

const historySource = {
  type: 'string',
  enum: ['live', 'archive'],
  default: 'live',
  description:
    'Where to read the recorded jobs: Redis (live) or the PostgreSQL archive (archive: finished jobs kept for months, streamed in keyset pages, the most recently finished first). archive on a server without one (--postgres): 409 RETRACED_ERR_SOURCE_UNAVAILABLE naming the field.',
} as const;

const historyLimit = {
  type: 'integer',
  minimum: 1,
  maximum: MAX_HISTORY_LIMIT,
  default: DEFAULT_HISTORY_LIMIT,
  description: `Most recorded jobs read, the most recently finished first (${HISTORY_PAGE} per backend call).`,
} as const;

export const whatIfBody = {
  type: 'object',
  description:
    'A simulation over recorded history: changes nothing. Give retry, classify or both; absent, each job keeps its own.',
  properties: {
    // Custom strategies live in workers: the server cannot run them.
    retry: retryPolicyOf(BACKOFF_TYPES.filter((t) => t !== 'custom')),
    attempts: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_ATTEMPTS,
      description: "Instead of retry: each job's own policy with this many attempts (its backoffs kept).",
    },
    classify: classifyOptions,
    filter: {
      type: 'object',
      properties: { name: { ...jobName, description: 'Only jobs of this name.' } },
      additionalProperties: false,
    },
    window: {
      type: 'object',
      properties: {
        from: { ...timeInput, description: 'Jobs finished at or after this time.' },
        to: { ...timeInput, description: 'Jobs finished at or before this time.' },
      },
      additionalProperties: false,
    },
    limit: historyLimit,
    seed: {
      type: 'integer',
      minimum: 0,
      maximum: 4294967295,
      description: 'Seed of the jitter draws (reported; absent: a random one).',
    },
    draws: {
      type: 'string',
      enum: ['recorded', 'seeded'],
      default: 'recorded',
      description: 'recorded: a retry reuses its recorded jitter draw where there is one.',
    },
    source: historySource,
  },
  not: both('retry', 'attempts'),
  additionalProperties: false,
} as const;
export interface WhatIfBody {
  retry?: RetryPolicy;
  attempts?: number;
  classify?: { codes?: Record<string, 'temporary' | 'permanent'>; default?: 'temporary' | 'permanent' };
  filter?: { name?: string };
  window?: { from?: string; to?: string };
  limit: number;
  seed?: number;
  draws: 'recorded' | 'seeded';
  source: 'live' | 'archive';
}

export const auditQuery = {
  type: 'object',
  properties: {
    from: { ...timeInput, description: 'Jobs finished at or after this time.' },
    to: { ...timeInput, description: 'Jobs finished at or before this time.' },
    name: { ...jobName, description: 'Only jobs of this name.' },
    limit: historyLimit,
    toleranceMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: 50,
      description: 'Differences up to this many ms are not findings.',
    },
    driftMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: 1000,
      description:
        'The least drift that can be an outlier (the fence is Q3 + 3 × IQR of the drifts, at least this).',
    },
    maxFindings: { type: 'integer', minimum: 0, maximum: 10_000, default: 1000 },
    source: historySource,
  },
  additionalProperties: false,
} as const;
export interface AuditQuery {
  source: 'live' | 'archive';
  from?: string;
  to?: string;
  name?: string;
  limit: number;
  toleranceMs: number;
  driftMs: number;
  maxFindings: number;
}

export const radarQuery = {
  type: 'object',
  properties: {
    horizonMs: {
      type: 'integer',
      minimum: 1000,
      maximum: MAX_RADAR_HORIZON_MS,
      default: DEFAULT_RADAR_HORIZON_MS,
      description: 'How far ahead to look.',
    },
    max: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_RADAR_MAX,
      default: DEFAULT_RADAR_MAX,
      description: 'Most scheduled jobs read.',
    },
    burstMin: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10 },
    burstFactor: { type: 'number', minimum: 1, maximum: 1000, default: 4 },
  },
  additionalProperties: false,
} as const;
export interface RadarQuery {
  horizonMs: number;
  max: number;
  burstMin: number;
  burstFactor: number;
}

/** PUT /queues/:queue/retry-budget */
export const retryBudgetBody = {
  type: 'object',
  properties: {
    name: {
      ...jobName,
      description: "A job name's own budget (replaces the queue's for its jobs); absent: the queue's.",
    },
    ratio: {
      type: 'number',
      minimum: 0,
      maximum: 10,
      description: 'Retries ≤ this share of the first attempts of the window (0.2 = 20 %).',
    },
    windowSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      description: 'The sliding window in seconds. Default 10.',
    },
    minPerSecond: {
      type: 'integer',
      minimum: 0,
      maximum: 100_000,
      description: 'Retries always allowed per second. Default 10.',
    },
    onExhausted: {
      type: 'string',
      enum: ['defer', 'dead'],
      description: 'Over budget: defer the retry (default) or dead-letter it with reason budget.',
    },
  },
  required: ['ratio'],
  additionalProperties: false,
} as const;
export interface RetryBudgetBody {
  name?: string;
  ratio: number;
  windowSeconds?: number;
  minPerSecond?: number;
  onExhausted?: 'defer' | 'dead';
}

/** DELETE /queues/:queue/retry-budget */
export const retryBudgetRemoveQuery = {
  type: 'object',
  properties: {
    name: { ...jobName, description: "Remove this job name's own budget; absent: the queue's." },
  },
  additionalProperties: false,
} as const;
export interface RetryBudgetRemoveQuery {
  name?: string;
}
