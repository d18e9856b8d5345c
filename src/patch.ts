/**
 * Data patches for replays: JSON Merge Patch (RFC 7386) applied to a job's data, and the diff that
 * is stored with the manual attempt so the history shows exactly what a person changed.
 * @module
 */
import type { PatchChange } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The changes between two JSON values, one entry per changed leaf, paths dotted from `data`. */
export function diffJson(before: unknown, after: unknown, path = 'data'): PatchChange[] {
  if (isObject(before) && isObject(after)) {
    const changes: PatchChange[] = [];
    for (const k of Object.keys(before)) {
      if (!(k in after)) changes.push({ path: `${path}.${k}`, op: 'remove', before: before[k] });
      else changes.push(...diffJson(before[k], after[k], `${path}.${k}`));
    }
    for (const k of Object.keys(after)) {
      if (!(k in before)) changes.push({ path: `${path}.${k}`, op: 'add', after: after[k] });
    }
    return changes;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path, op: 'replace', before, after }];
}
