import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { PermanentError, TemporaryError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { eventually, expectProblem, setup } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

class UnreachableBackend extends MemoryBackend {
  override async now(): Promise<number> {
    throw new Error('connect ECONNREFUSED 10.1.2.3:6379');
  }
  override async counts(): Promise<never> {
    throw new Error('secret internals at /srv/app.js:12');
  }
}

describe('health', () => {
  it('GET /healthz answers ok', async () => {
    const t = await setup();
    expect((await t.request('GET', '/healthz')).json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 503 problem+json when the backend does not answer, without its address', async () => {
    const backend = new UnreachableBackend();
    const app = await buildApp({ backend });
    closers.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(expectProblem(res, 503, 'RETRACED_ERR_NOT_READY').detail).not.toContain('10.1.2.3');
  });
});

describe('errors', () => {
  it('an unexpected failure is a generic 500 that shows no internal message or stack', async () => {
    const backend = new UnreachableBackend();
    const app = await buildApp({ backend });
    closers.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/queues/q' });
    const p = expectProblem(res, 500, 'RETRACED_ERR_INTERNAL');
    expect(res.body).not.toContain('secret');
    expect(p.detail).toMatch(/unexpected error/);
  });

  it('a closed backend answers 503', async () => {
    const t = await setup();
    await t.backend.close();
    expectProblem(await t.request('GET', '/queues/q'), 503, 'RETRACED_ERR_CLOSED');
  });

  it('an unknown route answers 404 problem+json; a known path asked with another method, 405', async () => {
    const t = await setup();
    expectProblem(await t.request('GET', '/nope'), 404, 'RETRACED_ERR_NOT_FOUND');
    const res = await t.request('DELETE', '/queues/q');
    expectProblem(res, 405, 'RETRACED_ERR_METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('POST /retry-plan', () => {
  it("previews a policy's schedule", async () => {
    const t = await setup();
    const res = await t.request('POST', '/retry-plan', {
      policy: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
    });
    expect(res.json()).toMatchObject({
      maxAttempts: 3,
      steps: [
        { attempt: 2, delayMs: 1000, atMs: 1000 },
        { attempt: 3, delayMs: 2000, atMs: 3000 },
      ],
      then: 'dead-letter',
      summary: 'will retry at +1 s, +3 s, then dead-letter',
    });
  });

  it('names the field of a bad policy, from the schema or from the library', async () => {
    const t = await setup();
    const schema = await t.request('POST', '/retry-plan', { policy: { attempts: 0 } });
    expect(expectProblem(schema, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.policy.attempts');
    const library = await t.request('POST', '/retry-plan', {
      policy: {
        phases: [
          { retries: 999, backoff: { type: 'immediate' } },
          { retries: 1, backoff: { type: 'immediate' } },
        ],
      },
    });
    expect(expectProblem(library, 400, 'RETRACED_ERR_VALIDATION')).toMatchObject({
      field: 'body.policy.phases',
      detail: expect.stringMatching(/at most 999 retries in total/),
    });
    const cap = await t.request('POST', '/retry-plan', {
      policy: { attempts: 2, backoff: { type: 'linear', delayMs: 500, maxDelayMs: 100 } },
    });
    expect(expectProblem(cap, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.policy.backoff.maxDelayMs');
    expectProblem(
      await t.request('POST', '/retry-plan', {
        policy: { attempts: 2, backoff: { type: 'custom', name: 'mine' } },
      }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
  });
});

describe('OpenAPI and docs', () => {
  it('GET /openapi.json describes every route with its schemas and problem answers', async () => {
    const t = await setup({ token: 'tok' });
    const res = await t.request('GET', '/openapi.json');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: unknown;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/config',
        '/events',
        '/healthz',
        '/metrics',
        '/queues',
        '/queues/{queue}',
        '/queues/{queue}/analytics',
        '/queues/{queue}/dlq',
        '/queues/{queue}/dlq/groups',
        '/queues/{queue}/dlq/purge',
        '/queues/{queue}/dlq/replay',
        '/queues/{queue}/audit',
        '/queues/{queue}/default-priority',
        '/queues/{queue}/jobs',
        '/queues/{queue}/jobs/bulk',
        '/queues/{queue}/jobs/cancel',
        '/queues/{queue}/jobs/replay',
        '/queues/{queue}/jobs/retry',
        '/queues/{queue}/jobs/{id}',
        '/queues/{queue}/jobs/{id}/cancel',
        '/queues/{queue}/jobs/{id}/retry',
        '/queues/{queue}/jobs/{id}/why',
        '/queues/{queue}/http-jobs',
        '/queues/{queue}/pause',
        '/queues/{queue}/priority-aging',
        '/queues/{queue}/radar',
        '/queues/{queue}/rate-limits',
        '/queues/{queue}/rate-limits/state',
        '/queues/{queue}/resume',
        '/queues/{queue}/retention',
        '/queues/{queue}/schedulers',
        '/queues/{queue}/schedulers/{id}',
        '/queues/{queue}/schedulers/{id}/pause',
        '/queues/{queue}/schedulers/{id}/resume',
        '/queues/{queue}/retry-budget',
        '/queues/{queue}/whatif',
        '/queues/{queue}/workers',
        '/readyz',
        '/retry-plan',
      ].sort(),
    );
    expect(doc.paths['/queues/{queue}/jobs']?.post?.requestBody).toBeDefined();
    expect(JSON.stringify(doc.paths['/queues/{queue}/jobs']?.post?.responses)).toContain(
      'application/problem+json',
    );
    expect(doc.components).toMatchObject({ securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } });
  });

  it('GET /docs is a self-contained HTML page listing the routes', async () => {
    const t = await setup();
    const res = await t.request('GET', '/docs');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('/queues/{queue}/dlq/replay');
    expect(res.body).not.toMatch(/<script|https?:\/\/(?!ops)/);
  });
});

describe('GET /metrics', () => {
  it('exposes jobs by state, attempts by outcome and class, retries, dead letters and histograms', async () => {
    const t = await setup();
    const q = t.queue('m');
    await q.add('ok', 1);
    await q.add('flaky', 2, { retry: { attempts: 2 } });
    await q.add('broken', 3);
    const seen = new Set<string>();
    t.worker('m', (job) => {
      if (job.name === 'broken') throw new PermanentError('no', { code: 'E_NO' });
      if (job.name === 'flaky' && !seen.has(job.id)) {
        seen.add(job.id);
        throw new TemporaryError('later');
      }
      return 'done';
    });
    await eventually(async () => {
      const c = await q.counts();
      return c.completed === 2 && c.dead === 1;
    });
    const res = await t.request('GET', '/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    for (const line of [
      'retraced_jobs{queue="m",state="completed"} 2',
      'retraced_jobs{queue="m",state="dead"} 1',
      'retraced_queue_depth{queue="m"} 0',
      'retraced_queue_paused{queue="m"} 0',
      'retraced_attempts_total{queue="m",outcome="succeeded",class="none"} 2',
      'retraced_attempts_total{queue="m",outcome="failed",class="temporary"} 1',
      'retraced_attempts_total{queue="m",outcome="failed",class="permanent"} 1',
      'retraced_retries_total{queue="m",cause="failure"} 1',
      'retraced_dead_letters_total{queue="m",reason="permanent"} 1',
      'retraced_events_total{queue="m",type="added"} 3',
      'retraced_attempt_drift_ms_count{queue="m"} 4',
      'retraced_attempt_duration_ms_bucket{le="+Inf",queue="m"} 4',
      '# TYPE retraced_attempt_duration_ms histogram',
      'retraced_sse_clients 0',
      'retraced_sse_feeds 0',
      // prom-client's default process metrics
      '# TYPE process_cpu_user_seconds_total counter',
      '# TYPE nodejs_eventloop_lag_seconds gauge',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
  });

  it("registers its metrics in a registry the caller passes, beside the caller's own", async () => {
    const registry = new Registry();
    const mine = new Counter({ name: 'my_app_orders_total', help: 'Orders.', registers: [registry] });
    mine.inc(3);
    const backend = new MemoryBackend();
    await new Queue('r', { backend }).add('n', 1);
    const app = await buildApp({ backend, metricsRegistry: registry });
    closers.push(() => app.close());
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('my_app_orders_total 3\n');
    expect(text).toContain('retraced_jobs{queue="r",state="waiting"} 1\n');
    // The caller's registry gets no default metrics from us (they may already be registered there).
    expect(text).not.toContain('process_cpu_user_seconds_total');
    expect(await registry.metrics()).toContain('retraced_queue_depth');
  });

  it('counts only what happened since the server started', async () => {
    const backend = new MemoryBackend();
    await new Queue('old', { backend }).add('n', 1);
    const app = await buildApp({ backend });
    closers.push(() => app.close());
    await new Queue('old', { backend }).add('n', 2);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('retraced_events_total{queue="old",type="added"} 1\n');
    expect(text).toContain('retraced_jobs{queue="old",state="waiting"} 2\n');
  });
});
