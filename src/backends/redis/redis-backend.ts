/**
 * The Redis backend: many workers on many machines. Every state transition of a job is one Lua
 * script (atomic, one round trip, Redis `TIME` as the clock); reads are single commands or
 * pipelines of them. Idle workers block on the queue's wake list instead of polling.
 * @module
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';

import type {
  AddRequest,
  AddResult,
  Backend,
  CancelResult,
  ClaimedJob,
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
} from '../../backend.js';
import { BackendClosedError, ValidationError } from '../../errors.js';
import { cancelExplanation } from '../../transitions.js';
import type {
  Attempt,
  AttemptTrigger,
  DeadReason,
  EvictionCounts,
  Job,
  JobOptionsStored,
  JobState,
  ManualTrigger,
  Refusal,
  RetentionSettings,
  StateCounts,
} from '../../types.js';
import { scripts, type ScriptName } from './generated/scripts.js';
import { metaKeyPattern, queueKeys, queueOfMetaKey, type QueueKeys } from './keys.js';

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
const DONE_DECISION = JSON.stringify({ action: 'done' });
/** Dead-index entries one dead-list script call looks at, at most: bounds how long it holds Redis. */
const DEAD_SCAN_BUDGET = 1000;
const SAFE_WORKER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Worker ids are written into JSON records by the scripts unescaped: only safe ones get there. */
function assertSafeWorkerId(id: string | undefined): void {
  if (id !== undefined && id !== '' && !SAFE_WORKER_ID.test(id)) {
    throw new ValidationError('workerId', "1-100 characters of letters, digits, '_', '.', ':' or '-'", id);
  }
}

/** claim-10.lua's reply: recovered, paused, nextWakeInMs, options table, jobs as one string. */
type ClaimReply = [number, number, number, string[], string];

function decodeClaim(r: ClaimReply): ClaimResult {
  const jobs: ClaimedJob[] = [];
  const table = r[3];
  const opts = new Map<string, string>();
  for (let i = 0; i < table.length; i += 2) opts.set(table[i] as string, table[i + 1] as string);
  if (r[4] !== '') {
    for (const rec of r[4].split('\x1e')) {
      const f = rec.split('\x1f');
      const p = (f[4] as string).split(',');
      jobs.push({
        id: f[0] as string,
        name: f[1] as string,
        data: f[2] as string,
        opts: opts.get(f[3] as string) ?? '{}',
        attempt: Number(p[0]),
        trigger: p[1] as AttemptTrigger,
        dueAt: Number(p[2]),
        startedAt: Number(p[3]),
        leaseExpiresAt: Number(p[4]),
        failures: Number(p[5]),
        stalls: Number(p[6]),
        prevDelayMs: p[7] === '' ? undefined : Number(p[7]),
        manual: f[5] === '' || f[5] === undefined ? undefined : (JSON.parse(f[5]) as ManualTrigger),
        exclusive: p[8] === '1',
      });
    }
  }
  return { jobs, recovered: r[0], paused: r[1] === 1, nextWakeInMs: r[2] < 0 ? undefined : r[2] };
}

export class RedisBackend implements Backend {
  readonly kind = 'redis';
  readonly client: Client;
  readonly prefix: string;
  readonly #ownsClient: boolean;
  readonly #keys = new Map<string, QueueKeys>();
  readonly #blockers: Client[] = [];
  readonly #busyBlockers = new Set<Client>();
  /** A blocking connection's CLIENT ID, with the connection epoch it belongs to. */
  readonly #clientIds = new WeakMap<Client, { id: number; epoch: number }>();
  /** Bumped each time a blocking connection closes: after a reconnect its CLIENT ID is another. */
  readonly #epochs = new WeakMap<Client, number>();
  readonly #onWarning: (message: string) => void;
  #closed = false;
  #checked: Promise<void> | undefined;

  constructor(options: RedisBackendOptions = {}) {
    const c = options.connection;
    if (c instanceof Redis || (typeof c === 'object' && c !== null && 'duplicate' in c && 'defineCommand' in c)) {
      this.client = c as Client;
      this.#ownsClient = false;
    } else {
      this.client =
        typeof c === 'string'
          ? new Redis(c, { socketTimeout: SOCKET_TIMEOUT_MS })
          : new Redis({ socketTimeout: SOCKET_TIMEOUT_MS, ...c });
      this.client.on('error', () => undefined); // surfaced by the failing command instead
      this.#ownsClient = true;
    }
    this.prefix = options.prefix ?? 'rt';
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(this.prefix)) {
      throw new ValidationError('prefix', "1-32 characters of letters, digits, '_', '.' or '-'", this.prefix);
    }
    this.#onWarning = options.onWarning ?? ((m) => console.warn(`[retraced] ${m}`));
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
    const fn = (this.client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[`rt_${name}`];
    return (fn as (...a: (string | number)[]) => Promise<unknown>).call(this.client, ...k.all, k.prefix, ...args);
  }

  async now(): Promise<number> {
    const [s, us] = (await this.client.time()) as [string | number, string | number];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  async add(queue: string, jobs: readonly AddRequest[]): Promise<AddResult[]> {
    // Each distinct options text travels once per call, not once per job.
    const optIndex = new Map<string, number>();
    const table: (string | number)[] = [];
    const perJob: (string | number)[] = [];
    let toGenerate = 0;
    for (const j of jobs) {
      let oi = optIndex.get(j.opts);
      if (oi === undefined) {
        oi = optIndex.size + 1;
        optIndex.set(j.opts, oi);
        table.push(j.opts, j.maxStalls);
      }
      if (j.id === undefined) toGenerate++;
      perJob.push(j.id ?? '', j.name, j.data, oi, j.runAt !== undefined ? `@${j.runAt}` : j.delayMs);
    }
    const out = (await this.#run('add', queue, [jobs.length, toGenerate, optIndex.size, ...table, ...perJob])) as (
      | string
      | number
    )[];
    const res: AddResult[] = [];
    if (out[0] === 'r') {
      // Every job created with consecutive generated ids, all in one state.
      const first = Number(out[1]);
      const state = out[2] as JobState;
      for (let i = 0; i < jobs.length; i++) res.push({ id: String(first + i), created: true, state });
      return res;
    }
    for (let i = 1; i < out.length; i += 3) {
      res.push({ id: String(out[i]), created: out[i + 1] === 1, state: out[i + 2] as JobState });
    }
    return res;
  }

  async getJob(queue: string, id: string): Promise<Job | null> {
    const [r] = (await this.#run('read', queue, [id])) as RawJob[];
    return r ? decodeJob(queue, id, r) : null;
  }

  async getAttempts(queue: string, id: string): Promise<Attempt[] | null> {
    const k = this.#k(queue);
    const res = await this.client.multi().hexists(k.job(id), 'st').lrange(k.history(id), 0, -1).exec();
    if (!res) return null;
    const [[e1, exists], [e2, records]] = res as [[Error | null, number], [Error | null, string[]]];
    if (e1 ?? e2) throw e1 ?? e2;
    return exists === 1 ? records.map((r) => JSON.parse(r) as Attempt) : null;
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
        // LPUSH adds, RPOP claims: the list's tail is the next to run.
        ids = (await this.client.lrange(k.wait, -stop - 1, -start - 1)).reverse();
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

  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.#run('setPaused', queue, [paused ? '1' : '0']);
  }

  async isPaused(queue: string): Promise<boolean> {
    return (await this.client.hget(this.#k(queue).meta, 'paused')) === '1';
  }

  async cancel(queue: string, id: string, by: string, reason: string | undefined): Promise<CancelResult> {
    const decision = JSON.stringify({ action: 'cancelled', explanation: cancelExplanation(by, reason) });
    const r = (await this.#run('cancel', queue, [id, by, reason ?? '', decision])) as string[];
    if (r[0] === 'ok') return { ok: true, previous: r[1] as JobState };
    if (r[0] === 'not_found') return { ok: false, reason: 'not_found' };
    return { ok: false, reason: 'finished', state: r[1] as JobState };
  }

  async claim(queue: string, req: ClaimRequest): Promise<ClaimResult> {
    assertSafeWorkerId(req.workerId);
    const r = await this.#run('claim', queue, [
      req.workerId,
      req.leaseMs,
      req.max,
      req.exclusiveOk ? '1' : '0',
    ]);
    return decodeClaim(r as ClaimReply);
  }

  /**
   * Blocks on the queue's wake list (BLPOP) until a token arrives, `timeoutMs` passes, or `signal`
   * aborts. The timeout is kept by a local timer, not by Redis: Redis checks blocked clients'
   * timeouts only on its cron tick (every 1000/hz ms, 100 ms by default), which would make delayed
   * jobs start up to 100 ms late. When the timer wins, the BLPOP is ended with CLIENT UNBLOCK (or,
   * where that is not allowed, left to run out before its connection is reused).
   */
  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (this.#closed) throw new BackendClosedError('redis backend');
    let conn = this.#blockers.pop();
    if (!conn) {
      // Without a socket timeout: a BLPOP gets no reply until it ends (the guard below covers it).
      conn =
        this.client instanceof Redis
          ? this.client.duplicate({ socketTimeout: undefined })
          : (this.client.duplicate as () => Client).call(this.client);
      // Connection errors surface as the failed command; without a listener ioredis logs them.
      conn.on('error', () => undefined);
      const made = conn;
      made.on('close', () => this.#epochs.set(made, (this.#epochs.get(made) ?? 0) + 1));
    }
    const c = conn;
    this.#busyBlockers.add(c);
    let broken = false;
    const drop = (): void => {
      broken = true;
      c.disconnect();
    };
    signal.addEventListener('abort', drop, { once: true });
    // A half-open connection would block forever: give up on it a little after the timeout.
    const guard = setTimeout(drop, timeoutMs + 2000);
    // Both made before the first await: an abort or the deadline must end this wait wherever it is.
    // (A connection dropped while it was reconnecting never reconnects, and a command queued on it
    // never settles: nothing here may wait on such a command alone.)
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const local = new Promise<'timer'>((resolve) => (timer = setTimeout(() => resolve('timer'), timeoutMs)));
    const aborted = new Promise<'abort'>((resolve) => {
      onAbort = () => resolve('abort');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort as () => void);
    };
    // The id is only trusted for the connection epoch it was read in: after a reconnect (a Redis
    // restart) another client may hold the old id, and unblocking it would wake a stranger.
    let known = this.#clientIds.get(c);
    if (known === undefined || known.epoch !== (this.#epochs.get(c) ?? 0)) {
      const epoch = this.#epochs.get(c) ?? 0;
      const asked = c.call('CLIENT', 'ID').then(
        (id) => ({ id: Number(id), epoch }),
        () => undefined,
      );
      const got = await Promise.race([asked, local, aborted]);
      if (got === 'timer' || got === 'abort') {
        // No id in time (the connection is down or dropped): give this wait up; the caller looks again.
        finish();
        clearTimeout(guard);
        signal.removeEventListener('abort', drop);
        this.#busyBlockers.delete(c);
        c.disconnect();
        return;
      }
      known = got;
      if (known) this.#clientIds.set(c, known);
    }
    let popError: unknown;
    // Redis's own timeout is only a backstop, a little after ours.
    const blocking = c.blpop(this.#k(queue).wake, (timeoutMs + 250) / 1000).then(
      () => 'pop' as const,
      (e: unknown) => {
        popError = e;
        return 'error' as const;
      },
    );
    const settled = blocking.finally(() => {
      clearTimeout(guard);
      signal.removeEventListener('abort', drop);
      this.#busyBlockers.delete(c);
      if (broken || this.#closed) c.disconnect();
      else this.#blockers.push(c);
    });
    const first = await Promise.race([blocking, local, aborted]);
    finish();
    if (first === 'timer' && known !== undefined && known.epoch === (this.#epochs.get(c) ?? 0)) {
      const id = known.id;
      try {
        // 1 = it was blocked and is now released; 0 = the BLPOP has not reached Redis yet: try
        // again shortly, then leave it to run out its backstop rather than wait for it.
        for (let tries = 0; tries < 3; tries++) {
          if ((await this.client.call('CLIENT', 'UNBLOCK', String(id))) === 1) {
            await settled;
            break;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      } catch {
        // CLIENT UNBLOCK refused (ACL): the BLPOP runs out on its own; its connection waits till then.
      }
    } else if (first === 'error' && !broken && !signal.aborted) {
      throw popError;
    }
  }

  async renew(queue: string, leases: readonly RenewRequest[], leaseMs: number): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const args: (string | number)[] = [leaseMs];
    for (const l of leases) args.push(l.id, l.attempt);
    const r = (await this.#run('renew', queue, args)) as number[];
    return r.map((x) => x === 1);
  }

  finishAndClaim(queue: string, reqs: readonly FinishRequest[], claim: ClaimRequest): Promise<[FinishResult[], ClaimResult]> {
    return this.#finish(queue, reqs, claim);
  }

  async #finish(
    queue: string,
    reqs: readonly FinishRequest[],
    claim: ClaimRequest | undefined,
  ): Promise<[FinishResult[], ClaimResult]> {
    assertSafeWorkerId(claim?.workerId);
    const args: (string | number)[] = [
      reqs.length,
      claim?.max ?? 0,
      claim?.workerId ?? '',
      claim?.leaseMs ?? 0,
      claim?.exclusiveOk ? '1' : '0',
    ];
    const defaultWorker = claim?.workerId ?? '';
    for (const r of reqs) {
      assertSafeWorkerId(r.workerId);
      const heldMs = r.heldMs !== undefined && r.heldMs > 0 ? Math.round(r.heldMs) : 0;
      const d = r.decision;
      if (d.action === 'done' && r.outcome === 'succeeded' && r.workerId === defaultWorker && !r.error && !r.errorClass) {
        // The common case, in 5 elements (finish-10.lua fills in the rest).
        args.push('d', r.id, r.attempt, heldMs, r.result ?? 'null');
        continue;
      }
      let body = `"outcome":"${r.outcome}"`;
      const errorJson = r.error ? JSON.stringify(r.error) : '';
      if (r.error) body += `,"error":${errorJson}`;
      if (r.errorClass) body += `,"errorClass":"${r.errorClass}"`;
      if (r.rule) body += `,"rule":${JSON.stringify(r.rule)}`;
      if (r.classifiedBy) body += `,"classifiedBy":${JSON.stringify(r.classifiedBy)}`;
      let decision: string;
      let third: string | number = '';
      if (d.action === 'retry') {
        decision = JSON.stringify(d).slice(0, -1);
        third = d.delayMs;
      } else if (d.action === 'done') {
        decision = DONE_DECISION;
      } else {
        decision = JSON.stringify(d);
        third = d.reason;
      }
      args.push(
        'x',
        r.id,
        r.attempt,
        r.workerId,
        r.outcome,
        body,
        d.action,
        decision,
        third,
        r.result ?? 'null',
        r.fingerprint ?? '',
        r.fingerprintLabel ?? '',
        r.error?.code ?? '',
        d.action === 'dead' ? errorJson : '',
        r.errorClass ?? '',
        heldMs,
      );
    }
    const [out, claimReply] = (await this.#run('finish', queue, args)) as [string, ClaimReply];
    const res: FinishResult[] = [];
    for (const rec of out === '' ? [] : out.split(';')) {
      const [status, state, next, at] = rec.split(',') as [string, string, string, string];
      if (status === 'ok') {
        res.push({
          ok: true,
          state: state as JobState,
          finishedAt: Number(at),
          ...(next === '' ? {} : { nextDueAt: Number(next) }),
        });
      } else {
        res.push({ ok: false, reason: status === 'stale' ? 'stale' : 'not_found' });
      }
    }
    return [res, decodeClaim(claimReply)];
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
          ? { id, name: name ?? '', reason: dr as DeadReason, at: Number(dat), fingerprint: fp ?? '', errorCode: ec ? ec : undefined }
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
    let manual = `{"by":${JSON.stringify(req.by)}`;
    if (req.note !== undefined) manual += `,"note":${JSON.stringify(req.note)}`;
    if (req.patch !== undefined) manual += `,"patch":${req.patch}`;
    const r = (await this.#run('replay', queue, [
      req.id,
      req.expectedAttempts,
      req.data ?? '',
      manual,
      req.by,
      req.alsoScheduled ? '1' : '0',
    ])) as (
      | string
      | number
    )[];
    if (r[0] === 'ok') return { ok: true, at: Number(r[1]) };
    if (r[0] === 'not_found') return { ok: false, reason: 'not_found' };
    return { ok: false, reason: r[0] as 'not_dead' | 'changed', state: r[1] as JobState };
  }

  async listQueues(): Promise<string[]> {
    // Every queue has a meta hash (created by its first add or setting). SCAN, never KEYS.
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', metaKeyPattern(this.prefix), 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const name = queueOfMetaKey(this.prefix, k);
        if (name) names.add(name);
      }
    } while (cursor !== '0');
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

  async sweepRetention(queue: string, sweep: RetentionSweep): Promise<RetentionSweepResult> {
    const [ran, evicted] = (await this.#run('sweepRetention', queue, [sweep.intervalMs, sweep.max])) as [number, number];
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
      const entries = await this.client.xrange(this.#k(queue).events, from, '+', 'COUNT', Math.max(10, count));
      if (entries.length === 0) break;
      for (const [seq, flat] of entries) {
        const fields: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
        const { t = '', at = '0', id = '', ...rest } = fields;
        const ids = id.includes(',') ? id.split(',') : [id];
        const cols = ids.length > 1 ? Object.entries(rest).map(([k, v]) => [k, v.split(',')] as const) : undefined;
        ids.forEach((jobId, i) => {
          if (seq === base && i <= skipUpTo) return;
          if (out.length >= count) return;
          // A column stored once applies to every job of the entry.
          const f = cols ? Object.fromEntries(cols.map(([k, vs]) => [k, (vs.length === 1 ? vs[0] : vs[i]) ?? ''])) : rest;
          out.push({
            seq: ids.length > 1 ? `${seq}#${i}` : seq,
            type: t,
            ...(jobId ? { jobId } : {}),
            at: Number(at),
            fields: f,
          });
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#blockers, ...this.#busyBlockers]) c.disconnect();
    this.#blockers.length = 0;
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** What read-10.lua returns per job: the hash (flat), the attempt records, the options text. */
type RawJob = [string[], string[], string];

function refusals(h: Record<string, string>): Refusal[] {
  const items: [number, Refusal][] = [];
  for (const [k, v] of Object.entries(h)) {
    const m = /^r(\d+)$/.exec(k);
    if (m) items.push([Number(m[1]), JSON.parse(v) as Refusal]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function decodeJob(queue: string, id: string, raw: RawJob): Job | null {
  const [flat, history, optsText] = raw;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  if (!h.st) return null;
  const state = h.st as JobState;
  const current =
    state === 'active' && h.cur
      ? {
          current: {
            n: Number(h.cur),
            trigger: h.trg as AttemptTrigger,
            dueAt: Number(h.due),
            startedAt: Number(h.sa),
            workerId: h.wid ?? '',
            leaseExpiresAt: Number(h.le),
            ...(h.man ? { manual: JSON.parse(h.man) as ManualTrigger } : {}),
          },
        }
      : {};
  return {
    id,
    queue,
    name: h.name ?? '',
    data: JSON.parse(h.data ?? 'null') as unknown,
    state,
    createdAt: Number(h.ct),
    dueAt: Number(h.due),
    options: JSON.parse(optsText || '{}') as JobOptionsStored,
    attempts: history.map((r) => JSON.parse(r) as Attempt),
    stalls: Number(h.sc ?? 0),
    failures: Number(h.fl ?? 0),
    refusals: refusals(h),
    ...current,
    ...(h.man && state !== 'active' ? { pendingManual: JSON.parse(h.man) as ManualTrigger } : {}),
    ...(h.res !== undefined ? { result: JSON.parse(h.res) as unknown } : {}),
    ...(h.ft !== undefined ? { finishedAt: Number(h.ft) } : {}),
    ...(state === 'dead' && h.dr
      ? {
          dead: {
            reason: h.dr as DeadReason,
            at: Number(h.dat),
            fingerprint: h.fp ?? '',
            ...(h.derr ? { error: JSON.parse(h.derr) as NonNullable<Job['dead']>['error'] } : {}),
          },
        }
      : {}),
    ...(h.cnl ? { cancelled: JSON.parse(h.cnl) as NonNullable<Job['cancelled']> } : {}),
  };
}
