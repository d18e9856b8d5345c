/**
 * An archiver process for the fault suite (scenario 12, the archive): the Archiver of src/archive/
 * on one queue, between its Redis and a PostgreSQL, run as
 *
 *   node --import tsx test/faults/archiver-process.ts '<json ArchiverProcessConfig>'
 *
 * stdout: one JSON object per line: {ev:'ready', pid}, {ev:'written', jobs, attempts, n, at} after
 * each batch's PostgreSQL write committed (before the batch is marked archived in Redis: a SIGKILL
 * between the two leaves a batch written and still pending, to be written again), {ev:'error',
 * message, at} for each failed round (PostgreSQL or Redis unreachable; the archiver retries), and
 * {ev:'fatal', message}. SIGTERM closes the archiver after the batches in flight and exits 0.
 */
import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import type { ArchiverProcessConfig } from './shared.js';

function out(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ArchiverProcessConfig;
  const backend = new RedisBackend({ connection: cfg.url, prefix: cfg.prefix, onWarning: () => undefined });
  const archive = new PgArchive({ connection: cfg.pgUrl, schema: cfg.schema });
  const archiver = new Archiver({
    backend,
    archive: {
      migrate: () => archive.migrate(),
      prune: (q, before, batch) => archive.prune(q, before, batch),
      write: async (q, jobs) => {
        const w = await archive.write(q, jobs);
        out({ ev: 'written', jobs: w.jobs, attempts: w.attempts, n: jobs.length, at: Date.now() });
        if (cfg.holdAfterWriteMs) await new Promise((r) => setTimeout(r, cfg.holdAfterWriteMs));
        return w;
      },
    },
    queues: [cfg.queue],
    owner: cfg.owner,
    batchSize: cfg.batchSize,
    leaseMs: cfg.leaseMs,
    idleMs: cfg.idleMs ?? 50,
    onError: (e) => out({ ev: 'error', message: e instanceof Error ? e.message : String(e), at: Date.now() }),
  });
  let closing = false;
  process.on('SIGTERM', () => {
    if (closing) return;
    closing = true;
    void archiver
      .close()
      .then(() => archive.close())
      .then(() => backend.close())
      .finally(() => process.exit(0));
  });
  // The schema may be unreachable at start (PostgreSQL down): retry like the archiver does.
  for (;;) {
    try {
      await archiver.start();
      break;
    } catch (e) {
      out({ ev: 'error', message: e instanceof Error ? e.message : String(e), at: Date.now() });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  out({ ev: 'ready', pid: process.pid, owner: cfg.owner });
}

main().catch((e: unknown) => {
  out({ ev: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
});
