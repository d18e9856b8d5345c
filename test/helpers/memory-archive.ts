/**
 * An in-memory JobArchive for tests without PostgreSQL (the browser project): archived jobs in a
 * Map, answering the archive port as PgArchive does (its SQL is tested in test/archive/).
 */
import type { ArchivedDeadGroup, DeadKey, JobArchive } from '../../src/archive.js';
import type { ArchiveWriter } from '../../src/archive/archiver.js';
import type { DeadFilter, DeadSummary } from '../../src/backend.js';
import { compareDeadKeys } from '../../src/dlq.js';
import { fingerprintLabel } from '../../src/fingerprint.js';
import { compareSearchKeys, matchesCandidate, type JobQuery, type SearchKey } from '../../src/job-index.js';
import { lastErrorOf } from '../../src/summary.js';
import type { Job } from '../../src/types.js';

/** Archived jobs in a Map: state, name and the candidate checks; the search order. */
export class MemoryArchive implements JobArchive, ArchiveWriter {
  readonly jobs = new Map<string, Job>();
  async migrate(): Promise<number> {
    return 1;
  }
  async prune(): Promise<number> {
    return 0;
  }
  async write(queue: string, jobs: readonly Job[]): Promise<{ jobs: number; attempts: number }> {
    for (const j of jobs) this.jobs.set(`${queue}/${j.id}`, structuredClone(j));
    return { jobs: jobs.length, attempts: 0 };
  }
  async getJob(queue: string, id: string): Promise<Job | null> {
    const j = this.jobs.get(`${queue}/${id}`);
    return j ? { ...j, archived: true } : null;
  }
  async searchJobs(
    queue: string,
    query: JobQuery,
    after: SearchKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: SearchKey | undefined }> {
    const key = (j: Job): SearchKey => ({ createdAt: j.createdAt, id: j.id });
    const all = [...this.jobs.values()]
      .filter((j) => j.queue === queue && (query.name === undefined || j.name === query.name))
      .filter((j) =>
        matchesCandidate(query, {
          state: j.state,
          attempts: j.attempts.length,
          createdAt: j.createdAt,
          finishedAt: j.finishedAt,
          data: JSON.stringify(j.data),
        }),
      )
      .filter((j) => after === undefined || compareSearchKeys(key(j), after) > 0)
      .sort((a, b) => compareSearchKeys(key(a), key(b)));
    const jobs = all.slice(0, limit).map((j) => ({ ...j, archived: true as const }));
    const last = jobs[jobs.length - 1];
    return { jobs, next: all.length > limit && last ? key(last) : undefined };
  }

  async listDead(
    queue: string,
    filter: DeadFilter,
    after: DeadKey | undefined,
    limit: number,
  ): Promise<DeadSummary[]> {
    return this.#dead(queue, filter)
      .filter((s) => after === undefined || compareDeadKeys(s, after) > 0)
      .slice(0, limit);
  }

  async deadGroups(
    queue: string,
    filter: DeadFilter,
    exclude: readonly string[],
  ): Promise<ArchivedDeadGroup[]> {
    const skip = new Set(exclude);
    const groups = new Map<string, ArchivedDeadGroup>();
    for (const s of this.#dead(queue, filter)) {
      if (skip.has(s.id)) continue;
      const g = groups.get(s.fingerprint);
      if (g) {
        groups.set(s.fingerprint, { ...g, count: g.count + 1, firstSeen: Math.min(g.firstSeen, s.at) });
        continue;
      }
      const error = this.jobs.get(`${queue}/${s.id}`)?.dead?.error;
      groups.set(s.fingerprint, {
        fingerprint: s.fingerprint,
        label: error ? fingerprintLabel(error) : '',
        count: 1,
        firstSeen: s.at,
        lastSeen: s.at,
        sample: { id: s.id, ...(error ? { error } : {}) },
      });
    }
    return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  /** The queue's archived dead jobs matching the filter, newest dead first. */
  #dead(queue: string, f: DeadFilter): DeadSummary[] {
    const out: DeadSummary[] = [];
    for (const j of this.jobs.values()) {
      if (j.queue !== queue || j.state !== 'dead' || !j.dead) continue;
      const s: DeadSummary = {
        id: j.id,
        name: j.name,
        reason: j.dead.reason,
        at: j.dead.at,
        fingerprint: j.dead.fingerprint,
        errorCode: (j.dead.error ?? lastErrorOf(j))?.code || undefined,
      };
      if (
        (f.reason === undefined || f.reason.includes(s.reason)) &&
        (f.errorCode === undefined || s.errorCode === f.errorCode) &&
        (f.name === undefined || s.name === f.name) &&
        (f.fingerprint === undefined || s.fingerprint === f.fingerprint) &&
        (f.from === undefined || s.at >= f.from) &&
        (f.to === undefined || s.at <= f.to)
      ) {
        out.push(s);
      }
    }
    return out.sort(compareDeadKeys);
  }
}
