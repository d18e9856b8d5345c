import { describe, expect, it } from 'vitest';
import {
  classifyError,
  DEFAULT_CODE_TABLE,
  resolveClassifyOptions,
  serializeError,
} from '../../src/classify.js';
import { PermanentError, TemporaryError, ValidationError } from '../../src/errors.js';

const defaults = resolveClassifyOptions();
const withCode = (code: unknown, message = 'boom') => Object.assign(new Error(message), { code });
const withStatus = (status: number, extra: object = {}) =>
  Object.assign(new Error('http'), { status }, extra);

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('signals from another copy of the library', () => {
  it('recognises a PermanentError by its brand when instanceof fails', () => {
    const foreign = Object.assign(new Error('from another copy'), { name: 'PermanentError' });
    Object.defineProperty(foreign, Symbol.for('retraced.PermanentError'), { value: true });
    expect(classifyError(foreign, resolveClassifyOptions()).rule).toBe('thrown:PermanentError');
  });
  it('does not trust the name alone', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'PermanentError' });
    expect(classifyError(lookalike, resolveClassifyOptions()).rule).toBe('default');
  });
});

describe('resolveClassifyOptions', () => {
  it('defaults to the default table and temporary', () => {
    expect(defaults.default).toBe('temporary');
    expect(defaults.codes).toEqual(DEFAULT_CODE_TABLE);
    expect(DEFAULT_CODE_TABLE.ECONNRESET).toBe('temporary');
    expect(DEFAULT_CODE_TABLE.NOT_FOUND).toBe('permanent');
    expect(Object.keys(DEFAULT_CODE_TABLE)).toHaveLength(28);
  });

  it('merges user codes over the defaults', () => {
    const o = resolveClassifyOptions({
      codes: { NOT_FOUND: 'temporary', E_MINE: 'permanent' },
      default: 'permanent',
    });
    expect(o.codes.NOT_FOUND).toBe('temporary');
    expect(o.codes.E_MINE).toBe('permanent');
    expect(o.codes.ECONNRESET).toBe('temporary');
    expect(o.default).toBe('permanent');
    expect(Object.isFrozen(o.codes)).toBe(true);
    expect(DEFAULT_CODE_TABLE.NOT_FOUND).toBe('permanent');
  });

  it.each([
    [{ codes: { FOO: 'maybe' } }, 'classify.codes.FOO', 'one of temporary, permanent'],
    [{ codes: ['ECONNRESET'] }, 'classify.codes', 'an object mapping error codes to temporary or permanent'],
    [{ default: 'poison' }, 'classify.default', 'one of temporary, permanent'],
    [{ rules: [] }, 'classify.rules', 'absent (not a known option)'],
    ['temporary', 'classify', 'an object'],
  ])('rejects %j', (o, field, rule) => {
    const e = thrown(() => resolveClassifyOptions(o));
    expect(e.field).toBe(field);
    expect(e.rule).toBe(rule);
  });

  it('names fields under the given prefix', () => {
    expect(thrown(() => resolveClassifyOptions({ codes: { X: 1 } }, 'options.classify')).field).toBe(
      'options.classify.codes.X',
    );
  });
});

describe('signals from another copy of the library', () => {
  it('recognises a PermanentError by its brand when instanceof fails', () => {
    const foreign = Object.assign(new Error('from another copy'), { name: 'PermanentError' });
    Object.defineProperty(foreign, Symbol.for('retraced.PermanentError'), { value: true });
    expect(classifyError(foreign, resolveClassifyOptions()).rule).toBe('thrown:PermanentError');
  });
  it('does not trust the name alone', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'PermanentError' });
    expect(classifyError(lookalike, resolveClassifyOptions()).rule).toBe('default');
  });
});

describe('classifyError', () => {
  it('1. a timeout is temporary, before anything else', () => {
    expect(classifyError(new PermanentError('no'), defaults, { timedOut: true })).toEqual({
      errorClass: 'temporary',
      rule: 'timeout',
    });
  });

  it('2. thrown signals win over codes and statuses', () => {
    expect(classifyError(new PermanentError('no', { code: 'ECONNRESET' }), defaults)).toEqual({
      errorClass: 'permanent',
      rule: 'thrown:PermanentError',
    });
    expect(
      classifyError(new TemporaryError('later', { code: 'NOT_FOUND', retryAfterMs: 1500.4 }), defaults),
    ).toEqual({
      errorClass: 'temporary',
      rule: 'thrown:TemporaryError',
      retryAfterMs: 1500,
    });
    expect(classifyError(new TemporaryError('later', { retryAfterMs: -5 }), defaults)).toEqual({
      errorClass: 'temporary',
      rule: 'thrown:TemporaryError',
    });
    expect(
      classifyError(new TemporaryError('later', { retryAfterMs: NaN }), defaults).retryAfterMs,
    ).toBeUndefined();
  });

  it('3. a code in the table, user codes overriding defaults', () => {
    expect(classifyError(withCode('ECONNRESET'), defaults)).toEqual({
      errorClass: 'temporary',
      rule: 'code:ECONNRESET',
    });
    expect(classifyError(withCode('VALIDATION_ERROR'), defaults)).toEqual({
      errorClass: 'permanent',
      rule: 'code:VALIDATION_ERROR',
    });
    const mine = resolveClassifyOptions({ codes: { ECONNRESET: 'permanent' } });
    expect(classifyError(withCode('ECONNRESET'), mine)).toEqual({
      errorClass: 'permanent',
      rule: 'code:ECONNRESET',
    });
    expect(classifyError({ code: 'ETIMEDOUT' }, defaults).rule).toBe('code:ETIMEDOUT');
  });

  it('3. finds a code on the cause chain (fetch failed → UND_ERR_*)', () => {
    const err = new TypeError('fetch failed', { cause: withCode('UND_ERR_CONNECT_TIMEOUT') });
    expect(classifyError(err, defaults)).toEqual({
      errorClass: 'temporary',
      rule: 'code:UND_ERR_CONNECT_TIMEOUT',
    });
  });

  it('3. ignores unknown, numeric and prototype-named codes', () => {
    expect(classifyError(withCode('E_UNKNOWN'), defaults).rule).toBe('default');
    expect(classifyError(withCode(503), defaults).rule).toBe('default');
    expect(classifyError(withCode('constructor'), defaults).rule).toBe('default');
  });

  it.each([400, 401, 403, 404, 405, 410, 422])('4. HTTP %d is permanent', (status) => {
    expect(classifyError(withStatus(status), defaults)).toEqual({
      errorClass: 'permanent',
      rule: `http:${status}`,
    });
  });

  it.each([408, 425, 429, 500, 502, 503, 504])('4. HTTP %d is temporary', (status) => {
    expect(classifyError(withStatus(status), defaults)).toEqual({
      errorClass: 'temporary',
      rule: `http:${status}`,
    });
  });

  it('4. reads statusCode and response.status; other statuses fall through', () => {
    expect(classifyError({ statusCode: 404 }, defaults).rule).toBe('http:404');
    expect(classifyError({ response: { status: 503 } }, defaults).rule).toBe('http:503');
    expect(classifyError(withStatus(418), defaults)).toEqual({ errorClass: 'temporary', rule: 'default' });
    expect(classifyError(withStatus(501), resolveClassifyOptions({ default: 'permanent' })).rule).toBe(
      'default',
    );
  });

  it('4. a code match comes before the status', () => {
    expect(classifyError(withStatus(500, { code: 'FORBIDDEN' }), defaults)).toEqual({
      errorClass: 'permanent',
      rule: 'code:FORBIDDEN',
    });
  });

  it('4. retry-after from retryAfterMs or a header in seconds, for temporary results only', () => {
    expect(classifyError(withStatus(429, { retryAfterMs: 2500 }), defaults).retryAfterMs).toBe(2500);
    expect(classifyError(withStatus(503, { headers: { 'Retry-After': '7' } }), defaults).retryAfterMs).toBe(
      7000,
    );
    expect(classifyError(withStatus(503, { headers: { 'retry-after': 1.5 } }), defaults).retryAfterMs).toBe(
      1500,
    );
    const fetchLike = { response: { status: 429, headers: new Headers({ 'retry-after': '3' }) } };
    expect(classifyError(fetchLike, defaults).retryAfterMs).toBe(3000);
    const date = withStatus(503, { headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } });
    expect(classifyError(date, defaults).retryAfterMs).toBeUndefined();
    expect(classifyError(withStatus(400, { retryAfterMs: 2500 }), defaults).retryAfterMs).toBeUndefined();
  });

  it('5. falls back to the configured default', () => {
    expect(classifyError(new Error('?'), defaults)).toEqual({ errorClass: 'temporary', rule: 'default' });
    expect(classifyError('a string', resolveClassifyOptions({ default: 'permanent' }))).toEqual({
      errorClass: 'permanent',
      rule: 'default',
    });
    expect(classifyError(undefined, defaults).rule).toBe('default');
  });

  it('survives throwing getters and proxies', () => {
    const nasty = {
      get code(): string {
        throw new Error('getter');
      },
      get status(): number {
        throw new Error('getter');
      },
    };
    expect(classifyError(nasty, defaults).rule).toBe('default');
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    expect(classifyError(proxy, defaults).rule).toBe('default');
  });
});

describe('signals from another copy of the library', () => {
  it('recognises a PermanentError by its brand when instanceof fails', () => {
    const foreign = Object.assign(new Error('from another copy'), { name: 'PermanentError' });
    Object.defineProperty(foreign, Symbol.for('retraced.PermanentError'), { value: true });
    expect(classifyError(foreign, resolveClassifyOptions()).rule).toBe('thrown:PermanentError');
  });
  it('does not trust the name alone', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'PermanentError' });
    expect(classifyError(lookalike, resolveClassifyOptions()).rule).toBe('default');
  });
});

describe('serializeError', () => {
  it('keeps name, message, code and stack of an Error', () => {
    const e = Object.assign(new RangeError('out of range'), { code: 'E_RANGE' });
    const s = serializeError(e);
    expect(s).toMatchObject({ name: 'RangeError', message: 'out of range', code: 'E_RANGE' });
    expect(s.stack).toContain('out of range');
    expect(serializeError(withCode(42)).code).toBe('42');
    expect(serializeError(new PermanentError('x', { code: 'BAD' }))).toMatchObject({
      name: 'PermanentError',
      code: 'BAD',
    });
    expect('code' in serializeError(new Error('plain'))).toBe(false);
  });

  it('bounds the stack and message with …', () => {
    const e = new Error('m'.repeat(50));
    e.stack = 's'.repeat(5000);
    const s = serializeError(e, 100, 20);
    expect(s.stack).toHaveLength(100);
    expect(s.stack!.endsWith('…')).toBe(true);
    expect(s.message).toBe(`${'m'.repeat(19)}…`);
  });

  it.each([
    ['a string', 'oops', 'oops'],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['a bigint', 10n, '10'],
    ['an object', { a: 1 }, '{"a":1}'],
    ['an array', [1, 'x'], '[1,"x"]'],
    ['a function', function named() {}, '[function named]'],
  ])('turns %s into NonError', (_what, v, message) => {
    expect(serializeError(v)).toEqual({ name: 'NonError', message });
  });

  it('never throws: circular, throwing getters, throwing toJSON, proxies', () => {
    const circ: Record<string, unknown> = { a: 1 };
    circ.self = circ;
    expect(serializeError(circ)).toEqual({ name: 'NonError', message: '{"a":1,"self":"[Circular]"}' });
    const bad = {
      toJSON() {
        throw new Error('no');
      },
    };
    expect(serializeError(bad)).toEqual({ name: 'NonError', message: '[object Object]' });
    const err = new Error('x');
    Object.defineProperty(err, 'message', {
      get() {
        throw new Error('getter');
      },
    });
    expect(serializeError(err)).toMatchObject({ name: 'Error', message: '' });
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    expect(serializeError(proxy).name).toBe('NonError');
    expect(serializeError({ code: 'ECONNRESET', hint: 1 })).toEqual({
      name: 'NonError',
      message: '{"code":"ECONNRESET","hint":1}',
      code: 'ECONNRESET',
    });
  });
});

describe('signals from another copy of the library', () => {
  it('recognises a PermanentError by its brand when instanceof fails', () => {
    const foreign = Object.assign(new Error('from another copy'), { name: 'PermanentError' });
    Object.defineProperty(foreign, Symbol.for('retraced.PermanentError'), { value: true });
    expect(classifyError(foreign, resolveClassifyOptions()).rule).toBe('thrown:PermanentError');
  });
  it('does not trust the name alone', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'PermanentError' });
    expect(classifyError(lookalike, resolveClassifyOptions()).rule).toBe('default');
  });
});
