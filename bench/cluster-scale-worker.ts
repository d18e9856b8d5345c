/**
 * One worker process of `bench/cluster-scale.ts` and `bench/load.ts`: a ReTraced Worker over
 * several queues (weights given), driven by the parent over IPC. Not meant to be run by hand:
 *
 *   node --import tsx bench/cluster-scale-worker.ts <json spec>
 *
 * parent → child { type: 'go' } | { type: 'stop' }
 * child → parent { type: 'ready' } | { type: 'count', done: Record<queue, number> } (every 100 ms
 * while running) | { type: 'done', done, starts? } | { type: 'fatal', message }
 */
import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue, TemporaryError, Worker } from '../src/index.js';

export interface ScaleWorkerSpec {
  readonly url: string;
  readonly prefix: string;
  readonly queues: readonly { readonly name: string; readonly weight: number }[];
  readonly concurrency: number;
  /** 'noop'; 'io' waits 1-5 ms (a timer); 'io-fail-once' also fails a third of jobs once. */
  readonly handler: 'noop' | 'io' | 'io-fail-once';
  /** Record, per job, the add→start latency (data.t: the producer's Date.now() at add). */
  readonly latency?: boolean;
}

export type ScaleChildMessage =
  | { type: 'ready' }
  | { type: 'count'; done: Record<string, number> }
  | { type: 'done'; done: Record<string, number>; latencies: number[] }
  | { type: 'fatal'; message: string };

function send(m: ScaleChildMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerSpec;
  const backend = new RedisBackend({ connection: spec.url, prefix: spec.prefix });
  const queues = spec.queues.map((q) => ({
    queue: new Queue<{ i: number; t?: number }>(q.name, {
      backend,
      retry: { attempts: 3, backoff: { type: 'immediate' } },
    }),
    weight: q.weight,
  }));
  const done: Record<string, number> = Object.fromEntries(spec.queues.map((q) => [q.name, 0]));
  const latencies: number[] = [];
  const worker = new Worker<{ i: number; t?: number }>(
    queues,
    async (job) => {
      if (spec.latency && job.data.t !== undefined && job.attempt === 1) {
        latencies.push(Date.now() - job.data.t);
      }
      if (spec.handler !== 'noop') {
        await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 5)));
        if (spec.handler === 'io-fail-once' && job.data.i % 3 === 0 && job.attempt === 1) {
          throw new TemporaryError('fails once');
        }
      }
      return null;
    },
    { concurrency: spec.concurrency, autostart: false, leaseMs: 30_000 },
  );
  worker.on('completed', (e) => {
    done[e.queue] = (done[e.queue] ?? 0) + 1;
  });
  worker.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'go') {
      worker.start();
      timer = setInterval(() => send({ type: 'count', done }), 100);
    } else if (m.type === 'stop') {
      void (async () => {
        clearInterval(timer);
        await worker.close({ timeoutMs: 5000 });
        await backend.close();
        process.send?.({ type: 'done', done, latencies } satisfies ScaleChildMessage, () => process.exit(0));
      })().catch(fatal);
    }
  });
  await backend.client.ping();
  send({ type: 'ready' });
}

function fatal(e: unknown): void {
  send({ type: 'fatal', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  setTimeout(() => process.exit(1), 100);
}

main().catch(fatal);
