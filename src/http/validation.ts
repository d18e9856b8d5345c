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

import { BACKOFF_TYPES } from '../backoff.js';
import { ValidationError } from '../errors.js';
import { Rules, type TextRule } from '../validate.js';

const common = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  discriminator: true,
  strict: true,
  // Errors carry the failing schema and value: messages name the library's rule and what was received.
  verbose: true,
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

const TEXT_RULES: readonly TextRule[] = Object.values(Rules);

/** The library's text rule a string schema was made from (schemas.ts spreads them), if any. */
function textRuleOf(schema: unknown): TextRule | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  return TEXT_RULES.find(
    (r) => r.pattern === s.pattern && r.minLength === s.minLength && r.maxLength === s.maxLength,
  );
}

/** The rule (in the library's words: `must be <rule>`) a value broke, and the field suffix. */
function describeError(e: ErrorObject): { suffix: string; rule: string | undefined; message: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { suffix: `.${String(p.missingProperty)}`, rule: undefined, message: 'is required' };
    case 'additionalProperties':
      return {
        suffix: `.${String(p.additionalProperty)}`,
        rule: undefined,
        message: 'is not allowed (not a known property)',
      };
    case 'enum':
      return {
        suffix: '',
        rule: `one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`,
        message: '',
      };
    case 'discriminator':
      return { suffix: `.${String(p.tag)}`, rule: `one of ${BACKOFF_TYPES.join(', ')}`, message: '' };
    case 'pattern':
    case 'minLength':
    case 'maxLength': {
      const rule = textRuleOf(e.parentSchema);
      if (rule) return { suffix: '', rule: rule.rule, message: '' };
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
    }
    default:
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
  }
}

/** The field and message of a Fastify schema-validation error, or undefined for other errors. */
export function validationProblem(e: FastifyError): { field: string; detail: string } | undefined {
  const first = e.validation?.[0] as ErrorObject | undefined;
  if (!first) return undefined;
  const context = e.validationContext ?? 'body';
  const { suffix, rule, message } = describeError(first);
  const field = `${context}${jsonPointerToPath(first.instancePath)}${suffix}`;
  // The same sentence as the library's: `<field> must be <rule>, received <value>`.
  if (rule !== undefined) return { field, detail: new ValidationError(field, rule, first.data).message };
  return { field, detail: `${field} ${message}` };
}
