import { describe, expect, it } from 'vitest';
import { errorFingerprint, fingerprintLabel, normaliseMessage } from '../../src/fingerprint.js';

describe('normaliseMessage', () => {
  it.each([
    // numbers, dates, whitespace (as before)
    ['timeout after 3000 ms for user 42', 'timeout after <n> ms for user <n>'],
    ['timeout after 30s', 'timeout after <n>s'],
    ['took 1.25 s', 'took <n> s'],
    ['at 2024-01-02T03:04:05.123Z and 2024-01-02', 'at <time> and <time>'],
    ['  lots \n\t of   space  ', 'lots of space'],
    // prefixed ids (the service's prefix is kept)
    ['PaymentIntent pi_3f9a8b7c6d5e not found', 'PaymentIntent pi_<id> not found'],
    ['request req_1a2b3c4d5e6f failed', 'request req_<id> failed'],
    ['No such customer: cus_N3xK9pQ2', 'No such customer: cus_<id>'],
    ["No such customer: 'cus_Ab'", "No such customer: 'cus_Ab'"],
    ['key sk_live_4eC39HqLyjWDarjtT1zdp7dc revoked', 'key sk_live_<id> revoked'],
    ['charge ch_3MmlLrLkdIwHu7ix0snN0B15.', 'charge ch_<id>.'],
    ['event evt_AbCdEfGhIjKl', 'event evt_<id>'],
    // UUIDs, ULIDs, hex
    ['job 550e8400-e29b-41d4-a716-446655440000 failed', 'job <uuid> failed'],
    ['JOB 550E8400-E29B-41D4-A716-446655440000', 'JOB <uuid>'],
    ['order 01ARZ3NDEKTSV4RRFFQ69G5FAV missing', 'order <ulid> missing'],
    ['commit 3f2a9c1d0e and 0xdeadbeef99', 'commit <hex> and <hex>'],
    ['job-8f3a2b1c9d stuck', 'job-<hex> stuck'],
    // base62 tokens
    ['token N3xK9pQ2 expired', 'token <id> expired'],
    ['session aZ3kQ9xW1mP7tR2y invalid', 'session <id> invalid'],
    [
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U bad',
      'jwt <token> bad',
    ],
    // addresses
    ['mail bob.smith+x@example.co.uk bounced', 'mail <email> bounced'],
    ['connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED <ip>:<n>'],
    ['connect ECONNREFUSED ::1:6379', 'connect ECONNREFUSED <ip>'],
    ['from [2001:db8::8a2e:370:7334]:443 and fe80::1%eth0', 'from [<ip>]:<n> and <ip>'],
    ['host 2001:0db8:85a3:0000:0000:8a2e:0370:7334 down', 'host <ip> down'],
    ['mapped ::ffff:192.0.2.128 here', 'mapped <ip> here'],
    ['reached 10.0.0.12.', 'reached <ip>.'],
    // URLs: path segments and query values with a digit; versions, hosts and words kept
    [
      'GET https://api.example.com/v1/customers/cus_N3xK9pQ2/orders/ab12cd?page=2&sort=asc failed',
      'GET https://api.example.com/v1/customers/<id>/orders/<id>?page=<id>&sort=asc failed',
    ],
    ['POST http://10.0.0.5:8080/users/42/avatar: 500', 'POST http://<ip>:<n>/users/<id>/avatar: <n>'],
    ['see (https://example.com/docs/errors).', 'see (https://example.com/docs/errors).'],
    // words are never eaten
    ['connection refused', 'connection refused'],
    ['ECONNRESET: socket hang up', 'ECONNRESET: socket hang up'],
    ['deadbeefcafe is a word, 12345678 a number', 'deadbeefcafe is a word, <n> a number'],
    ['rate_limited: invalid_request_error', 'rate_limited: invalid_request_error'],
    ['ActiveRecord::RecordNotFound at 12:30:45', 'ActiveRecord::RecordNotFound at <n>:<n>:<n>'],
    ['Foo :: bar', 'Foo :: bar'],
    [
      'ConnectionRefusedException in PaymentsServiceClient',
      'ConnectionRefusedException in PaymentsServiceClient',
    ],
    ['http2 stream reset, utf8 decode', 'http<n> stream reset, utf<n> decode'],
    ['user12345 banned', 'user<n> banned'],
  ])('%j → %j', (input, out) => {
    expect(normaliseMessage(input)).toBe(out);
  });

  it('cuts at 200 characters', () => {
    expect(normaliseMessage('x'.repeat(500))).toHaveLength(200);
  });

  // Each rule starts only at the edge of a run (a quadratic scan of 10,000 characters took ~500 ms).
  it('stays fast on long adversarial input (no backtracking from every position)', () => {
    const inputs = [
      'a1'.repeat(5000),
      ':'.repeat(10_000),
      'a:'.repeat(5000),
      '1.'.repeat(5000),
      'x_'.repeat(5000),
      'https://h/'.repeat(1000),
      'eyJ' + 'a'.repeat(9997),
      'ab_' + 'A1'.repeat(4998),
      `${'f:'.repeat(4999)}:`,
      'a'.repeat(10_000),
      'a.'.repeat(5000),
      '1.'.repeat(5000),
      '/a1'.repeat(3333),
      'http://'.repeat(1400),
    ];
    for (const input of inputs) {
      const t = performance.now();
      normaliseMessage(input);
      expect(performance.now() - t, input.slice(0, 20)).toBeLessThan(250);
    }
  });
});

describe('fingerprints', () => {
  it('groups messages that differ only in variable parts', () => {
    const a = { name: 'Error', message: 'timeout after 3000 ms for user 42', code: 'ETIMEDOUT' };
    const b = { name: 'Error', message: 'timeout after 5000 ms for user 7', code: 'ETIMEDOUT' };
    expect(errorFingerprint(a)).toBe(errorFingerprint(b));
    expect(errorFingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintLabel(a)).toBe('Error|ETIMEDOUT|timeout after <n> ms for user <n>');
    expect(fingerprintLabel({ name: 'TypeError', message: 'x 1' })).toBe('TypeError||x <n>');
  });

  it.each([
    ['No such payment_intent: pi_3f9a8b7c6d5e', 'No such payment_intent: pi_9Zx8Yw7Vu6Ts'],
    ['request req_1a2b3c4d5e6f timed out', 'request req_QwErTy123456 timed out'],
    ['No such customer: cus_N3xK9pQ2', 'No such customer: cus_Lm4Np5Qr'],
    ['GET /v1/items/ab12cd failed', 'GET /v1/items/zz99yy failed'],
    ['GET https://x.io/items/ab12cd failed', 'GET https://x.io/items/zz99yy failed'],
  ])('groups %j with %j', (a, b) => {
    expect(errorFingerprint({ name: 'Error', message: a })).toBe(
      errorFingerprint({ name: 'Error', message: b }),
    );
  });

  it('separates different names, codes and messages', () => {
    const base = { name: 'Error', message: 'timeout after 3000 ms', code: 'ETIMEDOUT' };
    const fp = errorFingerprint(base);
    expect(errorFingerprint({ ...base, name: 'TypeError' })).not.toBe(fp);
    expect(errorFingerprint({ ...base, code: 'ECONNRESET' })).not.toBe(fp);
    expect(errorFingerprint({ name: 'Error', message: 'timeout after 3000 ms' })).not.toBe(fp);
    expect(errorFingerprint({ ...base, message: 'refused after 3000 ms' })).not.toBe(fp);
    expect(errorFingerprint({ name: 'Error', message: 'No such customer: cus_N3xK9pQ2' })).not.toBe(
      errorFingerprint({ name: 'Error', message: 'No such invoice: in_N3xK9pQ2' }),
    );
  });

  it('is stable (sha1 of the label)', () => {
    expect(errorFingerprint({ name: 'Error', message: 'boom' })).toBe('168acf7335e94fce');
  });

  it('answers a repeated error from its memo exactly as the first time, for every split of the same text', () => {
    const a = { name: 'ab', code: 'c', message: 'timeout after 30s' };
    const b = { name: 'a', code: 'bc', message: 'timeout after 30s' };
    const c = { name: 'a', code: 'b', message: 'ctimeout after 30s' };
    for (let round = 0; round < 2; round++) {
      expect(fingerprintLabel(a)).toBe('ab|c|timeout after <n>s');
      expect(fingerprintLabel(b)).toBe('a|bc|timeout after <n>s');
      expect(fingerprintLabel(c)).toBe('a|b|ctimeout after <n>s');
    }
    expect(new Set([errorFingerprint(a), errorFingerprint(b), errorFingerprint(c)]).size).toBe(3);
  });

  it('stays right past the memo bound and for messages too long to remember', () => {
    const first = errorFingerprint({ name: 'Error', message: 'boom' });
    for (let i = 0; i < 3000; i++) {
      fingerprintLabel({ name: 'Error', message: `word${'x'.repeat(i % 7)} ${i}` });
    }
    expect(errorFingerprint({ name: 'Error', message: 'boom' })).toBe(first);
    const long = `failed ${'y'.repeat(1500)} 42`;
    expect(fingerprintLabel({ name: 'E', message: long })).toBe(`E||failed ${'y'.repeat(193)}`);
    expect(fingerprintLabel({ name: 'E', message: long })).toBe(
      fingerprintLabel({ name: 'E', message: long }),
    );
  });
});
