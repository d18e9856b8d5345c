/**
 * The only place Redis key names are spelled. Every key of a queue carries the hash tag `{queue}`,
 * so a queue lives on one Redis Cluster slot and many queues spread over a cluster.
 * See ARCHITECTURE.md for what each key holds. The suffixes the Lua scripts append to the queue's
 * prefix themselves (`@lua`) reach them as generated constants of the same names
 * (`lua/generated/keys.lua`).
 * @module
 */

/** @lua A job's hash: prefix .. KEY_JOB .. id. */
export const KEY_JOB = 'j:';
/** @lua A job's attempt records, oldest first (a list): prefix .. KEY_HISTORY .. id. */
export const KEY_HISTORY = 'h:';
/** @lua Interned job options (a hash): digest → JSON text, '#' .. digest → jobs using it. */
export const KEY_OPTIONS = 'o';
/** @lua The dead jobs of one error fingerprint (a zset): prefix .. KEY_FINGERPRINT .. fingerprint. */
export const KEY_FINGERPRINT = 'fp:';
/**
 * @lua A search index (a zset of job ids scored by creation time): prefix .. KEY_INDEX .. facet, the
 * facet spelled as in src/job-index.ts (`n:<name>`, `c:<class>`, `r:<rule>`, `e:<code>`, `f:<fp>`,
 * `t:<trigger>`, `rt`).
 */
export const KEY_INDEX = 'x:';

/**
 * @lua Finished jobs not yet copied to the archive (a zset, score = finished at): fed by the
 * transitions that finish a job while the queue has an archive (meta `arc`), read and emptied by the
 * archiver (src/archive/); retention never evicts a job it holds.
 */
export const KEY_ARCHIVE_PENDING = 'ap';
/**
 * @lua The waiting jobs of one priority other than 0 (a list, FIFO like `wait`, which holds priority
 * 0): prefix .. KEY_LEVEL .. priority.
 */
export const KEY_LEVEL = 'w:';
/**
 * @lua The priorities other than 0 that have waiting jobs (a zset, member = priority, score = the
 * level's rank, `levelRank` in src/transitions.ts): prefix .. KEY_LEVELS.
 */
export const KEY_LEVELS = 'lv';
/**
 * @lua How many jobs without a group were claimed, since the queue's first job of a priority other
 * than 0 was pushed (a hash: `t` all of them, `<priority>` those of one level), so that a job's
 * attempt can say how many jobs of a higher priority were claimed while it waited
 * (`priorityAhead` in src/transitions.ts); absent on a queue that only ever had priority 0.
 */
export const KEY_PRIO_SERVED = 'ps';

/**
 * @lua The waiting jobs of one group (a zset, member = job id, score = `groupRank` in
 * src/transitions.ts: priority first, then the order they came in): prefix .. KEY_GROUP .. group.
 */
export const KEY_GROUP = 'gw:';
/**
 * @lua The groups taking turns (a list, head = the next to serve): every group with waiting jobs
 * whose bucket is not empty, and '' for the jobs without a group (meta `gu` = '1' while it is in).
 * Exists only while some group has waiting jobs: prefix .. KEY_GROUP_RING.
 */
export const KEY_GROUP_RING = 'gr';
/**
 * @lua The groups with waiting jobs whose bucket is empty (a zset, score = when its next token
 * exists); a claim moves the due ones back to the ring: prefix .. KEY_GROUP_PARKED.
 */
export const KEY_GROUP_PARKED = 'gp';
/** @lua The groups with a rate limit of their own (a hash, group → limit as `encodeRateLimit` writes it). */
export const KEY_RATE_GROUP_LIMITS = 'rlo';
/** @lua The buckets of groups (a hash, group → its state, `tat` in src/rate-limit.ts). */
export const KEY_RATE_GROUP_STATE = 'rlt';
/**
 * @lua Why groups are paused (a hash, group → the pause record JSON of the handler's
 * `RateLimitError`, `RateLimitPauseRecord` in src/rate-limit.ts): prefix .. KEY_RATE_PAUSE.
 */
export const KEY_RATE_PAUSE = 'rlp';
/** @lua The groups with a pause record, by its end (a zset, score = until): prefix .. KEY_RATE_PAUSED. */
export const KEY_RATE_PAUSED = 'rlpz';

/** @lua The queue's schedulers by next run (a zset; paused ones are not in it): prefix .. KEY_SCHEDULERS. */
export const KEY_SCHEDULERS = 'schd';
/** @lua One scheduler (a hash): prefix .. KEY_SCHEDULER .. id. */
export const KEY_SCHEDULER = 'sch:';
/** @lua One scheduler's tick ledger, newest first (a list capped at TICK_LEDGER_LENGTH): prefix .. KEY_TICKS .. id. */
export const KEY_TICKS = 'tk:';

/**
 * @lua A minute bucket of the retry analytics rollups (a hash, src/rollup.ts): prefix ..
 * KEY_ROLLUP_MINUTE .. bucket start (ms); expires ROLLUP_MINUTE_KEEP_MS after the bucket ends.
 */
export const KEY_ROLLUP_MINUTE = 'ru:m:';
/** @lua An hour bucket of the rollups, the same fields: prefix .. KEY_ROLLUP_HOUR .. bucket start. */
export const KEY_ROLLUP_HOUR = 'ru:h:';
/** @lua The queue's live workers (a zset, member = worker id, score = when its entry expires): prefix .. KEY_WORKERS. */
export const KEY_WORKERS = 'wks';
/** @lua One worker's registry entry (a hash with a TTL, renewed by each heartbeat): prefix .. KEY_WORKER .. id. */
export const KEY_WORKER = 'wk:';
/**
 * @lua A dedup or debounce key (a string holding the id of the job adds with the key are folded
 * into, expiring with the window, see src/dedup.ts): prefix .. KEY_DEDUP .. key.
 */
export const KEY_DEDUP = 'dd:';

/**
 * @lua A retry budget's state (a hash, src/retry-budget.ts): prefix .. KEY_BUDGET .. scope (`''` the
 * queue, `n:<name>` one job name): `tat` (µs) and the first attempts per slot (`f<slot>`).
 */
export const KEY_BUDGET = 'bg:';
/**
 * @lua A job's progress and log counters per attempt (a hash, src/progress.ts): `p:<n>` the latest
 * progress `{value, at}` JSON, `c:<n>` / `b:<n>` lines and bytes kept, `d:<n>` lines dropped:
 * prefix .. KEY_TRAIL .. id. Deleted with the job.
 */
export const KEY_TRAIL = 'tr:';
/**
 * @lua A job's log lines of every attempt, oldest first (a list of JSON `{n, at, line}`): prefix ..
 * KEY_LOG .. id. Deleted with the job.
 */
export const KEY_LOG = 'lg:';

/** The fixed keys of a queue, in the order of the KEYS array every script receives. */
const FIXED = ['meta', 'wait', 'sched', 'active', 'done', 'dead', 'cnl', 'events', 'wake', 'fpi'] as const;

export interface QueueKeys {
  /** The prefix scripts extend for job hashes (`P .. KEY_JOB .. id`) and fingerprint indexes. */
  readonly prefix: string;
  /** The standard KEYS array of every script, in order (see ARCHITECTURE.md §5). */
  readonly all: readonly string[];
  readonly meta: string;
  readonly wait: string;
  readonly sched: string;
  readonly active: string;
  readonly done: string;
  readonly dead: string;
  readonly cancelled: string;
  readonly events: string;
  readonly wake: string;
  readonly fingerprints: string;
  job(id: string): string;
  /** A job's attempt records, oldest first (a list). */
  history(id: string): string;
  /** Interned job options: digest → JSON text, '#' + digest → jobs using it. */
  readonly options: string;
  fingerprint(fp: string): string;
  /** Finished jobs not yet archived (a zset, score = finished at). */
  readonly archivePending: string;
  /** A search index: the job ids of one facet (see src/job-index.ts), scored by creation time. */
  index(facet: string): string;
  /** The waiting jobs of one priority (0: `wait`). */
  level(priority: number): string;
  /** The priorities other than 0 that have waiting jobs, ranked (a zset). */
  readonly levels: string;
  /** The waiting jobs of one group (a zset). */
  group(group: string): string;
  /** The groups taking turns (a list). */
  readonly groupRing: string;
  /** The groups whose bucket is empty, by next token (a zset). */
  readonly groupParked: string;
  /** Per-group rate limits (a hash). */
  readonly rateGroupLimits: string;
  /** Per-group bucket states (a hash). */
  readonly rateGroupState: string;
  /** Per-group pause records (a hash). */
  readonly ratePause: string;
  /** The groups with a pause record, by its end (a zset). */
  readonly ratePaused: string;
  /** The queue's schedulers by next run (a zset of ids; paused ones are not in it). */
  readonly schedulers: string;
  /** One scheduler's hash. */
  scheduler(id: string): string;
  /** One scheduler's tick ledger (a list, newest first). */
  ticks(id: string): string;
  /** A retry budget's state: scope `''` (the queue) or `n:<name>`. */
  budget(scope: string): string;
  /** The rollup minute bucket (a hash) starting at `start` (ms). */
  rollupMinute(start: number | string): string;
  /** The rollup hour bucket (a hash) starting at `start` (ms). */
  rollupHour(start: number | string): string;
  /** The live workers by entry expiry (a zset of worker ids). */
  readonly workers: string;
  /** One worker's registry entry (a hash with a TTL). */
  worker(id: string): string;
  /** A dedup or debounce key: the id of the job adds with it are folded into. */
  dedup(key: string): string;
  /** A job's progress and log counters per attempt (a hash). */
  trail(id: string): string;
  /** A job's log lines (a list of JSON `{n, at, line}`). */
  log(id: string): string;
}

export function queueKeys(prefix: string, queue: string): QueueKeys {
  const p = `${prefix}:{${queue}}:`;
  const all = FIXED.map((suffix) => p + suffix);
  const [meta, wait, sched, active, done, dead, cancelled, events, wake, fingerprints] = all as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    prefix: p,
    meta,
    wait,
    sched,
    active,
    done,
    dead,
    cancelled,
    events,
    wake,
    fingerprints,
    all,
    job: (id) => p + KEY_JOB + id,
    history: (id) => p + KEY_HISTORY + id,
    options: p + KEY_OPTIONS,
    fingerprint: (fp) => p + KEY_FINGERPRINT + fp,
    archivePending: p + KEY_ARCHIVE_PENDING,
    index: (facet) => p + KEY_INDEX + facet,
    level: (priority) => (priority === 0 ? wait : p + KEY_LEVEL + String(priority)),
    levels: p + KEY_LEVELS,
    group: (g) => p + KEY_GROUP + g,
    groupRing: p + KEY_GROUP_RING,
    groupParked: p + KEY_GROUP_PARKED,
    rateGroupLimits: p + KEY_RATE_GROUP_LIMITS,
    rateGroupState: p + KEY_RATE_GROUP_STATE,
    ratePause: p + KEY_RATE_PAUSE,
    ratePaused: p + KEY_RATE_PAUSED,
    schedulers: p + KEY_SCHEDULERS,
    scheduler: (id) => p + KEY_SCHEDULER + id,
    ticks: (id) => p + KEY_TICKS + id,
    budget: (scope) => p + KEY_BUDGET + scope,
    rollupMinute: (start) => p + KEY_ROLLUP_MINUTE + String(start),
    rollupHour: (start) => p + KEY_ROLLUP_HOUR + String(start),
    workers: p + KEY_WORKERS,
    worker: (id) => p + KEY_WORKER + id,
    dedup: (key) => p + KEY_DEDUP + key,
    trail: (id) => p + KEY_TRAIL + id,
    log: (id) => p + KEY_LOG + id,
  };
}

/** A SCAN pattern that matches the meta hash of every queue under `prefix` (each queue has one). */
export function metaKeyPattern(prefix: string): string {
  return `${prefix}:{*}:${FIXED[0]}`;
}

/** The queue whose meta hash `key` is, or undefined for any other key. */
export function queueOfMetaKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}:{`;
  const tail = `}:${FIXED[0]}`;
  if (!key.startsWith(head) || !key.endsWith(tail) || key.length <= head.length + tail.length) {
    return undefined;
  }
  return key.slice(head.length, -tail.length);
}
