/**
 * Bee-Queue, configured to do the same work as ReTraced: keep every finished job, retry at once,
 * no-op handlers, delayed jobs activated by the workers.
 * @module
 */
import { createRequire } from 'node:module';

import BeeQueue from 'bee-queue';

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
const pkg = require('bee-queue/package.json') as { version: string };

/**
 * How long Bee-Queue may wait to raise delayed jobs that fall due close together (default 1000 ms).
 * Bee-Queue's own default would add up to a second of drift; 1 ms lets it raise each job on time.
 */
export const BEE_DELAYED_DEBOUNCE_MS = 1;

export class BeeAdapter implements Adapter {
  readonly name = 'bee' as const;
  readonly label = SYSTEM_LABELS.bee;
  readonly version = pkg.version;
  readonly settings =
    '`removeOnSuccess: false, removeOnFailure: false` (keeps every job, the default), `sendEvents: true` (default: publishes job events), ' +
    '`retries(attempts - 1)` with the default immediate backoff; producer `isWorker: false, getEvents: false, storeJobs: false`; ' +
    `workers \`getEvents: false, storeJobs: false, activateDelayedJobs: true, delayedDebounce: ${BEE_DELAYED_DEBOUNCE_MS}\`; ` +
    'handlers throw a plain `Error`; producer and worker each on their own connections.';
  #url = '';
  #queueName = '';
  #retries = 0;
  #queue: BeeQueue<JobData> | undefined;

  async setup(redisUrl: string, queue: string, jobOptions: JobOptionsSpec): Promise<void> {
    this.#url = redisUrl;
    this.#queueName = queue;
    this.#retries = jobOptions.attempts - 1;
    this.#queue = new BeeQueue<JobData>(queue, {
      redis: { url: redisUrl },
      isWorker: false,
      getEvents: false,
      storeJobs: false,
      sendEvents: true,
      removeOnSuccess: false,
      removeOnFailure: false,
    });
    await this.#queue.ready();
  }

  get #q(): BeeQueue<JobData> {
    if (!this.#queue) throw new Error('setup() first');
    return this.#queue;
  }

  async enqueueOne(data: JobData): Promise<void> {
    await this.#q.createJob(data).retries(this.#retries).save();
  }

  async #saveAll(jobs: BeeQueue.Job<JobData>[]): Promise<void> {
    const errors = await this.#q.saveAll(jobs);
    if (errors.size > 0) {
      throw new Error(
        `bee-queue saveAll: ${errors.size} jobs failed, e.g. ${String([...errors.values()][0])}`,
      );
    }
  }

  async enqueueBulk(datas: readonly JobData[]): Promise<void> {
    for (const chunk of chunks(datas)) {
      await this.#saveAll(chunk.map((d) => this.#q.createJob(d).retries(this.#retries)));
    }
  }

  async enqueueDelayed(jobs: readonly DelayedJob[]): Promise<void> {
    // Bee-Queue's due times are on the client clock.
    for (const chunk of chunks(jobs)) {
      await this.#saveAll(
        chunk.map((j) =>
          this.#q.createJob(j.data).retries(this.#retries).delayUntil(Math.round(j.dueLocalMs)),
        ),
      );
    }
  }

  async createWorker(opts: StartOptions): Promise<WorkerHandle> {
    const sink = opts.sink;
    const worker = new BeeQueue<JobData>(this.#queueName, {
      redis: { url: this.#url },
      isWorker: true,
      getEvents: false,
      storeJobs: false,
      sendEvents: true,
      removeOnSuccess: false,
      removeOnFailure: false,
      activateDelayedJobs: true,
      delayedDebounce: BEE_DELAYED_DEBOUNCE_MS,
    });
    const errors: string[] = [];
    worker.on('error', (e) => errors.push(e.message));
    const onCompleted = opts.onCompleted;
    if (onCompleted) worker.on('succeeded', () => onCompleted());
    await worker.ready();
    const handler =
      opts.handler === 'fail-twice'
        ? async (job: BeeQueue.Job<JobData>): Promise<null> => {
            if (sink.onRun(job.data.i)) throw new Error(TEMP_FAILURE_MESSAGE);
            return null;
          }
        : async (job: BeeQueue.Job<JobData>): Promise<null> => {
            sink.onRun(job.data.i);
            return null;
          };
    return {
      errors,
      go: async () => {
        worker.process(opts.concurrency, handler);
      },
      close: async () => {
        await worker.close(30_000);
      },
    };
  }

  async counts(): Promise<Counts> {
    const h = await this.#q.checkHealth();
    return {
      waiting: h.waiting,
      active: h.active,
      delayed: h.delayed,
      completed: h.succeeded,
      failed: h.failed,
    };
  }

  async verifyHistory(jobs: number, attempts: number): Promise<string[]> {
    const problems = new ProblemList();
    const seen = new Set<number>();
    const list = await this.#q.getJobs('succeeded', { size: jobs + 1000 });
    for (const job of list) {
      seen.add(job.data.i);
      const opts = job.options as { retries?: number; stacktraces?: unknown[] };
      // Bee-Queue keeps one stack trace per failed attempt and decrements `retries` on each retry.
      if ((opts.stacktraces?.length ?? 0) !== attempts - 1) {
        problems.add(
          `job ${job.id}: ${opts.stacktraces?.length ?? 0} stack traces, expected ${attempts - 1}`,
        );
      }
      if (opts.retries !== 0 && attempts > 1) {
        problems.add(`job ${job.id}: ${String(opts.retries)} retries left, expected 0`);
      }
    }
    if (seen.size !== jobs) problems.add(`${seen.size} distinct completed jobs read back, expected ${jobs}`);
    return problems.result();
  }

  isJobKey(): boolean {
    return false; // Bee-Queue keeps all jobs of a queue in one hash
  }

  async close(): Promise<void> {
    const q = this.#queue;
    this.#queue = undefined;
    await q?.close();
  }
}
