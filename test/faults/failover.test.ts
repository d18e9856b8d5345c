/**
 * Scenario 11, Redis Cluster failover: a real local cluster (3 masters, 1 replica each,
 * cluster-node-timeout 1 s). A producer adds jobs to 6 queues (spread over the masters) while
 * in-process workers run them; the master that holds the first queue's slot is SIGKILLed mid-run.
 * Its replica is promoted, and the producer's and the workers' cluster clients follow the slots by
 * themselves (MOVED, refresh): nobody is told.
 *
 * Judged per job, by what the callers were told:
 * - a lost add: `queue.add` resolved (acknowledged) but the job is missing at the end;
 * - a lost finish: the worker's finish was acknowledged (`completed` emitted) but the job ran
 *   again afterwards, or is not completed at the end (the promoted replica had not received it).
 *
 * With `durability: 'replicated'` (WAIT 1 after each add and finish) both must be 0. Without it
 * Redis replicates asynchronously, and what a failover loses is measured and reported (on one
 * machine the replica is usually microseconds behind, so the loss is small and may be 0: the test
 * does not assert it, docs/reliability.md reports it).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { queueKeys } from '../../src/backends/redis/keys.js';
import { RedisBackend, type Durability } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { addClusterReplica, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { hasRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { sized, SCALE, writeReport } from './harness.js';

const QUEUES = Array.from({ length: 6 }, (_, i) => `fo-${i}`);
const RUN_MS = sized(5000, 20_000);
const KILL_AT_MS = sized(1500, 8000);
/** Adds in flight at a time (each producer loop waits for its add before the next). */
const PRODUCERS = 8;
const LEASE_MS = 2000;

interface Outcome {
  readonly durability: string;
  readonly accepted: number;
  readonly completed: number;
  readonly lostAdds: number;
  readonly lostFinishes: number;
  readonly refusedAdds: number;
  readonly replicationErrors: number;
  readonly rerunsAfterAck: number;
  readonly duplicatedRuns: number;
  readonly unavailableMs: number;
  /** From the SIGKILL to a live node naming the replica as the slot's master. */
  readonly promotedAfterMs: number;
  /** From the SIGKILL to a new replica of the promoted master being synced. */
  readonly replicaAddedAfterMs: number;
  readonly stuck: number;
  /** What the first few stuck jobs look like (state, attempts), for the report. */
  readonly stuckJobs: readonly string[];
  /** Completed, but the worker never got its finish answered (no \`completed\` event). */
  readonly unacknowledgedFinishes: number;
  readonly durationMs: number;
}

/** The port of the master serving `key`'s slot. */
async function masterPortOf(cluster: RedisCluster, key: string, client?: Redis): Promise<number> {
  const c = client ?? new Redis(cluster.nodes[0]!.url);
  try {
    const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
    const slots = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return Number(range[2][1]);
  } finally {
    if (!client) c.disconnect();
  }
}

async function run(durability: Durability): Promise<Outcome> {
  const cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
  const backends: RedisBackend[] = [];
  const workers: Worker[] = [];
  const started = Date.now();
  let spare: RedisServer | undefined;
  try {
    const producerBackend = new RedisBackend({
      connection: cluster.url,
      prefix: 'fo',
      durability,
      onWarning: () => {},
    });
    const workerBackend = new RedisBackend({
      connection: cluster.url,
      prefix: 'fo',
      durability,
      onWarning: () => {},
    });
    backends.push(producerBackend, workerBackend);
    const acked = new Map<string, number>(); // `${queue}/${id}` → data.i
    const completedAt = new Map<string, number>(); // acknowledged finishes: key → when
    const runs = new Map<string, number>();
    let rerunsAfterAck = 0;
    let refusedAdds = 0;
    let replicationErrors = 0;
    let lastAckAt = 0;
    let longestGap = 0;

    for (const name of QUEUES) {
      const w = new Worker(
        new Queue(name, { backend: workerBackend }),
        (job) => {
          const key = `${name}/${job.id}`;
          runs.set(key, (runs.get(key) ?? 0) + 1);
          if (completedAt.has(key)) rerunsAfterAck++;
          return 'ok';
        },
        { concurrency: 10, leaseMs: LEASE_MS, idleCheckMs: 50 },
      );
      w.on('completed', (e) => completedAt.set(`${name}/${e.id}`, Date.now()));
      w.on('error', () => undefined);
      workers.push(w);
    }

    const victim = await masterPortOf(cluster, queueKeys('fo', QUEUES[0]!).job('x'));
    let killedAt = 0;
    let promotedAt = 0;
    let replacedAt = 0;
    const killer = (async () => {
      await sleep(KILL_AT_MS);
      killedAt = Date.now();
      cluster.nodes.find((n) => n.port === victim)?.kill9();
      // The replica is promoted when a live node says another port serves the slot.
      const probe = new Redis(cluster.nodes.find((n) => n.port !== victim)!.url);
      try {
        while (Date.now() - killedAt < 30_000) {
          const port = await masterPortOf(cluster, queueKeys('fo', QUEUES[0]!).job('x'), probe);
          if (port !== victim) {
            promotedAt = Date.now();
            // The promoted master has no replica: an operator adds one (with 'replicated', its
            // writes are refused until then; with 'none' they carry on unprotected).
            spare = await addClusterReplica(port, { nodeTimeoutMs: 1000 });
            replacedAt = Date.now();
            break;
          }
          await sleep(50);
        }
      } finally {
        probe.disconnect();
      }
    })();

    let i = 0;
    const deadline = Date.now() + RUN_MS;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (Date.now() < deadline) {
          const n = i++;
          const queue = QUEUES[n % QUEUES.length]!;
          try {
            const { id } = await new Queue(queue, { backend: producerBackend }).add('job', { i: n });
            acked.set(`${queue}/${id}`, n);
            const now = Date.now();
            if (lastAckAt > 0) longestGap = Math.max(longestGap, now - lastAckAt);
            lastAckAt = now;
          } catch (e) {
            refusedAdds++;
            if ((e as { code?: string }).code === 'RETRACED_ERR_REPLICATION') replicationErrors++;
            await sleep(20);
          }
        }
      }),
    );
    await killer;

    // Every acknowledged job completes (a claim or finish the failover lost is repaired by the lease).
    const settleUntil = Date.now() + 30_000;
    const finalState = async (key: string): Promise<string | undefined> => {
      const [queue = '', id = ''] = key.split('/');
      const job = await new Queue(queue, { backend: producerBackend }).getJob(id);
      return job?.state;
    };
    // Stuck: acknowledged, and not completed at the end. A job completed whose finish the worker
    // never saw answered (its reply lost with the master, and the resends ran out) is counted
    // apart: completed, not stuck.
    let stuck = 0;
    let unacknowledgedFinishes = 0;
    const stuckJobs: string[] = [];
    for (;;) {
      let pending = [...acked.keys()].filter((k) => !completedAt.has(k));
      if (pending.length > 0 && pending.length < 50) {
        const states = await Promise.all(pending.map(finalState));
        pending = pending.filter((_, j) => states[j] !== 'completed');
      }
      if (pending.length === 0 || Date.now() > settleUntil) {
        stuck = pending.length;
        for (const key of pending.slice(0, 5)) {
          const [queue = '', id = ''] = key.split('/');
          const job = await new Queue(queue, { backend: producerBackend }).getJob(id);
          stuckJobs.push(
            `${key}: ${job ? `${job.state}, attempts ${JSON.stringify(job.attempts.map((a) => [a.outcome, a.startedAt - killedAt]))}` : 'missing'}`,
          );
        }
        break;
      }
      await sleep(200);
    }
    await Promise.all(workers.splice(0).map((w) => w.close()));
    // Finishes that applied but whose answer never reached the worker (closing waited for resends).
    unacknowledgedFinishes = [...acked.keys()].filter((k) => !completedAt.has(k)).length - stuck;

    let lostAdds = 0;
    let lostFinishes = 0;
    for (const [key, n] of acked) {
      const [queue = '', id = ''] = key.split('/');
      const job = await new Queue(queue, { backend: producerBackend }).getJob(id);
      if (!job || (job.data as { i?: number }).i !== n) lostAdds++;
    }
    for (const key of completedAt.keys()) {
      if ((await finalState(key)) !== 'completed') lostFinishes++;
    }
    lostFinishes += rerunsAfterAck;
    const duplicatedRuns = [...runs.values()].filter((r) => r > 1).length;
    return {
      durability: typeof durability === 'string' ? durability : JSON.stringify(durability),
      accepted: acked.size,
      completed: completedAt.size,
      lostAdds,
      lostFinishes,
      refusedAdds,
      replicationErrors,
      rerunsAfterAck,
      duplicatedRuns,
      unavailableMs: killedAt > 0 ? longestGap : 0,
      promotedAfterMs: promotedAt > 0 ? promotedAt - killedAt : -1,
      replicaAddedAfterMs: replacedAt > 0 ? replacedAt - killedAt : -1,
      stuck,
      stuckJobs,
      unacknowledgedFinishes,
      durationMs: Date.now() - started,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(backends.map((b) => b.close()));
    await cluster.stop();
    await spare?.stop();
  }
}

function report(o: Outcome, scenario: string, title: string): void {
  writeReport({
    scenario,
    title,
    scale: SCALE,
    accepted: o.accepted,
    completed: o.completed,
    dead: 0,
    lost: o.lostAdds + o.lostFinishes,
    duplicated: o.duplicatedRuns,
    stuck: o.stuck,
    recoveryMs: null,
    durationMs: o.durationMs,
    notes: `durability ${o.durability}: lost adds ${o.lostAdds}, lost finishes ${o.lostFinishes}; finishes applied but never answered ${o.unacknowledgedFinishes}; adds refused during the failover ${o.refusedAdds} (${o.replicationErrors} not confirmed by a replica); replica promoted after ${o.promotedAfterMs} ms, a new replica synced after ${o.replicaAddedAfterMs} ms; longest gap between acknowledged adds ${o.unavailableMs} ms${o.stuckJobs.length > 0 ? `; stuck: ${o.stuckJobs.join('; ')}` : ''}`,
    details: { ...o },
  });
}

describe.skipIf(!hasRedisServer())('fault: Redis Cluster failover (a master SIGKILLed mid-run)', () => {
  it("durability 'replicated': no acknowledged add or finish is lost", async () => {
    const o = await run('replicated');
    report(o, 'failover-replicated', "11. Cluster failover, durability 'replicated'");
    expect(o.accepted).toBeGreaterThan(100);
    expect(o.lostAdds).toBe(0);
    expect(o.lostFinishes).toBe(0);
    expect(o.stuck).toBe(0);
  }, 120_000);

  it("durability 'none': the loss is measured and reported", async () => {
    const o = await run('none');
    report(o, 'failover-none', "11. Cluster failover, durability 'none'");
    expect(o.accepted).toBeGreaterThan(100);
    // Not asserted: what async replication loses here depends on timing (reported instead). A
    // lost add can never complete; nothing else may be stuck.
    expect(o.stuck).toBeLessThanOrEqual(o.lostAdds);
  }, 120_000);
});
