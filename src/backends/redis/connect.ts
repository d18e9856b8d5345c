/**
 * Connection texts → ioredis clients. A single Redis: `redis://[user:password@]host:port[/db]` (or
 * `rediss://` for TLS), as ioredis reads it. A Redis Cluster: `redis-cluster://[user:password@]host:port[,host:port…]`
 * (or `rediss-cluster://`), the seed nodes of the cluster: any reachable master or replica will do,
 * the client discovers the rest and follows slot moves and failovers.
 * @module
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';

import { isClusterUrl, parseClusterUrl } from './cluster-url.js';

/**
 * A client for a connection text: a `Cluster` for a cluster URL, else a `Redis`. `options` apply
 * to every connection (for a cluster, to each node's).
 */
export function connectRedis(
  text: string,
  options: RedisOptions = {},
  clusterOptions: ClusterOptions = {},
): Redis | Cluster {
  if (!isClusterUrl(text)) return new Redis(text, options);
  const seeds = parseClusterUrl(text);
  const redisOptions: RedisOptions = {
    ...options,
    ...(seeds.username !== undefined ? { username: seeds.username } : {}),
    ...(seeds.password !== undefined ? { password: seeds.password } : {}),
    ...(seeds.tls ? { tls: {} } : {}),
  };
  return new Cluster(seeds.nodes as ClusterNode[], {
    redisOptions,
    // Scripts are loaded per node by EVALSHA with a fallback to EVAL: nothing to pre-load.
    scaleReads: 'master',
    // A failover moves slots: follow MOVED / ASK, and retry while a replica is promoted.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
    ...clusterOptions,
  });
}
