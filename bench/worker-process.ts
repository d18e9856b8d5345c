/**
 * One worker process of the multi-process scenarios, driven by the harness over IPC (see
 * lib/procs.ts). Not meant to be run by hand:
 *
 *   node --import tsx bench/worker-process.ts <system> <redisUrl> <queue> <concurrency> <handler> <attempts> <index>
 */
import { createAdapter } from './adapters/index.js';
import type { ChildMessage, ParentMessage } from './lib/procs.js';
import { SYSTEMS, type HandlerKind, type SystemName, type WorkerHandle } from './lib/types.js';

function send(m: ChildMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const [system, redisUrl, queue, concurrency, handler, attempts] = process.argv.slice(2);
  if (!process.send) {
    throw new Error('worker-process.ts is started by the bench harness (it needs an IPC channel)');
  }
  if (!SYSTEMS.includes(system as SystemName)) throw new Error(`unknown system ${String(system)}`);
  if (!redisUrl || !queue) {
    throw new Error(
      'usage: worker-process.ts <system> <redisUrl> <queue> <concurrency> <handler> <attempts> <index>',
    );
  }
  const adapter = createAdapter(system as SystemName);
  await adapter.setup(redisUrl, queue, { attempts: Number(attempts) });
  const runs: number[] = [];
  const seen = new Map<number, number>();
  const worker: WorkerHandle = await adapter.createWorker({
    concurrency: Number(concurrency),
    handler: handler as HandlerKind,
    sink: {
      onRun(i) {
        runs.push(i);
        const n = (seen.get(i) ?? 0) + 1;
        seen.set(i, n);
        return handler === 'fail-twice' && n <= 2;
      },
    },
  });
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'go') {
      void worker.go().then(() => send({ type: 'started' }), fatal);
    } else if (m.type === 'stop') {
      void (async () => {
        await worker.close();
        await adapter.close();
        // Everything is closed: exit as soon as the parent has the message (a library's lingering
        // timer must not keep the process, and the harness, waiting).
        process.send?.({ type: 'done', runs, errors: worker.errors } satisfies ChildMessage, () =>
          process.exit(0),
        );
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
