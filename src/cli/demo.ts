/**
 * The story `retraced dev` tells: demo workers on a `demo` queue whose jobs succeed, fail
 * temporarily and retry with different strategies (exponential with full jitter, fixed, linear,
 * multi-phase), honour a handler's Retry-After, time out, fail permanently, and dead-letter; and a
 * bounded trickle of new jobs so there is always something happening.
 *
 * Each handler decides from the job's data and attempt number (not from memory), so a replay of a
 * dead job, with a patch that fixes its data, really succeeds.
 * @module
 */
import type { Backend } from '../backend.js';
import { PermanentError, TemporaryError } from '../errors.js';
import { Queue, type BulkJob } from '../queue.js';
import type { ActiveJob } from '../worker.js';
import { Worker } from '../worker.js';

export const DEMO_QUEUE = 'demo';
/** The demo's scheduler, on the demo queue. */
export const DEMO_SCHEDULER = 'digest-every-15s';

type Data = Record<string, unknown>;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const between = (lo: number, hi: number): number => Math.round(lo + Math.random() * (hi - lo));

/** The handlers, by job name. */
export const demoHandlers: Readonly<
  Record<string, (job: ActiveJob<Data>, signal: AbortSignal) => Promise<unknown>>
> = {
  /** Mostly quick successes. */
  async 'send-email'(job, signal) {
    await sleep(between(30, 300), signal);
    return { sent: true, to: job.data.to };
  },
  /** A flaky gateway: ECONNRESET (temporary by the code table) for the first `failTimes` attempts. */
  async 'charge-card'(job, signal) {
    await sleep(between(20, 120), signal);
    if (job.attempt <= Number(job.data.failTimes ?? 0)) {
      throw Object.assign(new Error('socket hang up talking to the card gateway'), { code: 'ECONNRESET' });
    }
    return { charged: job.data.amountCents };
  },
  /** Rate limited on the first attempt: the handler says when to come back (Retry-After). */
  async 'sync-crm'(job, signal) {
    await sleep(between(20, 100), signal);
    if (job.attempt === 1) {
      throw new TemporaryError('CRM rate limit reached', { code: 'RATE_LIMITED', retryAfterMs: 3000 });
    }
    return { synced: true };
  },
  /** Hangs on its first attempt until the per-attempt timeout aborts it. */
  async 'render-invoice'(job, signal) {
    await sleep(job.attempt === 1 ? 60_000 : between(100, 300), signal);
    return { pages: between(1, 5) };
  },
  /** Bad data is a permanent failure: dead-lettered at once, until someone patches and replays it. */
  async 'import-customer'(job, signal) {
    await sleep(between(20, 80), signal);
    const email = job.data.email;
    if (typeof email !== 'string' || !email.includes('@')) {
      throw new PermanentError(`customer ${String(job.data.customer)} has no valid email`, {
        code: 'INVALID_DATA',
      });
    }
    return { imported: job.data.customer };
  },
  /** A webhook answering 503 (temporary by HTTP status) until `recoverAfter` attempts, or forever. */
  async 'notify-webhook'(job, signal) {
    await sleep(between(20, 100), signal);
    const recoverAfter = Number(job.data.recoverAfter ?? Infinity);
    if (job.attempt <= recoverAfter) {
      throw Object.assign(new Error('webhook endpoint answered 503'), { status: 503 });
    }
    return { delivered: true };
  },
  /** Created by the demo's scheduler every 15 s (its first attempt has trigger `schedule`). */
  async 'send-digest'(_job, signal) {
    await sleep(between(50, 200), signal);
    return { sent: true };
  },
  /** An overloaded service, failing at random: unknown errors are temporary by default. */
  async 'resize-image'(_job, signal) {
    await sleep(between(50, 250), signal);
    if (Math.random() < 0.4) throw new Error('image service overloaded');
    return { resized: true };
  },
};

const CUSTOMERS = [
  'ada',
  'grace',
  'linus',
  'barbara',
  'edsger',
  'ken',
  'margaret',
  'dennis',
  'radia',
  'alan',
];

/** One job of each kind of story, each with the retry policy that shows it off. */
export function demoJob(kind: string): BulkJob<Data> {
  const customer = pick(CUSTOMERS);
  switch (kind) {
    case 'charge-card':
      return {
        name: kind,
        data: { customer, amountCents: between(500, 20_000), failTimes: between(0, 3) },
        options: {
          retry: {
            attempts: 5,
            backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 10_000, jitter: 'full' },
          },
        },
      };
    case 'sync-crm':
      return {
        name: kind,
        data: { customer },
        options: { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 2000 } } },
      };
    case 'render-invoice':
      return {
        name: kind,
        data: { customer },
        options: { timeout: 1500, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } } },
      };
    case 'import-customer':
      return {
        name: kind,
        data: { customer, email: Math.random() < 0.5 ? `${customer}@example.com` : `${customer}-at-example` },
      };
    case 'notify-webhook':
      return {
        name: kind,
        data: { customer, recoverAfter: Math.random() < 0.5 ? 3 : null },
        options: {
          retry: {
            phases: [
              { retries: 2, backoff: { type: 'immediate' } },
              { retries: 2, backoff: { type: 'exponential', delayMs: 500, jitter: 'equal' } },
            ],
          },
        },
      };
    case 'resize-image':
      return {
        name: kind,
        data: { customer, image: `${customer}.png` },
        options: { retry: { attempts: 4, backoff: { type: 'linear', delayMs: 500 } } },
      };
    default:
      return { name: 'send-email', data: { to: `${customer}@example.com` } };
  }
}

/** Weighted: mostly emails, a steady share of every failure story. */
export const DEMO_MIX = [
  'send-email',
  'send-email',
  'send-email',
  'charge-card',
  'charge-card',
  'sync-crm',
  'render-invoice',
  'import-customer',
  'notify-webhook',
  'resize-image',
];

export interface DemoOptions {
  readonly backend: Backend;
  /** New jobs per second. @default 2 */
  readonly rate?: number;
  /** Stop adding once this many were added. @default 5000 */
  readonly maxJobs?: number;
  /** Called with any error of the workers or the feeder. */
  readonly onError?: (e: Error) => void;
}

export interface Demo {
  readonly queue: Queue<Data>;
  readonly worker: Worker<Data>;
  /** Stops the trickle and the worker (jobs in flight get `timeoutMs` to finish). */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const queue = new Queue<Data>(DEMO_QUEUE, {
    backend: options.backend,
    retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 8000, jitter: 'full' } },
    // Bounded: the demo can run all day in memory.
    retention: { completed: { count: 500 }, dead: { count: 500 }, cancelled: { count: 200 } },
  });
  const onError = options.onError ?? (() => undefined);
  const handler = (job: ActiveJob<Data>, signal: AbortSignal): Promise<unknown> => {
    const fn = demoHandlers[job.name];
    if (!fn) {
      throw new PermanentError(`the demo has no handler for ${JSON.stringify(job.name)}`, {
        code: 'NO_HANDLER',
      });
    }
    return fn(job, signal);
  };
  const worker = new Worker<Data>(queue, handler, {
    concurrency: 8,
    workerId: 'demo-worker-1',
  });
  worker.on('error', onError);

  // A scheduler: a digest every 15 s, skipped while the previous one is unfinished (its ledger shows
  // each tick). The scheduler loop of `retraced dev` fires it.
  await queue.schedule(
    DEMO_SCHEDULER,
    { every: 15_000 },
    {
      name: 'send-digest',
      data: { kind: 'digest' },
      overlap: 'skip',
    },
  );

  // One of every story at once, so there is something to inspect within seconds.
  await queue.addBulk([...new Set(DEMO_MIX)].map(demoJob));
  await queue.add('import-customer', { customer: 'edsger', email: 'edsger-at-example' });
  await queue.add(
    'notify-webhook',
    { customer: 'ken', recoverAfter: null },
    demoJob('notify-webhook').options,
  );
  // And one that recovers on its 4th attempt, so both retry phases show in its timeline.
  await queue.add(
    'notify-webhook',
    { customer: 'grace', recoverAfter: 3 },
    demoJob('notify-webhook').options,
  );

  const rate = options.rate ?? 2;
  const maxJobs = options.maxJobs ?? 5000;
  let added = 0;
  const timer =
    rate > 0
      ? setInterval(
          () => {
            void (async () => {
              if (added >= maxJobs) return;
              const counts = await queue.counts();
              if (counts.waiting + counts.scheduled > 200) return; // let the worker catch up
              added++;
              await queue.addBulk([demoJob(pick(DEMO_MIX))]);
            })().catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
          },
          Math.max(20, Math.round(1000 / rate)),
        )
      : undefined;

  return {
    queue,
    worker,
    async stop(timeoutMs = 5000) {
      clearInterval(timer);
      await worker.close({ timeoutMs });
    },
  };
}
