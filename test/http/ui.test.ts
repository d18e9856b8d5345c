/**
 * The dashboard's files on the API's origin: the page at `/` and at every `/ui/…` path (the app
 * routes in the browser), hashed assets, a strict CSP, public without the token, never in place of
 * an API answer, and a clear text when the dashboard is not built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { NOT_BUILT, UI_CSP } from '../../src/http/ui.js';
import { expectProblem, setup } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'retraced-ui-'));
mkdirSync(path.join(dir, 'assets'));
const INDEX = '<!doctype html><script type="module" src="/ui/assets/app-1.js"></script>';
writeFileSync(path.join(dir, 'index.html'), INDEX);
writeFileSync(path.join(dir, 'assets', 'app-1.js'), 'console.log(1)');
writeFileSync(path.join(dir, 'assets', 'app-1.css'), 'body{}');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the dashboard files', () => {
  it('serves the page at / and at every /ui/ path, with the CSP and no caching', async () => {
    const t = await setup({ ui: dir });
    for (const url of [
      '/',
      '/ui/',
      '/ui/queues/mail/jobs?state=dead',
      '/ui/queues/mail/jobs/42',
      '/ui/retry-plan',
    ]) {
      const res = await t.request('GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toBe(INDEX);
    }
  });

  it('allows no inline script in its CSP', () => {
    const script = /script-src ([^;]*)/.exec(UI_CSP)?.[1];
    expect(script).toBe("'self'");
    expect(UI_CSP).toMatch(/default-src 'self'/);
    expect(UI_CSP).not.toMatch(/unsafe/);
  });

  it('serves hashed assets with their content type, for a year', async () => {
    const t = await setup({ ui: dir });
    const js = await t.request('GET', '/ui/assets/app-1.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe('console.log(1)');
    const css = await t.request('GET', '/ui/assets/app-1.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const missing = await t.request('GET', '/ui/assets/nope.js');
    expect(missing.statusCode).toBe(404);
    // Only the files read from the build are served: no path reaches the file system.
    expect((await t.request('GET', '/ui/assets/../x.js')).body).toBe(INDEX);
    expect((await t.request('GET', '/ui/assets/..%2f..%2fpackage.json')).statusCode).toBe(404);
  });

  it('never answers an API path or an unknown path with the page', async () => {
    const t = await setup({ ui: dir });
    const queues = await t.request('GET', '/queues');
    expect(queues.headers['content-type']).toMatch(/^application\/json/);
    expectProblem(await t.request('GET', '/queues/mail/jobs/42'), 404, 'RETRACED_ERR_JOB_NOT_FOUND');
    expectProblem(await t.request('GET', '/jobs'), 404, 'RETRACED_ERR_NOT_FOUND');
    // A dashboard path answers only GET and HEAD: another method is refused (405 with Allow), never the page.
    const post = await t.request('POST', '/ui/queues', {});
    expect(post.statusCode).toBe(405);
    expect(String(post.headers.allow)).toMatch(/GET/);
    expect(post.headers['content-type']).not.toMatch(/text\/html/);
  });

  it('serves the page and its assets without the token, and nothing else', async () => {
    const t = await setup({ ui: dir, token: 'secret-token' });
    const anonymous = { authorization: '' };
    expect((await t.app.inject({ url: '/', headers: anonymous })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/ui/assets/app-1.js', headers: anonymous })).statusCode).toBe(200);
    expectProblem(await t.app.inject({ url: '/queues' }), 401, 'RETRACED_ERR_UNAUTHORIZED');
  });

  it('says how to build the dashboard when it is not built', async () => {
    const t = await setup({ ui: path.join(dir, 'not-here') });
    const res = await t.request('GET', '/');
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe(NOT_BUILT);
    expect(res.body).toContain('npm run build:ui');
    expect((await t.request('GET', '/ui/queues/q/jobs')).body).toBe(NOT_BUILT);
  });

  it('serves nothing at / with ui: false', async () => {
    const t = await setup({ ui: false });
    expectProblem(await t.request('GET', '/'), 404, 'RETRACED_ERR_NOT_FOUND');
  });
});
