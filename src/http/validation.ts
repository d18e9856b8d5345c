/**
 * Schema validation for requests. Two Ajv instances: bodies are checked strictly (no type
 * coercion: `"5"` is not a number), while query strings and path parameters, which are text by
 * nature, are coerced to the schema's types. Neither removes unknown properties: they are errors.
 * A failed check becomes a problem whose `field` is the path of the input, such as
 * `body.options.delay` or `querystring.limit`.
 * @module
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyError, FastifySchema, FastifySchemaCompiler } from 'fastify';

import { WELL_FORMED_PATTERN } from './schemas.js';

const common = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  discriminator: true,
  strict: true,
} as const;

// Shared by every app of the process: Ajv caches what it compiled, and the schemas are constants.
const strictAjv = new Ajv({ ...common, coerceTypes: false });
const coercingAjv = new Ajv({ ...common, coerceTypes: true });

/** The validator compiler for every route: strict bodies, coerced query strings and params. */
export function createValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
    return ajv.compile(schema as object);
  };
}

/** `/jobs/3/options/delay` → `.jobs[3].options.delay` (the library's style of paths). */
function jsonPointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
}

function describeError(e: ErrorObject): { suffix: string; message: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { suffix: `.${String(p.missingProperty)}`, message: 'is required' };
    case 'additionalProperties':
      return { suffix: `.${String(p.additionalProperty)}`, message: 'is not allowed (not a known property)' };
    case 'enum':
      return {
        suffix: '',
        message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'pattern':
      return p.pattern === WELL_FORMED_PATTERN
        ? { suffix: '', message: 'must be well-formed Unicode text (no lone surrogates)' }
        : { suffix: '', message: e.message ?? 'is invalid' };
    case 'discriminator':
      return {
        suffix: `.${String(p.tag)}`,
        message: 'must be one of immediate, fixed, linear, exponential, custom',
      };
    default:
      return { suffix: '', message: e.message ?? 'is invalid' };
  }
}

/** The field and message of a Fastify schema-validation error, or undefined for other errors. */
export function validationProblem(e: FastifyError): { field: string; detail: string } | undefined {
  const first = e.validation?.[0] as ErrorObject | undefined;
  if (!first) return undefined;
  const context = e.validationContext ?? 'body';
  const { suffix, message } = describeError(first);
  const field = `${context}${jsonPointerToPath(first.instancePath)}${suffix}`;
  return { field, detail: `${field} ${message}` };
}
