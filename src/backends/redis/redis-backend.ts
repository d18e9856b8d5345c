/**
 * The Redis backend: many workers on many machines. Every state transition of a job is one Lua
 * script (atomic, one round trip, Redis `TIME` as the clock); reads are single commands or
 * pipelines of them. Idle workers block on the queue's wake list instead of polling.
 * @module
 */
import type { RestoreRequest, RestoreResult } from '../../restore.js';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';

import type {
  TrailResult,
  TrailWrite,
  AddRequest,
  RetryBudgetEntry,
  ArchiveBatch,
  ArchiveClaim,
  ArchiveEntry,
  ArchiveStatus,
  AddResult,
  WaitingAhead,
  Backend,
  CancelResult,
  ClaimRequest,
  ClaimResult,
  DeadFilter,
  DeadGroupStats,
  DeadPeek,
  DeadSummary,
  FinishRequest,
  FinishResult,
  Page,
  QueueEvent,
  RenewRequest,
  RetentionSweep,
  RetentionSweepResult,
  ReplayRequest,
  ReplayResult,
  ScheduledEntry,
  ScheduledWindow,
} from '../../backend.js';
import { BackendClosedError, ReplicationError, ValidationError } from '../../errors.js';
import { cancelExplanation } from '../../transitions.js';
import { trailsFromRedis, withTrail } from '../../progress.js';
import {
  bucketStart,
  ROLLUP_HOUR_MS,
  type RollupBucket,
  type RollupResolution,
  withUnfolded,
} from '../../rollup.js';
import {
  encodeRateLimit,
  groupNextTokenAt,
  rateLimitStateView,
  rateLimitsView,
  type RateLimits,
  type RateLimitState,
  type ResolvedRateLimitStateQuery,
  type ResolvedRateLimit,
  type ResolvedRateLimitSettings,
} from '../../rate-limit.js';
import {
  FINISHED_STATES,
  queryFacets,
  SEARCH_BUDGET,
  type JobQuery,
  type SearchResult,
} from '../../job-index.js';
import type {
  Attempt,
  DeadReason,
  EvictionCounts,
  Job,
  JobState,
  RetentionSettings,
  OldestWaiting,
  StateCounts,
} from '../../types.js';
import type {
  DueSchedulers,
  SchedulerRecord,
  SchedulerResume,
  SchedulerUpsert,
  SchedulerUpsertResult,
  TickRecord,
  TickRequest,
  TickResult,
} from '../../schedule.js';
import type { WorkerBeat, WorkerRegistry } from '../../workers.js';
import { BlockingWait } from './blocking-wait.js';
import { connectRedis } from './connect.js';
import { scripts, type ScriptName } from './generated/scripts.js';
import { metaKeyPattern, queueKeys, queueOfMetaKey, type QueueKeys } from './keys.js';
import {
  decodeAdd,
  decodeClaim,
  decodeEventEntry,
  decodeFinish,
  decodeJob,
  encodeRestore,
  decodeScheduler,
  decodeWorker,
  assertSafeWorkerId,
  encodeAdd,
  encodeTick,
  encodeClaim,
  encodeFinish,
  encodeReplay,
  rawJobsFromJson,
  type ClaimReply,
  type FinishReply,
  type RawJob,
} from './wire.js';

type Client = Redis | Cluster;

export interface RedisBackendOptions {
  /**
   * A connection URL, ioredis options, or a client (Redis or Cluster) that the caller owns. The
   * connections opened from a URL or options get `socketTimeout: 5000` unless the options set one
   * (a dead connection that never errors is replaced); a client passed in keeps its settings.
   */
  readonly connection?: string | RedisOptions | Client;
  /** Key prefix before the queue's hash tag. @default 'rt' */
  readonly prefix?: string;
  /** Where warnings (such as a maxmemory-policy that can evict jobs) go. @default console.warn */
  readonly onWarning?: (message: string) => void;
  /**
   * What an acknowledged write survives. `'none'` (the default): Redis replicates asynchronously,
   * so a write acknowledged just before the master dies may be missing on the replica promoted in
   * its place. `'replicated'`: every add, finish, cancel, replay, purge and setting change is
   * followed by `WAIT 1 <timeoutMs>` on the same connection (pipelined: no extra round trip to
   * wait for before sending), and resolves only once a replica has it; otherwise it throws
   * {@link ReplicationError} (the write is applied, but not confirmed). `{ replicas, timeoutMs }`
   * asks for more replicas or another timeout (default 1 and 1000 ms). Claims, lease renewals and
   * stall recovery are not waited for: what a failover loses of them, the lease repairs.
   */
  readonly durability?: Durability;
}

export type Durability = 'none' | 'replicated' | { readonly replicas?: number; readonly timeoutMs?: number };

/** The scripts nothing waits for: reads, and the writes a lease repairs (or that only evict). */
const NOT_WAITED: ReadonlySet<ScriptName> = new Set<ScriptName>([
  'read',
  'archiveRead',
  'counts',
  'oldestWaiting',
  'radar',
  'deadGroups',
  'deadList',
  'claim',
  'renew',
  'recover',
  'sweepRetention',
  'workers',
  'rateLimitState',
  'workerBeat',
  'workerLeave',
  'waitingAhead',
]);

function resolveDurability(d: Durability | undefined): { replicas: number; timeoutMs: number } | undefined {
  if (d === undefined || d === 'none') return undefined;
  const o = d === 'replicated' ? {} : d;
  if (typeof o !== 'object' || o === null) {
    throw new ValidationError('durability', "'none', 'replicated' or { replicas, timeoutMs }", d);
  }
  const replicas = o.replicas ?? 1;
  const timeoutMs = o.timeoutMs ?? 1000;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) {
    throw new ValidationError('durability.replicas', 'an integer from 1 to 16', replicas);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new ValidationError('durability.timeoutMs', 'an integer from 1 to 60000', timeoutMs);
  }
  return { replicas, timeoutMs };
}

/**
 * ioredis `socketTimeout` of the connections this backend opens itself (a `connection` given as a
 * URL or options without one): a command pending with nothing received for this long means the
 * path is dead without a FIN or RST (a black hole: NAT or firewall state lost, a partition, a
 * failover behind a virtual address), so the socket is destroyed and ioredis reconnects and resends.
 * Without it such a connection waits for ever, and every caller with it (a worker's claim loop).
 * A live Redis answers within this even while another client's script runs (it replies BUSY after
 * its busy-reply-threshold, 5 s by default). Blocking connections are exempt (a BLPOP is silent by
 * design): `waitForWork` guards them itself.
 */
const SOCKET_TIMEOUT_MS = 5000;
/** Dead-index entries one dead-list script call looks at, at most: bounds how long it holds Redis. */
const DEAD_SCAN_BUDGET = 1000;
/** Resolves when a cluster client knows its nodes (connecting it if it is lazy). */
function clusterReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cluster.off('ready', onReady);
      reject(new Error('the Redis Cluster did not become ready within 10 s'));
    }, 10_000);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    cluster.once('ready', onReady);
    if (cluster.status === 'wait') cluster.connect().catch(() => undefined);
  });
}

export class RedisBackend implements Backend {
  readonly kind = 'redis';
  readonly client: Client;
  readonly prefix: string;
  readonly #ownsClient: boolean;
  readonly #keys = new Map<string, QueueKeys>();
  readonly #blocking: BlockingWait;
  readonly #onWarning: (message: string) => void;
  readonly #wait: { replicas: number; timeoutMs: number } | undefined;
  #closed = false;
  #checked: Promise<void> | undefined;

  constructor(options: RedisBackendOptions = {}) {
    const c = options.connection;
    if (
      c instanceof Redis ||
      (typeof c === 'object' && c !== null && 'duplicate' in c && 'defineCommand' in c)
    ) {
      this.client = c as Client;
      this.#ownsClient = false;
    } else {
      this.client =
        typeof c === 'string'
          ? connectRedis(c, { socketTimeout: SOCKET_TIMEOUT_MS })
          : new Redis({ socketTimeout: SOCKET_TIMEOUT_MS, ...c });
      this.client.on('error', () => undefined); // surfaced by the failing command instead
      this.#ownsClient = true;
    }
    this.prefix = options.prefix ?? 'rt';
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(this.prefix)) {
      throw new ValidationError('prefix', "1-32 characters of letters, digits, '_', '.' or '-'", this.prefix);
    }
    this.#onWarning = options.onWarning ?? ((m) => console.warn(`[retraced] ${m}`));
    this.#wait = resolveDurability(options.durability);
    this.#blocking = new BlockingWait(this.client);
    for (const [name, s] of Object.entries(scripts)) {
      this.client.defineCommand(`rt_${name}`, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    }
  }

  #k(queue: string): QueueKeys {
    let k = this.#keys.get(queue);
    if (!k) {
      k = queueKeys(this.prefix, queue);
      this.#keys.set(queue, k);
    }
    return k;
  }

  /** Warns once when Redis may evict keys: with any policy but noeviction, jobs can vanish. */
  #check(): Promise<void> {
    return (this.#checked ??= (async () => {
      try {
        const reply = (await this.client.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
        const policy = reply[1];
        if (policy && policy !== 'noeviction') {
          this.#onWarning(
            `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict job keys and lose jobs. Set it to "noeviction".`,
          );
        }
      } catch {
        // CONFIG may be disabled (managed Redis): nothing to check.
      }
    })());
  }

  async #run(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    void this.#check();
    const k = this.#k(queue);
    const wait = this.#wait;
    if (wait && !NOT_WAITED.has(name)) return this.#runReplicated(name, [...k.all, k.prefix, ...args], wait);
    const fn = (this.client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[
      `rt_${name}`
    ];
    return (fn as (...a: (string | number)[]) => Promise<unknown>).call(
      this.client,
      ...k.all,
      k.prefix,
      ...args,
    );
  }

  /**
   * The script and `WAIT` in one pipeline: on a cluster both go to the node of the queue's slot
   * (WAIT has no key and follows the script's), on one Redis down the same connection, so WAIT
   * covers the script's write.
   */
  async #runReplicated(
    name: ScriptName,
    args: (string | number)[],
    wait: { replicas: number; timeoutMs: number },
  ): Promise<unknown> {
    const pipeline = this.client.pipeline();
    (pipeline as unknown as Record<string, (...a: (string | number)[]) => unknown>)[`rt_${name}`]?.(...args);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const replies = (await pipeline.exec()) ?? [];
    const [script, waited] = replies;
    if (!script || !waited) throw new Error(`redis: the ${name} pipeline answered ${replies.length} replies`);
    if (script[0]) throw script[0];
    if (waited[0]) throw waited[0];
    const acked = Number(waited[1]);
    if (acked < wait.replicas) throw new ReplicationError(name, wait.replicas, acked, wait.timeoutMs);
    return script[1];
  }

  async now(): Promise<number> {
    const [s, us] = (await this.client.time()) as [string | number, string | number];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  async add(queue: string, jobs: readonly AddRequest[]): Promise<AddResult[]> {
    return decodeAdd((await this.#run('add', queue, encodeAdd(jobs))) as (string | number)[], jobs.length);
  }

  async getJob(queue: string, id: string): Promise<Job | null> {
    const [r] = (await this.#run('read', queue, [id])) as RawJob[];
    return r ? decodeJob(queue, id, r) : null;
  }

  async upsertScheduler(queue: string, req: SchedulerUpsert): Promise<SchedulerUpsertResult> {
    const [created, changed, nx] = (await this.#run('upsertScheduler', queue, [
      req.id,
      req.spec,
      req.anchor,
      req.nextRunAt,
      req.name,
      req.data,
      req.opts,
      req.maxStalls,
      req.missed,
      req.overlap,
      req.priority ?? 0,
      req.group ?? '',
    ])) as [number, number, string];
    return { created: created === 1, specChanged: changed === 1, nextRunAt: Number(nx) };
  }

  async getScheduler(queue: string, id: string): Promise<SchedulerRecord | null> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    return decodeScheduler(id, (await this.client.call('HGETALL', this.#k(queue).scheduler(id))) as string[]);
  }

  async #hgetallFlat(keys: readonly string[]): Promise<string[][]> {
    if (keys.length === 0) return [];
    const pipe = this.client.pipeline();
    for (const k of keys) pipe.call('HGETALL', k);
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, v]) => {
      if (err) throw err;
      return v as string[];
    });
  }

  async listSchedulers(queue: string): Promise<SchedulerRecord[]> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    const k = this.#k(queue);
    // Every scheduler is in the zset (a paused one with score +inf).
    const list = (await this.client.call('ZRANGE', k.schedulers, '0', '-1')) as string[];
    const flats = await this.#hgetallFlat(list.map((id) => k.scheduler(id)));
    return list
      .map((id, i) => decodeScheduler(id, flats[i] ?? []))
      .filter((r): r is SchedulerRecord => r !== null)
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : 1));
  }

  async schedulerTicks(queue: string, id: string, limit: number): Promise<TickRecord[]> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    const raw = await this.client.lrange(this.#k(queue).ticks(id), 0, limit - 1);
    return raw.map((r) => JSON.parse(r) as TickRecord);
  }

  async pauseScheduler(queue: string, id: string): Promise<'ok' | 'unchanged' | 'not_found'> {
    const r = (await this.#run('setSchedulerPaused', queue, [id, '1', '', '', '', '', '', ''])) as number;
    return r === 1 ? 'ok' : r === 0 ? 'unchanged' : 'not_found';
  }

  async resumeScheduler(
    queue: string,
    id: string,
    resume: SchedulerResume,
  ): Promise<'ok' | 'unchanged' | 'not_found' | 'changed'> {
    const s = resume.skipped;
    const r = (await this.#run('setSchedulerPaused', queue, [
      id,
      '0',
      resume.expectNextRunAt,
      resume.nextRunAt,
      s ? s.first : '',
      s ? s.last : '',
      s ? s.count : '',
      s?.more ? '1' : '',
    ])) as number;
    return r === 1 ? 'ok' : r === 0 ? 'unchanged' : r === -2 ? 'changed' : 'not_found';
  }

  async removeScheduler(queue: string, id: string): Promise<boolean> {
    return ((await this.#run('removeScheduler', queue, [id])) as number) === 1;
  }

  async dueSchedulers(queue: string, max: number): Promise<DueSchedulers> {
    const [now, next, ...rows] = (await this.#run('dueSchedulers', queue, [max])) as [
      string,
      string,
      ...[string, string[]][],
    ];
    return {
      now: Number(now),
      due: rows
        .map(([id, flat]) => decodeScheduler(id, flat))
        .filter((r): r is SchedulerRecord => r !== null),
      nextRunAt: next === '' ? undefined : Number(next),
    };
  }

  async tickSchedulers(queue: string, reqs: readonly TickRequest[]): Promise<TickResult[]> {
    if (reqs.length === 0) return [];
    const rows = (await this.#run('tick', queue, encodeTick(reqs))) as [string, ...string[]][];
    return reqs.map((r, i) => {
      const [status, ...created] = rows[i] ?? ['stale'];
      return { id: r.id, status: status as TickResult['status'], created };
    });
  }

  async workerHeartbeat(queue: string, beat: WorkerBeat, ttlMs: number): Promise<void> {
    assertSafeWorkerId(beat.id);
    await this.#run('workerBeat', queue, [
      beat.id,
      beat.host,
      beat.pid,
      JSON.stringify(beat.queues),
      beat.concurrency,
      beat.inFlight,
      beat.version,
      Math.max(1, Math.round(ttlMs)),
    ]);
  }

  async waitingAhead(queue: string, id: string, max: number): Promise<WaitingAhead | null> {
    const r = (await this.#run('waitingAhead', queue, [id, max])) as (string | number)[];
    if (r[0] !== 'waiting') return null;
    return {
      priority: Number(r[1]),
      same: Number(r[2]),
      higher: Number(r[3]),
      aged: Number(r[4]),
      capped: Number(r[5]) === 1,
    };
  }

  async workerLeave(queue: string, id: string): Promise<void> {
    await this.#run('workerLeave', queue, [id]);
  }

  async listWorkers(queue: string): Promise<WorkerRegistry> {
    const [now, seen, ...rows] = (await this.#run('workers', queue, [])) as [
      string,
      string,
      ...[string, string[]][],
    ];
    return {
      now: Number(now),
      workers: rows
        .map(([id, flat]) => decodeWorker(id, flat))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      lastSeenAt: seen === '' ? undefined : Number(seen),
    };
  }

  async getAttempts(queue: string, id: string): Promise<Attempt[] | null> {
    const k = this.#k(queue);
    const res = await this.client
      .multi()
      .hexists(k.job(id), 'st')
      .lrange(k.history(id), 0, -1)
      .call('HGETALL', k.trail(id))
      .lrange(k.log(id), 0, -1)
      .exec();
    if (!res) return null;
    const [[e1, exists], [e2, records], [e3, trail], [e4, logs]] = res as [
      [Error | null, number],
      [Error | null, string[]],
      [Error | null, string[]],
      [Error | null, string[]],
    ];
    if (e1 ?? e2 ?? e3 ?? e4) throw e1 ?? e2 ?? e3 ?? e4;
    if (exists !== 1) return null;
    const trails = trailsFromRedis(trail, logs);
    return records.map((r) => withTrail(JSON.parse(r) as Attempt, trails));
  }

  async #jobs(queue: string, ids: string[]): Promise<Job[]> {
    const jobs: Job[] = [];
    // In slices, so that one read never holds Redis long.
    for (let i = 0; i < ids.length; i += 200) {
      const slice = ids.slice(i, i + 200);
      const raws = (await this.#run('read', queue, slice)) as RawJob[];
      raws.forEach((r, j) => {
        const job = decodeJob(queue, slice[j] as string, r);
        if (job) jobs.push(job);
      });
    }
    return jobs;
  }

  async listJobs(queue: string, state: JobState, page: Page): Promise<Job[]> {
    const k = this.#k(queue);
    const start = page.offset;
    const stop = page.offset + page.limit - 1;
    let ids: string[];
    switch (state) {
      case 'waiting':
        ids = await this.#waitingIds(k, start, stop);
        break;
      case 'scheduled':
        ids = await this.client.zrange(k.sched, String(start), String(stop));
        break;
      case 'active':
        ids = await this.client.zrange(k.active, String(start), String(stop));
        break;
      case 'completed':
        ids = await this.client.zrevrange(k.done, start, stop);
        break;
      case 'dead':
        ids = await this.client.zrevrange(k.dead, start, stop);
        break;
      case 'cancelled':
        ids = await this.client.zrevrange(k.cancelled, start, stop);
        break;
    }
    return this.#jobs(queue, ids);
  }

  async searchJobs(
    queue: string,
    query: JobQuery,
    cursor: string | undefined,
    limit: number,
  ): Promise<SearchResult> {
    const opt = (n: number | undefined): string => (n === undefined ? '' : String(n));
    const [next, ...ids] = (await this.#run('search', queue, [
      query.state,
      limit,
      SEARCH_BUDGET,
      cursor ?? '',
      opt(query.minAttempts),
      opt(query.maxAttempts),
      opt(query.from),
      opt(query.to),
      query.text ?? '',
      FINISHED_STATES.includes(query.state) ? '1' : '',
      ...queryFacets(query),
    ])) as string[];
    return { jobs: await this.#jobs(queue, ids), next: next ? next : undefined };
  }

  /**
   * Waiting ids `start..stop` (inclusive): the jobs without a group in priority order, highest
   * first, FIFO within one, then each group's by group key. Without priorities other than 0 or
   * groups, one LRANGE.
   */
  async #waitingIds(k: QueueKeys, start: number, stop: number): Promise<string[]> {
    const [levelNames, ring, parked] = await Promise.all([
      this.client.zrange(k.levels, '0', '-1'),
      this.client.lrange(k.groupRing, 0, -1),
      this.client.zrange(k.groupParked, '0', '-1'),
    ]);
    const levels = [0, ...levelNames.map(Number)].sort((a, b) => b - a);
    const groups = [...new Set([...ring, ...parked].filter((g) => g !== ''))].sort();
    const out: string[] = [];
    let skip = start;
    let want = stop - start + 1;
    for (const p of levels) {
      if (want <= 0) break;
      // LPUSH adds, RPOP claims: a list's tail is its next to run.
      const len = levels.length === 1 && groups.length === 0 ? Infinity : await this.client.llen(k.level(p));
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const ids = (await this.client.lrange(k.level(p), -(skip + want), -skip - 1)).reverse();
      out.push(...ids);
      want -= ids.length;
      skip = 0;
    }
    // Then each group's, by group key, in its claim order.
    for (const g of groups) {
      if (want <= 0) break;
      const len = await this.client.zcard(k.group(g));
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const ids = await this.client.zrange(k.group(g), String(skip), String(skip + want - 1));
      out.push(...ids);
      want -= ids.length;
      skip = 0;
    }
    return out;
  }

  async counts(queue: string): Promise<StateCounts> {
    const c = (await this.#run('counts', queue, [])) as number[];
    return {
      scheduled: c[0] ?? 0,
      waiting: c[1] ?? 0,
      active: c[2] ?? 0,
      completed: c[3] ?? 0,
      dead: c[4] ?? 0,
      cancelled: c[5] ?? 0,
    };
  }

  async scheduledDue(queue: string, horizonMs: number, max: number): Promise<ScheduledWindow> {
    const [now, more, ...rows] = (await this.#run('radar', queue, [horizonMs, max])) as string[];
    const entries: ScheduledEntry[] = [];
    for (let i = 0; i + 4 < rows.length; i += 5) {
      entries.push({
        id: rows[i] as string,
        dueAt: Number(rows[i + 1]),
        name: rows[i + 2] as string,
        attemptsMade: Number(rows[i + 3]),
        opts: rows[i + 4] as string,
      });
    }
    return { now: Number(now), entries, more: more === '1' };
  }

  async oldestWaiting(queue: string): Promise<OldestWaiting | null> {
    const r = (await this.#run('oldestWaiting', queue, [])) as string[];
    const [id, since, priority] = r;
    if (id === undefined) return null;
    return { id, since: Number(since), priority: Number(priority) };
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.#run('setPaused', queue, [paused ? '1' : '0']);
  }

  async isPaused(queue: string): Promise<boolean> {
    return (await this.client.hget(this.#k(queue).meta, 'paused')) === '1';
  }

  async cancel(queue: string, id: string, by: string, reason: string | undefined): Promise<CancelResult> {
    // How the attempt of an active job ends (the script records it only for an active job).
    const ending = JSON.stringify({
      outcome: 'cancelled',
      decision: { action: 'cancelled', explanation: cancelExplanation(by, reason) },
    });
    const r = (await this.#run('cancel', queue, [id, by, reason ?? '', ending])) as string[];
    if (r[0] === 'ok') return { ok: true, previous: r[1] as JobState };
    if (r[0] === 'not_found') return { ok: false, reason: 'not_found' };
    return { ok: false, reason: 'finished', state: r[1] as JobState };
  }

  async claim(queue: string, req: ClaimRequest): Promise<ClaimResult> {
    return decodeClaim((await this.#run('claim', queue, encodeClaim(req))) as ClaimReply);
  }

  /** Blocks until the queue's wake list gets a token, `timeoutMs` passes or `signal` aborts (blocking-wait.ts). */
  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (this.#closed) throw new BackendClosedError('redis backend');
    await this.#blocking.wait(this.#k(queue).wake, timeoutMs, signal);
  }

  /**
   * Blocks on the wake lists of several queues at once (blocking-wait.ts `waitAny`): one BLPOP over
   * all of them on a single Redis; on a cluster one BLPOP per queue, on a connection to its master,
   * the others ended by CLIENT UNBLOCK as soon as one returns.
   */
  async waitForAnyWork(
    queues: readonly string[],
    timeoutMs: number,
    signal: AbortSignal,
    interrupt?: AbortSignal,
  ): Promise<string[]> {
    if (signal.aborted || interrupt?.aborted) return [];
    if (this.#closed) throw new BackendClosedError('redis backend');
    const byKey = new Map(queues.map((q) => [this.#k(q).wake, q]));
    const popped = await this.#blocking.waitAny([...byKey.keys()], timeoutMs, signal, interrupt);
    return popped.map((k) => byKey.get(k)).filter((q): q is string => q !== undefined);
  }

  async renew(queue: string, leases: readonly RenewRequest[], leaseMs: number): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const args: (string | number)[] = [leaseMs];
    for (const l of leases) args.push(l.id, l.attempt);
    const r = (await this.#run('renew', queue, args)) as number[];
    return r.map((x) => x === 1);
  }

  async writeTrail(queue: string, w: TrailWrite): Promise<TrailResult> {
    assertSafeWorkerId(w.workerId);
    const r = (await this.#run('trail', queue, [
      w.id,
      w.attempt,
      w.workerId,
      w.progress ?? '',
      w.dropped ?? 0,
      ...w.lines,
    ])) as number[];
    return r[0] === 1 ? { ok: true, kept: r[1] ?? 0, dropped: r[2] ?? 0 } : { ok: false, reason: 'stale' };
  }

  async finishAndClaim(
    queue: string,
    reqs: readonly FinishRequest[],
    claim: ClaimRequest,
  ): Promise<[FinishResult[], ClaimResult]> {
    return decodeFinish((await this.#run('finish', queue, encodeFinish(reqs, claim))) as FinishReply);
  }

  async recoverStalled(queue: string): Promise<number> {
    return (await this.#run('recover', queue, [])) as number;
  }

  async listDead(queue: string, filter: DeadFilter, page: Page): Promise<DeadSummary[]> {
    const out: DeadSummary[] = [];
    let position = 0;
    let skip = page.offset;
    while (out.length < page.limit) {
      const r = (await this.#run('deadList', queue, [
        filter.fingerprint ?? '',
        filter.to ?? '',
        filter.from ?? '',
        position,
        skip,
        page.limit - out.length,
        DEAD_SCAN_BUDGET,
        (filter.reason ?? []).join(','),
        filter.errorCode ?? '',
        filter.name ?? '',
      ])) as (string | number)[];
      position = Number(r[0]);
      skip -= Number(r[1]);
      for (let i = 2; i < r.length; i += 6) {
        out.push({
          id: String(r[i]),
          name: String(r[i + 1]),
          reason: String(r[i + 2]) as DeadReason,
          at: Number(r[i + 3]),
          fingerprint: String(r[i + 4]),
          errorCode: r[i + 5] === '' ? undefined : String(r[i + 5]),
        });
      }
      if (position < 0) break;
    }
    return out;
  }

  async peekDead(queue: string, ids: readonly string[]): Promise<DeadPeek[]> {
    if (ids.length === 0) return [];
    const k = this.#k(queue);
    const p = this.client.pipeline();
    for (const id of ids) p.hmget(k.job(id), 'st', 'name', 'dr', 'dat', 'fp', 'ec');
    const res = (await p.exec()) ?? [];
    return res.map(([err, v], i) => {
      if (err) throw err;
      const [st, name, dr, dat, fp, ec] = v as (string | null)[];
      if (!st) return null;
      const id = ids[i] as string;
      const dead: DeadSummary | undefined =
        st === 'dead' && dr
          ? {
              id,
              name: name ?? '',
              reason: dr as DeadReason,
              at: Number(dat),
              fingerprint: fp ?? '',
              errorCode: ec ? ec : undefined,
            }
          : undefined;
      return { state: st as JobState, dead };
    });
  }

  async deadGroups(queue: string): Promise<DeadGroupStats[]> {
    const r = (await this.#run('deadGroups', queue, [])) as (string | number)[];
    const groups: DeadGroupStats[] = [];
    for (let i = 0; i < r.length; i += 5) {
      groups.push({
        fingerprint: String(r[i]),
        label: String(r[i + 1]),
        count: Number(r[i + 2]),
        firstSeen: Number(r[i + 3]),
        lastSeen: Number(r[i + 4]),
      });
    }
    return groups.sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  async replay(queue: string, req: ReplayRequest): Promise<ReplayResult> {
    const r = (await this.#run('replay', queue, encodeReplay(req))) as (string | number)[];
    if (r[0] === 'ok') return { ok: true, at: Number(r[1]) };
    if (r[0] === 'not_found') return { ok: false, reason: 'not_found' };
    return { ok: false, reason: r[0] as 'not_dead' | 'changed', state: r[1] as JobState };
  }

  async restoreDead(queue: string, req: RestoreRequest): Promise<RestoreResult> {
    const r = (await this.#run('restore', queue, encodeRestore(req))) as string[];
    return r[0] === 'ok' ? { ok: true } : { ok: false, state: r[1] as JobState };
  }

  async listQueues(): Promise<string[]> {
    // Every queue has a meta hash (created by its first add or setting). SCAN, never KEYS; on a
    // cluster, SCAN of every master (each holds the queues of its slots).
    const names = new Set<string>();
    if (!(this.client instanceof Redis)) await clusterReady(this.client);
    const nodes: Redis[] = this.client instanceof Redis ? [this.client] : this.client.nodes('master');
    if (nodes.length === 0) throw new Error('no Redis Cluster master known yet (is the cluster up?)');
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', metaKeyPattern(this.prefix), 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          const name = queueOfMetaKey(this.prefix, k);
          if (name) names.add(name);
        }
      } while (cursor !== '0');
    }
    return [...names].sort();
  }

  async purgeDead(queue: string, ids: readonly string[]): Promise<string[]> {
    const gone: string[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      gone.push(...((await this.#run('purge', queue, ids.slice(i, i + 1000) as string[])) as string[]));
    }
    return gone;
  }

  async getRetention(queue: string): Promise<RetentionSettings> {
    const r = await this.client.hget(this.#k(queue).meta, 'ret');
    return r ? (JSON.parse(r) as RetentionSettings) : {};
  }

  async setRetention(queue: string, s: RetentionSettings): Promise<void> {
    // The archive first (when the backend is archived by default): once the rules apply, they hold
    // every job not archived yet.
    if (await this.archiveDefault()) await this.setArchive(queue, true);
    const rule = (x: { count?: number; ageMs?: number } | undefined): (string | number)[] => [
      x?.count ?? '',
      x?.ageMs ?? '',
    ];
    await this.#run('setRetention', queue, [
      JSON.stringify(s),
      ...rule(s.completed),
      ...rule(s.dead),
      ...rule(s.cancelled),
    ]);
  }

  async readRollups(
    queue: string,
    resolution: RollupResolution,
    starts: readonly number[],
  ): Promise<RollupBucket[]> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    const k = this.#k(queue);
    const toFields = (flat: readonly string[]): Record<string, string> => {
      const fields: Record<string, string> = {};
      for (let j = 0; j + 1 < flat.length; j += 2) fields[flat[j]!] = flat[j + 1]!;
      return fields;
    };
    const out: RollupBucket[] = [];
    if (resolution === 'minute') {
      const flats = await this.#hgetallFlat(starts.map((s) => k.rollupMinute(s)));
      starts.forEach((start, i) => {
        const flat = flats[i] ?? [];
        if (flat.length > 0) out.push({ start, fields: toFields(flat) });
      });
      return out;
    }
    // Hour buckets, plus the minute bucket the finish has not folded into its hour yet (meta
    // `rum`), read in one transaction; again if a fold moved `rum` in between.
    for (let tries = 0; ; tries++) {
      const rum = await this.client.hget(k.meta, 'rum');
      const tx = this.client.multi();
      for (const s of starts) tx.call('HGETALL', k.rollupHour(s));
      if (rum) tx.call('HGETALL', k.rollupMinute(rum));
      tx.hget(k.meta, 'rum');
      const res = ((await tx.exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return v;
      });
      if (res[res.length - 1] !== rum && tries < 5) continue;
      const unfolded = rum ? toFields(res[starts.length] as string[]) : {};
      const unfoldedHour = rum ? bucketStart(Number(rum), ROLLUP_HOUR_MS) : NaN;
      starts.forEach((start, i) => {
        let fields = toFields(res[i] as string[]);
        if (start === unfoldedHour) fields = withUnfolded(fields, unfolded);
        if (Object.keys(fields).length > 0) out.push({ start, fields });
      });
      return out;
    }
  }

  async setRollups(queue: string, on: boolean): Promise<void> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    const meta = this.#k(queue).meta;
    if (on) await this.client.hdel(meta, 'nro');
    else await this.client.hset(meta, 'nro', '1');
  }

  async setRetryBudget(queue: string, name: string | undefined, budget: string | null): Promise<void> {
    await this.#run('setBudget', queue, [name === undefined ? '' : `=${name}`, budget ?? '']);
  }

  async getRetryBudgets(queue: string): Promise<RetryBudgetEntry[]> {
    if (this.#closed) throw new BackendClosedError('redis backend');
    const k = this.#k(queue);
    const flat = (await this.client.call('HGETALL', k.meta)) as string[];
    const found: { name: string | undefined; budget: string }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const f = flat[i]!;
      if (f === 'bq') found.push({ name: undefined, budget: flat[i + 1]! });
      else if (f.startsWith('bn:')) found.push({ name: f.slice(3), budget: flat[i + 1]! });
    }
    found.sort((a, b) => (a.name === undefined ? -1 : b.name === undefined ? 1 : a.name < b.name ? -1 : 1));
    if (found.length === 0) return [];
    const pipe = this.client.pipeline();
    for (const e of found) pipe.call('HGET', k.budget(e.name === undefined ? '' : `n:${e.name}`), 'tat');
    const tats = (await pipe.exec()) ?? [];
    return found.map((e, i) => ({ ...e, bookedUntil: Math.floor(Number(tats[i]?.[1] ?? 0) / 1000) }));
  }

  async setPriorityAging(queue: string, agingMs: number): Promise<void> {
    await this.#run('setAging', queue, [agingMs]);
  }

  async getPriorityAging(queue: string): Promise<number> {
    return Number((await this.client.hget(this.#k(queue).meta, 'ag')) ?? 0);
  }

  async setDefaultPriority(queue: string, priority: number): Promise<void> {
    // One field, one command (atomic alone): the add transition reads it ('dp', absent = 0).
    const meta = this.#k(queue).meta;
    if (priority === 0) await this.client.hdel(meta, 'dp');
    else await this.client.hset(meta, 'dp', String(priority));
  }

  async getDefaultPriority(queue: string): Promise<number> {
    return Number((await this.client.hget(this.#k(queue).meta, 'dp')) ?? 0);
  }

  async setRateLimits(queue: string, s: ResolvedRateLimitSettings): Promise<void> {
    const one = (l: ResolvedRateLimit | null | undefined): string =>
      l === undefined ? '' : l === null ? '-' : encodeRateLimit(l);
    const groups = Object.entries(s.groups ?? {}).flatMap(([g, l]) => [
      g,
      l === null ? '-' : encodeRateLimit(l),
    ]);
    await this.#run('setRateLimit', queue, [one(s.queue), one(s.group), ...groups]);
  }

  async groupNextTokenAt(queue: string, group: string): Promise<number | undefined> {
    const k = this.#k(queue);
    const [own, dflt, tat, now] = await Promise.all([
      this.client.hget(k.rateGroupLimits, group),
      this.client.hget(k.meta, 'rlg'),
      this.client.hget(k.rateGroupState, group),
      this.now(),
    ]);
    return groupNextTokenAt(own ?? dflt ?? undefined, Number(tat ?? 0), now);
  }

  async rateLimitState(queue: string, query: ResolvedRateLimitStateQuery): Promise<RateLimitState> {
    const r = (await this.#run('rateLimitState', queue, [
      query.filter,
      query.cursor.phase,
      query.cursor.position,
      query.limit,
      query.group ?? '',
    ])) as [string, string, string, string, string, number, number, number, number, ...RawRow[]];
    const [now, rlq, rlg, rqt, rqp, own, t, p, z, ...rows] = r;
    const text = (v: string): string | undefined => (v === '' ? undefined : v);
    return rateLimitStateView(
      {
        now: Number(now),
        queueLimit: text(rlq),
        groupLimit: text(rlg),
        queueTat: Number(rqt || 0),
        queuePause: text(rqp),
        ownLimits: own,
        sizes: { t, p, z },
        rows: rows.map(([group, waiting, ownLimit, tat, pause, turn, parkedAt]) => ({
          group,
          waiting,
          own: text(ownLimit),
          tat: Number(tat || 0),
          pause: text(pause),
          turn: turn < 0 ? undefined : turn,
          parkedUntil: parkedAt === '' ? undefined : Number(parkedAt),
        })),
      },
      query,
    );
  }

  async getRateLimits(queue: string): Promise<RateLimits> {
    const k = this.#k(queue);
    const [meta, own, now] = await Promise.all([
      this.client.hmget(k.meta, 'rlq', 'rlg', 'rqt'),
      this.client.hgetall(k.rateGroupLimits),
      this.now(),
    ]);
    return rateLimitsView(meta[0] ?? undefined, meta[1] ?? undefined, own, Number(meta[2] ?? 0), now);
  }

  async sweepRetention(queue: string, sweep: RetentionSweep): Promise<RetentionSweepResult> {
    const [ran, evicted] = (await this.#run('sweepRetention', queue, [sweep.intervalMs, sweep.max])) as [
      number,
      number,
    ];
    return { ran: ran === 1, evicted };
  }

  async evictions(queue: string): Promise<EvictionCounts> {
    const [c, d, x] = await this.client.hmget(this.#k(queue).meta, 'ev:completed', 'ev:dead', 'ev:cancelled');
    return { completed: Number(c ?? 0), dead: Number(d ?? 0), cancelled: Number(x ?? 0) };
  }

  /**
   * Stream entries hold one event type for one or many jobs (per-job values as comma-separated
   * columns); each is expanded into one event per job. A job event's seq is `<entry id>` for a
   * single-job entry and `<entry id>#<index>` inside a batch, so a cursor can stop mid-entry.
   */
  async readEvents(queue: string, afterSeq: string, count: number): Promise<QueueEvent[]> {
    const [base, idx] = afterSeq.split('#') as [string, string | undefined];
    const start = base === '0' || base === '' ? '-' : idx === undefined ? `(${base}` : base;
    const skipUpTo = idx === undefined ? -1 : Number(idx);
    const out: QueueEvent[] = [];
    let from = start;
    while (out.length < count) {
      const entries = await this.client.xrange(
        this.#k(queue).events,
        from,
        '+',
        'COUNT',
        Math.max(10, count),
      );
      if (entries.length === 0) break;
      for (const [seq, flat] of entries) {
        decodeEventEntry(seq, flat).forEach((event, i) => {
          if (seq === base && i <= skipUpTo) return;
          if (out.length < count) out.push(event);
        });
      }
      from = `(${entries[entries.length - 1]![0]}`;
    }
    return out;
  }

  /** The last stream entry's id, with `#<index>` of its last job when it is a batch (see readEvents). */
  async eventTail(queue: string): Promise<string> {
    const [entry] = await this.client.xrevrange(this.#k(queue).events, '+', '-', 'COUNT', 1);
    if (!entry) return '0';
    const [seq, flat] = entry;
    let ids = '';
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === 'id') ids = flat[i + 1] ?? '';
    const n = ids.split(',').length;
    return n > 1 ? `${seq}#${n - 1}` : seq;
  }

  /** The key of `setArchiveDefault` (no hash tag: read and written alone, never in a script). */
  get #archiveDefaultKey(): string {
    return `${this.prefix}:archive-default`;
  }

  async setArchiveDefault(on: boolean): Promise<void> {
    if (on) await this.client.set(this.#archiveDefaultKey, '1');
    else await this.client.del(this.#archiveDefaultKey);
  }

  async archiveDefault(): Promise<boolean> {
    return (await this.client.exists(this.#archiveDefaultKey)) === 1;
  }

  async setArchive(queue: string, on: boolean): Promise<void> {
    await this.#run('setArchive', queue, [on ? '1' : '0']);
  }

  async claimArchive(queue: string, claim: ArchiveClaim): Promise<ArchiveBatch> {
    const r = (await this.#run('archiveClaim', queue, [
      claim.owner,
      claim.leaseMs,
      claim.max,
      claim.from ?? '-inf',
    ])) as string[];
    if (r[0] === 'busy') return { busy: true };
    const ids: string[] = [];
    const marks: number[] = [];
    for (let i = 1; i < r.length; i += 2) {
      ids.push(r[i] as string);
      marks.push(Number(r[i + 1]));
    }
    // The jobs, read whole by `archive-read` (read's reply as one JSON text) in slices sent
    // together (one pipeline on the connection).
    const slices: Promise<RawJob[]>[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      slices.push(
        this.#run('archiveRead', queue, ids.slice(i, i + 100)).then((t) => rawJobsFromJson(t as string)),
      );
    }
    const raws = (await Promise.all(slices)).flat();
    const entries: ArchiveEntry[] = ids.map((id, i) => ({
      id,
      mark: marks[i] as number,
      job: decodeJob(queue, id, raws[i] as RawJob),
    }));
    return { busy: false, entries };
  }

  async markArchived(queue: string, entries: readonly Pick<ArchiveEntry, 'id' | 'mark'>[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < entries.length; i += 1000) {
      const args: (string | number)[] = [];
      for (const e of entries.slice(i, i + 1000)) args.push(e.id, e.mark);
      n += (await this.#run('archiveMark', queue, args)) as number;
    }
    return n;
  }

  async archiveStatus(queue: string): Promise<ArchiveStatus> {
    const k = this.#k(queue);
    const res = await this.client
      .multi()
      .hmget(k.meta, 'arc', 'hd:completed', 'hd:dead', 'hd:cancelled')
      .zcard(k.archivePending)
      .exec();
    if (!res) throw new Error('archive status: the transaction was aborted');
    const [[e1, f], [e2, pending]] = res as [[Error | null, (string | null)[]], [Error | null, number]];
    if (e1 ?? e2) throw e1 ?? e2;
    return {
      enabled: f[0] === '1',
      pending,
      held: { completed: Number(f[1] ?? 0), dead: Number(f[2] ?? 0), cancelled: Number(f[3] ?? 0) },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#blocking.close();
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** One group's row of the rate-limit-state script: group, waiting, own limit, tat, pause, turn, parked at. */
type RawRow = [string, number, string, string, string, number, string];
