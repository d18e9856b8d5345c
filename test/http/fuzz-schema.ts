/**
 * Fuzzing the HTTP API from its own description: the route table (Fastify's, hidden routes
 * included), each operation's JSON schemas (from the OpenAPI document the app serves), and
 * fast-check arbitraries derived from a schema: values it accepts, and mutations of them (wrong
 * types, missing or extra fields, out-of-range numbers, huge strings, deep nesting, hostile text).
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';

export type Schema = Record<string, unknown>;

/** Runs per property: `FUZZ_RUNS=2000 npx vitest run --project http test/http/fuzz.test.ts`. */
export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 30));
/** Replays a failing run (fast-check prints the seed). */
export const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
export const fuzzParams = (runs = FUZZ_RUNS): fc.Parameters<unknown> => ({
  numRuns: runs,
  ...(FUZZ_SEED === undefined ? {} : { seed: FUZZ_SEED }),
  endOnFailure: true,
});

// Hostile text ------------------------------------------------------------------------------------

/** Text that has broken parsers, routers, key schemes, shells, templates and HTML pages elsewhere. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '../../etc/passwd',
  '..',
  '.',
  '%00',
  'a\u0000b',
  '\u0000',
  '{tag}',
  '{q}:id',
  '*',
  '?',
  '[a-z]',
  'rt:*',
  '\r\nFLUSHALL\r\n',
  '*1\r\n$8\r\nFLUSHALL\r\n',
  "redis.call('FLUSHALL')",
  ']]--',
  "'; DROP TABLE jobs; --",
  '" OR 1=1 --',
  '{"$gt":""}',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "javascript:alert('x')",
  '${process.exit(1)}',
  '{{7*7}}',
  '$(rm -rf /)',
  '\u202Eevil\u202C',
  '\u200B',
  '\uFEFF',
  'a\u200Db',
  '\u05D0\u05D1\u05D2',
  '\uD800',
  '\uDC00x',
  'x\uD83D',
  '😀'.repeat(40),
  'é',
  'e\u0301',
  'Ａ',
  'İ',
  '\u001b[31mred\u001b[0m',
  '\u001b]0;title\u0007',
  'line\nbreak',
  'tab\there',
  '\\',
  '/',
  '%2F',
  '%252F',
  '%',
  '%E2%80%AE',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  'a'.repeat(65),
  'a'.repeat(129),
  'a'.repeat(5000),
];

/** Characters worth more than their share: NUL, line breaks, bidi and zero-width, surrogates, quotes. */
const nastyChar = fc.constantFrom(
  '\u0000',
  '\r',
  '\n',
  '\u202E',
  '\u200B',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  '"',
  "'",
  '<',
  '>',
  '&',
  '%',
  '/',
  '\\',
  '{',
  '}',
  '*',
  ':',
  '\u001b',
  '😀',
);

/** Hostile characters that are still printable text (what a name or a note may hold). */
const printableHostileChar = fc.constantFrom(
  '\u202E',
  '\u200B',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  '<',
  '>',
  '"',
  "'",
  '&',
  '%',
  '{',
  '}',
  '*',
  '😀',
  'é',
  'a',
);

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof(nastyChar, fc.string({ minLength: 1, maxLength: 1 })),
      maxLength: 40,
    }),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

/** Nested arrays or objects, `depth` levels deep. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}
function deepValue(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Any value of the wrong kind, including some that are big or deep. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, '', [], {}, [null], {
    '': 1,
  }),
  nastyString,
  fc.integer({ min: 65, max: 3000 }).map(deepValue),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant('x'.repeat(100_000)),
);

// Routes ------------------------------------------------------------------------------------------

export interface Route {
  readonly method: string;
  /** `/queues/:queue/jobs/:id` */
  readonly path: string;
}

/** Every route of the app (HEAD routes Fastify adds for GETs left out), from its router's table. */
export function routeTable(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) {
      routes.push({ method, path: stack.join('') });
    }
  }
  return routes;
}

export interface Operation extends Route {
  /** Path parameters as one object schema (Fastify's `params`). */
  readonly params: Schema | undefined;
  readonly query: Schema | undefined;
  readonly body: Schema | undefined;
  readonly public: boolean;
  /** The statuses the document lists for this operation (`200`, `4XX`, `default`…). */
  readonly responses: ReadonlySet<string>;
}

/** Whether the document lists `status` among an operation's responses (exactly, as `4XX`, or `default`). */
export function documents(op: Operation, status: number): boolean {
  return (
    op.responses.has(String(status)) ||
    op.responses.has(`${Math.floor(status / 100)}XX`) ||
    op.responses.has('default')
  );
}

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}

/** The operations of the OpenAPI document, keyed `METHOD /fastify/:path`. */
export function operations(app: FastifyInstance): Map<string, Operation> {
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const ops = new Map<string, Operation>();
  for (const [oaPath, methods] of Object.entries(doc.paths)) {
    const path = oaPath.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as OpenApiParameter[];
      const group = (where: string): Schema | undefined => {
        const ps = parameters.filter((p) => p.in === where);
        if (ps.length === 0) return undefined;
        return {
          type: 'object',
          properties: Object.fromEntries(ps.map((p) => [p.name, p.schema ?? {}])),
          required: ps.filter((p) => p.required).map((p) => p.name),
          additionalProperties: false,
        };
      };
      const content = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content;
      ops.set(`${method.toUpperCase()} ${path}`, {
        method: method.toUpperCase(),
        path,
        params: group('path'),
        query: group('query'),
        body: content?.['application/json']?.schema,
        public: Array.isArray(op.security) && op.security.length === 0,
        responses: new Set(Object.keys((op.responses ?? {}) as object)),
      });
    }
  }
  return ops;
}

// Values a schema accepts -------------------------------------------------------------------------

/** Values valid against `schema` (the subset of JSON Schema the API's request schemas use). */
export function valid(schema: Schema | undefined, hints: Hints = {}, name = ''): fc.Arbitrary<unknown> {
  if (schema === undefined) return fc.constant(undefined);
  const hint = hints[name];
  if (hint && ONLY_ISSUED.has(name)) return hint;
  const rule = BEYOND_SCHEMA[name];
  const plain = rule ? validPlain(schema, hints).filter(rule) : validPlain(schema, hints);
  if (!hint) return plain;
  // A hint is by property name: one schema's `options` may not take another's keys.
  const fits = hint.filter((v) => keysFit(schema, v));
  return fc.oneof({ weight: 2, arbitrary: fits }, { weight: 1, arbitrary: plain });
}

/** An object hint only has keys a closed object schema lists (anything else fits). */
function keysFit(schema: Schema, v: unknown): boolean {
  if (schema.additionalProperties !== false || typeof v !== 'object' || v === null || Array.isArray(v)) {
    return true;
  }
  const props = (schema.properties ?? {}) as Record<string, unknown>;
  return Object.keys(v).every((k) => k in props);
}

/**
 * Values only the server issues: a page cursor is opaque (its schema says "the nextCursor of a
 * previous page"), so a valid one is one a previous answer gave (the hint), never invented text.
 * Likewise values whose rule is a grammar or a registry a schema cannot say (a scheduler's cron
 * expression, an IANA time zone, an HTTP target's URL: said in their descriptions): valid ones
 * come from the hints.
 */
const ONLY_ISSUED = new Set(['cursor', 'cron', 'tz', 'url']);

/**
 * The rules a JSON schema cannot say, each written in the field's description instead, that valid
 * values keep (everything else a schema allows, the server must take).
 */
const BEYOND_SCHEMA: Readonly<Record<string, (v: unknown) => boolean>> = {
  // "at most 999 retries in all": a sum over the phases.
  // maxDelayMs "at least delayMs".
  backoff: (v) => {
    const b = v as { delayMs?: number; maxDelayMs?: number };
    return b.maxDelayMs === undefined || b.maxDelayMs >= (b.delayMs ?? 0);
  },
  phases: (v) =>
    !Array.isArray(v) || v.reduce((n: number, p: { retries: number }) => n + p.retries, 0) <= 999,
  // An HTTP target: header names are tokens other than the transport's own, no body with GET/HEAD.
  target: (v) => {
    const t = v as { method?: string; body?: unknown; headers?: Record<string, unknown> };
    if ((t.method === 'GET' || t.method === 'HEAD') && t.body !== undefined) return false;
    return Object.keys(t.headers ?? {}).every(
      (k) =>
        /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(k) &&
        !['host', 'content-length', 'transfer-encoding', 'connection'].includes(k.toLowerCase()) &&
        !k.toLowerCase().startsWith('x-retraced-'),
    );
  },
};

/** Known-good values by property name (queue names with jobs in them, ids that exist, times). */
export type Hints = Readonly<Record<string, fc.Arbitrary<unknown>>>;

function validPlain(schema: Schema, hints: Hints): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.oneOf)) {
    const base = { ...schema };
    delete base.oneOf;
    delete base.discriminator;
    return fc.oneof(
      ...(schema.oneOf as Schema[]).map((branch) =>
        validPlain(
          {
            ...base,
            ...branch,
            properties: { ...(base.properties as object), ...(branch.properties as object) },
            required: [...((base.required as string[]) ?? []), ...((branch.required as string[]) ?? [])],
          },
          hints,
        ),
      ),
    );
  }
  switch (schema.type) {
    case 'string': {
      const min = (schema.minLength as number | undefined) ?? 0;
      const max = (schema.maxLength as number | undefined) ?? 60;
      if (typeof schema.pattern === 'string') {
        // fast-check cannot generate from lookaheads: generate without them, keep what matches.
        const full = new RegExp(schema.pattern, 'u');
        const generated = schema.pattern.replace(/\(\?[=!][^()]*\)/g, '');
        return fc
          .stringMatching(new RegExp(generated))
          .filter((s) => s.length >= min && s.length <= max && full.test(s));
      }
      // Free text: plain, or hostile but within the bounds (lone surrogates, NUL, bidi, markup).
      return fc.oneof(
        fc.string({ minLength: min, maxLength: Math.min(max, min + 40) }),
        nastyString.filter((s) => s.length >= min && s.length <= max),
        fc.string({ unit: printableHostileChar, minLength: Math.max(min, 1), maxLength: Math.min(max, 20) }),
      );
    }
    case 'integer':
      return fc.integer({
        min: Math.max((schema.minimum as number | undefined) ?? -1e6, Number.MIN_SAFE_INTEGER),
        max: Math.min((schema.maximum as number | undefined) ?? 1e6, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({
        min: (schema.minimum as number | undefined) ?? -1e6,
        max: (schema.maximum as number | undefined) ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const min = (schema.minItems as number | undefined) ?? 0;
      const max = Math.min((schema.maxItems as number | undefined) ?? 5, min + 4);
      return fc.array(valid(schema.items as Schema | undefined, hints), { minLength: min, maxLength: max });
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = valid(s, hints, k);
      const record = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
      // Which keys exclude each other (`not: { required }`) and which one of must be there
      // (`anyOf: [{ required }]`): what a document can say about combinations.
      const exclusive = [schema.not, ...((schema.allOf as Schema[] | undefined) ?? []).map((x) => x.not)]
        .map((x) => (x as Schema | undefined)?.required as string[] | undefined)
        .filter((x): x is string[] => Array.isArray(x));
      const oneOfThese = ((schema.anyOf as Schema[] | undefined) ?? []).map((x) => x.required as string[]);
      if (exclusive.length === 0 && oneOfThese.length === 0) return record;
      return record.filter(
        (v) =>
          exclusive.every((keys) => !keys.every((k) => k in v)) &&
          (oneOfThese.length === 0 || oneOfThese.some((keys) => keys.every((k) => k in v))),
      );
    }
    default:
      // No type: any JSON (job data, merge patches).
      return fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(nastyString, nastyString, { maxKeys: 4 }));
  }
}

// Mutations ---------------------------------------------------------------------------------------

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', '$where', 'extra', '', 'a\u0000b', '<script>'];

/**
 * Values that are mostly right and wrong in one place: a field of the wrong type, out of range,
 * too long, hostile text, deep nesting, a required field missing or an unknown one added.
 */
export function mutant(schema: Schema | undefined, hints: Hints = {}, name = ''): fc.Arbitrary<unknown> {
  if (schema === undefined) return wrongValue;
  const leaf = leafMutants(schema);
  if (schema.type === 'object' || schema.properties) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const keys = Object.keys(props);
    const required = (schema.required as string[] | undefined) ?? [];
    const base = valid(schema, hints, name) as fc.Arbitrary<Record<string, unknown>>;
    const options: fc.Arbitrary<unknown>[] = [leaf];
    if (keys.length > 0) {
      options.push(
        fc
          .tuple(base, fc.constantFrom(...keys))
          .chain(([obj, key]) => mutant(props[key], hints, key).map((v) => ({ ...obj, [key]: v }))),
      );
    }
    if (required.length > 0) {
      options.push(
        fc.tuple(base, fc.constantFrom(...required)).map(([obj, key]) => {
          const copy = { ...obj };
          delete copy[key];
          return copy;
        }),
      );
    }
    options.push(
      fc.tuple(base, fc.constantFrom(...EXTRA_KEYS), wrongValue).map(([obj, key, v]) => {
        const copy = { ...obj };
        Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
        return copy;
      }),
    );
    return fc.oneof(...options);
  }
  if (schema.type === 'array') {
    const items = schema.items as Schema | undefined;
    return fc.oneof(
      leaf,
      fc.array(mutant(items, hints), { minLength: 1, maxLength: 3 }),
      fc.constant([]),
      fc
        .integer({ min: ((schema.maxItems as number | undefined) ?? 10) + 1, max: 12_000 })
        .map((n) => Array.from({ length: n }, () => 'a')),
    );
  }
  return leaf;
}

function leafMutants(schema: Schema): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [wrongValue];
  if (typeof schema.maximum === 'number') {
    options.push(
      fc.constantFrom(schema.maximum + 1, schema.maximum + 0.5, 1e300, Number.MAX_SAFE_INTEGER + 2),
    );
  }
  if (typeof schema.minimum === 'number') {
    options.push(fc.constantFrom(schema.minimum - 1, schema.minimum - 0.5, -1e300));
  }
  if (typeof schema.maxLength === 'number') {
    options.push(fc.constantFrom('a'.repeat(schema.maxLength + 1), '😀'.repeat(schema.maxLength)));
  }
  if (schema.type === 'string') options.push(nastyString);
  return fc.oneof(...options);
}
