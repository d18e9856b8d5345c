/**
 * The in-process backend: the embedded default and the executable model of the semantics that
 * the Redis scripts implement. One process only. Time comes from an injectable {@link Clock}.
 * @module
 */
import type {
  AddRequest,
  AddResult,
  WaitingAhead,
  ArchiveBatch,
  ArchiveClaim,
  ArchiveEntry,
  ArchiveStatus,
  Backend,
  CancelResult,
  ClaimedJob,
  ClaimRequest,
  ClaimResult,
  DeadFilter,
  DeadGroupStats,
  DeadPeek,
  DeadSummary,
  FinishDecision,
  FinishRequest,
  FinishResult,
  Page,
  QueueEvent,
  RenewRequest,
  RetentionSweep,
  RetentionSweepResult,
  RetryBudgetEntry,
  ReplayRequest,
  ReplayResult,
  ScheduledWindow,
  TrailResult,
  TrailWrite,
} from '../../backend.js';
import { systemClock, type Clock } from '../../clock.js';
import { foldsInto, keyTtlMs, type DedupMode, type DedupRequest } from '../../dedup.js';
import { lineBytes, logEventCarries, logKeeps, trailFields, type StoredTrail } from '../../progress.js';
import { byScoreThenName, WaitingJobs } from './waiting.js';
import {
  bucketCapped,
  bucketPaused,
  bucketStart as tokenBucketStart,
  bucketTokenAt,
  decodeRateLimit,
  encodePauseRecord,
  encodeRateLimit,
  groupNextTokenAt,
  groupPagePlan,
  RATE_LIMIT_PAUSE_LABEL,
  rateLimitStateView,
  rateLimitsView,
  rateLimitWait,
  rateLimitWaitedMs,
  type RateLimits,
  type RateLimitState,
  type RawGroupState,
  type ResolvedRateLimitSettings,
  type ResolvedRateLimitStateQuery,
} from '../../rate-limit.js';
import {
  pausedEntry,
  scheduledJobId,
  scheduledTick,
  tickEntries,
  TICK_LEDGER_LENGTH,
  type DueSchedulers,
  type SchedulerRecord,
  type SchedulerResume,
  type SchedulerUpsert,
  type SchedulerUpsertResult,
  type TickRecord,
  type TickRequest,
  type TickResult,
} from '../../schedule.js';
import type { WorkerBeat, WorkerInfo, WorkerRegistry } from '../../workers.js';
import type { RestoreRequest, RestoreResult } from '../../restore.js';
import { BackendClosedError } from '../../errors.js';
import {
  compareSearchKeys,
  failureFacets,
  matchesCandidate,
  parseSearchCursor,
  queryFacets,
  REPLAY_FACETS,
  searchCursor,
  stallFacets,
  type JobQuery,
  type SearchResult,
} from '../../job-index.js';
import {
  cancelExplanation,
  countsAsFailure,
  EVENT_FEED_LENGTH,
  isPoison,
  isSuspect,
  keepsPreviousDelay,
  LEASE_EXPIRED_ERROR,
  POISON_FINGERPRINT,
  POISON_LABEL,
  stallAttemptEnd,
  stallErrorClass,
  STALL_RULE,
  SUSPECT_RECHECK_MS,
} from '../../transitions.js';
import type {
  Attempt,
  AttemptTrigger,
  DeadReason,
  ErrorInfo,
  EvictionCounts,
  Job,
  JobOptionsStored,
  JobState,
  ManualTrigger,
  OldestWaiting,
  PriorityWait,
  ScheduledTick,
  RateLimitWait,
  Refusal,
  RetentionSettings,
  StateCounts,
} from '../../types.js';
import {
  budgetAllowed,
  budgetExplanation,
  budgetPlace,
  budgetSlot,
  decodeRetryBudget,
  encodeRetryBudget,
  RETRY_BUDGET_SLOTS,
  type ResolvedRetryBudget,
} from '../../retry-budget.js';
import {
  bucketStart,
  ROLLUP_RESOLUTIONS,
  rollupCancel,
  rollupIncrements,
  rollupJobKeys,
  rollupWrite,
  type RollupBucket,
  type RollupEnd,
  type RollupJobKeys,
  type RollupResolution,
} from '../../rollup.js';

interface MemJob {
  id: string;
  name: string;
  data: string;
  opts: string;
  maxStalls: number;
  state: JobState;
  createdAt: number;
  dueAt: number;
  priority: number;
  group: string | undefined;
  /** The priority-wait counts when it was last pushed (WaitingJobs.claimed; Redis `ps`). */
  servedSnap?: readonly [number, number] | undefined;
  /** What the tick that created it recorded, for its first attempt (Redis: `cw` written by tick). */
  scheduledTick?: ScheduledTick;
  attempts: Attempt[];
  failures: number;
  stalls: number;
  /** What the rollups remember between attempts (RollupJobKeys; Redis: `rk`, `rks`). */
  rollupKeys?: RollupJobKeys;
  current:
    | {
        n: number;
        dueAt: number;
        startedAt: number;
        workerId: string;
        leaseExpiresAt: number;
        rateLimit?: RateLimitWait;
        priority?: PriorityWait;
        schedule?: ScheduledTick;
      }
    | undefined;
  nextTrigger: AttemptTrigger;
  nextManual: ManualTrigger | undefined;
  prevDelayMs: number | undefined;
  result: string | undefined;
  finishedAt: number | undefined;
  dead: { reason: DeadReason; at: number; fingerprint: string; label: string; error?: ErrorInfo } | undefined;
  cancelled: { by: string; reason?: string; at: number } | undefined;
  refusals: Refusal[];
  trace: string | undefined;
  /** Its search facets (src/job-index.ts), as the Redis indexes hold them. */
  facets: Set<string>;
  scheduler: { id: string; plannedAt: number } | undefined;
  /** The dedup or debounce key it was created under, and the adds folded into it (src/dedup.ts). */
  dedup?: { mode: DedupMode; key: string };
  folded?: { count: number; lastAt: number };
  /** Progress and log lines by attempt number (src/progress.ts), the twin of Redis's tr:/lg: keys. */
  trails?: Map<number, StoredTrail>;
}

type Finished = 'completed' | 'dead' | 'cancelled';

interface MemQueue {
  jobs: Map<string, MemJob>;
  /** By priority, FIFO within one, and by group (see waiting.ts). */
  waiting: WaitingJobs;
  /** Rate limits (as `encodeRateLimit` texts) and buckets (`tat`s), as Redis stores them. */
  rate: {
    queue: string | undefined;
    group: string | undefined;
    own: Map<string, string>;
    qtat: number;
    gtat: Map<string, number>;
    /** The queue's pause record (meta `rqp`) and the groups' (`rlp`, with `rlpz`'s ends). */
    qpause: string | undefined;
    gpause: Map<string, { until: number; text: string }>;
  };
  /** Priority aging step, ms per level; 0 = strict order. */
  agingMs: number;
  /** The priority of jobs added without one (meta 'dp' on Redis). */
  defaultPriority: number;
  /** id → due time. */
  scheduled: Map<string, number>;
  /** id → lease expiry. */
  active: Map<string, number>;
  /** id → time it entered the state; insertion order is time order. */
  finished: Record<Finished, Map<string, number>>;
  paused: boolean;
  retention: RetentionSettings;
  evictions: { completed: number; dead: number; cancelled: number };
  /** No retention sweep starts before this time (one per interval). */
  sweepNotBefore: number;
  /** The queue has an archive (`setArchive`): finished jobs are noted in `pending`. */
  archive: boolean;
  /** Finished jobs not archived yet: id → when noted (its finish); insertion order is time order. */
  pending: Map<string, number>;
  archiveLease: { owner: string; until: number } | undefined;
  /** Jobs retention holds because they are not archived yet, per state (as of its last run). */
  held: { completed: number; dead: number; cancelled: number };
  nextId: number;
  events: QueueEvent[];
  eventSeq: number;
  waiters: Set<() => void>;
  /**
   * A wake that found no one waiting, kept for the next `waitForAnyWork` (a worker on several
   * queues is between two waits while it claims: the wake must not be lost then). Redis keeps
   * tokens in the wake list for the same reason.
   */
  wakeLatch: boolean;
  schedulers: Map<string, SchedulerRecord>;
  /** Per scheduler, newest first, at most TICK_LEDGER_LENGTH. */
  ticks: Map<string, TickRecord[]>;
  /** The retry analytics rollups (src/rollup.ts), by `<resolution>:<bucket start>`. */
  rollups: Map<string, { readonly expiresAt: number; readonly fields: Map<string, string> }>;
  /** Rollups turned off (`setRollups`). */
  rollupsOff: boolean;
  /** The worker registry: id → entry (expired ones are dropped when read or beaten over). */
  workers: Map<string, WorkerInfo>;
  /** When a worker was last seen on the queue (0 never). */
  workerSeenAt: number;
  /** Dedup and debounce keys: key → the job adds with it fold into, until (ms, inclusive) it expires. */
  dedupKeys: Map<string, { id: string; until: number }>;
  /** Retry budgets (src/retry-budget.ts): the queue's, and per job name. */
  budgets: { queue: ResolvedRetryBudget | undefined; names: Map<string, ResolvedRetryBudget> };
  /** Per scope ('' = the queue, 'n:<name>'): tat (µs) and first attempts per slot. */
  budgetState: Map<string, { tatUs: number; firsts: Map<number, number> }>;
}

export interface MemoryBackendOptions {
  /** @default the system clock */
  readonly clock?: Clock;
}

export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  readonly clock: Clock;
  #queues = new Map<string, MemQueue>();
  #closed = false;
  /** `setArchiveDefault`: setting retention turns the queue's archive on first. */
  #archiveDefault = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  #q(name: string): MemQueue {
    if (this.#closed) throw new BackendClosedError('memory backend');
    let q = this.#queues.get(name);
    if (!q) {
      q = emptyQueue();
      this.#queues.set(name, q);
    }
    return q;
  }

  /** For reads: the queue if it exists, else an empty one that is not stored (reads create nothing). */
  #peek(name: string): MemQueue {
    if (this.#closed) throw new BackendClosedError('memory backend');
    return this.#queues.get(name) ?? emptyQueue();
  }

  #emit(q: MemQueue, type: string, jobId: string | undefined, fields: Record<string, string> = {}): void {
    q.events.push({ seq: String(++q.eventSeq), type, jobId, at: this.clock.now(), fields });
    if (q.events.length > EVENT_FEED_LENGTH) q.events.splice(0, q.events.length - EVENT_FEED_LENGTH);
  }

  #wake(q: MemQueue): void {
    if (q.waiters.size === 0) q.wakeLatch = true;
    const waiters = [...q.waiters];
    q.waiters.clear();
    for (const w of waiters) w();
  }

  async now(): Promise<number> {
    return this.clock.now();
  }

  async add(queue: string, reqs: readonly AddRequest[]): Promise<AddResult[]> {
    const q = this.#q(queue);
    const now = this.clock.now();
    const out: AddResult[] = [];
    let woke = false;
    // Generated ids are reserved for the whole batch at once (as the Redis script does); an id a
    // caller already took is replaced by the next free one after the block.
    let nextId = q.nextId + 1;
    const plain: string[] = [];
    q.nextId += reqs.filter((r) => r.id === undefined).length;
    for (const r of reqs) {
      if (r.dedup) {
        const folded = this.#fold(q, r, r.dedup, now);
        if (folded) {
          out.push(folded);
          continue;
        }
      }
      let id = r.id;
      if (id !== undefined) {
        const existing = q.jobs.get(id);
        if (existing) {
          out.push({ id, created: false, state: existing.state });
          continue;
        }
      } else {
        id = String(nextId++);
        while (q.jobs.has(id)) id = String(++q.nextId);
      }
      const state = this.#createJob(q, id, r, r.runAt ?? now + r.delayMs, now, 'auto', undefined, plain);
      if (r.dedup) {
        const { mode, key, ms } = r.dedup;
        q.dedupKeys.set(key, { id, until: now + keyTtlMs(mode, ms) });
        (q.jobs.get(id) as MemJob).dedup = { mode, key };
      }
      woke = true;
      out.push({ id, created: true, state });
    }
    // Like add-10.lua, which pushes them in one LPUSH after the others (the order the groups' ring
    // sees them in).
    for (const id of plain) q.waiting.add(id);
    if (woke) this.#wake(q);
    return out;
  }

  /** The twin of add-10.lua's fold: the add folded into the job its key names, or undefined. */
  #fold(q: MemQueue, r: AddRequest, d: DedupRequest, now: number): AddResult | undefined {
    const holder = q.dedupKeys.get(d.key);
    if (!holder) return undefined;
    if (holder.until < now) {
      q.dedupKeys.delete(d.key);
      return undefined;
    }
    const j = q.jobs.get(holder.id);
    if (!j || !foldsInto(d.mode, j.state)) return undefined;
    const count = (j.folded?.count ?? 0) + 1;
    j.folded = { count, lastAt: now };
    if (d.mode === 'debounce') {
      if (j.state === 'waiting') q.waiting.delete(j.id);
      j.data = r.data;
      j.dueAt = now + d.ms;
      j.state = 'scheduled';
      q.scheduled.set(j.id, j.dueAt);
      holder.until = now + keyTtlMs(d.mode, d.ms);
    }
    this.#emit(q, 'folded', j.id, { mode: d.mode, count: String(count), due: String(j.dueAt) });
    return { id: j.id, created: false, state: j.state, folded: true };
  }

  /**
   * Creates one job (the id is free): the one way a job comes to exist, for `add` and for a
   * scheduler's tick (the twin of includes/createJob.lua). Publishes `added`; the caller wakes.
   */
  #createJob(
    q: MemQueue,
    id: string,
    r: Pick<AddRequest, 'name' | 'data' | 'opts' | 'maxStalls' | 'trace' | 'priority' | 'group'>,
    due: number,
    now: number,
    trigger: AttemptTrigger,
    scheduler: { id: string; plannedAt: number } | undefined,
    plain?: string[],
  ): JobState {
    const state: JobState = due > now ? 'scheduled' : 'waiting';
    const priority = r.priority ?? q.defaultPriority;
    q.jobs.set(id, {
      id,
      name: r.name,
      data: r.data,
      opts: r.opts,
      maxStalls: r.maxStalls,
      state,
      createdAt: now,
      dueAt: due,
      priority,
      group: r.group || undefined,
      attempts: [],
      failures: 0,
      stalls: 0,
      current: undefined,
      nextTrigger: trigger,
      nextManual: undefined,
      prevDelayMs: undefined,
      result: undefined,
      finishedAt: undefined,
      dead: undefined,
      cancelled: undefined,
      refusals: [],
      trace: r.trace || undefined,
      facets: new Set([`n:${r.name}`]),
      scheduler,
    });
    if (state === 'waiting') {
      // `plain`: the caller pushes jobs without a group or priority after the others.
      if (plain && !r.group && !priority) plain.push(id);
      else q.waiting.add(id);
    } else q.scheduled.set(id, due);
    this.#emit(
      q,
      'added',
      id,
      scheduler ? { state, due: String(due), scheduler: scheduler.id } : { state, due: String(due) },
    );
    return state;
  }

  async upsertScheduler(queue: string, req: SchedulerUpsert): Promise<SchedulerUpsertResult> {
    const q = this.#q(queue);
    const now = this.clock.now();
    const cur = q.schedulers.get(req.id);
    const specChanged = !cur || cur.spec !== req.spec;
    const next: SchedulerRecord = {
      id: req.id,
      spec: req.spec,
      anchor: specChanged ? req.anchor : cur.anchor,
      nextRunAt: specChanged ? req.nextRunAt : cur.nextRunAt,
      name: req.name,
      data: req.data,
      opts: req.opts,
      maxStalls: req.maxStalls,
      priority: req.priority ?? 0,
      ...(req.group ? { group: req.group } : {}),
      missed: req.missed,
      overlap: req.overlap,
      paused: cur?.paused ?? false,
      createdAt: cur?.createdAt ?? now,
      updatedAt: now,
      lastJobId: cur?.lastJobId ?? '',
      lastTickAt: cur?.lastTickAt ?? 0,
    };
    q.schedulers.set(req.id, next);
    this.#schedulerEvent(q, req.id, cur ? 'updated' : 'created', String(next.nextRunAt));
    return { created: !cur, specChanged, nextRunAt: next.nextRunAt };
  }

  async getScheduler(queue: string, id: string): Promise<SchedulerRecord | null> {
    const r = this.#peek(queue).schedulers.get(id);
    return r ? { ...r } : null;
  }

  async listSchedulers(queue: string): Promise<SchedulerRecord[]> {
    return [...this.#peek(queue).schedulers.values()]
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : 1))
      .map((r) => ({ ...r }));
  }

  async schedulerTicks(queue: string, id: string, limit: number): Promise<TickRecord[]> {
    return structuredClone((this.#peek(queue).ticks.get(id) ?? []).slice(0, limit));
  }

  /** A scheduler change on the feed (`scheduler` event, as the scheduler scripts write it). */
  #schedulerEvent(q: MemQueue, id: string, action: string, next: string): void {
    this.#emit(q, 'scheduler', undefined, { scheduler: id, action, next });
  }

  /** Ledger entries, newest first, capped; each skipped one also a `tick-skipped` event. */
  #ledger(q: MemQueue, id: string, entries: readonly TickRecord[]): void {
    const l = q.ticks.get(id) ?? [];
    for (const e of entries) {
      l.unshift(e);
      if (e.outcome === 'skipped') {
        this.#emit(q, 'tick-skipped', undefined, {
          scheduler: id,
          reason: e.reason ?? '',
          plannedAt: String(e.plannedAt),
          count: String(e.count ?? 1),
        });
      }
    }
    if (l.length > TICK_LEDGER_LENGTH) l.length = TICK_LEDGER_LENGTH;
    q.ticks.set(id, l);
  }

  async pauseScheduler(queue: string, id: string): Promise<'ok' | 'unchanged' | 'not_found'> {
    const q = this.#q(queue);
    const r = q.schedulers.get(id);
    if (!r) return 'not_found';
    if (r.paused) return 'unchanged';
    q.schedulers.set(id, { ...r, paused: true, updatedAt: this.clock.now() });
    this.#schedulerEvent(q, id, 'paused', String(r.nextRunAt));
    return 'ok';
  }

  async resumeScheduler(
    queue: string,
    id: string,
    resume: SchedulerResume,
  ): Promise<'ok' | 'unchanged' | 'not_found' | 'changed'> {
    const q = this.#q(queue);
    const r = q.schedulers.get(id);
    if (!r) return 'not_found';
    if (!r.paused) return 'unchanged';
    if (r.nextRunAt !== resume.expectNextRunAt) return 'changed';
    const now = this.clock.now();
    q.schedulers.set(id, { ...r, paused: false, nextRunAt: resume.nextRunAt, updatedAt: now });
    if (resume.skipped) this.#ledger(q, id, [pausedEntry(now, resume.skipped)]);
    this.#schedulerEvent(q, id, 'resumed', String(resume.nextRunAt));
    return 'ok';
  }

  async removeScheduler(queue: string, id: string): Promise<boolean> {
    const q = this.#q(queue);
    q.ticks.delete(id);
    const removed = q.schedulers.delete(id);
    if (removed) this.#schedulerEvent(q, id, 'removed', '');
    return removed;
  }

  async dueSchedulers(queue: string, max: number): Promise<DueSchedulers> {
    const now = this.clock.now();
    const live = [...this.#peek(queue).schedulers.values()]
      .filter((r) => !r.paused)
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : 1));
    const due = live.filter((r) => r.nextRunAt <= now).slice(0, max);
    const rest = live.slice(due.length);
    return { now, due: due.map((r) => ({ ...r })), nextRunAt: rest[0]?.nextRunAt };
  }

  async tickSchedulers(queue: string, reqs: readonly TickRequest[]): Promise<TickResult[]> {
    const q = this.#q(queue);
    const now = this.clock.now();
    const out: TickResult[] = [];
    let woke = false;
    for (const req of reqs) {
      const r = q.schedulers.get(req.id);
      if (!r || r.paused || r.nextRunAt !== req.expectNextRunAt || r.spec !== req.spec) {
        out.push({ id: req.id, status: 'stale', created: [] });
        continue;
      }
      if (req.expectNextRunAt > now) {
        out.push({ id: req.id, status: 'early', created: [] });
        continue;
      }
      const created: string[] = [];
      let last = r.lastJobId;
      const entries = tickEntries(now, req.plan, (plannedAt) => {
        if (r.overlap === 'skip' && last) {
          const st = q.jobs.get(last)?.state;
          if (st === 'scheduled' || st === 'waiting' || st === 'active') return { skipped: 'overlap' };
        }
        const jobId = scheduledJobId(r.id, plannedAt);
        if (!q.jobs.has(jobId)) {
          this.#createJob(q, jobId, r, plannedAt, now, 'schedule', { id: r.id, plannedAt });
          (q.jobs.get(jobId) as MemJob).scheduledTick = scheduledTick(
            r.id,
            r.missed,
            plannedAt,
            now,
            req.plan.missed?.count ?? 0,
          );
          created.push(jobId);
          woke = true;
        }
        last = jobId;
        return { created: jobId };
      });
      this.#ledger(q, r.id, entries);
      q.schedulers.set(r.id, { ...r, nextRunAt: req.plan.next, lastJobId: last, lastTickAt: now });
      out.push({ id: req.id, status: 'ticked', created });
    }
    if (woke) this.#wake(q);
    return out;
  }

  async workerHeartbeat(queue: string, beat: WorkerBeat, ttlMs: number): Promise<void> {
    const q = this.#q(queue);
    const now = this.clock.now();
    for (const [id, w] of q.workers) if (w.expiresAt < now) q.workers.delete(id);
    const cur = q.workers.get(beat.id);
    q.workers.set(beat.id, {
      ...structuredClone(beat),
      startedAt: cur?.startedAt ?? now,
      heartbeatAt: now,
      expiresAt: now + ttlMs,
    });
    q.workerSeenAt = now;
  }

  async waitingAhead(queue: string, id: string, max: number): Promise<WaitingAhead | null> {
    const q = this.#peek(queue);
    const j = q.jobs.get(id);
    if (!j || j.state !== 'waiting') return null;
    const a = q.waiting.ahead(id, q.agingMs, max);
    return a ? { priority: j.priority, ...a } : null;
  }

  async workerLeave(queue: string, id: string): Promise<void> {
    const q = this.#q(queue);
    if (q.workers.delete(id)) q.workerSeenAt = this.clock.now();
  }

  async listWorkers(queue: string): Promise<WorkerRegistry> {
    const q = this.#peek(queue);
    const now = this.clock.now();
    const workers = [...q.workers.values()]
      .filter((w) => w.expiresAt >= now)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((w) => structuredClone(w));
    return { now, workers, lastSeenAt: q.workerSeenAt || undefined };
  }

  async getJob(queue: string, id: string): Promise<Job | null> {
    const j = this.#peek(queue).jobs.get(id);
    return j ? toJob(queue, j) : null;
  }

  async getAttempts(queue: string, id: string): Promise<Attempt[] | null> {
    const j = this.#peek(queue).jobs.get(id);
    return j ? j.attempts.map((a) => ({ ...structuredClone(a), ...trailFields(j.trails?.get(a.n)) })) : null;
  }

  async listJobs(queue: string, state: JobState, page: Page): Promise<Job[]> {
    const q = this.#peek(queue);
    let ids: string[];
    switch (state) {
      case 'waiting':
        ids = q.waiting.ids();
        break;
      case 'scheduled':
        ids = [...q.scheduled].sort((a, b) => a[1] - b[1]).map(([id]) => id);
        break;
      case 'active':
        ids = [...q.active.keys()];
        break;
      default:
        ids = [...q.finished[state].keys()].reverse();
    }
    return ids
      .slice(page.offset, page.offset + page.limit)
      .map((id) => toJob(queue, q.jobs.get(id) as MemJob));
  }

  async searchJobs(
    queue: string,
    query: JobQuery,
    cursor: string | undefined,
    limit: number,
  ): Promise<SearchResult> {
    const q = this.#peek(queue);
    const facets = queryFacets(query);
    const after = cursor === undefined ? undefined : parseSearchCursor(cursor);
    const found = [...q.jobs.values()]
      .filter(
        (j) =>
          facets.every((f) => j.facets.has(f)) &&
          matchesCandidate(query, {
            state: j.state,
            attempts: j.attempts.length,
            createdAt: j.createdAt,
            finishedAt: j.finishedAt,
            data: j.data,
          }) &&
          (after === undefined || compareSearchKeys(after, j) < 0),
      )
      .sort(compareSearchKeys);
    const page = found.slice(0, limit);
    const lastJob = page[page.length - 1];
    return {
      jobs: page.map((j) => toJob(queue, j)),
      next: found.length > limit && lastJob ? searchCursor(lastJob) : undefined,
    };
  }

  async scheduledDue(queue: string, horizonMs: number, max: number): Promise<ScheduledWindow> {
    const q = this.#peek(queue);
    const now = this.clock.now();
    const until = now + horizonMs;
    // Earliest first, ties by id (the Redis zset's order).
    const due = [...q.scheduled]
      .filter(([, at]) => at <= until)
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const entries = due.slice(0, max).map(([id, dueAt]) => {
      const j = q.jobs.get(id) as MemJob;
      return { id, name: j.name, dueAt, attemptsMade: j.attempts.length, opts: j.opts };
    });
    return { now, entries, more: due.length > max };
  }

  async oldestWaiting(queue: string): Promise<OldestWaiting | null> {
    const q = this.#peek(queue);
    let best: OldestWaiting | null = null;
    for (const id of q.waiting.levels.heads()) {
      const j = q.jobs.get(id);
      if (j && (best === null || j.dueAt < best.since)) best = { id, since: j.dueAt, priority: j.priority };
    }
    return best;
  }

  async counts(queue: string): Promise<StateCounts> {
    const q = this.#peek(queue);
    return {
      scheduled: q.scheduled.size,
      waiting: q.waiting.size,
      active: q.active.size,
      completed: q.finished.completed.size,
      dead: q.finished.dead.size,
      cancelled: q.finished.cancelled.size,
    };
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    const q = this.#q(queue);
    if (q.paused === paused) return;
    q.paused = paused;
    this.#emit(q, paused ? 'paused' : 'resumed', undefined);
    if (!paused) this.#wake(q);
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.#peek(queue).paused;
  }

  async cancel(queue: string, id: string, by: string, reason: string | undefined): Promise<CancelResult> {
    const q = this.#q(queue);
    const j = q.jobs.get(id);
    if (!j) return { ok: false, reason: 'not_found' };
    const previous = j.state;
    if (previous === 'completed' || previous === 'dead' || previous === 'cancelled') {
      return { ok: false, reason: 'finished', state: previous };
    }
    const now = this.clock.now();
    if (previous === 'active' && j.current) {
      j.attempts.push(
        this.#record(j, now, {
          outcome: 'cancelled',
          decision: { action: 'cancelled', explanation: cancelExplanation(by, reason) },
        }),
      );
      j.current = undefined;
      q.active.delete(id);
    }
    q.waiting.delete(id);
    q.scheduled.delete(id);
    j.cancelled = reason === undefined ? { by, at: now } : { by, reason, at: now };
    if (!q.rollupsOff) this.#rollupWrite(q, now, rollupCancel(j.name, previous), new Map());
    this.#finishInto(q, j, 'cancelled', now);
    this.#emit(q, 'cancelled', id, { by, previous });
    this.#applyRetention(q, 'cancelled', now);
    return { ok: true, previous };
  }

  /** Appends nothing: builds the record of the current attempt, ended now. */
  #record(
    j: MemJob,
    now: number,
    rest: Omit<
      Attempt,
      'n' | 'trigger' | 'dueAt' | 'startedAt' | 'finishedAt' | 'driftMs' | 'workerId' | 'manual'
    >,
    heldMs = 0,
  ): Attempt {
    const c = j.current as NonNullable<MemJob['current']>;
    // A job held in the worker's prefetch buffer started later than its claim (never after now).
    const startedAt = heldMs > 0 ? Math.min(now, c.startedAt + heldMs) : c.startedAt;
    const base = {
      n: c.n,
      trigger: j.nextTrigger,
      dueAt: c.dueAt,
      startedAt,
      finishedAt: now,
      driftMs: startedAt - c.dueAt,
      workerId: c.workerId,
      ...rest,
      ...(j.nextManual ? { manual: j.nextManual } : {}),
    };
    return {
      ...base,
      ...(c.rateLimit ? { rateLimit: c.rateLimit } : {}),
      ...(c.priority ? { priority: c.priority } : {}),
      ...(c.schedule ? { schedule: c.schedule } : {}),
    };
  }

  /** Moves a job into a finished state. Callers publish the transition, then apply retention. */
  #finishInto(q: MemQueue, j: MemJob, state: Finished, now: number): void {
    j.state = state;
    j.finishedAt = now;
    q.finished[state].set(j.id, now);
    if (q.archive) {
      q.pending.delete(j.id);
      q.pending.set(j.id, now);
    }
  }

  /** Evicts what the state's rule no longer keeps (age, then count), at most `budget` jobs; returns how many. */
  #applyRetention(q: MemQueue, state: Finished, now: number, budget = Infinity): number {
    const rule = q.retention[state];
    if (!rule) return 0;
    const set = q.finished[state];
    let evicted = 0;
    // A job not archived yet is held: the walk stops at it (oldest first, as the archiver copies).
    let held = false;
    const evict = (id: string): boolean => {
      if (q.pending.has(id)) {
        held = true;
        return false;
      }
      set.delete(id);
      q.jobs.delete(id);
      q.evictions[state]++;
      this.#emit(q, 'evicted', id, { state });
      evicted++;
      return true;
    };
    if (rule.ageMs !== undefined) {
      for (const [id, at] of set) {
        if (at > now - rule.ageMs || evicted >= budget || !evict(id)) break;
      }
    }
    if (rule.count !== undefined && !held) {
      while (set.size > rule.count && evicted < budget && evict(set.keys().next().value as string));
    }
    let n = 0;
    if (held) {
      if (rule.ageMs !== undefined) for (const at of set.values()) if (at <= now - rule.ageMs) n++;
      if (rule.count !== undefined) n = Math.max(n, set.size - rule.count);
    }
    q.held[state] = n;
    return evicted;
  }

  #recover(q: MemQueue, now: number): number {
    let n = 0;
    for (const [id, expiry] of [...q.active]) {
      if (expiry > now) continue;
      const j = q.jobs.get(id) as MemJob;
      q.active.delete(id);
      j.stalls++;
      const poison = isPoison(j.stalls, j.maxStalls);
      const record = this.#record(j, now, stallAttemptEnd(j.stalls, j.maxStalls, now));
      j.attempts.push(record);
      for (const f of stallFacets(stallErrorClass(j.stalls, j.maxStalls), poison)) j.facets.add(f);
      if (!q.rollupsOff) {
        this.#rollup(
          q,
          now,
          {
            name: j.name,
            n: record.n,
            outcome: 'stalled',
            action: poison ? 'dead' : 'retry',
            deadReason: poison ? 'poison' : undefined,
            errorClass: stallErrorClass(j.stalls, j.maxStalls),
            rule: STALL_RULE,
            fingerprint: poison ? POISON_FINGERPRINT : undefined,
            label: poison ? POISON_LABEL : undefined,
            driftMs: record.driftMs,
            keys: j.rollupKeys,
          },
          j,
        );
      }
      j.current = undefined;
      j.nextManual = undefined;
      j.nextTrigger = 'stall';
      if (poison) {
        j.dead = {
          reason: 'poison',
          at: now,
          fingerprint: POISON_FINGERPRINT,
          label: POISON_LABEL,
          error: LEASE_EXPIRED_ERROR,
        };
        this.#finishInto(q, j, 'dead', now);
        this.#emit(q, 'dead', id, { ...endFields(record), reason: 'poison' });
        this.#applyRetention(q, 'dead', now);
      } else {
        j.state = 'waiting';
        j.dueAt = now;
        q.waiting.add(id);
        this.#emit(q, 'stalled', id, { ...endFields(record), stalls: String(j.stalls) });
      }
      n++;
    }
    return n;
  }

  #promote(q: MemQueue, now: number): void {
    const due = [...q.scheduled].filter(([, t]) => t <= now).sort((a, b) => a[1] - b[1]);
    for (const [id] of due) {
      q.scheduled.delete(id);
      q.waiting.add(id);
      (q.jobs.get(id) as MemJob).state = 'waiting';
    }
  }

  async claim(queue: string, req: ClaimRequest): Promise<ClaimResult> {
    return this.#claimNow(queue, req);
  }

  #claimNow(queue: string, req: ClaimRequest): ClaimResult {
    const q = this.#q(queue);
    const now = this.clock.now();
    const recovered = this.#recover(q, now);
    if (recovered > 0) this.#wake(q);
    this.#promote(q, now);
    const jobs: ClaimedJob[] = [];
    let blockedBySuspect = false;
    let tokenAt: number | undefined;
    if (!q.paused) {
      if (!q.waiting.gm && !queueBucket(q)) {
        blockedBySuspect = this.#claimPlain(q, req, now, jobs);
      } else {
        [blockedBySuspect, tokenAt] = this.#claimLimited(q, req, now, jobs);
      }
    }
    let nextWakeInMs: number | undefined;
    // A suspect at the head stopped this busy worker's claim: look again soon.
    if (blockedBySuspect) nextWakeInMs = SUSPECT_RECHECK_MS;
    else if (jobs.length === 0 || tokenAt !== undefined) {
      // (also when a rate limit stopped a claim that took some: when its next token exists)
      let next = Infinity;
      for (const t of q.scheduled.values()) next = Math.min(next, t);
      for (const t of q.active.values()) next = Math.min(next, t);
      if (tokenAt !== undefined && tokenAt < next) nextWakeInMs = Math.max(1, Math.ceil(tokenAt - now));
      else if (next !== Infinity) nextWakeInMs = Math.max(0, next - now);
    }
    return { jobs, recovered, nextWakeInMs, paused: q.paused };
  }

  /** Leases a popped job (the twin of leaseJob in includes/claimJobs.lua). */
  #lease(
    q: MemQueue,
    j: MemJob,
    req: ClaimRequest,
    now: number,
    suspect: boolean,
    rl?: RateLimitWait,
  ): ClaimedJob {
    // A job without a group is counted for the priority waits (a group's order is its own).
    const pw = j.group === undefined ? q.waiting.claimed(j.id, now, q.agingMs) : undefined;
    const n = j.attempts.length + 1;
    const leaseExpiresAt = now + req.leaseMs;
    j.state = 'active';
    j.current = {
      n,
      dueAt: j.dueAt,
      startedAt: now,
      workerId: req.workerId,
      leaseExpiresAt,
      ...(rl ? { rateLimit: rl } : {}),
      ...(pw ? { priority: pw } : {}),
      ...(j.nextTrigger === 'schedule' && j.scheduledTick ? { schedule: j.scheduledTick } : {}),
    };
    q.active.set(j.id, leaseExpiresAt);
    this.#emit(q, 'active', j.id, { attempt: String(n), worker: req.workerId });
    return {
      id: j.id,
      name: j.name,
      data: j.data,
      opts: j.opts,
      attempt: n,
      trigger: j.nextTrigger,
      dueAt: j.dueAt,
      startedAt: now,
      leaseExpiresAt,
      failures: j.failures,
      stalls: j.stalls,
      prevDelayMs: j.prevDelayMs,
      manual: j.nextManual,
      exclusive: suspect,
      ...(j.trace !== undefined ? { trace: j.trace } : {}),
      ...(j.group !== undefined ? { group: j.group } : {}),
    };
  }

  /** The plain claim: no group takes turns, no queue bucket (claimPlain). Returns blocked-by-suspect. */
  #claimPlain(q: MemQueue, req: ClaimRequest, now: number, jobs: ClaimedJob[]): boolean {
    while (jobs.length < req.max) {
      const id = q.waiting.levels.next(q.agingMs);
      if (id === undefined) break;
      const j = q.jobs.get(id) as MemJob;
      // Isolation of suspects (see isSuspect): a job whose next stall would make it poison goes
      // only to an idle worker, alone; it stops a busy worker's claim there.
      const suspect = isSuspect(j.stalls, j.maxStalls);
      if (suspect && !(req.exclusiveOk === true && jobs.length === 0)) return jobs.length === 0;
      q.waiting.delete(id);
      jobs.push(this.#lease(q, j, req, now, suspect));
      if (suspect) break;
    }
    return false;
  }

  /**
   * The claim under rate limits or groups, one job per step (claimLimited in
   * includes/claimJobs.lua, step for step). Returns blocked-by-suspect and the next token's time.
   */
  #claimLimited(
    q: MemQueue,
    req: ClaimRequest,
    now: number,
    jobs: ClaimedJob[],
  ): [boolean, number | undefined] {
    const w = q.waiting;
    const r = q.rate;
    let groups = w.gm;
    let tokenAt: number | undefined;
    let blocked = false;
    if (groups) w.unparkDue(now);
    let qTouched = false;
    const touched = new Set<string>();
    while (jobs.length < req.max) {
      const ql = queueBucket(q);
      let qStart = 0;
      let qAt = 0;
      if (ql) {
        qStart = tokenBucketStart(r.qtat, now);
        qAt = bucketTokenAt(qStart, ql.intervalMs, ql.burst);
        if (qAt > now) {
          tokenAt = qAt;
          break;
        }
      }
      let id: string | undefined;
      let g: string | undefined;
      let score: number | undefined;
      let gl: Bucket | undefined;
      let gStart = 0;
      let gAt = 0;
      if (groups) {
        g = w.ring[0];
        if (g === undefined) {
          const first = w.firstParked();
          if (first !== undefined) {
            tokenAt = first;
            break;
          }
          groups = false;
        }
      }
      if (!groups) {
        id = w.popUngrouped(q.agingMs);
        if (id === undefined) break;
      } else if (g === '') {
        id = w.popUngrouped(q.agingMs);
        w.afterUngroupedTurn(id !== undefined);
      } else {
        const gg = g as string;
        gl = groupBucket(q, gg);
        if (gl) {
          gStart = tokenBucketStart(r.gtat.get(gg) ?? 0, now);
          gAt = bucketTokenAt(gStart, gl.intervalMs, gl.burst);
        }
        if (gl && gAt > now) {
          w.parkHead(gAt);
          gl = undefined;
        } else {
          const e = w.popGroupHead();
          if (e) {
            id = e.id;
            score = e.score;
          }
        }
      }
      if (id === undefined) continue;
      const j = q.jobs.get(id) as MemJob;
      const suspect = isSuspect(j.stalls, j.maxStalls);
      if (suspect && !(req.exclusiveOk === true && jobs.length === 0)) {
        // Back where it was (its group's turn is spent): the claim stops, tokens untaken.
        w.unpop(id, score);
        blocked = true;
        break;
      }
      let waited = 0;
      let scope: 'queue' | 'group' | undefined;
      let label = '';
      if (ql) {
        qTouched = true;
        // Its token existed from the state's own time less the tolerance (long ago for a bucket
        // that was full), not from this claim's start.
        waited = rateLimitWaitedMs(bucketTokenAt(r.qtat, ql.intervalMs, ql.burst), j.dueAt);
        r.qtat = qStart + ql.intervalMs;
        if (waited > 0) {
          scope = 'queue';
          label = ql.label;
        }
      }
      if (gl && g !== undefined) {
        touched.add(g);
        const wg = rateLimitWaitedMs(bucketTokenAt(r.gtat.get(g) ?? 0, gl.intervalMs, gl.burst), j.dueAt);
        r.gtat.set(g, gStart + gl.intervalMs);
        if (wg > 0 && wg >= waited) {
          waited = wg;
          scope = 'group';
          label = gl.label;
        }
      }
      const rl = scope ? rateLimitWait(scope, g, label, waited) : undefined;
      jobs.push(this.#lease(q, j, req, now, suspect, rl));
      if (rl) {
        this.#emit(q, 'throttled', id, { scope: rl.scope, group: rl.group ?? '', waited: String(waited) });
      }
      if (suspect) break;
    }
    // The state of a pause without a limit that is over goes (rlFlush).
    if (qTouched && !r.queue && r.qtat <= now) r.qtat = 0;
    for (const g of touched) {
      if (!groupLimit(q, g) && (r.gtat.get(g) ?? 0) <= now) r.gtat.delete(g);
    }
    return [blocked, tokenAt];
  }

  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const q = this.#q(queue);
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        q.waiters.delete(done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      q.waiters.add(done);
    });
  }

  waitForAnyWork(
    queues: readonly string[],
    timeoutMs: number,
    signal: AbortSignal,
    interrupt?: AbortSignal,
  ): Promise<string[]> {
    const qs = queues.map((name) => [name, this.#q(name)] as const);
    return new Promise((resolve) => {
      if (signal.aborted || interrupt?.aborted) return resolve([]);
      const latched = qs.filter(([, q]) => q.wakeLatch);
      if (latched.length > 0) {
        for (const [, q] of latched) q.wakeLatch = false;
        return resolve(latched.map(([name]) => name));
      }
      const woke: string[] = [];
      const waiters = qs.map(([name, q]) => {
        const w = (): void => {
          woke.push(name);
          // The other queues' waiters go at once; a wake that lands in the same turn is counted too.
          if (woke.length === 1) queueMicrotask(done);
        };
        q.waiters.add(w);
        return [q, w] as const;
      });
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        interrupt?.removeEventListener('abort', done);
        for (const [q, w] of waiters) q.waiters.delete(w);
        resolve(woke);
      };
      const timer = this.clock.setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      interrupt?.addEventListener('abort', done);
    });
  }

  async renew(queue: string, leases: readonly RenewRequest[], leaseMs: number): Promise<boolean[]> {
    const q = this.#q(queue);
    const now = this.clock.now();
    return leases.map(({ id, attempt }) => {
      const j = q.jobs.get(id);
      // An expired lease not yet recovered is still the worker's: recovery, not expiry, ends it.
      if (!j || j.state !== 'active' || j.current?.n !== attempt) return false;
      j.current.leaseExpiresAt = now + leaseMs;
      q.active.set(id, now + leaseMs);
      return true;
    });
  }

  async writeTrail(queue: string, w: TrailWrite): Promise<TrailResult> {
    const q = this.#q(queue);
    const j = q.jobs.get(w.id);
    if (!j || j.state !== 'active' || j.current?.n !== w.attempt || j.current.workerId !== w.workerId) {
      return { ok: false, reason: 'stale' };
    }
    const now = this.clock.now();
    const trails = (j.trails ??= new Map());
    let t = trails.get(w.attempt);
    if (!t) trails.set(w.attempt, (t = { lines: [], bytes: 0, dropped: 0 }));
    if (w.progress !== undefined) {
      t.progress = { json: w.progress, at: now };
      this.#emit(q, 'progress', w.id, { attempt: String(w.attempt), value: w.progress });
    }
    let kept = 0;
    let dropped = w.dropped ?? 0;
    t.dropped += dropped;
    const carried: string[] = [];
    let carriedBytes = 0;
    for (const json of w.lines) {
      const size = lineBytes(json);
      if (logKeeps(t.lines.length, t.bytes, size)) {
        t.lines.push({ at: now, json });
        t.bytes += size;
        kept++;
        if (carried.length === kept - 1 && logEventCarries(carriedBytes, size)) {
          carried.push(json);
          carriedBytes += size;
        }
      } else {
        t.dropped++;
        dropped++;
      }
    }
    if (w.lines.length > 0 || (w.dropped ?? 0) > 0) {
      this.#emit(q, 'log', w.id, {
        attempt: String(w.attempt),
        lines: String(kept),
        dropped: String(dropped),
        text: `[${carried.join(',')}]`,
        more: String(kept - carried.length),
      });
    }
    return { ok: true, kept, dropped };
  }

  #finishNow(queue: string, reqs: readonly FinishRequest[]): FinishResult[] {
    const q = this.#q(queue);
    const now = this.clock.now();
    const plainBack: string[] = [];
    const otherBack: string[] = [];
    let woke = false;
    // Retention runs once, after the whole batch, as finish-10.lua applies it: a job finished by
    // one request is still there for a later request of the same batch (which is refused 'stale').
    const touched = new Set<'completed' | 'dead'>();
    const out = reqs.map((r): FinishResult => {
      const j = q.jobs.get(r.id);
      if (!j) return { ok: false, reason: 'not_found' };
      const last = j.attempts[j.attempts.length - 1];
      if (
        j.state !== 'active' &&
        last !== undefined &&
        last.n === r.attempt &&
        last.workerId === r.workerId &&
        last.outcome === r.outcome
      ) {
        // This very finish, applied already and sent again (a resend after a lost reply):
        // answered as before, nothing recorded twice.
        return { ok: true, state: j.state, finishedAt: now };
      }
      if (j.state !== 'active' || j.current?.n !== r.attempt) {
        j.refusals.push({ attempt: r.attempt, workerId: r.workerId, at: now, outcome: r.outcome });
        this.#emit(q, 'refused', r.id, { attempt: String(r.attempt), worker: r.workerId });
        return { ok: false, reason: 'stale' };
      }
      const d = this.#applyBudget(q, j, r, now);
      const record = this.#record(
        j,
        now,
        {
          outcome: r.outcome,
          ...(r.error ? { error: r.error } : {}),
          ...(r.errorClass ? { errorClass: r.errorClass } : {}),
          ...(r.rule ? { rule: r.rule } : {}),
          ...(r.classifiedBy ? { classifiedBy: r.classifiedBy } : {}),
          ...(r.pause ? { pause: r.pause } : {}),
          ...(r.response ? { response: r.response } : {}),
          decision: d.action === 'retry' ? { ...d, nextDueAt: now + d.delayMs } : d,
        },
        r.heldMs,
      );
      j.attempts.push(record);
      for (const f of failureFacets(r)) j.facets.add(f);
      if (!q.rollupsOff) {
        this.#rollup(
          q,
          now,
          {
            name: j.name,
            n: record.n,
            outcome: r.outcome,
            action: d.action,
            deadReason: d.action === 'dead' ? d.reason : undefined,
            errorClass: r.errorClass,
            rule: r.rule,
            fingerprint: r.fingerprint,
            label: r.fingerprintLabel,
            driftMs: record.driftMs,
            timeToSuccessMs: now - (j.attempts[0] as Attempt).dueAt,
            keys: j.rollupKeys,
          },
          j,
        );
      }
      j.current = undefined;
      j.nextManual = undefined;
      q.active.delete(r.id);
      if (countsAsFailure(r.outcome)) j.failures++;
      if (d.action === 'done') {
        j.result = r.result ?? 'null';
        this.#finishInto(q, j, 'completed', now);
        this.#emit(q, 'completed', r.id, endFields(record));
        touched.add('completed');
        return { ok: true, state: 'completed', finishedAt: now };
      }
      if (d.action === 'dead') {
        j.dead = {
          reason: d.reason,
          at: now,
          fingerprint: r.fingerprint ?? '',
          label: r.fingerprintLabel ?? '',
          ...(r.error ? { error: r.error } : {}),
        };
        this.#finishInto(q, j, 'dead', now);
        this.#emit(q, 'dead', r.id, { ...endFields(record), reason: d.reason });
        touched.add('dead');
        return { ok: true, state: 'dead', finishedAt: now };
      }
      const due = now + d.delayMs;
      j.dueAt = due;
      if (!keepsPreviousDelay(r.outcome)) j.prevDelayMs = d.delayMs;
      j.nextTrigger = 'auto';
      if (d.delayMs > 0) {
        j.state = 'scheduled';
        q.scheduled.set(r.id, due);
      } else {
        j.state = 'waiting';
        // Pushed after the loop, as finish-10.lua does: first the jobs without a group or priority.
        (j.group === undefined && j.priority === 0 ? plainBack : otherBack).push(r.id);
      }
      woke = true;
      this.#emit(q, 'retrying', r.id, { ...endFields(record), delay: String(d.delayMs), due: String(due) });
      if (r.pause) {
        const ms = Math.round(r.pause.ms);
        const g = r.pause.scope === 'group' ? j.group : undefined;
        if (g !== undefined) {
          const l = groupLimit(q, g) ?? PAUSE_ONLY;
          q.rate.gtat.set(g, bucketPaused(q.rate.gtat.get(g) ?? 0, now, ms, l.intervalMs, l.burst));
        } else {
          const l = q.rate.queue ? decodeRateLimit(q.rate.queue) : PAUSE_ONLY;
          q.rate.qtat = bucketPaused(q.rate.qtat, now, ms, l.intervalMs, l.burst);
        }
        // Why (finish-10.lua: RL.notePause): the pause record the rate-limit view shows.
        const why = encodePauseRecord({
          at: now,
          until: now + ms,
          jobId: r.id,
          attempt: record.n,
          message: r.error?.message ?? '',
        });
        if (g !== undefined) {
          prunePauses(q.rate.gpause, now);
          q.rate.gpause.set(g, { until: now + ms, text: why });
        } else {
          q.rate.qpause = why;
        }
        this.#emit(q, 'rate-limited', r.id, {
          scope: g !== undefined ? 'group' : 'queue',
          group: g ?? '',
          pause: String(ms),
        });
      }
      return { ok: true, state: j.state, nextDueAt: due, finishedAt: now };
    });
    for (const state of ['completed', 'dead'] as const) {
      if (touched.has(state)) this.#applyRetention(q, state, now);
    }
    for (const id of plainBack) q.waiting.add(id);
    for (const id of otherBack) q.waiting.add(id);
    if (woke) this.#wake(q);
    return out;
  }

  async finishAndClaim(
    queue: string,
    reqs: readonly FinishRequest[],
    claim: ClaimRequest,
  ): Promise<[FinishResult[], ClaimResult]> {
    // One synchronous step, like the Redis script: nothing can run between the two halves.
    const results = this.#finishNow(queue, reqs);
    if (claim.max <= 0) {
      return [results, { jobs: [], recovered: 0, nextWakeInMs: undefined, paused: this.#q(queue).paused }];
    }
    return [results, this.#claimNow(queue, claim)];
  }

  async recoverStalled(queue: string): Promise<number> {
    const q = this.#q(queue);
    const n = this.#recover(q, this.clock.now());
    if (n > 0) this.#wake(q);
    return n;
  }

  async listDead(queue: string, filter: DeadFilter, page: Page): Promise<DeadSummary[]> {
    const q = this.#peek(queue);
    const out: DeadSummary[] = [];
    let skipped = 0;
    for (const id of [...q.finished.dead.keys()].reverse()) {
      const s = deadSummary(q.jobs.get(id) as MemJob);
      if (!matchesDead(s, filter)) continue;
      if (skipped++ < page.offset) continue;
      if (out.length >= page.limit) break;
      out.push(s);
    }
    return out;
  }

  async peekDead(queue: string, ids: readonly string[]): Promise<DeadPeek[]> {
    const q = this.#peek(queue);
    return ids.map((id) => {
      const j = q.jobs.get(id);
      if (!j) return null;
      return { state: j.state, dead: j.state === 'dead' ? deadSummary(j) : undefined };
    });
  }

  async deadGroups(queue: string): Promise<DeadGroupStats[]> {
    const q = this.#peek(queue);
    const groups = new Map<
      string,
      { fingerprint: string; label: string; count: number; firstSeen: number; lastSeen: number }
    >();
    for (const id of q.finished.dead.keys()) {
      const d = (q.jobs.get(id) as MemJob).dead as NonNullable<MemJob['dead']>;
      const g = groups.get(d.fingerprint);
      if (!g) {
        groups.set(d.fingerprint, {
          fingerprint: d.fingerprint,
          label: d.label,
          count: 1,
          firstSeen: d.at,
          lastSeen: d.at,
        });
      } else {
        g.count++;
        g.firstSeen = Math.min(g.firstSeen, d.at);
        g.lastSeen = Math.max(g.lastSeen, d.at);
      }
    }
    return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  async replay(queue: string, req: ReplayRequest): Promise<ReplayResult> {
    const q = this.#q(queue);
    const j = q.jobs.get(req.id);
    if (!j) return { ok: false, reason: 'not_found' };
    const fromScheduled = j.state === 'scheduled' && req.alsoScheduled === true;
    if (j.state !== 'dead' && !fromScheduled) return { ok: false, reason: 'not_dead', state: j.state };
    if (j.attempts.length !== req.expectedAttempts) return { ok: false, reason: 'changed', state: j.state };
    const now = this.clock.now();
    if (fromScheduled) q.scheduled.delete(j.id);
    else q.finished.dead.delete(j.id);
    // Not finished any more: archived again when it finishes again (its new attempts).
    q.pending.delete(j.id);
    if (req.data !== undefined) j.data = req.data;
    const manual: ManualTrigger = {
      by: req.by,
      at: now,
      ...(req.note !== undefined ? { note: req.note } : {}),
      ...(req.patch !== undefined ? { patch: JSON.parse(req.patch) as ManualTrigger['patch'] } : {}),
    };
    j.nextManual = manual;
    j.nextTrigger = 'manual';
    for (const f of REPLAY_FACETS) j.facets.add(f);
    if (!fromScheduled) {
      j.failures = 0;
      j.stalls = 0;
      j.prevDelayMs = undefined;
    }
    j.dead = undefined;
    j.finishedAt = undefined;
    j.state = 'waiting';
    j.dueAt = now;
    q.waiting.add(j.id);
    this.#emit(q, 'replayed', j.id, { by: req.by });
    this.#wake(q);
    return { ok: true, at: now };
  }

  async restoreDead(queue: string, req: RestoreRequest): Promise<RestoreResult> {
    const q = this.#q(queue);
    const job = req.job;
    const have = q.jobs.get(job.id);
    if (have) return { ok: false, state: have.state };
    const dead = job.dead as NonNullable<Job['dead']>;
    const last = job.attempts[job.attempts.length - 1];
    q.jobs.set(job.id, {
      id: job.id,
      name: job.name,
      data: JSON.stringify(job.data),
      opts: JSON.stringify(job.options),
      maxStalls: job.options.maxStalls,
      state: 'dead',
      createdAt: job.createdAt,
      dueAt: job.dueAt,
      priority: job.priority,
      group: job.group,
      attempts: job.attempts.map((a) => structuredClone(a)),
      failures: job.failures,
      stalls: job.stalls,
      current: undefined,
      nextTrigger: last?.trigger ?? 'auto',
      nextManual: undefined,
      prevDelayMs: undefined,
      result: undefined,
      finishedAt: job.finishedAt ?? dead.at,
      dead: {
        reason: dead.reason,
        at: dead.at,
        fingerprint: dead.fingerprint,
        label: req.label,
        ...(dead.error ? { error: dead.error } : {}),
      },
      cancelled: undefined,
      refusals: structuredClone([...job.refusals]),
      trace: undefined,
      facets: new Set([`n:${job.name}`, ...req.facets]),
      scheduler: job.scheduler ? { ...job.scheduler } : undefined,
      ...(job.dedup ? { dedup: { ...job.dedup } } : {}),
      ...(job.folded ? { folded: { ...job.folded } } : {}),
    });
    // In the dead set by its dead-letter time, as Redis scores it (and noted, as addDead notes).
    insertByTime(q.finished.dead, job.id, dead.at);
    if (q.archive) insertByTime(q.pending, job.id, dead.at);
    this.#emit(q, 'restored', job.id);
    return { ok: true };
  }

  async listQueues(): Promise<string[]> {
    return [...this.#queues.keys()].sort();
  }

  async purgeDead(queue: string, ids: readonly string[]): Promise<string[]> {
    const q = this.#q(queue);
    const gone: string[] = [];
    for (const id of ids) {
      if (q.jobs.get(id)?.state !== 'dead') continue;
      q.finished.dead.delete(id);
      q.jobs.delete(id);
      this.#emit(q, 'purged', id);
      gone.push(id);
    }
    return gone;
  }

  /**
   * The retry budget's say on one finish (as finish-10.lua): counts a first attempt, places a
   * retry, and defers it (or dead-letters it) when over budget.
   */
  #applyBudget(q: MemQueue, j: MemJob, r: FinishRequest, now: number): FinishDecision {
    const d = r.decision;
    const named = q.budgets.names.get(j.name);
    const b = named ?? q.budgets.queue;
    if (!b) return d;
    const scope = named ? `n:${j.name}` : '';
    let st = q.budgetState.get(scope);
    if (!st) q.budgetState.set(scope, (st = { tatUs: 0, firsts: new Map() }));
    const slot = budgetSlot(b, now);
    if (j.current?.n === 1) st.firsts.set(slot, (st.firsts.get(slot) ?? 0) + 1);
    for (const k of st.firsts.keys()) if (k <= slot - RETRY_BUDGET_SLOTS) st.firsts.delete(k);
    if (d.action !== 'retry' || !countsAsFailure(r.outcome)) return d;
    let firsts = 0;
    for (const [k, n] of st.firsts) if (k > slot - RETRY_BUDGET_SLOTS) firsts += n;
    const placed = budgetPlace(b, firsts, st.tatUs, now + d.delayMs);
    st.tatUs = placed.tatUs;
    if (placed.deferMs === 0) return d;
    const dead = b.onExhausted === 'dead';
    const text = budgetExplanation(b, firsts, placed.deferMs, dead);
    const attempt = String(j.current?.n ?? 0);
    if (dead) {
      this.#emit(q, 'budget', j.id, { scope, dead: '1', attempt });
      return { action: 'dead', reason: 'budget', explanation: text };
    }
    this.#emit(q, 'budget', j.id, { scope, deferred: String(placed.deferMs), attempt });
    return {
      ...d,
      delayMs: d.delayMs + placed.deferMs,
      explanation: `${d.explanation}; ${text}`,
      budget: { deferredMs: placed.deferMs, firstAttempts: firsts, allowed: budgetAllowed(b, firsts) },
    } as FinishDecision;
  }

  async setRetryBudget(queue: string, name: string | undefined, budget: string | null): Promise<void> {
    const q = this.#q(queue);
    const b = budget === null ? undefined : decodeRetryBudget(budget);
    if (name === undefined) q.budgets.queue = b;
    else if (b) q.budgets.names.set(name, b);
    else q.budgets.names.delete(name);
  }

  async getRetryBudgets(queue: string): Promise<RetryBudgetEntry[]> {
    const q = this.#peek(queue);
    const out: RetryBudgetEntry[] = [];
    const entry = (name: string | undefined, b: ResolvedRetryBudget): RetryBudgetEntry => {
      const tat = q.budgetState.get(name === undefined ? '' : `n:${name}`)?.tatUs ?? 0;
      return { name, budget: encodeRetryBudget(b), bookedUntil: Math.floor(tat / 1000) };
    };
    if (q.budgets.queue) out.push(entry(undefined, q.budgets.queue));
    for (const [name, b] of [...q.budgets.names].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))) {
      out.push(entry(name, b));
    }
    return out;
  }

  /**
   * Adds one attempt end to the minute and the hour bucket of `now` (as the Lua `RU.flush`, which
   * folds minutes into hours later: the same counts), and keeps what the job remembers.
   */
  #rollup(q: MemQueue, now: number, end: RollupEnd, j?: MemJob): void {
    const { counts, labels } = rollupIncrements(end);
    if (j) j.rollupKeys = rollupJobKeys(end);
    this.#rollupWrite(q, now, counts, labels);
  }

  #rollupWrite(
    q: MemQueue,
    now: number,
    counts: ReadonlyMap<string, number>,
    labels: ReadonlyMap<string, string>,
  ): void {
    for (const [resolution, { widthMs, keepMs }] of Object.entries(ROLLUP_RESOLUTIONS)) {
      const start = bucketStart(now, widthMs);
      const key = `${resolution}:${start}`;
      let b = q.rollups.get(key);
      if (!b) {
        for (const [k, old] of q.rollups) if (old.expiresAt <= now) q.rollups.delete(k);
        b = { expiresAt: start + widthMs + keepMs, fields: new Map() };
        q.rollups.set(key, b);
      }
      rollupWrite(b.fields, counts, labels);
    }
  }

  async readRollups(
    queue: string,
    resolution: RollupResolution,
    starts: readonly number[],
  ): Promise<RollupBucket[]> {
    const q = this.#peek(queue);
    const now = this.clock.now();
    const out: RollupBucket[] = [];
    for (const start of starts) {
      const b = q.rollups.get(`${resolution}:${start}`);
      if (b && b.expiresAt > now) out.push({ start, fields: Object.fromEntries(b.fields) });
    }
    return out;
  }

  async setRollups(queue: string, on: boolean): Promise<void> {
    this.#q(queue).rollupsOff = !on;
  }

  async setPriorityAging(queue: string, agingMs: number): Promise<void> {
    this.#q(queue).agingMs = agingMs;
  }

  async getPriorityAging(queue: string): Promise<number> {
    return this.#peek(queue).agingMs;
  }

  async setDefaultPriority(queue: string, priority: number): Promise<void> {
    this.#q(queue).defaultPriority = priority;
  }

  async getDefaultPriority(queue: string): Promise<number> {
    return this.#peek(queue).defaultPriority;
  }

  async setRateLimits(queue: string, settings: ResolvedRateLimitSettings): Promise<void> {
    const q = this.#q(queue);
    if (settings.queue !== undefined) {
      q.rate.queue = settings.queue === null ? undefined : encodeRateLimit(settings.queue);
    }
    if (settings.group !== undefined) {
      q.rate.group = settings.group === null ? undefined : encodeRateLimit(settings.group);
    }
    for (const [g, l] of Object.entries(settings.groups ?? {})) {
      if (l === null) q.rate.own.delete(g);
      else q.rate.own.set(g, encodeRateLimit(l));
    }
    // Cap (or drop) the states of the buckets whose limit changed (set-rate-limit-10.lua).
    const now = this.clock.now();
    if (settings.queue !== undefined && q.rate.qtat !== 0) {
      const l = q.rate.queue ? decodeRateLimit(q.rate.queue) : undefined;
      q.rate.qtat = l ? bucketCapped(q.rate.qtat, now, l.intervalMs, l.burst) : 0;
    }
    const recap = settings.group !== undefined ? [...q.rate.gtat.keys()] : Object.keys(settings.groups ?? {});
    for (const g of recap) {
      const tat = q.rate.gtat.get(g);
      if (tat === undefined) continue;
      const l = groupLimit(q, g);
      if (l) q.rate.gtat.set(g, bucketCapped(tat, now, l.intervalMs, l.burst));
      else q.rate.gtat.delete(g);
    }
    q.waiting.unparkAll();
    this.#wake(q);
  }

  async groupNextTokenAt(queue: string, group: string): Promise<number | undefined> {
    const q = this.#peek(queue);
    return groupNextTokenAt(
      q.rate.own.get(group) ?? q.rate.group,
      q.rate.gtat.get(group) ?? 0,
      this.clock.now(),
    );
  }

  async rateLimitState(queue: string, query: ResolvedRateLimitStateQuery): Promise<RateLimitState> {
    const q = this.#peek(queue);
    const now = this.clock.now();
    const w = q.waiting;
    const parked = [...w.parked].sort(byScoreThenName);
    const paused = [...q.rate.gpause]
      .filter(([, p]) => p.until > now)
      .sort(([ga, a], [gb, b]) => a.until - b.until || (ga < gb ? -1 : ga > gb ? 1 : 0));
    // As rate-limit-state-10.lua: a ring row's turn is its index, a parked or paused row has none
    // (LPOS is not walked per row), a single group's is looked up.
    const row = (g: string, phase: 't' | 'p' | 'z' | 'one', index: number): RawGroupState => {
      const turn = phase === 't' ? index : phase === 'one' ? w.ring.indexOf(g) : -1;
      return {
        group: g,
        waiting: g === '' ? w.levels.size : w.groupSize(g),
        own: g === '' ? undefined : q.rate.own.get(g),
        tat: g === '' ? 0 : (q.rate.gtat.get(g) ?? 0),
        pause: g === '' ? undefined : q.rate.gpause.get(g)?.text,
        turn: turn >= 0 ? turn : undefined,
        parkedUntil: phase === 't' ? undefined : w.parked.get(g),
      };
    };
    const sizes = { t: w.ring.length, p: parked.length, z: paused.length };
    const rows: RawGroupState[] = [];
    if (query.group !== undefined) {
      rows.push(row(query.group, 'one', 0));
    } else {
      for (const r of groupPagePlan(query.filter, query.cursor, query.limit, sizes).reads) {
        const from =
          r.phase === 't' ? w.ring : r.phase === 'p' ? parked.map(([g]) => g) : paused.map(([g]) => g);
        from.slice(r.start, r.start + r.count).forEach((g, i) => rows.push(row(g, r.phase, r.start + i)));
      }
    }
    return rateLimitStateView(
      {
        now,
        queueLimit: q.rate.queue,
        groupLimit: q.rate.group,
        queueTat: q.rate.qtat,
        queuePause: q.rate.qpause,
        ownLimits: q.rate.own.size,
        sizes,
        rows,
      },
      query,
    );
  }

  async getRateLimits(queue: string): Promise<RateLimits> {
    const q = this.#peek(queue);
    return rateLimitsView(
      q.rate.queue,
      q.rate.group,
      Object.fromEntries(q.rate.own),
      q.rate.qtat,
      this.clock.now(),
    );
  }

  async getRetention(queue: string): Promise<RetentionSettings> {
    return structuredClone(this.#peek(queue).retention);
  }

  async setRetention(queue: string, settings: RetentionSettings): Promise<void> {
    if (this.#archiveDefault) await this.setArchive(queue, true);
    const q = this.#q(queue);
    q.retention = structuredClone(settings);
    const now = this.clock.now();
    for (const s of ['completed', 'dead', 'cancelled'] as const) this.#applyRetention(q, s, now);
  }

  async sweepRetention(queue: string, sweep: RetentionSweep): Promise<RetentionSweepResult> {
    if (this.#closed) throw new BackendClosedError('memory backend');
    const q = this.#queues.get(queue);
    const now = this.clock.now();
    if (!q || now < q.sweepNotBefore) return { ran: false, evicted: 0 };
    q.sweepNotBefore = now + sweep.intervalMs;
    let evicted = 0;
    for (const s of ['completed', 'dead', 'cancelled'] as const) {
      if (evicted >= sweep.max) break;
      evicted += this.#applyRetention(q, s, now, sweep.max - evicted);
    }
    return { ran: true, evicted };
  }

  async evictions(queue: string): Promise<EvictionCounts> {
    return { ...this.#peek(queue).evictions };
  }

  async readEvents(queue: string, afterSeq: string, count: number): Promise<QueueEvent[]> {
    const after = Number(afterSeq) || 0;
    return this.#peek(queue)
      .events.filter((e) => Number(e.seq) > after)
      .slice(0, count);
  }

  async eventTail(queue: string): Promise<string> {
    return String(this.#peek(queue).eventSeq);
  }

  async setArchiveDefault(on: boolean): Promise<void> {
    this.#archiveDefault = on;
  }

  async archiveDefault(): Promise<boolean> {
    return this.#archiveDefault;
  }

  async setArchive(queue: string, on: boolean): Promise<void> {
    const q = this.#q(queue);
    if (q.archive === on) return;
    q.archive = on;
    if (on) {
      // The finished jobs already there, oldest first (as the Redis ZUNIONSTORE orders them).
      const all = Object.values(q.finished).flatMap((m) => [...m]);
      for (const [id, at] of all.sort((a, b) => a[1] - b[1])) if (!q.pending.has(id)) q.pending.set(id, at);
    } else {
      q.pending.clear();
      q.archiveLease = undefined;
      q.held = { completed: 0, dead: 0, cancelled: 0 };
    }
  }

  async claimArchive(queue: string, claim: ArchiveClaim): Promise<ArchiveBatch> {
    const q = this.#q(queue);
    const now = this.clock.now();
    const lease = q.archiveLease;
    if (lease && lease.owner !== claim.owner && lease.until > now) return { busy: true };
    q.archiveLease = { owner: claim.owner, until: now + claim.leaseMs };
    const entries: ArchiveEntry[] = [];
    const from = claim.from ?? -Infinity;
    for (const [id, mark] of [...q.pending].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) {
      if (entries.length >= claim.max) break;
      if (mark < from) continue;
      const j = q.jobs.get(id);
      entries.push({ id, mark, job: j ? toJob(queue, j) : null });
    }
    return { busy: false, entries };
  }

  async markArchived(queue: string, entries: readonly Pick<ArchiveEntry, 'id' | 'mark'>[]): Promise<number> {
    const q = this.#q(queue);
    let n = 0;
    for (const e of entries) {
      if (q.pending.get(e.id) === e.mark) {
        q.pending.delete(e.id);
        n++;
      }
    }
    return n;
  }

  async archiveStatus(queue: string): Promise<ArchiveStatus> {
    const q = this.#peek(queue);
    return { enabled: q.archive, pending: q.pending.size, held: { ...q.held } };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const q of this.#queues.values()) this.#wake(q);
  }
}

/** The event fields every attempt end carries (see ARCHITECTURE.md, "Event feed"). */
function endFields(a: Attempt): Record<string, string> {
  return {
    attempt: String(a.n),
    worker: a.workerId,
    outcome: a.outcome,
    class: a.errorClass ?? '',
    drift: String(a.driftMs),
    dur: String(a.finishedAt - a.startedAt),
  };
}

function emptyQueue(): MemQueue {
  const jobs = new Map<string, MemJob>();
  return {
    jobs,
    waiting: new WaitingJobs((id) => jobs.get(id) as MemJob),
    rate: {
      queue: undefined,
      group: undefined,
      own: new Map(),
      qtat: 0,
      gtat: new Map(),
      qpause: undefined,
      gpause: new Map(),
    },
    agingMs: 0,
    defaultPriority: 0,
    scheduled: new Map(),
    active: new Map(),
    finished: { completed: new Map(), dead: new Map(), cancelled: new Map() },
    paused: false,
    retention: {},
    evictions: { completed: 0, dead: 0, cancelled: 0 },
    sweepNotBefore: 0,
    archive: false,
    pending: new Map(),
    archiveLease: undefined,
    held: { completed: 0, dead: 0, cancelled: 0 },
    nextId: 0,
    events: [],
    eventSeq: 0,
    waiters: new Set(),
    wakeLatch: false,
    schedulers: new Map(),
    rollups: new Map(),
    rollupsOff: false,
    budgets: { queue: undefined, names: new Map() },
    budgetState: new Map(),
    ticks: new Map(),
    workers: new Map(),
    workerSeenAt: 0,
    dedupKeys: new Map(),
  };
}

function deadSummary(j: MemJob): DeadSummary {
  const d = j.dead as NonNullable<MemJob['dead']>;
  return {
    id: j.id,
    name: j.name,
    reason: d.reason,
    at: d.at,
    fingerprint: d.fingerprint,
    errorCode: d.error?.code,
  };
}

/** The memory twin of lua/dead-list-10.lua's match. */
/**
 * Files `id` at `at` in a map kept in time order (oldest first; among equal times by id, bytes),
 * as a Redis sorted set orders it: appended when it is the newest, else the map is rebuilt.
 */
function insertByTime(m: Map<string, number>, id: string, at: number): void {
  m.delete(id);
  let newest: [string, number] | undefined;
  for (const e of m) newest = e;
  const after = (a: [string, number], b: [string, number]): boolean =>
    a[1] > b[1] || (a[1] === b[1] && Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) > 0);
  if (!newest || after([id, at], newest)) {
    m.set(id, at);
    return;
  }
  const all = [...m, [id, at] as [string, number]].sort((a, b) => (after(a, b) ? 1 : after(b, a) ? -1 : 0));
  m.clear();
  for (const [k, v] of all) m.set(k, v);
}

function matchesDead(s: DeadSummary, f: DeadFilter): boolean {
  return (
    (f.reason === undefined || f.reason.includes(s.reason)) &&
    (f.errorCode === undefined || s.errorCode === f.errorCode) &&
    (f.name === undefined || s.name === f.name) &&
    (f.fingerprint === undefined || s.fingerprint === f.fingerprint) &&
    (f.from === undefined || s.at >= f.from) &&
    (f.to === undefined || s.at <= f.to)
  );
}

function toJob(queue: string, j: MemJob): Job {
  const job: Job = {
    id: j.id,
    queue,
    name: j.name,
    data: JSON.parse(j.data) as unknown,
    state: j.state,
    createdAt: j.createdAt,
    dueAt: j.dueAt,
    priority: j.priority,
    ...(j.group !== undefined ? { group: j.group } : {}),
    options: JSON.parse(j.opts) as JobOptionsStored,
    attempts: j.attempts.map((a) => ({ ...structuredClone(a), ...trailFields(j.trails?.get(a.n)) })),
    stalls: j.stalls,
    failures: j.failures,
    refusals: structuredClone(j.refusals),
    ...(j.current
      ? {
          current: {
            n: j.current.n,
            trigger: j.nextTrigger,
            dueAt: j.current.dueAt,
            startedAt: j.current.startedAt,
            workerId: j.current.workerId,
            leaseExpiresAt: j.current.leaseExpiresAt,
            ...(j.nextManual ? { manual: structuredClone(j.nextManual) } : {}),
            ...trailFields(j.trails?.get(j.current.n)),
            ...(j.current.rateLimit ? { rateLimit: { ...j.current.rateLimit } } : {}),
            ...(j.current.priority ? { priority: { ...j.current.priority } } : {}),
            ...(j.current.schedule ? { schedule: { ...j.current.schedule } } : {}),
          },
        }
      : {}),
    ...(j.nextManual && !j.current ? { pendingManual: structuredClone(j.nextManual) } : {}),
    ...(j.result !== undefined ? { result: JSON.parse(j.result) as unknown } : {}),
    ...(j.finishedAt !== undefined ? { finishedAt: j.finishedAt } : {}),
    ...(j.dead
      ? {
          dead: {
            reason: j.dead.reason,
            at: j.dead.at,
            fingerprint: j.dead.fingerprint,
            ...(j.dead.error ? { error: j.dead.error } : {}),
          },
        }
      : {}),
    ...(j.cancelled ? { cancelled: { ...j.cancelled } } : {}),
    ...(j.scheduler ? { scheduler: { ...j.scheduler } } : {}),
    ...(j.dedup ? { dedup: { ...j.dedup } } : {}),
    ...(j.folded ? { folded: { ...j.folded } } : {}),
  };
  return job;
}

/** A bucket's limit as the claim applies it. */
interface Bucket {
  readonly intervalMs: number;
  readonly burst: number;
  readonly label: string;
}

/** At most this many expired pause records go per new group pause (PAUSE_PRUNE in finish-10.lua). */
const PAUSE_PRUNE = 16;

/** Drops up to PAUSE_PRUNE pause records over at `now`, soonest end first (as `rlpz` is ranked). */
function prunePauses(m: Map<string, { until: number; text: string }>, now: number): void {
  const over = [...m]
    .filter(([, p]) => p.until <= now)
    .sort(([ga, a], [gb, b]) => a.until - b.until || (ga < gb ? -1 : ga > gb ? 1 : 0))
    .slice(0, PAUSE_PRUNE);
  for (const [g] of over) m.delete(g);
}

/** A pause without a limit: interval 0, burst 1 (RL_PAUSE_ONLY in includes/rateLimit.lua). */
const PAUSE_ONLY: Bucket = { intervalMs: 0, burst: 1, label: RATE_LIMIT_PAUSE_LABEL };

/**
 * The queue's bucket (rlQueue): undefined when it has neither a limit nor a pause's state (kept
 * until the first claim after the pause, which records the wait and drops it).
 */
function queueBucket(q: MemQueue): Bucket | undefined {
  if (q.rate.queue) return decodeRateLimit(q.rate.queue);
  return q.rate.qtat > 0 ? PAUSE_ONLY : undefined;
}

/** Group g's limit: its own, else the queue's default group limit. */
function groupLimit(q: MemQueue, g: string): Bucket | undefined {
  const text = q.rate.own.get(g) ?? q.rate.group;
  return text ? decodeRateLimit(text) : undefined;
}

/** Group g's bucket (rlGroup): undefined when it has neither a limit nor a pause's state. */
function groupBucket(q: MemQueue, g: string): Bucket | undefined {
  return groupLimit(q, g) ?? ((q.rate.gtat.get(g) ?? 0) > 0 ? PAUSE_ONLY : undefined);
}
