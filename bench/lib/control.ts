/**
 * The harness's own connection to its own redis-server: flush between runs, read the server
 * clock, memory and versions.
 * @module
 */
import { Redis } from 'ioredis';

import { nowMs } from './types.js';

export interface ClockOffset {
  /** Redis TIME minus this machine's clock, in ms (add it to a local time to get server time). */
  readonly offsetMs: number;
  /** Round trip of the sample used. */
  readonly rttMs: number;
}

export class Control {
  readonly client: Redis;

  constructor(url: string) {
    this.client = new Redis(url, { maxRetriesPerRequest: 3, connectionName: 'bench-control' });
  }

  async flushAll(): Promise<void> {
    await this.client.flushall('SYNC');
  }

  async scriptFlush(): Promise<void> {
    await this.client.call('SCRIPT', 'FLUSH', 'SYNC');
  }

  async info(section: string): Promise<Record<string, string>> {
    const text = await this.client.info(section);
    const out: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  async usedMemory(): Promise<number> {
    return Number((await this.info('memory')).used_memory);
  }

  async redisVersion(): Promise<string> {
    return (await this.info('server')).redis_version ?? 'unknown';
  }

  /** Connected clients other than this one. */
  async otherClients(): Promise<number> {
    return Number((await this.info('clients')).connected_clients) - 1;
  }

  /** Redis server time in ms (microsecond resolution). */
  async serverTimeMs(): Promise<number> {
    const [s, us] = (await this.client.time()) as [number | string, number | string];
    return Number(s) * 1000 + Number(us) / 1000;
  }

  /** Offset of the Redis clock to ours: the TIME sample with the shortest round trip of a few. */
  async clockOffset(samples = 7): Promise<ClockOffset> {
    let best: ClockOffset | undefined;
    for (let k = 0; k < samples; k++) {
      const t0 = nowMs();
      const server = await this.serverTimeMs();
      const t1 = nowMs();
      const cand = { offsetMs: server - (t0 + t1) / 2, rttMs: t1 - t0 };
      if (!best || cand.rttMs < best.rttMs) best = cand;
    }
    return best!;
  }

  /** Every key with its `MEMORY USAGE … SAMPLES 0` (exact, all elements counted). */
  async keysMemory(): Promise<{ key: string; bytes: number }[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const out: { key: string; bytes: number }[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const slice = keys.slice(i, i + 1000);
      const p = this.client.pipeline();
      for (const k of slice) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
      const res = (await p.exec()) ?? [];
      res.forEach(([err, v], j) => {
        if (err) throw err;
        out.push({ key: slice[j]!, bytes: Number(v ?? 0) });
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
