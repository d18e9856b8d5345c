/**
 * The TypeScript half of the Redis wire format: how the backend encodes the arguments of the
 * scripts whose arguments are more than a few values, and decodes the replies that are more than a
 * number. The Lua half is in the script named by each section below, which describes both halves so
 * they can be read side by side (the full ARGV of every script: ARCHITECTURE.md §5).
 *
 * **JSON.** Every JSON text the client sends is whole (`JSON.stringify` of an object). The scripts
 * never re-encode JSON (cjson would rewrite numbers with 14 significant digits and reorder keys);
 * where a record needs a member only Redis knows (a time), they join objects as text with
 * `jsonMerge` (includes/jsonMerge.lua): `jsonMerge('{"a":1}', '{"b":2}')` is `'{"a":1,"b":2}'`, the
 * keys never overlapping by construction. Text the scripts splice between quotes themselves (worker
 * ids, triggers, outcomes, states) is checked or known to need no escaping (`assertSafeWorkerId`).
 *
 * **add** (add-10.lua): `count, toGenerate, M`, then M pairs `options JSON, maxStalls` (each
 * distinct options text once per call), then per job `id ('' = generate), name, data JSON, options
 * index (1..M), delayMs | '@' + runAt, trace context JSON ('' = none), priority ('' = 0), dedup mode
 * ('' = none | dedup | debounce), its ms, its key, group ('' = none)`. Reply `['r', firstId, state]`
 * when every job got a generated id in one run and one state (the common bulk add), else `['l', id,
 * created 1|0|2, state, …]` (2: folded into job `id` by its dedup key).
 *
 * **claim** (claim-10.lua, includes/claimJobs.lua): reply `[recovered, paused 1|0, nextWakeInMs
 * (-1 = none), options, jobs]`: `options` a flat `[digest, options JSON, …]` of the claimed jobs'
 * interned options, once each; `jobs` ONE string, per job `id, name, data, digest, packed, manual`
 * apart by \x1f, jobs apart by \x1e, `packed` = `attempt,trigger,dueAt,startedAt,leaseExpiresAt,
 * failures,stalls,prevDelayMs ('' none),exclusive 1|0`. One string because a client decodes a reply
 * element by element, and at 50 jobs a claim the elements were a measurable share of a worker's
 * time; safe because ids are [A-Za-z0-9_.:-], names refuse control characters, and data, options,
 * manual and trace are JSON texts, which never hold a raw control character. A 7th field, `trace`
 * (the producer's trace context, '' = none), follows `manual`, and an 8th, `group` ('' = none).
 *
 * **finish** (finish-10.lua): header `count, claimMax, workerId, leaseMs, idle 1|0`, then per
 * request either the short form `'d', id, attempt, heldMs, result JSON` (succeeded and done, by the
 * claiming worker, no error, no response: most requests, 5 elements instead of 16) or `'x'` and 15 fields: `id,
 * attempt, workerId, outcome, ending, action, decision, delayMs | dead reason | '', result JSON,
 * fingerprint, label, error code, error JSON (dead only), error class, heldMs, pause` (`q:<ms>` /
 * `g:<ms>`, '' = none), where `ending` is the JSON object `{outcome, error?, errorClass?, rule?,
 * classifiedBy?, pause?, response?}` and `decision` the worker's decision object
 * (Redis merges `nextDueAt` into a retry's). Reply `[results, claim]`: `results` one string, per
 * request `status,state,nextDueAt,finishedAt` apart by ';' (status ok | stale | not_found, '' =
 * none); `claim` as claim's reply.
 *
 * **replay** (replay-10.lua): the manual trigger is sent as the JSON object `{by, note?}` and the
 * patch (a diff, JSON) as its own argument (`''` = none); Redis merges `patch` and `at` into it.
 *
 * **events** (includes/ev.lua, flushEvents.lua): one stream entry per event type per script call,
 * fields `t` (type), `at`, `id` (the job ids, comma-joined), then one column per event field, its
 * per-job values comma-joined in the order of `id`, or stored once when all are equal.
 *
 * **read** (read-10.lua): per id `[hash as a flat field/value array (empty = no such job), attempt
 * records (JSON texts), options JSON]`; the hash fields are listed in ARCHITECTURE.md §4.
 *
 * **archive-read** (archive-read-10.lua): read's reply as one JSON text (`cjson.encode`), an empty
 * list as `{}`: `rawJobsFromJson`.
 * @module
 */
import type { SchedulerRecord, TickRequest } from '../../schedule.js';
import type { WorkerInfo } from '../../workers.js';
import type {
  AddRequest,
  AddResult,
  ClaimedJob,
  ClaimRequest,
  ClaimResult,
  FinishRequest,
  FinishResult,
  QueueEvent,
  ReplayRequest,
} from '../../backend.js';
import type { RestoreRequest } from '../../restore.js';
import { trailsFromRedis, withTrail } from '../../progress.js';
import { priorityWait } from '../../transitions.js';
import { checkText, Rules } from '../../validate.js';
import type {
  Attempt,
  AttemptTrigger,
  CurrentAttempt,
  DeadReason,
  Job,
  JobOptionsStored,
  JobState,
  ManualTrigger,
  Refusal,
} from '../../types.js';

type Arg = string | number;

/** Worker ids are written into JSON records by the scripts unescaped: only safe ones get there. */
export function assertSafeWorkerId(id: string | undefined): void {
  // A worker sends its own id with every request of every finish: checked once, not each time.
  if (id === undefined || id === '' || id === lastSafeWorkerId) return;
  checkText(id, 'workerId', Rules.workerId);
  lastSafeWorkerId = id;
}
/** The last worker id found safe (an id that passes once passes always). */
let lastSafeWorkerId: string | undefined;

/** add-10.lua's arguments (after the key prefix). */
export function encodeAdd(jobs: readonly AddRequest[]): Arg[] {
  // Each distinct options text travels once per call, not once per job.
  const optIndex = new Map<string, number>();
  const table: Arg[] = [];
  const perJob: Arg[] = [];
  let toGenerate = 0;
  for (const j of jobs) {
    let oi = optIndex.get(j.opts);
    if (oi === undefined) {
      oi = optIndex.size + 1;
      optIndex.set(j.opts, oi);
      table.push(j.opts, j.maxStalls);
    }
    if (j.id === undefined) toGenerate++;
    perJob.push(
      j.id ?? '',
      j.name,
      j.data,
      oi,
      j.runAt !== undefined ? `@${j.runAt}` : j.delayMs,
      j.trace ?? '',
      j.priority === undefined ? '' : j.priority,
      j.dedup?.mode ?? '',
      j.dedup?.ms ?? '',
      j.dedup?.key ?? '',
      j.group ?? '',
    );
  }
  return [jobs.length, toGenerate, optIndex.size, ...table, ...perJob];
}

/** add-10.lua's reply, for `count` jobs. */
export function decodeAdd(out: readonly Arg[], count: number): AddResult[] {
  const res: AddResult[] = [];
  if (out[0] === 'r') {
    // Every job created with consecutive generated ids, all in one state.
    const first = Number(out[1]);
    const state = out[2] as JobState;
    for (let i = 0; i < count; i++) res.push({ id: String(first + i), created: true, state });
    return res;
  }
  for (let i = 1; i < out.length; i += 3) {
    const id = String(out[i]);
    const state = out[i + 2] as JobState;
    res.push(
      out[i + 1] === 2
        ? { id, created: false, state, folded: true }
        : { id, created: out[i + 1] === 1, state },
    );
  }
  return res;
}

/**
 * A job's `cw` field (includes/claimFacts.lua): the short text "priority,effective,waitedMs,ahead"
 * of a priority wait alone, or a JSON object of `rateLimit`, `priority` and `schedule`.
 */
export function claimFacts(cw: string): Pick<CurrentAttempt, 'rateLimit' | 'priority' | 'schedule'> {
  if (cw.startsWith('{')) {
    return JSON.parse(cw) as Pick<CurrentAttempt, 'rateLimit' | 'priority' | 'schedule'>;
  }
  const [p, e, w, a] = cw.split(',').map(Number) as [number, number, number, number];
  return { priority: priorityWait(p, e, w, a) };
}

/** claim-10.lua's reply: recovered, paused, nextWakeInMs, options table, jobs as one string. */
export type ClaimReply = [number, number, number, string[], string];

export function decodeClaim(r: ClaimReply): ClaimResult {
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
        ...(f[6] ? { trace: f[6] } : {}),
        ...(f[7] ? { group: f[7] } : {}),
      });
    }
  }
  return { jobs, recovered: r[0], paused: r[1] === 1, nextWakeInMs: r[2] < 0 ? undefined : r[2] };
}

/** claim-10.lua's arguments (after the key prefix). */
export function encodeClaim(req: ClaimRequest): Arg[] {
  assertSafeWorkerId(req.workerId);
  return [req.workerId, req.leaseMs, req.max, req.exclusiveOk ? '1' : '0'];
}

/** finish-10.lua's arguments (after the key prefix): the header, then one request after another. */
export function encodeFinish(reqs: readonly FinishRequest[], claim: ClaimRequest): Arg[] {
  assertSafeWorkerId(claim.workerId);
  const args: Arg[] = [reqs.length, claim.max, claim.workerId, claim.leaseMs, claim.exclusiveOk ? '1' : '0'];
  for (const r of reqs) {
    assertSafeWorkerId(r.workerId);
    const heldMs = r.heldMs !== undefined && r.heldMs > 0 ? Math.round(r.heldMs) : 0;
    const d = r.decision;
    if (
      d.action === 'done' &&
      r.outcome === 'succeeded' &&
      r.workerId === claim.workerId &&
      !r.error &&
      !r.errorClass &&
      !r.response
    ) {
      // The common case, in 5 elements (finish-10.lua fills in the rest).
      args.push('d', r.id, r.attempt, heldMs, r.result ?? 'null');
      continue;
    }
    const ending = {
      outcome: r.outcome,
      error: r.error,
      errorClass: r.errorClass || undefined,
      rule: r.rule || undefined,
      classifiedBy: r.classifiedBy || undefined,
      pause: r.pause,
      response: r.response,
    };
    args.push(
      'x',
      r.id,
      r.attempt,
      r.workerId,
      r.outcome,
      JSON.stringify(ending),
      d.action,
      JSON.stringify(d),
      d.action === 'retry' ? d.delayMs : d.action === 'dead' ? d.reason : '',
      r.result ?? 'null',
      r.fingerprint ?? '',
      r.fingerprintLabel ?? '',
      r.error?.code ?? '',
      d.action === 'dead' && r.error ? JSON.stringify(r.error) : '',
      r.errorClass ?? '',
      heldMs,
      r.pause ? `${r.pause.scope === 'group' ? 'g' : 'q'}:${Math.round(r.pause.ms)}` : '',
    );
  }
  return args;
}

/** finish-10.lua's reply: the results as one string, and the claim half. */
export type FinishReply = [string, ClaimReply];

export function decodeFinish([out, claim]: FinishReply): [FinishResult[], ClaimResult] {
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
  return [res, decodeClaim(claim)];
}

/** replay-10.lua's arguments (after the key prefix). */
export function encodeReplay(req: ReplayRequest): Arg[] {
  // The patch travels as its own JSON text (it can be large: not parsed again to be nested here).
  const manual = JSON.stringify({ by: req.by, note: req.note });
  return [
    req.id,
    req.expectedAttempts,
    req.data ?? '',
    manual,
    req.by,
    req.alsoScheduled ? '1' : '0',
    req.patch ?? '',
  ];
}

/**
 * restore-10.lua's arguments (after the key prefix): the job's hash fields as `decodeJob` reads
 * them back (hot fields first, as `createJob` writes them; `oh` is the script's, once it has
 * interned the options), its attempt records and its facets (src/restore.ts). The job is dead.
 */
export function encodeRestore(req: RestoreRequest): Arg[] {
  const j = req.job;
  const dead = j.dead as NonNullable<Job['dead']>;
  const n = j.attempts.length;
  const last = j.attempts[n - 1];
  const fields: Arg[] = [
    'st',
    'dead',
    'cur',
    n,
    'trg',
    last?.trigger ?? 'auto',
    'due',
    j.dueAt,
    'sa',
    last?.startedAt ?? 0,
    'wid',
    last?.workerId ?? '',
    'man',
    '',
    'fl',
    j.failures,
    'n',
    n,
    'sc',
    j.stalls,
    'pd',
    '',
    'ms',
    j.options.maxStalls,
    'le',
    0,
    'tc',
    '',
    'name',
    j.name,
    'data',
    JSON.stringify(j.data),
    'ct',
    j.createdAt,
  ];
  if (j.priority !== 0) fields.push('pr', j.priority);
  if (j.group !== undefined) fields.push('grp', j.group);
  fields.push(
    'ft',
    j.finishedAt ?? dead.at,
    'dr',
    dead.reason,
    'dat',
    dead.at,
    'fp',
    dead.fingerprint,
    'ec',
    dead.error?.code ?? '',
    'derr',
    dead.error ? JSON.stringify(dead.error) : '',
  );
  if (j.scheduler) fields.push('sch', JSON.stringify(j.scheduler));
  if (j.dedup) fields.push('dm', j.dedup.mode, 'dk', j.dedup.key);
  if (j.folded) fields.push('fo', j.folded.count, 'fa', j.folded.lastAt);
  if (j.refusals.length > 0) {
    fields.push('rn', j.refusals.length);
    j.refusals.forEach((r, i) => fields.push(`r${i + 1}`, JSON.stringify(r)));
  }
  return [
    j.id,
    JSON.stringify(j.options),
    dead.fingerprint,
    req.label,
    dead.at,
    fields.length / 2,
    n,
    req.facets.length,
    ...fields,
    ...j.attempts.map((a) => JSON.stringify(a)),
    ...req.facets,
  ];
}

/**
 * What read-10.lua returns per job: the hash (flat), the attempt records, the options text, the
 * progress/log counters (flat) and the log lines.
 */
export type RawJob = [string[], string[], string, string[]?, string[]?];

/**
 * archive-read's reply: read's, as the JSON text cjson made of it (one JSON.parse for a slice of
 * jobs). cjson writes an empty Lua table as `{}`: every list that is not an array is empty.
 */
export function rawJobsFromJson(text: string): RawJob[] {
  const raws = JSON.parse(text) as unknown;
  if (!Array.isArray(raws)) return [];
  const list = (x: unknown): string[] => (Array.isArray(x) ? (x as string[]) : []);
  return raws.map((r: unknown[]) => [
    list(r[0]),
    list(r[1]),
    typeof r[2] === 'string' ? r[2] : '',
    list(r[3]),
    list(r[4]),
  ]);
}

/** The refusals of a job: its hash fields `r<n>` (most jobs have none), in order. */
function refusals(flat: string[]): Refusal[] {
  const items: [number, Refusal][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i] as string;
    if (k.charCodeAt(0) !== 114) continue; // 'r'
    const m = /^r(\d+)$/.exec(k);
    if (m) items.push([Number(m[1]), JSON.parse(flat[i + 1] as string) as Refusal]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export function decodeJob(queue: string, id: string, raw: RawJob): Job | null {
  const [flat, history, optsText, trailFlat, logs] = raw;
  const trails = trailsFromRedis(trailFlat ?? [], logs ?? []);
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
            ...trails.get(Number(h.cur)),
            // What its claim recorded (rate-limit and priority waits, its tick), as its attempt will.
            ...(h.cw ? claimFacts(h.cw) : {}),
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
    priority: Number(h.pr ?? 0),
    ...(h.grp ? { group: h.grp } : {}),
    options: JSON.parse(optsText || '{}') as JobOptionsStored,
    attempts: history.map((r) => withTrail(JSON.parse(r) as Attempt, trails)),
    stalls: Number(h.sc ?? 0),
    failures: Number(h.fl ?? 0),
    refusals: refusals(flat),
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
    ...(h.sch ? { scheduler: JSON.parse(h.sch) as NonNullable<Job['scheduler']> } : {}),
    ...(h.dm ? { dedup: { mode: h.dm === 'debounce' ? 'debounce' : 'dedup', key: h.dk ?? '' } } : {}),
    ...(h.fo ? { folded: { count: Number(h.fo), lastAt: Number(h.fa ?? 0) } } : {}),
  };
}

/**
 * One stream entry of the event feed, expanded into one event per job, in the order of its ids. A
 * job event's seq is `<entry id>` for a single-job entry and `<entry id>#<index>` inside a batch,
 * so a cursor can stop mid-entry.
 */
export function decodeEventEntry(seq: string, flat: readonly string[]): QueueEvent[] {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  const { t = '', at = '0', id = '', ...rest } = fields;
  const ids = id.includes(',') ? id.split(',') : [id];
  const cols = ids.length > 1 ? Object.entries(rest).map(([k, v]) => [k, v.split(',')] as const) : undefined;
  return ids.map((jobId, i) => ({
    seq: ids.length > 1 ? `${seq}#${i}` : seq,
    type: t,
    ...(jobId ? { jobId } : {}),
    at: Number(at),
    // A column stored once applies to every job of the entry.
    fields: cols
      ? Object.fromEntries(cols.map(([k, vs]) => [k, (vs.length === 1 ? vs[0] : vs[i]) ?? '']))
      : rest,
  }));
}

/** A scheduler's hash (flat field/value array, as HGETALL returns it), or null when empty. */
export function decodeScheduler(id: string, flat: readonly string[]): SchedulerRecord | null {
  if (flat.length === 0) return null;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  return {
    id,
    spec: h.spec ?? '',
    anchor: Number(h.anc ?? 0),
    nextRunAt: Number(h.nx ?? 0),
    name: h.name ?? '',
    data: h.data ?? 'null',
    opts: h.opts ?? '{}',
    maxStalls: Number(h.ms ?? 0),
    priority: Number(h.pr ?? 0),
    ...(h.grp ? { group: h.grp } : {}),
    missed: h.mis ?? 'skip',
    overlap: h.ovl === 'skip' ? 'skip' : 'allow',
    paused: h.pz === '1',
    createdAt: Number(h.ct ?? 0),
    updatedAt: Number(h.ut ?? 0),
    lastJobId: h.lj ?? '',
    lastTickAt: Number(h.lt ?? 0),
  };
}

/** A worker's registry hash (flat field/value array, as HGETALL returns it). */
export function decodeWorker(id: string, flat: readonly string[]): WorkerInfo {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  let queues: string[] = [];
  try {
    const q = JSON.parse(h.qs ?? '[]') as unknown;
    if (Array.isArray(q)) queues = q.filter((x): x is string => typeof x === 'string');
  } catch {
    queues = [];
  }
  return {
    id,
    host: h.host ?? '',
    pid: Number(h.pid ?? 0),
    queues,
    concurrency: Number(h.cc ?? 0),
    inFlight: Number(h.inf ?? 0),
    version: h.ver ?? '',
    startedAt: Number(h.st ?? 0),
    heartbeatAt: Number(h.hb ?? 0),
    expiresAt: Number(h.ex ?? 0),
  };
}

/** The tick script's arguments (after the key prefix): see tick-10.lua. */
export function encodeTick(reqs: readonly TickRequest[]): (string | number)[] {
  const out: (string | number)[] = [reqs.length];
  for (const r of reqs) {
    const m = r.plan.missed;
    out.push(r.id, r.expectNextRunAt, r.spec, r.plan.next);
    out.push(m ? m.first : '', m ? m.last : '', m ? m.count : '', m?.more ? '1' : '');
    out.push(r.plan.fire.length, ...r.plan.fire);
  }
  return out;
}
