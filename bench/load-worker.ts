/**
 * One worker process of `bench/load.ts`, for ReTraced or BullMQ, with the same protocol as
 * `cluster-scale-worker.ts` (ready / go / count every 100 ms / stop → done with latencies). Not
 * meant to be run by hand:
 *
 *   node --import tsx bench/load-worker.ts <json spec>
 */
import { Worker as BullWorker, type Job as BullJob } from 'bullmq';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue, TemporaryError, Worker } from '../src/index.js';
import type { ScaleChildMessage } from './cluster-scale-worker.js';

export interface LoadWorkerSpec {
  readonly system: 'retraced' | 'bullmq';
  readonly url: string;
  readonly queue: string;
  readonly concurrency: number;
  /** 'noop'; 'io' waits 1-5 ms (a timer); 'io-fail-once' also fails every third job once. */
  readonly handler: 'noop' | 'io' | 'io-fail-once';
}

interface Data {
  readonly i: number;
  /** Date.now() of the producer when it added the job. */
  readonly t: number;
  readonly pad?: string;
}

function send(m: ScaleChildMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadWorkerSpec;
  const done: Record<string, number> = { [spec.queue]: 0 };
  const latencies: number[] = [];
  /** The handler: first attempts record their add→start latency. */
  const handle = async (data: Data, firstAttempt: boolean): Promise<void> => {
    if (firstAttempt) latencies.push(Date.now() - data.t);
    if (spec.handler === 'noop') return;
    await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 5)));
    if (spec.handler === 'io-fail-once' && data.i % 3 === 0 && firstAttempt) {
      throw new TemporaryError('fails once');
    }
  };
  let start: () => void;
  let close: () => Promise<void>;
  if (spec.system === 'retraced') {
    const backend = new RedisBackend({ connection: spec.url });
    const queue = new Queue<Data>(spec.queue, { backend });
    const worker = new Worker<Data>(queue, (job) => handle(job.data, job.attempt === 1), {
      concurrency: spec.concurrency,
      autostart: false,
    });
    worker.on('completed', () => void (done[spec.queue] = (done[spec.queue] ?? 0) + 1));
    worker.on('error', () => undefined);
    await backend.client.ping();
    start = () => worker.start();
    close = async () => {
      await worker.close({ timeoutMs: 5000 });
      await backend.close();
    };
  } else {
    const u = new URL(spec.url);
    const worker = new BullWorker<Data>(
      spec.queue,
      (job: BullJob<Data>) => handle(job.data, job.attemptsMade === 0),
      {
        connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null },
        concurrency: spec.concurrency,
        autorun: false,
      },
    );
    worker.on('completed', () => void (done[spec.queue] = (done[spec.queue] ?? 0) + 1));
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    let running: Promise<void> | undefined;
    start = () => {
      running = worker.run().catch(() => undefined);
    };
    close = async () => {
      await worker.close();
      await running;
    };
  }
  let timer: NodeJS.Timeout | undefined;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'go') {
      start();
      timer = setInterval(() => send({ type: 'count', done }), 100);
    } else if (m.type === 'stop') {
      void (async () => {
        clearInterval(timer);
        await close();
        process.send?.({ type: 'done', done, latencies } satisfies ScaleChildMessage, () => process.exit(0));
      })().catch(fatal);
    }
  });
  send({ type: 'ready' });
}

function fatal(e: unknown): void {
  send({ type: 'fatal', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  setTimeout(() => process.exit(1), 100);
}

main().catch(fatal);
