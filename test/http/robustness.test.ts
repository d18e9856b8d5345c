/** No request, however malformed, gets a 500: every route, through the OpenAPI document's list. */
import { describe, expect, it } from 'vitest';

import { makeDead, setup } from './helpers.js';

const PARAMS = ['x', '%00', '%E2%80%AE', 'a'.repeat(200), '%3Cscript%3E'];
const BODIES: (string | undefined)[] = [
  undefined,
  'null',
  '[]',
  '"text"',
  '12',
  '{}',
  '{"name":{"$gt":""},"data":1}',
  '{"jobs":[null]}',
  '{"by":"x","ids":[""],"limit":1e309}',
  '{"policy":{"phases":[{"retries":999,"backoff":{"type":"immediate"}},{"retries":999,"backoff":{"type":"immediate"}}]}}',
  `{"name":"n","data":${'['.repeat(500)}${']'.repeat(500)}}`,
  '{"constructor":{"prototype":{"polluted":true}}}',
];
const QUERIES = [
  '',
  '?limit=-1',
  '?limit=1&limit=2',
  '?state[]=dead',
  '?cursor=%FF',
  '?from=99999999999999999999',
  '?queue=',
];

describe('malformed requests', () => {
  it('never get a 500, and every 4xx is problem+json', async () => {
    const t = await setup();
    const [dead] = await makeDead(t, 'q', 1);
    const doc = (await t.request('GET', '/openapi.json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const failures: string[] = [];
    let sent = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const urls = PARAMS.flatMap((p) => [
          path.replace('{queue}', 'q').replace('{id}', p),
          path.replace('{queue}', p).replace('{id}', dead ?? '1'),
        ]);
        for (const url of new Set(urls)) {
          for (const query of method === 'get' ? QUERIES : ['']) {
            if (url === '/events' && query === '') continue; // a valid stream never ends
            for (const body of method === 'get' ? [undefined] : BODIES) {
              sent++;
              const res = await t.app.inject({
                method: method.toUpperCase() as 'GET',
                url: url + query,
                ...(body === undefined
                  ? {}
                  : { payload: body, headers: { 'content-type': 'application/json' } }),
              });
              const what = `${method.toUpperCase()} ${url}${query} ${body ?? ''}`.slice(0, 160);
              if (res.statusCode >= 500) {
                failures.push(`${res.statusCode} ${what}: ${res.body.slice(0, 200)}`);
              }
              if (
                res.statusCode >= 400 &&
                !String(res.headers['content-type']).startsWith('application/problem+json')
              ) {
                failures.push(`not a problem: ${what}`);
              }
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
