/**
 * The archive in the CLI: the `--postgres URL` option shared by `archive`, `server`, `worker` and
 * `dev`, and starting an archiver in-process (src/archive/).
 * @module
 */
import type { Archiver } from '../archive/archiver.js';
import type { PgArchive } from '../archive/pg-archive.js';
import type { Backend } from '../backend.js';
import { ValidationError } from '../errors.js';
import { durationValue } from './args.js';
import type { Output } from './output.js';

export const POSTGRES_OPTIONS = {
  postgres: {
    type: 'string',
    arg: 'URL',
    help: 'archive finished jobs in this PostgreSQL (postgres://…; env RETRACED_POSTGRES_URL): retention then evicts a job only once archived, and evicted jobs stay readable [default: no archive]',
  },
  'archive-schema': {
    type: 'string',
    arg: 'NAME',
    help: 'PostgreSQL schema of the archive [default: retraced]',
  },
} as const;

/** The archive options of the commands that run an archiver in-process (`server`, `worker`, `dev`). */
export const IN_PROCESS_ARCHIVE_OPTIONS = {
  ...POSTGRES_OPTIONS,
  'archive-retain': {
    type: 'string',
    arg: 'DURATION',
    help: 'with --postgres: delete archived jobs finished longer ago than this (e.g. 90d), counted [default: keep]',
  },
} as const;

/** The archive flags as parsed (`POSTGRES_OPTIONS`). */
export interface ArchiveFlags {
  readonly 'archive-schema'?: string | undefined;
  readonly 'archive-retain'?: string | undefined;
}

/** The PostgreSQL URL from the flag or the environment, checked; undefined when none. */
export function postgresUrl(raw: string | undefined, required = false): string | undefined {
  const url = raw ?? (process.env.RETRACED_POSTGRES_URL || undefined);
  if (url === undefined) {
    if (required) throw new ValidationError('--postgres', 'a postgres:// URL (or set RETRACED_POSTGRES_URL)');
    return undefined;
  }
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')) {
    throw new ValidationError(
      '--postgres',
      'a postgres:// or postgresql:// URL',
      '(not shown: may hold a password)',
    );
  }
  return url;
}

export interface RunningArchive {
  readonly archive: PgArchive;
  readonly archiver: Archiver;
  close(): Promise<void>;
}

/**
 * Opens the archive, migrates it and starts an archiver over every queue of `backend` (or `queues`),
 * pruning the archive by age when `--archive-retain` is given (as `archive run --retain`).
 * `release` (closing the archiver's own backend) runs once the archiver has stopped, or when it
 * cannot start.
 */
export async function startArchive(
  backend: Backend,
  url: string,
  flags: ArchiveFlags,
  out: Output,
  queues?: readonly string[],
  release?: () => Promise<void>,
): Promise<RunningArchive> {
  try {
    return await openArchive(backend, url, flags, out, queues, release);
  } catch (e) {
    await release?.();
    throw e;
  }
}

async function openArchive(
  backend: Backend,
  url: string,
  flags: ArchiveFlags,
  out: Output,
  queues: readonly string[] | undefined,
  release: (() => Promise<void>) | undefined,
): Promise<RunningArchive> {
  const schema = flags['archive-schema'];
  const retainMs = durationValue(flags['archive-retain'], '--archive-retain');
  const [{ PgArchive }, { Archiver }] = await Promise.all([
    import('../archive/pg-archive.js'),
    import('../archive/archiver.js'),
  ]);
  const archive = new PgArchive({ connection: url, ...(schema !== undefined ? { schema } : {}) });
  let failing = false;
  const archiver = new Archiver({
    backend,
    archive,
    ...(queues ? { queues } : {}),
    ...(retainMs !== undefined ? { retainMs } : {}),
    onError: (e) => {
      if (!failing) {
        out.note(`archive: ${e instanceof Error ? e.message : String(e)} (retrying; jobs stay in Redis)`);
      }
      failing = true;
    },
  });
  try {
    await archiver.start();
  } catch (e) {
    await archive.close();
    throw e;
  }
  return {
    archive,
    archiver,
    async close() {
      await archiver.close();
      await archive.close();
      await release?.();
    },
  };
}
