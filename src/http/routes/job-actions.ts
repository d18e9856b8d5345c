/**
 * Bulk actions on jobs by id: cancel many, or run many now by hand (retry), each with a dry run
 * that reports what would happen and changes nothing.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { withFieldPrefix } from '../error-map.js';
import { runJobAction, type JobAction } from '../job-actions.js';
import { jobId, note, queueParams, who, type QueueParams } from '../schemas.js';
import type { RouteContext } from './context.js';

/** Most ids one request may name: each costs a read (and a write unless a dry run). */
export const MAX_ACTION_IDS = 1000;

export const jobActionBody = {
  type: 'object',
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: MAX_ACTION_IDS, items: jobId },
    by: who,
    note: { ...note, description: 'The reason (cancel) or the note (retry), recorded with each job.' },
    dryRun: { type: 'boolean', default: false, description: 'Report what would happen; change nothing.' },
  },
  required: ['ids', 'by'],
  additionalProperties: false,
} as const;
export interface JobActionBody {
  ids: string[];
  by: string;
  note?: string;
  dryRun: boolean;
}

const str = { type: 'string' } as const;
export const jobActionResult = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    matched: { type: 'integer' },
    done: { type: 'array', items: str, description: 'Acted on (or, on a dry run, would be).' },
    failed: {
      type: 'array',
      items: { type: 'object', properties: { id: str, error: str }, additionalProperties: true },
    },
  },
  additionalProperties: true,
} as const;

const SUMMARIES: Readonly<Record<JobAction, string>> = {
  cancel:
    'Cancel many jobs by id (scheduled, waiting or active; who and why recorded); dryRun changes nothing',
  retry:
    'Run many scheduled or dead jobs now, by hand (each a manual attempt with who and note); dryRun changes nothing',
};

export function registerJobActionRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  for (const action of ['cancel', 'retry'] as const) {
    app.post<{ Params: QueueParams; Body: JobActionBody }>(
      `/queues/:queue/jobs/${action}`,
      {
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
        return withFieldPrefix('body.', () => runJobAction(q, action, request.body));
      },
    );
  }
}
