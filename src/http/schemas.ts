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
import { MAX_BULK, MAX_PATCHED_BYTES } from '../dlq.js';
import {
  DeadReasons,
  JobStates,
  type DeadReason,
  type JobState,
  type RetentionSettings,
  type RetryPolicy,
} from '../types.js';

// Shared pieces ------------------------------------------------------------------------------------

/** Mirrors the library's queue-name rule (options.ts); the library checks again. */
export const QUEUE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** Mirrors the library's job-id rule (options.ts). */
export const JOB_ID_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
const REASONS: readonly DeadReason[] = DeadReasons;

const queueName = {
  type: 'string',
  pattern: QUEUE_NAME_PATTERN,
  description: 'Queue name: 1-64 of A-Z a-z 0-9 _ . -',
} as const;
export const jobId = {
  type: 'string',
  pattern: JOB_ID_PATTERN,
  description: 'Job id: 1-128 of A-Z a-z 0-9 _ . : -',
} as const;
const jobName = { type: 'string', minLength: 1, maxLength: 128 } as const;
const durationMs = { type: 'integer', minimum: 0, maximum: YEAR_MS } as const;
/**
 * Text stored as it is: no lone surrogates (Redis keeps UTF-8, where they cannot exist; they
 * would come back as U+FFFD). Checked with the `u` flag, so surrogate pairs (emoji) pass.
 */
export const WELL_FORMED_PATTERN = '^\\P{Cs}*$';
export const who = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: WELL_FORMED_PATTERN,
  description: 'Who does this (recorded with the job).',
} as const;
export const note = { type: 'string', maxLength: 2000, pattern: WELL_FORMED_PATTERN } as const;
/** A time in a query string or body: ms since epoch, or an ISO 8601 date-time. */
const timeInput = {
  type: 'string',
  minLength: 1,
  maxLength: 40,
  description: 'ms since epoch, or an ISO 8601 date-time such as 2026-01-31T12:00:00Z',
} as const;
const cursor = {
  type: 'string',
  maxLength: 200,
  description: 'Opaque: the nextCursor of a previous page.',
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

const backoff = {
  type: 'object',
  description: 'How the delay before a retry is chosen.',
  properties: { type: { type: 'string', enum: ['immediate', 'fixed', 'linear', 'exponential', 'custom'] } },
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    { type: 'object', properties: { type: { const: 'immediate' } }, additionalProperties: false },
    {
      type: 'object',
      properties: { type: { const: 'fixed' }, delayMs: durationMs },
      required: ['delayMs'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        type: { const: 'linear' },
        delayMs: durationMs,
        stepMs: durationMs,
        maxDelayMs: durationMs,
      },
      required: ['delayMs'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        type: { const: 'exponential' },
        delayMs: durationMs,
        factor: { type: 'number', minimum: 1, maximum: 1000 },
        maxDelayMs: durationMs,
        jitter: { type: 'string', enum: ['none', 'full', 'equal', 'decorrelated'] },
      },
      required: ['delayMs'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { type: { const: 'custom' }, name: { type: 'string', minLength: 1, maxLength: 100 } },
      required: ['name'],
      additionalProperties: false,
    },
  ],
} as const;

/** `{ attempts, backoff? }` or `{ phases }`: which of the two is checked by the library. */
export const retryPolicy = {
  type: 'object',
  description:
    'Either { attempts, backoff? } (attempts counts the first run) or { phases: [{ retries, backoff }] }.',
  properties: {
    attempts: { type: 'integer', minimum: 1, maximum: 1000 },
    backoff,
    phases: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        properties: { retries: { type: 'integer', minimum: 0, maximum: 999 }, backoff },
        required: ['retries', 'backoff'],
        additionalProperties: false,
      },
    },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  additionalProperties: false,
} as const;

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
  },
  additionalProperties: false,
} as const;
export interface JobOptionsBody {
  id?: string;
  delay?: number;
  runAt?: string;
  retry?: RetryPolicy;
  timeout?: number;
  maxStalls?: number;
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
    errorCode: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: "The last attempt's error code.",
    },
    from: { ...timeInput, description: 'createdAt (finishedAt for finished states) at or after this time.' },
    to: { ...timeInput, description: 'createdAt (finishedAt for finished states) at or before this time.' },
    cursor,
    limit,
  },
  additionalProperties: false,
} as const;
export interface ListJobsQuery {
  state: JobState;
  name?: string;
  errorCode?: string;
  from?: string;
  to?: string;
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
const fingerprint = { type: 'string', minLength: 1, maxLength: 64 } as const;
const errorCode = { type: 'string', minLength: 1, maxLength: 200 } as const;

export const dlqListQuery = {
  type: 'object',
  properties: {
    reason: reasonList,
    errorCode,
    name: jobName,
    fingerprint,
    from: { ...timeInput, description: 'Dead at or after this time.' },
    to: { ...timeInput, description: 'Dead at or before this time.' },
    cursor,
    limit,
  },
  additionalProperties: false,
} as const;
export interface DlqListQuery {
  reason?: string;
  errorCode?: string;
  name?: string;
  fingerprint?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

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
  },
  required: ['by'],
  additionalProperties: false,
} as const;
export interface ReplayBody {
  ids?: string[];
  filter?: DlqFilterBody;
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
  properties: { policy: retryPolicy },
  required: ['policy'],
  additionalProperties: false,
} as const;
export interface RetryPlanBody {
  policy: RetryPolicy;
}

export const eventsQuery = {
  type: 'object',
  properties: {
    queue: {
      type: 'string',
      maxLength: 2000,
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){0,49}$',
      description: 'Comma-separated queue names (at most 50); every queue when absent.',
    },
  },
  additionalProperties: false,
} as const;
export interface EventsQuery {
  queue?: string;
}
