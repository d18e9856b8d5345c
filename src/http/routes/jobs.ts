/**
 * Jobs: add one or many, list with filters and a cursor, get one with its attempt history,
 * cancel, retry by hand (recorded as a manual trigger with who and why).
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { JobNotFoundError } from '../../errors.js';
import { HTTP_JOB_NAME, resolveHttpTarget } from '../../http-target.js';
import type { JobQuery } from '../../job-index.js';
import type { JobOptions } from '../../options.js';
import { withFieldPrefix } from '../error-map.js';
import { parseTime } from '../inputs.js';
import { searchJobs } from '../job-search.js';
import { added, explanation, job, jobSummary, page } from '../responses.js';
import {
  addBulkBody,
  addHttpJobBody,
  addJobBody,
  cancelBody,
  jobParams,
  listJobsQuery,
  queueParams,
  retryBody,
  type AddBulkBody,
  type AddHttpJobBody,
  type CancelBody,
  type JobOptionsBody,
  type JobParams,
  type ListJobsQuery,
  type NewJobBody,
  type QueueParams,
  type RetryBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['jobs'];

/** The body's options as the library takes them (`runAt` text → ms since epoch). */
function toJobOptions(o: JobOptionsBody | undefined, field: string): JobOptions | undefined {
  if (o === undefined) return undefined;
  const { runAt, ...rest } = o;
  return runAt === undefined ? rest : { ...rest, runAt: parseTime(runAt, `${field}.runAt`) };
}

function toBulkJob(j: NewJobBody, field: string): { name: string; data: unknown; options?: JobOptions } {
  const options = toJobOptions(j.options, `${field}.options`);
  return { name: j.name, data: j.data, ...(options ? { options } : {}) };
}

/** The filters of a jobs query string (or body) as the library takes them. */
export function toJobQuery(f: Omit<ListJobsQuery, 'cursor' | 'limit' | 'source'>, prefix: string): JobQuery {
  return {
    state: f.state,
    name: f.name,
    errorClass: f.errorClass,
    rule: f.rule,
    errorCode: f.errorCode,
    fingerprint: f.fingerprint,
    trigger: f.trigger,
    minAttempts: f.minAttempts,
    maxAttempts: f.maxAttempts,
    from: parseTime(f.from, `${prefix}from`),
    to: parseTime(f.to, `${prefix}to`),
    text: f.text,
  };
}

export function registerJobRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.post<{ Params: QueueParams; Body: NewJobBody }>(
    '/queues/:queue/jobs',
    {
      schema: {
        tags,
        summary:
          'Add a job (201; 200 with created: false when options.id already exists, or with folded: true when a dedup or debounce key folded it into an existing job)',
        params: queueParams,
        body: addJobBody,
        response: { 200: added, 201: added },
      },
    },
    async (request, reply) => {
      const q = queues.get(request.params.queue);
      const { name, data, options } = toBulkJob(request.body, 'body');
      const result = await withFieldPrefix('body.', () => q.add(name, data, options));
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.post<{ Params: QueueParams; Body: AddHttpJobBody }>(
    '/queues/:queue/http-jobs',
    {
      schema: {
        tags,
        summary:
          "Add an HTTP target job: a URL the built-in handler (retraced worker --http) calls, retried by the queue's policy (201; 200 as for POST /jobs)",
        params: queueParams,
        body: addHttpJobBody,
        response: { 200: added, 201: added },
      },
    },
    async (request, reply) => {
      const q = queues.get(request.params.queue);
      const target = resolveHttpTarget(request.body.target, 'body.target');
      const options = toJobOptions(request.body.options, 'body.options');
      const result = await withFieldPrefix('body.', () => q.add(HTTP_JOB_NAME, target, options));
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.post<{ Params: QueueParams; Body: AddBulkBody }>(
    '/queues/:queue/jobs/bulk',
    {
      schema: {
        tags,
        summary: 'Add many jobs at once: all are validated first, one bad job means none is added',
        params: queueParams,
        body: addBulkBody,
        response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: added } } } },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const jobs = request.body.jobs.map((j, i) => toBulkJob(j, `body.jobs[${i}]`));
      return { jobs: await withFieldPrefix('body.', () => q.addBulk(jobs)) };
    },
  );

  app.get<{ Params: QueueParams; Querystring: ListJobsQuery }>(
    '/queues/:queue/jobs',
    {
      schema: {
        tags,
        summary:
          'Search jobs of one state (default waiting): name, error class, rule, error code, fingerprint, trigger, attempts made, time range, text in the data; a page at a time',
        description:
          "With an indexed filter (name, errorClass, rule, errorCode, fingerprint, trigger, minAttempts >= 2) the answer comes from the search indexes, newest created first; otherwise in the state's own order. The error filters match an error of any attempt of the job. A page may hold fewer than `limit` jobs while `nextCursor` is not null: each request examines a bounded number of jobs.",
        params: queueParams,
        querystring: listJobsQuery,
        response: { 200: page(jobSummary) },
      },
    },
    async (request) => {
      const query = request.query;
      const q = queues.get(request.params.queue);
      return searchJobs(
        q,
        toJobQuery(query, 'querystring.'),
        query.cursor,
        query.limit,
        'querystring.cursor',
        query.source,
      );
    },
  );

  app.get<{ Params: JobParams }>(
    '/queues/:queue/jobs/:id',
    {
      schema: {
        tags,
        summary: 'One job with its full attempt history',
        params: jobParams,
        response: { 200: job },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const found = await q.getJob(request.params.id);
      if (!found) throw new JobNotFoundError(q.name, request.params.id);
      return found;
    },
  );

  app.get<{ Params: JobParams }>(
    '/queues/:queue/jobs/:id/why',
    {
      schema: {
        tags,
        summary:
          'Why a job is not running, from recorded state: typed holds in order (due later with its retry decision, queue paused, jobs a claim takes first, no live worker, rate limits…), or what finished it',
        description:
          "For the id of a scheduler's job not created yet (sch:<scheduler>:<planned ms>), what its scheduler will do.",
        params: jobParams,
        response: { 200: explanation },
      },
    },
    async (request) => queues.get(request.params.queue).explain(request.params.id),
  );

  app.post<{ Params: JobParams; Body: CancelBody }>(
    '/queues/:queue/jobs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a scheduled, waiting or active job (who and why are recorded)',
        params: jobParams,
        body: cancelBody,
        response: { 200: job },
      },
    },
    async (request) => {
      const { queue, id } = request.params;
      const q = queues.get(queue);
      const { by, reason } = request.body;
      await withFieldPrefix('body.', () => q.cancel(id, reason === undefined ? { by } : { by, reason }));
      // Retention may already have removed it (a cancelled count of 0).
      return (await q.getJob(id)) ?? { id, queue, state: 'cancelled' };
    },
  );

  app.post<{ Params: JobParams; Body: RetryBody }>(
    '/queues/:queue/jobs/:id/retry',
    {
      schema: {
        tags,
        summary: 'Run a scheduled or dead job now, by hand (a manual trigger with who, note and data patch)',
        params: jobParams,
        body: retryBody,
        response: { 200: job },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const { by, note, patch } = request.body;
      const options = {
        by,
        ...(note !== undefined ? { note } : {}),
        ...(patch !== undefined ? { patch } : {}),
      };
      return withFieldPrefix('body.', () => q.retryNow(request.params.id, options));
    },
  );
}
