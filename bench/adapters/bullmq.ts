/**
 * BullMQ, configured to do the same work as ReTraced: keep every completed and failed job,
 * retry at once (backoff 0), no-op handlers.
 * @module
 */
import { createRequire } from 'node:module';

import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';

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
const pkg = require('bullmq/package.json') as { version: string };

const JOB_NAME = 'bench';

function connectionOf(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  // maxRetriesPerRequest: null is what BullMQ requires of a worker's connection.
  return { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
}

export class BullmqAdapter implements Adapter {
  readonly name = 'bullmq' as const;
  readonly label = SYSTEM_LABELS.bullmq;
  readonly version = pkg.version;
  readonly settings =
    'ioredis connections created by BullMQ; job options `removeOnComplete: false, removeOnFail: false` (keeps every job, as ReTraced does), ' +
    '`attempts` 1 or 3 with `backoff: 0` (retry at once); worker defaults otherwise (lock 30 s, stalled check 30 s); ' +
    'handlers throw a plain `Error`; queue (producer) and worker each on their own connections.';
  #url = '';
  #queueName = '';
  #jobOpts: JobsOptions = {};
  #queue: Queue | undefined;

  async setup(redisUrl: string, queue: string, jobOptions: JobOptionsSpec): Promise<void> {
    this.#url = redisUrl;
    this.#queueName = queue;
    this.#jobOpts = {
      removeOnComplete: false,
      removeOnFail: false,
      attempts: jobOptions.attempts,
      backoff: 0,
    };
    this.#queue = new Queue(queue, { connection: connectionOf(redisUrl), defaultJobOptions: this.#jobOpts });
    await this.#queue.waitUntilReady();
  }

  get #q(): Queue {
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
    // BullMQ's due time is timestamp + delay, on the client clock: pin timestamp so that the due
    // time is exactly the one asked for, however long the add takes.
    for (const chunk of chunks(jobs)) {
      const timestamp = Date.now();
      await this.#q.addBulk(
        chunk.map((j) => ({
          name: JOB_NAME,
          data: j.data,
          opts: { timestamp, delay: Math.max(0, Math.round(j.dueLocalMs - timestamp)) },
        })),
      );
    }
  }

  async createWorker(opts: StartOptions): Promise<WorkerHandle> {
    const sink = opts.sink;
    const processor =
      opts.handler === 'fail-twice'
        ? async (job: Job<JobData>): Promise<void> => {
            if (sink.onRun(job.data.i)) throw new Error(TEMP_FAILURE_MESSAGE);
          }
        : async (job: Job<JobData>): Promise<void> => {
            sink.onRun(job.data.i);
          };
    const worker = new Worker<JobData>(this.#queueName, processor, {
      connection: connectionOf(this.#url),
      concurrency: opts.concurrency,
      autorun: false,
    });
    const errors: string[] = [];
    worker.on('error', (e) => errors.push(e.message));
    const onCompleted = opts.onCompleted;
    if (onCompleted) worker.on('completed', () => onCompleted());
    await worker.waitUntilReady();
    let running: Promise<void> | undefined;
    return {
      errors,
      go: async () => {
        running = worker.run().catch((e: unknown) => {
          errors.push(e instanceof Error ? e.message : String(e));
        });
      },
      close: async () => {
        await worker.close();
        await running;
      },
    };
  }

  async counts(): Promise<Counts> {
    const c = await this.#q.getJobCounts(
      'waiting',
      'prioritized',
      'waiting-children',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    const n = (k: string): number => c[k] ?? 0;
    return {
      waiting: n('waiting') + n('prioritized') + n('waiting-children'),
      active: n('active'),
      delayed: n('delayed'),
      completed: n('completed'),
      failed: n('failed'),
    };
  }

  async verifyHistory(jobs: number, attempts: number): Promise<string[]> {
    const problems = new ProblemList();
    const seen = new Set<number>();
    const page = 1000;
    for (let start = 0; ; start += page) {
      const list = (await this.#q.getJobs(['completed'], start, start + page - 1)) as (
        Job<JobData> | undefined
      )[];
      for (const job of list) {
        if (!job) continue;
        seen.add(job.data.i);
        // BullMQ counts every attempt in attemptsMade (the successful one included) and keeps one
        // stack trace per failed attempt.
        if (job.attemptsMade !== attempts) {
          problems.add(`job ${job.id}: attemptsMade ${job.attemptsMade}, expected ${attempts}`);
        }
        if ((job.stacktrace?.length ?? 0) !== attempts - 1) {
          problems.add(
            `job ${job.id}: ${job.stacktrace?.length ?? 0} stack traces, expected ${attempts - 1}`,
          );
        }
      }
      if (list.length < page) break;
    }
    if (seen.size !== jobs) problems.add(`${seen.size} distinct completed jobs read back, expected ${jobs}`);
    return problems.result();
  }

  isJobKey(key: string): boolean {
    return /^bull:[^:]+:\d+(:.*)?$/.test(key);
  }

  async close(): Promise<void> {
    const q = this.#queue;
    this.#queue = undefined;
    await q?.close();
  }
}
