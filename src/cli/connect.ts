/**
 * Which scheduler a client command talks to (flags first, then the environment), and opening the
 * matching {@link Client}: {@link DirectClient} over Redis or {@link HttpClient} over a server.
 * @module
 */
import type { CONNECTION_OPTIONS, Values } from './args.js';
import { openRedis, type RedisTarget } from './backend.js';
import type { Client } from './client.js';
import { DirectClient } from './client-direct.js';
import { HttpClient } from './client-http.js';
import { UsageError } from './exit-codes.js';

export type ConnectionValues = Values<typeof CONNECTION_OPTIONS>;

export type Connection =
  | { readonly kind: 'redis'; readonly redis: RedisTarget }
  | { readonly kind: 'http'; readonly url: string; readonly token: string | undefined };

const NEITHER = `no scheduler to talk to: pass --redis URL (Redis directly) or --url URL (a running \`retraced server\`),
or set RETRACED_REDIS_URL or RETRACED_URL. To try ReTraced locally, run \`retraced dev\` and use the --url it prints.`;

/** Flags first, then the environment; exactly one of Redis and a server. */
export function resolveConnection(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  if (values.redis !== undefined && values.url !== undefined) {
    throw new UsageError('pass either --redis or --url, not both');
  }
  const prefix = values.prefix ?? (env.RETRACED_PREFIX || undefined);
  const token = values.token ?? (env.RETRACED_TOKEN || undefined);
  if (values.redis !== undefined) {
    return { kind: 'redis', redis: { url: values.redis, prefix, source: '--redis' } };
  }
  if (values.url !== undefined) return { kind: 'http', url: values.url, token };
  const envRedis = env.RETRACED_REDIS_URL || undefined;
  const envUrl = env.RETRACED_URL || undefined;
  if (envRedis !== undefined && envUrl !== undefined) {
    throw new UsageError('both RETRACED_REDIS_URL and RETRACED_URL are set: pass --redis or --url to choose');
  }
  if (envRedis !== undefined) {
    return { kind: 'redis', redis: { url: envRedis, prefix, source: 'RETRACED_REDIS_URL' } };
  }
  if (envUrl !== undefined) return { kind: 'http', url: envUrl, token };
  throw new UsageError(NEITHER);
}

/**
 * Opens the client. With `archive` (a command's `--postgres`, see SOURCE_OPTIONS in commands/dlq-filter.ts) the direct
 * client reads the PostgreSQL archive too (its queues find evicted jobs, `--source archive|all`);
 * a server reads its own archive, so `--postgres` with `--url` is a usage error.
 */
export async function connect(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
  archive?: { readonly url: string; readonly schema: string | undefined },
): Promise<Client> {
  const c = resolveConnection(values, env);
  if (c.kind === 'http') {
    if (archive) {
      throw new UsageError(
        '--postgres reads the archive with --redis; a server reads its own (`retraced server --postgres`)',
      );
    }
    return new HttpClient(c.url, c.token);
  }
  const opened = await openRedis(c.redis, { longLived: false });
  if (!archive) return new DirectClient(opened.backend, opened.description, () => opened.close());
  const { PgArchive } = await import('../archive/pg-archive.js');
  const pg = new PgArchive({
    connection: archive.url,
    poolSize: 1,
    ...(archive.schema !== undefined ? { schema: archive.schema } : {}),
  });
  return new DirectClient(
    opened.backend,
    opened.description,
    async () => {
      await pg.close();
      await opened.close();
    },
    pg,
  );
}
