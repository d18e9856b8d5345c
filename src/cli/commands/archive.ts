/**
 * `retraced archive run|migrate|status`: the PostgreSQL archive of finished jobs (src/archive/).
 * `run` archives every queue of a Redis until SIGINT/SIGTERM (several may run at once: they take
 * turns per queue); `migrate` applies the schema; `status` shows what is pending and held per queue
 * and what the archive holds.
 * @module
 */
import { durationValue, intValue, listValue, OUTPUT_OPTIONS, type OptionSpecs } from '../args.js';
import { postgresUrl, POSTGRES_OPTIONS } from '../archive.js';
import { openRedis } from '../backend.js';
import { command, group } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { exitSoon, untilSignal } from '../lifecycle.js';
import type { ArchiveStatus } from '../../backend.js';

const REDIS_OPTIONS = {
  redis: {
    type: 'string',
    arg: 'URL',
    help: 'the Redis holding the queues (env RETRACED_REDIS_URL) (required)',
  },
  prefix: { type: 'string', arg: 'PREFIX', help: 'Redis key prefix (env RETRACED_PREFIX) [default: rt]' },
} as const satisfies OptionSpecs;

function redisUrl(raw: string | undefined): { url: string; source: string } {
  const url = raw ?? (process.env.RETRACED_REDIS_URL || undefined);
  if (url === undefined) throw new UsageError('--redis URL is required (or set RETRACED_REDIS_URL)');
  return { url, source: raw ? '--redis' : 'RETRACED_REDIS_URL' };
}

const run = command(
  {
    name: 'archive run',
    usage: '--redis URL --postgres URL [--queues A,B] [--retain DURATION]',
    summary:
      'Copies every finished job (completed, dead, cancelled) with all its attempts from Redis into PostgreSQL, until SIGINT/SIGTERM. Turns the archive on for each queue: from then on Redis retention evicts a job only once it is archived. Applies the schema first.',
    options: {
      ...REDIS_OPTIONS,
      ...POSTGRES_OPTIONS,
      queues: {
        type: 'string',
        arg: 'A,B',
        help: 'only these queues [default: every queue, listed every 5 s]',
      },
      retain: {
        type: 'string',
        arg: 'DURATION',
        help: 'delete archived jobs finished longer ago than this (e.g. 90d), counted [default: keep]',
      },
      batch: { type: 'string', arg: 'N', help: 'jobs per batch [default: 1000]' },
      ...OUTPUT_OPTIONS,
    },
    examples: [
      'retraced archive run --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values }, out) => {
    const redis = redisUrl(values.redis);
    const pg = postgresUrl(values.postgres, true) as string;
    const retainMs = durationValue(values.retain, '--retain');
    const batchSize = intValue(values.batch, '--batch', 1, 10_000);
    const queues = listValue(values.queues);
    const prefix = values.prefix ?? (process.env.RETRACED_PREFIX || undefined);
    const opened = await openRedis({ url: redis.url, prefix, source: redis.source }, { longLived: true });
    try {
      const { PgArchive } = await import('../../archive/pg-archive.js');
      const { Archiver } = await import('../../archive/archiver.js');
      const archive = new PgArchive({
        connection: pg,
        ...(values['archive-schema'] !== undefined ? { schema: values['archive-schema'] } : {}),
      });
      const archiver = new Archiver({
        backend: opened.backend,
        archive,
        ...(queues ? { queues } : {}),
        ...(retainMs !== undefined ? { retainMs } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        onError: (e) => out.note(`archive: ${e instanceof Error ? e.message : String(e)} (retrying)`),
      });
      const stopped = untilSignal();
      try {
        await archiver.start();
        out.note(
          `archiver ${archiver.owner}: ${opened.description} → PostgreSQL schema ${archive.schema}. Ctrl-C to stop.`,
        );
        const signal = await stopped;
        out.note(`${signal}: stopping after the batches in flight…`);
        await archiver.close();
      } finally {
        await archive.close();
      }
      out.result(archiver.stats, () =>
        out.line(
          `archived ${archiver.stats.archived} jobs (${archiver.stats.attempts} new attempts) in ${archiver.stats.batches} batches; pruned ${archiver.stats.pruned}`,
        ),
      );
    } finally {
      await opened.close();
    }
    exitSoon(0);
  },
);

const migrate = command(
  {
    name: 'archive migrate',
    usage: '--postgres URL',
    summary:
      'Applies the archive schema to PostgreSQL (each migration once; safe to run again, and at once).',
    options: { ...POSTGRES_OPTIONS, ...OUTPUT_OPTIONS },
    examples: ['retraced archive migrate --postgres postgres://127.0.0.1/retraced'],
  },
  async ({ values }, out) => {
    const { PgArchive } = await import('../../archive/pg-archive.js');
    const archive = new PgArchive({
      connection: postgresUrl(values.postgres, true) as string,
      ...(values['archive-schema'] !== undefined ? { schema: values['archive-schema'] } : {}),
    });
    try {
      const version = await archive.migrate();
      out.result({ schema: archive.schema, version }, () =>
        out.line(`archive schema ${archive.schema} at version ${version}`),
      );
    } finally {
      await archive.close();
    }
  },
);

const status = command(
  {
    name: 'archive status',
    usage: '--redis URL --postgres URL',
    summary:
      'Per queue: whether it is archived, jobs pending (finished, not archived yet) and held (retention would evict them); and what the archive holds (jobs, attempts, bytes, pruned).',
    options: { ...REDIS_OPTIONS, ...POSTGRES_OPTIONS, ...OUTPUT_OPTIONS },
    examples: [
      'retraced archive status --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values }, out) => {
    const redis = redisUrl(values.redis);
    const prefix = values.prefix ?? (process.env.RETRACED_PREFIX || undefined);
    const opened = await openRedis({ url: redis.url, prefix, source: redis.source }, { longLived: false });
    const { PgArchive } = await import('../../archive/pg-archive.js');
    const archive = new PgArchive({
      connection: postgresUrl(values.postgres, true) as string,
      ...(values['archive-schema'] !== undefined ? { schema: values['archive-schema'] } : {}),
    });
    try {
      const names = await opened.backend.listQueues();
      const queues: ({ name: string } & ArchiveStatus)[] = [];
      for (const name of names) queues.push({ name, ...(await opened.backend.archiveStatus(name)) });
      const stats = await archive.stats();
      const archiveDefault = await opened.backend.archiveDefault();
      out.result({ queues, archiveDefault, archive: stats }, () => {
        out.table(
          [
            { header: 'QUEUE' },
            { header: 'ARCHIVE' },
            { header: 'PENDING', align: 'right' as const },
            { header: 'HELD', align: 'right' as const },
          ],
          queues.map((q) => [
            q.name,
            q.enabled ? 'on' : 'off',
            String(q.pending),
            String(q.held.completed + q.held.dead + q.held.cancelled),
          ]),
          '(no queues)',
        );
        out.line(
          archiveDefault
            ? 'new queues: archived as soon as they are given retention (an archiver of every queue ran)'
            : 'new queues: archived once an archiver lists them',
        );
        out.line(
          `archive (schema ${archive.schema}, version ${stats.schemaVersion}): ${stats.jobs} jobs, ${stats.attempts} attempts, ${stats.bytes} bytes${stats.jobs > 0 ? ` (${Math.round(stats.bytes / stats.jobs)} per job)` : ''}, ${stats.pruned} pruned`,
        );
      });
    } finally {
      await archive.close();
      await opened.close();
    }
  },
);

export const archive = group(
  'archive',
  'The PostgreSQL archive of finished jobs: run the archiver, apply the schema, see the backlog.',
  [run, migrate, status],
);
