/**
 * `npm start`: a few jobs on the embedded memory backend that succeed, fail and retry with
 * different strategies, fail permanently, dead-letter and get replayed, then each job's attempt
 * history printed as a timeline. No Redis needed.
 */
import {
  MemoryBackend,
  PermanentError,
  Queue,
  renderTimeline,
  TemporaryError,
  Worker,
} from '../src/index.js';

interface Payment {
  readonly customer: string;
  readonly amountCents?: number;
  readonly email?: string;
}

const color = process.stdout.isTTY === true;
const backend = new MemoryBackend();
const queue = new Queue<Payment>('payments', {
  backend,
  retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 2000, jitter: 'full' } },
});

const calls = new Map<string, number>();
const worker = new Worker<Payment>(
  queue,
  async (job, signal) => {
    const n = (calls.get(job.id) ?? 0) + 1;
    calls.set(job.id, n);
    switch (job.name) {
      case 'send-receipt':
        return { sent: true };
      case 'charge-card':
        if (n <= 2) {
          throw Object.assign(new Error('socket hang up talking to the card gateway'), {
            code: 'ECONNRESET',
          });
        }
        return { charged: job.data.amountCents };
      case 'sync-crm':
        if (n === 1) {
          throw new TemporaryError('CRM rate limit reached', { code: 'RATE_LIMITED', retryAfterMs: 300 });
        }
        return { synced: true };
      case 'render-invoice':
        if (n === 1) {
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        }
        return { pages: 2 };
      case 'import-customer':
        if (!job.data.email?.includes('@')) {
          throw new PermanentError(`customer ${job.data.customer} has no valid email`, {
            code: 'INVALID_DATA',
          });
        }
        return { imported: job.data.customer };
      case 'notify-webhook':
        throw Object.assign(new Error('webhook endpoint answered 503'), { status: 503 });
      default:
        throw new Error(`no handler for ${job.name}`);
    }
  },
  { concurrency: 4, workerId: 'demo-worker-1' },
);

console.log('ReTraced demo: embedded memory backend, queue "payments"\n');
console.log(`Queue policy preview: ${queue.preview().summary}\n`);

const jobs = await queue.addBulk([
  { name: 'send-receipt', data: { customer: 'ada' } },
  { name: 'charge-card', data: { customer: 'grace', amountCents: 4200 } },
  { name: 'sync-crm', data: { customer: 'linus' } },
  { name: 'render-invoice', data: { customer: 'barbara' }, options: { timeout: 150 } },
  { name: 'import-customer', data: { customer: 'edsger', email: 'edsger-at-example' } },
  {
    name: 'notify-webhook',
    data: { customer: 'ken' },
    options: {
      retry: {
        phases: [
          { retries: 2, backoff: { type: 'immediate' } },
          { retries: 2, backoff: { type: 'exponential', delayMs: 100 } },
        ],
      },
    },
  },
]);

const finished = (s: string): boolean => s === 'completed' || s === 'dead';
async function settle(): Promise<void> {
  for (;;) {
    const states = await Promise.all(jobs.map(async (j) => (await queue.getJob(j.id))?.state ?? 'missing'));
    if (states.every(finished)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
await settle();

// A person fixes the bad email and replays the dead import: recorded as a manual attempt.
const importJob = jobs[4]!;
await queue.dlq.replay(importJob.id, {
  by: 'ops@example.com',
  note: 'fixed the address',
  patch: { email: 'edsger@example.com' },
});
await settle();

for (const j of jobs) {
  const job = await queue.getJob(j.id);
  if (job) console.log(`${renderTimeline(job, { color })}\n`);
}

const groups = await queue.dlq.groups();
console.log('Dead-letter queue, grouped by error fingerprint:');
for (const g of groups) console.log(`  ${g.count} × ${g.label}`);
console.log(`\nCounts: ${JSON.stringify(await queue.counts())}`);

await worker.close();
await backend.close();
