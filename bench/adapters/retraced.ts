/**
 * ReTraced on its Redis backend, with its full attempt history (the default).
 * @module
 */
import { createRequire } from 'node:module';

import { RedisBackend } from '../../src/backends/redis/index.js';
import { Queue, TemporaryError, Worker } from '../../src/index.js';
import type { Handler, RetryPolicy } from '../../src/index.js';
import { ProblemList } from '../lib/verify.js';
import {
  chunks,
  SYSTEM_LABELS,
  TEMP_FAILURE_MESSAGE,
  type Adapter,
  type Counts,
  type DelayedJob,
  type JobData,
  type JobOptionsSpec,
  type StartOptions,
  type WorkerHandle,
} from '../lib/types.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

const JOB_NAME = 'bench';

export class RetracedAdapter implements Adapter {
  readonly name = 'retraced' as const;
  readonly label = SYSTEM_LABELS.retraced;
  readonly version = pkg.version;
  readonly settings =
    'Redis backend (`RedisBackend`), full attempt history (default), no retention limit (keeps every finished job, default); ' +
    'job retry policy `{ attempts, backoff: { type: "immediate" } }` (attempts 1, or 3 in the retry scenarios); ' +
    'worker defaults otherwise (batchSize 50, prefetch `auto`, lease 30 s); handlers throw `TemporaryError`; ' +
    'producer and worker each on their own connection.';
  readonly warnings: string[] = [];
  #url = '';
  #queueName = '';
  #retry: RetryPolicy = { attempts: 1, backoff: { type: 'immediate' } };
  #backend: RedisBackend | undefined;
  #queue: Queue<JobData> | undefined;

  async setup(redisUrl: string, queue: string, jobOptions: JobOptionsSpec): Promise<void> {
    this.#url = redisUrl;
    this.#queueName = queue;
    this.#retry = { attempts: jobOptions.attempts, backoff: { type: 'immediate' } };
    this.#backend = this.#newBackend();
    this.#queue = new Queue<JobData>(queue, { backend: this.#backend, retry: this.#retry });
    await this.#backend.client.ping();
  }

  #newBackend(): RedisBackend {
    return new RedisBackend({ connection: this.#url, onWarning: (m) => this.warnings.push(m) });
  }

  get #q(): Queue<JobData> {
    if (!this.#queue) throw new Error('setup() first');
    return this.#queue;
  }

  async enqueueOne(data: JobData): Promise<void> {
    await this.#q.add(JOB_NAME, data);
  }

  async enqueueBulk(datas: readonly JobData[]): Promise<void> {
    for (const chunk of chunks(datas)) {
      await this.#q.addBulk(chunk.map((data) => ({ name: JOB_NAME, data })));
    }
  }

  async enqueueDelayed(jobs: readonly DelayedJob[]): Promise<void> {
    // runAt is compared with the Redis server clock (TIME) by the Lua scripts: give the due time on it.
    for (const chunk of chunks(jobs)) {
      await this.#q.addBulk(
        chunk.map((j) => ({ name: JOB_NAME, data: j.data, options: { runAt: Math.round(j.dueServerMs) } })),
      );
    }
  }

  async createWorker(opts: StartOptions): Promise<WorkerHandle> {
    const backend = this.#newBackend();
    const queue = new Queue<JobData>(this.#queueName, { backend, retry: this.#retry });
    const sink = opts.sink;
    const handler: Handler<JobData> =
      opts.handler === 'fail-twice'
        ? async (job) => {
            if (sink.onRun(job.data.i)) throw new TemporaryError(TEMP_FAILURE_MESSAGE);
          }
        : async (job) => {
            sink.onRun(job.data.i);
          };
    const worker = new Worker<JobData>(queue, handler, { concurrency: opts.concurrency, autostart: false });
    const errors: string[] = [];
    worker.on('error', (e) => errors.push(e.message));
    const onCompleted = opts.onCompleted;
    if (onCompleted) worker.on('completed', () => onCompleted());
    await backend.client.ping();
    return {
      errors,
      go: async () => worker.start(),
      close: async () => {
        await worker.close();
        await backend.close();
      },
    };
  }

  async counts(): Promise<Counts> {
    const c = await this.#q.counts();
    return {
      waiting: c.waiting,
      active: c.active,
      delayed: c.scheduled,
      completed: c.completed,
      failed: c.dead + c.cancelled,
    };
  }

  async verifyHistory(jobs: number, attempts: number): Promise<string[]> {
    const problems = new ProblemList();
    const seen = new Set<number>();
    const limit = 1000;
    for (let offset = 0; ; offset += limit) {
      const page = await this.#q.getJobs('completed', { offset, limit });
      for (const job of page) {
        seen.add(job.data.i);
        const a = job.attempts;
        if (a.length !== attempts) {
          problems.add(`job ${job.id}: ${a.length} attempt records, expected ${attempts}`);
          continue;
        }
        a.forEach((rec, k) => {
          const want = k < attempts - 1 ? 'failed' : 'succeeded';
          if (rec.outcome !== want) {
            problems.add(`job ${job.id} attempt ${k + 1}: outcome ${rec.outcome}, expected ${want}`);
          }
          if (want === 'failed' && rec.errorClass !== 'temporary') {
            problems.add(
              `job ${job.id} attempt ${k + 1}: class ${String(rec.errorClass)}, expected temporary`,
            );
          }
        });
      }
      if (page.length < limit) break;
    }
    if (seen.size !== jobs) problems.add(`${seen.size} distinct completed jobs read back, expected ${jobs}`);
    return problems.result();
  }

  isJobKey(key: string): boolean {
    return key.includes('}:j:');
  }

  async close(): Promise<void> {
    const b = this.#backend;
    this.#backend = undefined;
    this.#queue = undefined;
    await b?.close();
  }
}
