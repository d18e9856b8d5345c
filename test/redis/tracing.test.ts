/**
 * OpenTelemetry spans (src/tracing.ts) with the SDK's in-memory exporter, on the memory backend and
 * on Redis: the producer span of an add, one consumer span per attempt linked to it (or its child),
 * the messaging and ReTraced attributes, the decision as a span event, and no span leaking into the
 * next job on any path.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { carrierText, contextFromCarrier } from '../../src/tracing.js';
import type { JobState } from '../../src/types.js';
import { Worker } from '../../src/worker.js';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from '../helpers/redis.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
afterEach(() => exporter.reset());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  f: () => T | Promise<T>,
  timeoutMs = 5000,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function settled(q: Queue, id: string, state: JobState): Promise<void> {
  await until(`job ${id} ${state}`, async () => (await q.getJob(id))?.state === state);
}

const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
const attemptSpans = (queue: string): ReadableSpan[] =>
  spans(`process ${queue}`).sort(
    (a, b) => (a.attributes['retraced.attempt'] as number) - (b.attributes['retraced.attempt'] as number),
  );
const parentId = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

function suite(label: string, makeBackend: () => Backend): void {
  describe(`tracing on ${label}`, () => {
    let backend: Backend;
    let n = 0;
    const workers: Worker[] = [];
    beforeAll(() => {
      backend = makeBackend();
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()));
    });
    afterAll(async () => {
      await backend.close();
    });
    const queue = (options: ConstructorParameters<typeof Queue>[1] = {}): Queue =>
      new Queue(`trace${++n}`, { backend, ...options });
    const worker = (...args: ConstructorParameters<typeof Worker>): Worker => {
      const w = new Worker(...args);
      workers.push(w);
      return w;
    };

    it('adds under a send span and runs each attempt in a process span linked to it', async () => {
      const q = queue();
      let handlerSpan: string | undefined;
      const tracer = trace.getTracer('test');
      worker(q, async () => {
        // The handler's own spans are children of the attempt's span.
        await tracer.startActiveSpan('inner', async (s) => {
          handlerSpan = s.spanContext().spanId;
          s.end();
        });
        return 'ok';
      });
      const { id } = await q.add('mail', { to: 'a' });
      await settled(q, id, 'completed');
      await until('process span', () => attemptSpans(q.name).length === 1);

      const [send] = spans(`send ${q.name}`);
      expect(send).toBeDefined();
      expect(send!.kind).toBe(SpanKind.PRODUCER);
      expect(send!.attributes).toMatchObject({
        'messaging.system': 'retraced',
        'messaging.destination.name': q.name,
        'messaging.operation.type': 'send',
        'messaging.message.id': id,
      });

      const [proc] = attemptSpans(q.name);
      expect(proc!.kind).toBe(SpanKind.CONSUMER);
      expect(proc!.attributes).toMatchObject({
        'messaging.system': 'retraced',
        'messaging.destination.name': q.name,
        'messaging.operation.type': 'process',
        'messaging.message.id': id,
        'retraced.attempt': 1,
        'retraced.trigger': 'auto',
        'retraced.outcome': 'succeeded',
      });
      // Linked, not a child: its own trace.
      expect(proc!.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId]);
      expect(proc!.spanContext().traceId).not.toBe(send!.spanContext().traceId);
      expect(parentId(proc!)).toBeUndefined();
      expect(proc!.events.map((e) => e.name)).toEqual(['retraced.done']);
      expect(proc!.status.code).toBe(SpanStatusCode.UNSET);

      const inner = spans('inner')[0]!;
      expect(inner.spanContext().spanId).toBe(handlerSpan);
      expect(parentId(inner)).toBe(proc!.spanContext().spanId);
    });

    it('a job that fails twice then succeeds has three attempt spans, the retries as events', async () => {
      const q = queue({ retry: { attempts: 5, backoff: { type: 'fixed', delayMs: 20 } } });
      worker(q, (job) => {
        if (job.attempt < 3) throw Object.assign(new Error('upstream down'), { code: 'ECONNRESET' });
        return 'ok';
      });
      const { id } = await q.add('sync', {});
      await settled(q, id, 'completed');
      const procs = await until('3 process spans', () => {
        const s = attemptSpans(q.name);
        return s.length === 3 ? s : undefined;
      });
      const [send] = spans(`send ${q.name}`);
      for (const s of procs) {
        expect(s.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId]);
        expect(s.attributes['messaging.message.id']).toBe(id);
      }
      expect(procs.map((s) => s.attributes['retraced.attempt'])).toEqual([1, 2, 3]);
      expect(procs.map((s) => s.attributes['retraced.outcome'])).toEqual(['failed', 'failed', 'succeeded']);
      for (const s of procs.slice(0, 2)) {
        expect(s.attributes).toMatchObject({
          'error.type': 'ECONNRESET',
          'retraced.error_class': 'temporary',
          'retraced.rule': 'code:ECONNRESET',
        });
        expect(s.status.code).toBe(SpanStatusCode.ERROR);
        const retry = s.events.find((e) => e.name === 'retraced.retry');
        expect(retry?.attributes).toMatchObject({
          'retraced.delay_ms': 20,
          'retraced.delay_source': 'policy',
        });
        expect(String(retry?.attributes?.['retraced.explanation'])).toMatch(/20 ms/);
        expect(typeof retry?.attributes?.['retraced.next_due_at']).toBe('number');
        expect(s.events.some((e) => e.name === 'exception')).toBe(true);
      }
      // The recorded history and the spans tell the same story.
      const job = await q.getJob(id);
      expect(
        job!.attempts.map((a) => (a.decision.action === 'retry' ? a.decision.explanation : null)),
      ).toEqual(
        procs.map(
          (s) =>
            s.events.find((e) => e.name === 'retraced.retry')?.attributes?.['retraced.explanation'] ?? null,
        ),
      );
    });

    it('a dead-letter is an event with its reason, and a replay carries who and the note', async () => {
      const q = queue();
      let fail = true;
      worker(q, () => {
        if (fail) throw new PermanentError('bad card');
        return 'ok';
      });
      const { id } = await q.add('charge', { card: 'x' });
      await settled(q, id, 'dead');
      await until('dead span', () => attemptSpans(q.name).length === 1);
      const [dead] = attemptSpans(q.name);
      expect(dead!.attributes).toMatchObject({
        'retraced.outcome': 'failed',
        'retraced.error_class': 'permanent',
        'retraced.rule': 'thrown:PermanentError',
      });
      const ev = dead!.events.find((e) => e.name === 'retraced.dead');
      expect(ev?.attributes).toMatchObject({ 'retraced.reason': 'permanent' });

      fail = false;
      await q.dlq.replay(id, { by: 'ops@example.com', note: 'card fixed' });
      await settled(q, id, 'completed');
      const procs = await until('2 process spans', () => {
        const s = attemptSpans(q.name);
        return s.length === 2 ? s : undefined;
      });
      expect(procs[1]!.attributes).toMatchObject({
        'retraced.attempt': 2,
        'retraced.trigger': 'manual',
        'retraced.manual.by': 'ops@example.com',
        'retraced.manual.note': 'card fixed',
      });
      // The replayed attempt still links to the span that added the job.
      const [send] = spans(`send ${q.name}`);
      expect(procs[1]!.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId]);
    });

    it('an attempt after a stall says so', async () => {
      const q = queue();
      const { id } = await q.add('report', {});
      // A worker that crashed: it claimed the job and never came back.
      const claimed = await backend.claim(q.name, { workerId: 'crashed', leaseMs: 100, max: 1 });
      expect(claimed.jobs.map((j) => j.id)).toEqual([id]);
      worker(q, () => 'ok', { leaseMs: 200 });
      await settled(q, id, 'completed');
      const [proc] = await until('process span', () => {
        const s = attemptSpans(q.name);
        return s.length === 1 ? s : undefined;
      });
      expect(proc!.attributes).toMatchObject({ 'retraced.attempt': 2, 'retraced.trigger': 'stall' });
    });

    it('an attempt whose finish is refused (cancelled meanwhile) ends its span with the refusal', async () => {
      const q = queue();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started = false;
      worker(q, async () => {
        started = true;
        await gate;
        return 'late';
      });
      const { id } = await q.add('slow', {});
      await until('handler started', () => started);
      await q.cancel(id, { by: 'ops', reason: 'not needed' });
      release();
      const [proc] = await until('process span', () => {
        const s = attemptSpans(q.name);
        return s.length === 1 ? s : undefined;
      });
      expect(proc!.events.map((e) => e.name)).toEqual(['retraced.refused']);
      expect(String(proc!.events[0]!.attributes?.['retraced.reason'])).toMatch(/no longer holds the job/);
    });

    it('no span leaks into the next job: after a timeout, a refusal, a retry', async () => {
      const q = queue({ retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 0 } }, timeout: 50 });
      const seen = new Map<string, string | undefined>();
      worker(
        q,
        async (job) => {
          seen.set(`${job.id}#${job.attempt}`, trace.getActiveSpan()?.spanContext().spanId);
          if (job.name === 'hang' && job.attempt === 1) await sleep(300); // times out
          if (job.name === 'flaky' && job.attempt === 1) throw new Error('once');
          return 'ok';
        },
        { concurrency: 1 },
      );
      const ids = [
        (await q.add('hang', {})).id,
        (await q.add('flaky', {})).id,
        (await q.add('plain', {})).id,
      ];
      for (const id of ids) await settled(q, id, 'completed');
      const procs = await until('5 process spans', () => {
        const s = spans(`process ${q.name}`);
        return s.length === 5 ? s : undefined;
      });
      // Each handler ran with its own attempt's span active, and only that one.
      for (const s of procs) {
        const key = `${String(s.attributes['messaging.message.id'])}#${String(s.attributes['retraced.attempt'])}`;
        expect(seen.get(key), key).toBe(s.spanContext().spanId);
      }
      const timedOut = procs.find((s) => s.attributes['retraced.outcome'] === 'timed_out');
      expect(timedOut?.attributes['retraced.error_class']).toBe('temporary');
      expect(new Set(procs.map((s) => s.spanContext().spanId)).size).toBe(5);
      // Nothing is left active outside a handler.
      expect(trace.getActiveSpan()).toBeUndefined();
    });

    it("parent: 'child' puts every attempt in the producer's trace", async () => {
      const q = queue({ retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 0 } } });
      worker(
        q,
        (job) => {
          if (job.attempt === 1) throw new Error('once');
          return 'ok';
        },
        { tracing: { parent: 'child' } },
      );
      const { id } = await q.add('child', {});
      await settled(q, id, 'completed');
      const procs = await until('2 process spans', () => {
        const s = attemptSpans(q.name);
        return s.length === 2 ? s : undefined;
      });
      const [send] = spans(`send ${q.name}`);
      for (const s of procs) {
        expect(s.spanContext().traceId).toBe(send!.spanContext().traceId);
        expect(parentId(s)).toBe(send!.spanContext().spanId);
        expect(s.links).toEqual([]);
      }
    });

    it('a bulk add is one send span; every job carries its context', async () => {
      const q = queue();
      const added = await q.addBulk([1, 2, 3].map((i) => ({ name: 'bulk', data: { i } })));
      const [send] = spans(`send ${q.name}`);
      expect(send!.attributes['messaging.batch.message_count']).toBe(3);
      expect(send!.attributes['messaging.message.id']).toBeUndefined();
      const claimed = await backend.claim(q.name, { workerId: 'w', leaseMs: 1000, max: 10 });
      expect(claimed.jobs.map((j) => j.id).sort()).toEqual(added.map((a) => a.id).sort());
      for (const j of claimed.jobs) {
        const ctx = contextFromCarrier(j.trace);
        expect(trace.getSpanContext(ctx!)?.spanId).toBe(send!.spanContext().spanId);
      }
    });

    it('tracing: false makes no span and stores nothing with the job', async () => {
      const q = queue({ tracing: false });
      worker(q, () => 'ok', { tracing: false });
      const { id } = await q.add('quiet', {});
      await settled(q, id, 'completed');
      expect(exporter.getFinishedSpans().filter((s) => s.name.endsWith(q.name))).toEqual([]);
      const q2 = queue({ tracing: false });
      await q2.add('quiet', {});
      const claimed = await backend.claim(q2.name, { workerId: 'w', leaseMs: 1000, max: 1 });
      expect(claimed.jobs[0]!.trace).toBeUndefined();
    });
  });
}

suite('memory', () => new MemoryBackend());

describeRedis('redis', () => {
  const prefix = uniquePrefix();
  afterAll(() => cleanupKeys(redisUrl()!, `${prefix}*`));
  suite('redis', () => new RedisBackend({ connection: redisUrl()!, prefix, onWarning: () => undefined }));
});

describe('trace context carrier', () => {
  it('writes a W3C traceparent without a registered propagator, and reads it back', () => {
    const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    const text = carrierText(trace.setSpanContext(context.active(), sc));
    expect(JSON.parse(text!)).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(trace.getSpanContext(contextFromCarrier(text)!)).toMatchObject({ ...sc, isRemote: true });
  });
  it('carries nothing for an unsampled or absent span, and ignores a bad carrier', () => {
    const unsampled = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 0,
    };
    expect(carrierText(trace.setSpanContext(context.active(), unsampled))).toBeUndefined();
    expect(carrierText(context.active())).toBeUndefined();
    expect(contextFromCarrier('')).toBeUndefined();
    expect(contextFromCarrier('not json')).toBeUndefined();
    expect(contextFromCarrier('{"traceparent":"00-zz-yy-01"}')).toBeUndefined();
    expect(contextFromCarrier('null')).toBeUndefined();
  });
});
