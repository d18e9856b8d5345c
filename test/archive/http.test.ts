/**
 * Evicted jobs stay readable through the HTTP API when the server has an archive (what
 * `retraced server --postgres` and `retraced dev --postgres` set up).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { waitForState } from '../conformance/context.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';

describeArchive('archive through the HTTP API', () => {
  let archive: PgArchive;
  beforeAll(async () => {
    archive = new PgArchive({ connection: pgUrl()!, schema: uniqueSchema() });
    await archive.migrate();
  });
  afterAll(() => archive?.close());

  it('GET a job retention evicted: read from the archive, marked archived, field by field as it was', async () => {
    const backend = new MemoryBackend();
    const app = await buildApp({ backend, queueOptions: () => ({ archive }) });
    try {
      const q = new Queue('web', { backend, retention: { completed: { count: 0 } } });
      await q.ready();
      await backend.setArchive('web', true);
      const w = new Worker(q, async () => ({ ok: 1 }), { leaseMs: 5000 });
      const { id } = await q.add('n', { x: 1 });
      await waitForState(q, id, 'completed');
      await w.close();
      const live = await app.inject({ method: 'GET', url: `/queues/web/jobs/${id}` });
      expect(live.statusCode).toBe(200);
      expect(live.json().archived).toBeUndefined();
      await new Archiver({ backend, archive, queues: ['web'] }).drain();
      await backend.sweepRetention('web', { intervalMs: 1, max: 10 });
      expect(await backend.getJob('web', id)).toBeNull();
      const res = await app.inject({ method: 'GET', url: `/queues/web/jobs/${id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ...live.json(), archived: true });
      const missing = await app.inject({ method: 'GET', url: '/queues/web/jobs/nope' });
      expect(missing.statusCode).toBe(404);
    } finally {
      await app.close();
      await backend.close();
    }
  });
});
