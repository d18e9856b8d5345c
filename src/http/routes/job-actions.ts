/**
 * Bulk actions on jobs, by ids or by the jobs view's filters: cancel many, run many now by hand
 * (retry), replay many dead ones, each with a dry run that reports what would happen and changes
 * nothing (served by read-only servers too).
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { withFieldPrefix } from '../error-map.js';
import { MAX_ACTION_IDS, MAX_SEARCH_PAGES, runJobAction, type JobAction } from '../job-actions.js';
import {
  both,
  jobId,
  listJobsQuery,
  note,
  queueParams,
  who,
  type ListJobsQuery,
  type QueueParams,
} from '../schemas.js';
import { toJobQuery } from './jobs.js';
import type { RouteContext } from './context.js';

export { MAX_ACTION_IDS };

// Actions act on the jobs Redis holds: no `source` (archived jobs are read-only history).
const { cursor: _cursor, limit: _limit, source: _source, ...filterProperties } = listJobsQuery.properties;

/** The jobs view's filters, as GET /queues/:queue/jobs takes them (without the page). */
export const jobFilter = {
  type: 'object',
  description: 'The filters of GET /queues/:queue/jobs (state defaults to waiting).',
  properties: filterProperties,
  additionalProperties: false,
} as const;

export const jobActionBody = {
  type: 'object',
  description: 'Give ids or filter (not both).',
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: MAX_ACTION_IDS, items: jobId },
    filter: jobFilter,
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_ACTION_IDS,
      description: `With a filter: act on at most this many matching jobs (default ${MAX_ACTION_IDS}); \`more\` says whether more may match.`,
    },
    by: who,
    note: {
      ...note,
      description: 'The reason (cancel) or the note (retry, replay), recorded with each job.',
    },
    dryRun: { type: 'boolean', default: false, description: 'Report what would happen; change nothing.' },
  },
  required: ['by'],
  anyOf: [{ required: ['ids'] }, { required: ['filter'] }],
  allOf: [{ not: both('ids', 'filter') }, { not: both('ids', 'limit') }],
  additionalProperties: false,
} as const;
export interface JobActionBody {
  ids?: string[];
  filter?: Omit<ListJobsQuery, 'cursor' | 'limit' | 'source'>;
  limit?: number;
  by: string;
  note?: string;
  dryRun: boolean;
}

const str = { type: 'string' } as const;
export const jobActionResult = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    matched: { type: 'integer', description: 'Ids given (deduplicated), or jobs the filter matched.' },
    done: { type: 'array', items: str, description: 'Acted on (or, on a dry run, would be).' },
    failed: {
      type: 'array',
      items: { type: 'object', properties: { id: str, error: str }, additionalProperties: true },
    },
    more: {
      type: 'boolean',
      description: `By filter: more jobs may match than this request took (its limit, or ${MAX_SEARCH_PAGES} search pages); run it again.`,
    },
  },
  additionalProperties: true,
} as const;

const SUMMARIES: Readonly<Record<JobAction, string>> = {
  cancel:
    'Cancel many jobs by ids or filter (scheduled, waiting or active; who and why recorded); dryRun changes nothing',
  retry:
    'Run many scheduled or dead jobs now by ids or filter, by hand (each a manual attempt with who and note); dryRun changes nothing',
  replay:
    'Replay many dead jobs by ids or by the jobs filters (each a manual attempt with who and note, as the DLQ replay); dryRun changes nothing',
};

export function registerJobActionRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  for (const action of ['cancel', 'retry', 'replay'] as const) {
    app.post<{ Params: QueueParams; Body: JobActionBody }>(
      `/queues/:queue/jobs/${action}`,
      {
        config: { dryRunnable: true },
        schema: {
          tags: ['jobs'],
          summary: SUMMARIES[action],
          params: queueParams,
          body: jobActionBody,
          response: { 200: jobActionResult },
        },
      },
      async (request) => {
        const q = queues.get(request.params.queue);
        const { filter, ...rest } = request.body;
        const query = filter === undefined ? undefined : toJobQuery(filter, 'body.filter.');
        return withFieldPrefix('body.', () => runJobAction(q, action, { ...rest, filter: query }));
      },
    );
  }
}
