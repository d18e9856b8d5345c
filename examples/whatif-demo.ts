/**
 * `npm run whatif:demo`: records a history of the demo queue's jobs (the handlers and job mix of
 * `retraced dev`, src/cli/demo.ts) on the memory backend, with every random choice seeded (job mix,
 * failures, jitter: `Math.random` is replaced by a seeded generator for the run), then asks the
 * what-if about three alternative policies and one classification dry run, audits the history,
 * and shows the storm radar at the busiest moment. Prints a Markdown report (the figures in
 * docs/retry-intelligence.md come from it) and, with --json, the raw reports.
 *
 *   npx tsx examples/whatif-demo.ts [--jobs 850] [--seed 2026] [--json]
 *
 * Timing is real (the handlers sleep, timeouts fire), so times and drift vary a little between
 * runs; the job mix and each job's failures do not.
 */
import { parseArgs } from 'node:util';

import { MemoryBackend } from '../src/backends/memory/memory-backend.js';
import { DEMO_MIX, demoHandlers, demoJob } from '../src/cli/demo.js';
import { formatDuration } from '../src/duration.js';
import { PermanentError } from '../src/errors.js';
import { Queue } from '../src/queue.js';
import type { RadarReport } from '../src/radar.js';
import type { RetryPolicy } from '../src/types.js';
import { seededRandom, type ScenarioStats, type WhatIfReport } from '../src/whatif.js';
import { Worker, type ActiveJob } from '../src/worker.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '850' },
    seed: { type: 'string', default: '2026' },
    json: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const SEED = Number(values.seed);
Math.random = seededRandom(SEED);

type Data = Record<string, unknown>;
const backend = new MemoryBackend();
// The demo queue's own default policy, without its retention (every job is kept for the replay).
const queue = new Queue<Data>('demo', {
  backend,
  retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 8000, jitter: 'full' } },
});
const worker = new Worker<Data>(
  queue,
  (job: ActiveJob<Data>, signal) => {
    const fn = demoHandlers[job.name];
    if (!fn) throw new PermanentError(`no handler for ${job.name}`);
    return fn(job, signal);
  },
  { concurrency: 8, workerId: 'whatif-demo' },
);
worker.on('error', (e) => console.error(e));

const started = Date.now();
let radar: RadarReport | undefined;
// 20 jobs a second, in batches of 50, like a busy afternoon of the demo.
for (let added = 0; added < JOBS; added += 50) {
  const n = Math.min(50, JOBS - added);
  const pick = (): string => DEMO_MIX[Math.floor(Math.random() * DEMO_MIX.length)] as string;
  await queue.addBulk(Array.from({ length: n }, () => demoJob(pick())));
  await new Promise((r) => setTimeout(r, 2500));
  const r = await queue.radar({ horizonMs: 60_000 });
  if (!radar || r.retries > radar.retries) radar = r;
}
for (;;) {
  const c = await queue.counts();
  if (c.completed + c.dead >= JOBS) break;
  await new Promise((r) => setTimeout(r, 200));
}
await worker.close();
const recordedIn = Date.now() - started;

const POLICIES: Record<string, RetryPolicy> = {
  'no retries': { attempts: 1 },
  'exponential 500 ms × 8 attempts, full jitter': {
    attempts: 8,
    backoff: { type: 'exponential', delayMs: 500, jitter: 'full' },
  },
  'fixed 2 s × 3 attempts': { attempts: 3, backoff: { type: 'fixed', delayMs: 2000 } },
};
const own = await queue.whatIf({ seed: SEED });
const reports: Record<string, WhatIfReport> = {};
for (const [label, retry] of Object.entries(POLICIES)) {
  reports[label] = await queue.whatIf({ retry, seed: SEED });
}
const dryRun = await queue.whatIf({ classify: { codes: { ECONNRESET: 'permanent' } }, seed: SEED });
const audit = await queue.audit();

if (values.json) {
  console.log(
    JSON.stringify({ seed: SEED, jobs: JOBS, recordedIn, own, reports, dryRun, audit, radar }, null, 2),
  );
  process.exit(0);
}

const n = (v: number): string => v.toLocaleString('en-US');
const range = (a: number, b: number): string => (a === b ? n(a) : `${n(a)}–${n(b)}`);
const tts = (s: ScenarioStats): string =>
  s.timeToSuccessMs
    ? `${formatDuration(s.timeToSuccessMs.p50)} / ${formatDuration(s.timeToSuccessMs.p95)}`
    : '—';
const ttsRange = (a: ScenarioStats, b: ScenarioStats): string =>
  tts(a) === tts(b) ? tts(a) : `${tts(a)} (opt.), ${tts(b)} (pess.)`;

console.log(
  `Recorded: ${n(JOBS)} demo jobs, seed ${SEED}, in ${formatDuration(recordedIn)} (memory backend, concurrency 8).\n`,
);
console.log(
  '| policy | succeeded | dead-lettered | attempts | time to success p50 / p95 | peak retries due /s | peak dead-letters /min | jobs past their record |',
);
console.log('|---|---|---|---|---|---|---|---|');
const rec = own.comparison.recorded;
console.log(
  `| recorded (each job's own policy) | ${n(rec.succeeded)} | ${n(rec.dead)} | ${n(rec.attempts)} | ${tts(rec)} | ${n(rec.peakRetriesDuePerSecond.count)} | ${n(rec.peakDeadLettersPerMinute.count)} | — |`,
);
for (const [label, r] of Object.entries({ ...reports, 'ECONNRESET permanent (own policies)': dryRun })) {
  const { optimistic: o, pessimistic: p, unknown } = r.comparison.alternative;
  console.log(
    `| ${label} | ${range(p.succeeded, o.succeeded)} | ${range(o.dead, p.dead)} | ${range(o.attempts, p.attempts)} | ${ttsRange(o, p)} | ${range(Math.min(o.peakRetriesDuePerSecond.count, p.peakRetriesDuePerSecond.count), Math.max(o.peakRetriesDuePerSecond.count, p.peakRetriesDuePerSecond.count))} | ${range(Math.min(o.peakDeadLettersPerMinute.count, p.peakDeadLettersPerMinute.count), Math.max(o.peakDeadLettersPerMinute.count, p.peakDeadLettersPerMinute.count))} | ${n(unknown)} |`,
  );
}
console.log(
  `\nSelf-replay under each job's own policy: ${own.comparison.alternative.unknown} jobs past their record; optimistic = recorded: ${JSON.stringify(own.comparison.alternative.optimistic) === JSON.stringify(rec)}.`,
);
console.log(`Classification dry run: ${dryRun.classification?.summary}.`);
console.log(`Audit: ${audit.summary.join('; ')}.`);
if (radar) {
  console.log(
    `Radar at the busiest moment (next 60 s): ${n(radar.retries)} retries due, peak ${n(radar.peak.count)} in one second, ${radar.bursts.length} bursts (threshold ${radar.burstThreshold}/s); policies without jitter: ${radar.withoutJitter.join(', ') || 'none'}.`,
  );
}
