/**
 * Request bodies must be UTF-8 (RFC 8259 §8.1). Decoding invalid bytes would silently store
 * U+FFFD in their place, so such a body is refused with a 400 that names, when it can, the field
 * holding the bad bytes.
 * @module
 */
import { isUtf8 } from 'node:buffer';

import { ValidationError } from '../errors.js';

const RULE = 'valid UTF-8 text (the body has bytes that are not UTF-8)';
/** U+FFFD as UTF-8: when the body holds one itself, a U+FFFD after decoding proves nothing. */
const REPLACEMENT = Buffer.from('\uFFFD', 'utf8');

/** The body as text, or a ValidationError naming the field whose text is not UTF-8. */
export function decodeUtf8Body(body: Buffer): string | ValidationError {
  if (isUtf8(body)) return body.toString('utf8');
  return new ValidationError(fieldWithInvalidBytes(body), RULE);
}

function fieldWithInvalidBytes(body: Buffer): string {
  if (body.includes(REPLACEMENT)) return 'body';
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body';
  }
  return `body${pathToReplacement(value, 0) ?? ''}`;
}

/** The path (`.a[2].b`) of the first key or string holding U+FFFD, depth-first. */
function pathToReplacement(v: unknown, depth: number): string | undefined {
  if (typeof v === 'string') return v.includes('\uFFFD') ? '' : undefined;
  if (typeof v !== 'object' || v === null || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = pathToReplacement(v[i], depth + 1);
      if (p !== undefined) return `[${i}]${p}`;
    }
    return undefined;
  }
  for (const [k, item] of Object.entries(v)) {
    if (k.includes('\uFFFD')) return `.${k}`;
    const p = pathToReplacement(item, depth + 1);
    if (p !== undefined) return `.${k}${p}`;
  }
  return undefined;
}
