/**
 * An in-memory JobArchive for tests without PostgreSQL (the browser project): archived jobs in a
 * Map, answering the archive port as PgArchive does (its SQL is tested in test/archive/), the
 * retry intelligence's HistoryArchive included (test/archive/analytics.test.ts holds PgArchive to
 * the rollups' and the live answers).
 */
import type {
  ArchiveAnalyticsCounts,
  ArchiveAnalyticsQuery,
  ArchiveHistoryRow,
  ArchivedDeadGroup,
  ArchiveKeyJobs,
  DeadKey,
  HistoryArchive,
  JobArchive,
  RecordedKey,
} from '../../src/archive.js';
import { ROLLUP_COUNTED_OUTCOMES } from '../../src/archive/pg-history.js';
import type { ResolvedHistoryScope } from '../../src/recorded.js';
import { countsAsFailure, POISON_FINGERPRINT } from '../../src/transitions.js';
import type { ArchiveWriter } from '../../src/archive/archiver.js';
import type { DeadFilter, DeadSummary } from '../../src/backend.js';
import { compareDeadKeys } from '../../src/dlq.js';
import { errorFingerprint, fingerprintLabel } from '../../src/fingerprint.js';
import { compareSearchKeys, matchesCandidate, type JobQuery, type SearchKey } from '../../src/job-index.js';
import { lastErrorOf } from '../../src/summary.js';
import type { ErrorInfo, Job } from '../../src/types.js';

/** Newest finished first, then id in byte order descending (PgArchive's keyset order). */
function compareRecorded(j: Job, k: RecordedKey): number {
  const f = j.finishedAt ?? 0;
  if (f !== k.finishedAt) return k.finishedAt - f;
  return j.id < k.id ? 1 : j.id > k.id ? -1 : 0;
}

/** Archived jobs in a Map: state, name and the candidate checks; the search order. */
export class MemoryArchive implements JobArchive, HistoryArchive, ArchiveWriter {
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

  // The retry intelligence (HistoryArchive), as PgArchive answers it (pg-history.ts).

  /**
   * Every archived attempt the rollups would count, as a job history each (the pure side folds them;
   * PgArchive groups first attempts in SQL instead: the same counts).
   */
  async analyticsCounts(queue: string, q: ArchiveAnalyticsQuery): Promise<ArchiveAnalyticsCounts> {
    const histories: ArchiveHistoryRow[] = [];
    const cancels = new Map<string, { name: string; state: string; count: number }>();
    const keyJobs = new Map<string, ArchiveKeyJobs>();
    const errors = new Map<string, ErrorInfo>();
    const inWindow = (t: number): boolean => t >= q.from && t < q.to;
    for (const j of this.jobs.values()) {
      if (j.queue !== queue || (q.name !== undefined && j.name !== q.name)) continue;
      if (j.state === 'cancelled' && inWindow(j.finishedAt ?? 0)) {
        const last = j.attempts[j.attempts.length - 1];
        const state =
          last?.outcome === 'cancelled' ? 'active' : j.dueAt > (j.finishedAt ?? 0) ? 'scheduled' : 'waiting';
        const c = cancels.get(`${j.name}/${state}`) ?? { name: j.name, state, count: 0 };
        cancels.set(`${j.name}/${state}`, { ...c, count: c.count + 1 });
      }
      const counted = j.attempts.filter(
        (a) => ROLLUP_COUNTED_OUTCOMES.includes(a.outcome) && inWindow(a.finishedAt),
      );
      if (counted.length === 0) continue;
      const upto = Math.max(...counted.map((a) => a.n));
      const keys = new Set<string>();
      for (const a of j.attempts) {
        if (a.n > upto || !ROLLUP_COUNTED_OUTCOMES.includes(a.outcome)) continue;
        const action = a.decision.action;
        const poison = a.outcome === 'stalled' && action === 'dead';
        const fp = poison
          ? POISON_FINGERPRINT
          : countsAsFailure(a.outcome) && a.error
            ? errorFingerprint(a.error)
            : undefined;
        const inside = inWindow(a.finishedAt);
        histories.push({
          job: j.id,
          name: j.name,
          n: a.n,
          outcome: a.outcome,
          action,
          deadReason: a.decision.action === 'dead' ? a.decision.reason : undefined,
          errorClass: a.errorClass,
          rule: a.rule,
          fingerprint: fp,
          dueAt: a.dueAt,
          startedAt: a.startedAt,
          finishedAt: a.finishedAt,
          counted: inside,
        });
        if (!inside) continue;
        const failed = countsAsFailure(a.outcome) || a.outcome === 'stalled';
        if (failed && a.errorClass) keys.add(`errorClass\x1f${a.errorClass}`);
        if (failed && a.rule) keys.add(`rule\x1f${a.rule}`);
        if ((failed || action === 'dead') && fp) keys.add(`fingerprint\x1f${fp}`);
        if (fp && a.error && !errors.has(fp)) {
          errors.set(
            fp,
            poison
              ? {
                  name: 'LeaseExpired',
                  code: 'LEASE_EXPIRED',
                  message: 'lease expired too many times: poison',
                }
              : a.error,
          );
        }
      }
      for (const k of keys) {
        const [by, key] = k.split('\x1f') as [ArchiveKeyJobs['by'], string];
        const g = keyJobs.get(k) ?? { by, key, jobs: 0, attempts: 0 };
        keyJobs.set(k, { ...g, jobs: g.jobs + 1, attempts: g.attempts + counted.length });
      }
    }
    return {
      rows: [],
      histories: histories.sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : a.n - b.n)),
      cancels: [...cancels.values()],
      jobs: [...keyJobs.values()],
      errors: [...errors].map(([fingerprint, error]) => ({ fingerprint, error })),
    };
  }

  /** Finished jobs in scope, newest finished first (finish time, then id, descending). */
  async recordedPage(
    queue: string,
    scope: ResolvedHistoryScope,
    after: RecordedKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: RecordedKey | undefined }> {
    const all = this.#recorded(queue, scope).filter(
      (j) => after === undefined || compareRecorded(j, after) > 0,
    );
    const jobs = all.slice(0, limit).map((j) => ({ ...j, archived: true as const }));
    const last = jobs[jobs.length - 1];
    return {
      jobs,
      next: all.length > limit && last ? { finishedAt: last.finishedAt ?? 0, id: last.id } : undefined,
    };
  }

  async recordedDrifts(queue: string, scope: ResolvedHistoryScope): Promise<number[]> {
    return this.#recorded(queue, scope)
      .slice(0, scope.limit)
      .flatMap((j) => j.attempts.filter((a) => a.trigger !== 'manual').map((a) => a.startedAt - a.dueAt));
  }

  #recorded(queue: string, scope: ResolvedHistoryScope): Job[] {
    return [...this.jobs.values()]
      .filter(
        (j) =>
          j.queue === queue &&
          (j.state === 'completed' || j.state === 'dead') &&
          (scope.name === undefined || j.name === scope.name) &&
          (scope.from === undefined || (j.finishedAt ?? 0) >= scope.from) &&
          (scope.to === undefined || (j.finishedAt ?? 0) <= scope.to),
      )
      .sort((a, b) => compareRecorded(a, { finishedAt: b.finishedAt ?? 0, id: b.id }));
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
