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

import { ValidationError } from '../errors.js';
import { SCHEDULER_ID_RULE } from '../schedule.js';
import { Rules, type TextRule } from '../validate.js';

const common = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  discriminator: true,
  strict: true,
  // `not: { required: [a, b] }` (a and b exclude each other) names properties defined beside it.
  strictRequired: false,
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

const TEXT_RULES: readonly TextRule[] = [...Object.values(Rules), SCHEDULER_ID_RULE];

/** The library's text rule a string schema was made from (schemas.ts spreads them), if any. */
function textRuleOf(schema: unknown): TextRule | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  return TEXT_RULES.find(
    (r) => r.pattern === s.pattern && r.minLength === s.minLength && r.maxLength === s.maxLength,
  );
}

/** The values a discriminated schema's tag may take (its `enum`). */
function tagValues(schema: unknown, tag: string): readonly string[] {
  const props = (schema as { properties?: Record<string, { enum?: unknown[] }> } | undefined)?.properties;
  return (props?.[tag]?.enum ?? []).map(String);
}

/** The names of a `{ required: [...] }` schema (and nothing else), if it is one. */
function requiredOf(schema: unknown): readonly string[] | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  const keys = Object.keys(s).filter((k) => !(k === 'type' && s.type === 'object'));
  if (keys.length !== 1 || !Array.isArray(s.required)) return undefined;
  return s.required as string[];
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
      return {
        suffix: `.${String(p.tag)}`,
        rule: `one of ${tagValues(e.parentSchema, String(p.tag)).join(', ')}`,
        message: '',
      };
    case 'pattern':
    case 'minLength':
    case 'maxLength': {
      const rule = textRuleOf(e.parentSchema);
      if (rule) return { suffix: '', rule: rule.rule, message: '' };
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
    }
    case 'not': {
      // `not: { required: [a, b] }`: a and b exclude each other.
      const both = requiredOf((e.parentSchema as { not?: unknown } | undefined)?.not);
      if (both && both.length > 1) {
        return {
          suffix: `.${both[both.length - 1]}`,
          rule: undefined,
          message: `must not be set together with ${both.slice(0, -1).join(' and ')}`,
        };
      }
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
    }
    case 'anyOf': {
      // `anyOf: [{ required: [a] }, { required: [b] }]`: one of them must be given.
      const branches = (e.parentSchema as { anyOf?: unknown[] } | undefined)?.anyOf ?? [];
      const names = branches.map(requiredOf).flatMap((r) => (r?.length === 1 ? r : []));
      if (names.length === branches.length && names.length > 0) {
        return {
          suffix: `.${names[0]}`,
          rule: undefined,
          message: `is required, or ${names.slice(1).join(' or ')} instead`,
        };
      }
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
    }
    default:
      return { suffix: '', rule: undefined, message: e.message ?? 'is invalid' };
  }
}

/** The field and message of a Fastify schema-validation error, or undefined for other errors. */
export function validationProblem(e: FastifyError): { field: string; detail: string } | undefined {
  const errors = (e.validation ?? []) as ErrorObject[];
  let first = errors[0];
  if (!first) return undefined;
  // anyOf reports each branch's failure before its own: its own says which properties to give.
  const last = errors[errors.length - 1];
  if (last?.keyword === 'anyOf' && first.schemaPath.startsWith(last.schemaPath)) first = last;
  const context = e.validationContext ?? 'body';
  const { suffix, rule, message } = describeError(first);
  const field = `${context}${jsonPointerToPath(first.instancePath)}${suffix}`;
  // The same sentence as the library's: `<field> must be <rule>, received <value>`.
  if (rule !== undefined) return { field, detail: new ValidationError(field, rule, first.data).message };
  return { field, detail: `${field} ${message}` };
}
