/**
 * Opening a Redis backend from the command line: the URL is checked before anything connects,
 * the first connection must succeed (otherwise exit 5 with the address, not a retry loop), and a
 * password in the URL is never printed.
 * @module
 */
import type { Backend } from '../backend.js';
import { ValidationError } from '../errors.js';
import { CliError, UsageError } from './exit-codes.js';
import { redactUrl } from './redact.js';
import { isClusterUrl, parseClusterUrl } from '../backends/redis/cluster-url.js';

export interface OpenedBackend {
  readonly backend: Backend;
  /** Where it lives, safe to print. */
  readonly description: string;
  close(): Promise<void>;
}

export interface RedisTarget {
  readonly url: string;
  readonly prefix: string | undefined;
  /** The flag or variable the URL came from, for messages. */
  readonly source: string;
}

export function checkRedisUrl(url: string, field: string): void {
  if (isClusterUrl(url)) {
    try {
      parseClusterUrl(url, field);
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(field, e.rule, redactUrl(url));
      throw e;
    }
    return;
  }
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') {
    throw new ValidationError(
      field,
      'a redis:// or rediss:// URL such as redis://127.0.0.1:6379, or a cluster URL redis-cluster://host:port[,host:port…]',
      redactUrl(url),
    );
  }
}

/**
 * Connects to Redis and wraps it in a RedisBackend. One-shot commands (`longLived: false`) give up
 * on a request after one retry; servers and workers reconnect forever once the first connection
 * has worked, since Redis restarts are routine for them. Messages show the URL through
 * {@link redactUrl}: never its password.
 */
export async function openRedis(
  target: RedisTarget,
  options: { longLived: boolean },
): Promise<OpenedBackend> {
  checkRedisUrl(target.url, target.source);
  const durability = process.env.RETRACED_DURABILITY;
  if (durability !== undefined && durability !== 'none' && durability !== 'replicated') {
    throw new UsageError(
      `RETRACED_DURABILITY must be none or replicated (WAIT for a replica after every write), received ${JSON.stringify(durability)}`,
    );
  }
  // Loaded here, not at startup: commands talking to a server (--url) never need them.
  const [{ connectRedis }, { RedisBackend }] = await Promise.all([
    import('../backends/redis/connect.js'),
    import('../backends/redis/index.js'),
  ]);
  const giveUp = (n: number): number | null => (n > 2 ? null : 200);
  const client = connectRedis(
    target.url,
    {
      lazyConnect: true,
      connectTimeout: 5000,
      ...(options.longLived ? {} : { maxRetriesPerRequest: 1, retryStrategy: giveUp }),
    },
    options.longLived ? {} : { clusterRetryStrategy: giveUp },
  );
  let lastError: Error | undefined;
  const onError = (e: Error): void => {
    lastError = e;
  };
  client.on('error', onError);
  const description = redactUrl(target.url);
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    const cause = lastError ?? (e instanceof Error ? e : undefined);
    throw new CliError(
      'RETRACED_CLI_UNREACHABLE',
      `cannot reach Redis at ${description}: ${cause?.message ?? String(e)}`,
      { cause },
    );
  }
  const backend = new RedisBackend({
    connection: client,
    ...(target.prefix !== undefined ? { prefix: target.prefix } : {}),
    ...(durability !== undefined ? { durability } : {}),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  let closed: Promise<void> | undefined;
  return {
    backend,
    description: `redis ${description}${target.prefix ? ` (prefix ${target.prefix})` : ''}`,
    close: () =>
      (closed ??= (async () => {
        await backend.close();
        await client.quit().catch(() => client.disconnect());
        client.off('error', onError);
      })()),
  };
}
