/**
 * DLQ groups as the dashboard shows them: each fingerprint's counts and first/last seen, plus the
 * job names among its most recent dead jobs and one sample error (the most recent one's, in full).
 * The extra reads are bounded: {@link DETAILED_GROUPS} groups, {@link NAME_SAMPLE} jobs each.
 * @module
 */
import type { DeadFilter } from '../backend.js';
import type { DlqGroup } from '../dlq.js';
import type { Queue, SearchSource } from '../queue.js';
import type { ErrorInfo } from '../types.js';

export const DETAILED_GROUPS = 100;
export const NAME_SAMPLE = 50;

export interface DetailedGroup extends DlqGroup {
  /** Distinct job names among the group's most recent dead jobs (up to {@link NAME_SAMPLE}). */
  readonly names?: string[];
  /** The most recent dead job of the group and its final error. */
  readonly sample?: { readonly id: string; readonly error?: ErrorInfo };
}

export async function detailedGroups(
  queue: Queue,
  filter: DeadFilter = {},
  source: SearchSource = 'live',
): Promise<DetailedGroup[]> {
  const groups = await queue.dlq.groups(filter, { source });
  return Promise.all(
    groups.map(async (g, i): Promise<DetailedGroup> => {
      if (i >= DETAILED_GROUPS) return g;
      const { jobs: recent } = await queue.dlq.page(
        { ...filter, fingerprint: g.fingerprint },
        { source, limit: NAME_SAMPLE },
      );
      const first = recent[0];
      if (!first) return g;
      const job = await queue.getJob(first.id);
      const error = job?.dead?.error ?? job?.attempts.at(-1)?.error;
      return {
        ...g,
        names: [...new Set(recent.map((s) => s.name))],
        sample: { id: first.id, ...(error ? { error } : {}) },
      };
    }),
  );
}
