import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { hasRedisServer, startRedisServer } from '../helpers/redis-server.js';
import type { RedisServer } from '../helpers/redis-server.js';

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

describeRedis('redis test harness', () => {
  const clients: Redis[] = [];
  const servers: RedisServer[] = [];
  const client = (url: string): Redis => {
    const c = connect(url);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('provides a reachable Redis', async () => {
    const url = redisUrl();
    expect(url).toMatch(/^rediss?:\/\//);
    const redis = client(url!);
    expect(await redis.ping()).toBe('PONG');
    const [seconds, micros] = await redis.time();
    expect(Number(seconds)).toBeGreaterThan(1_600_000_000);
    expect(Number(micros)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(Number(seconds) * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it('uniquePrefix is letters and digits only, and unique', () => {
    const prefixes = Array.from({ length: 100 }, () => uniquePrefix());
    for (const p of prefixes) expect(p).toMatch(/^[a-z][a-z0-9]+$/);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('cleanupKeys deletes only the matching keys', async () => {
    const url = redisUrl()!;
    const redis = client(url);
    const mine = uniquePrefix();
    const other = uniquePrefix();
    try {
      const keys = Array.from({ length: 2500 }, (_, i) => `${mine}:k${i}`);
      for (let i = 0; i < keys.length; i += 500) {
        await redis.mset(...keys.slice(i, i + 500).flatMap((k) => [k, '1']));
      }
      await redis.set(`${other}:keep`, '1');
      expect(await cleanupKeys(url, `${mine}:*`)).toBe(2500);
      expect(await redis.exists(keys[0]!, keys[2499]!)).toBe(0);
      expect(await redis.get(`${other}:keep`)).toBe('1');
      await expect(cleanupKeys(url, '*')).rejects.toThrow(/overly broad/);
      await expect(cleanupKeys(url, '[ab]*?')).rejects.toThrow(/overly broad/);
    } finally {
      await cleanupKeys(url, `${mine}:*`);
      await cleanupKeys(url, `${other}:*`);
    }
  });

  it.skipIf(!hasRedisServer())(
    'startRedisServer starts a second server on another free port and stops it',
    async () => {
      const server = await startRedisServer();
      servers.push(server);
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(server.url).not.toBe(redisUrl());
      expect(server.pid).toBeGreaterThan(0);
      const redis = client(server.url);
      expect(await redis.ping()).toBe('PONG');
      const [, port] = (await redis.config('GET', 'port')) as [string, string];
      expect(Number(port)).toBe(server.port);
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
      expect(appendonly).toBe('no');
      const [, save] = (await redis.config('GET', 'save')) as [string, string];
      expect(save).toBe('');

      await server.stop();
      await server.stop(); // idempotent
      expect(() => process.kill(server.pid, 0)).toThrow();
      const probe = new Redis({ port: server.port, lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => {});
      await expect(probe.connect()).rejects.toThrow();
      probe.disconnect();
    },
  );

  it.skipIf(!hasRedisServer())('kill9 + restart on the same dir keeps AOF data', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-harness-'));
    try {
      const aof = ['--appendfsync', 'always'];
      const first = await startRedisServer({ appendonly: true, dir, extraArgs: aof });
      servers.push(first);
      await client(first.url).set('survives', 'yes');
      first.kill9();
      await first.stop(); // waits for the exit
      expect(() => process.kill(first.pid, 0)).toThrow();

      const second = await startRedisServer({ appendonly: true, dir, extraArgs: aof, port: first.port });
      servers.push(second);
      expect(second.pid).not.toBe(first.pid);
      expect(await client(second.url).get('survives')).toBe('yes');
    } finally {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
