/**
 * Redis Cluster URLs: `redis-cluster://[user:password@]host:port[,host:port…]` (or
 * `rediss-cluster://` for TLS), the cluster's seed nodes. Read without loading ioredis (the CLI
 * checks a URL before it loads anything).
 * @module
 */
import { ValidationError } from '../../errors.js';

/** The URL schemes of a cluster's seed list. */
const CLUSTER = /^(rediss?)-cluster:\/\/(.*)$/i;

export interface ClusterSeeds {
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly nodes: readonly { host: string; port: number }[];
}

/** Whether `text` names a Redis Cluster (its scheme is `redis-cluster:` or `rediss-cluster:`). */
export function isClusterUrl(text: string): boolean {
  return CLUSTER.test(text);
}

/**
 * Reads a cluster URL. Errors name the field and never echo a password.
 * @param field the option or flag the text came from, for the error
 */
export function parseClusterUrl(text: string, field = 'connection'): ClusterSeeds {
  const m = CLUSTER.exec(text);
  if (!m) throw new ValidationError(field, 'a URL redis-cluster://[user:password@]host:port[,host:port…]');
  let rest = m[2] as string;
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
  }
  rest = rest.replace(/\/.*$/, ''); // no database on a cluster: only db 0 exists
  const nodes = rest.split(',').map((hp) => {
    const mm = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(hp.trim());
    const port = mm ? Number(mm[2]) : NaN;
    if (!mm || port < 1 || port > 65535) {
      throw new ValidationError(
        field,
        'a cluster URL whose nodes are host:port, apart by commas (redis-cluster://host:7000,host:7001)',
        hp.trim(),
      );
    }
    return { host: (mm[1] as string).replace(/^\[|\]$/g, ''), port };
  });
  return { tls: m[1]!.toLowerCase() === 'rediss', username, password, nodes };
}
