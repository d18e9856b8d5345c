/**
 * ARCHITECTURE.md is the reader's map of the Redis side: every Lua script (§5) and every key (§4).
 * This test fails when a script or a key exists in the code but not in the document, so the map
 * cannot silently fall behind the territory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { queueKeys } from '../../src/backends/redis/keys.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
const luaDir = join(root, 'src', 'backends', 'redis', 'lua');

/** The text of the section whose heading starts with `## <n>.`, up to the next `## `. */
function section(n: number): string {
  const start = doc.search(new RegExp(`^## ${n}\\. `, 'm'));
  expect(start, `ARCHITECTURE.md has a section "## ${n}."`).toBeGreaterThanOrEqual(0);
  const rest = doc.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('ARCHITECTURE.md matches the code', () => {
  it('names every Lua script in §5 (Lua scripts) as `name`', () => {
    const scripts = readdirSync(luaDir)
      .filter((f) => f.endsWith('.lua'))
      .map((f) => f.replace(/-\d+\.lua$/, ''));
    expect(scripts.length).toBeGreaterThan(5);
    const s5 = section(5);
    const missing = scripts.filter((name) => !s5.includes(`\`${name}\``));
    expect(missing, 'scripts missing from ARCHITECTURE.md §5').toEqual([]);
  });

  it('describes every Redis key of a queue in §4 (Redis keys) as `rt:{q}:…`', () => {
    const k = queueKeys('rt', 'q');
    const keys = new Set<string>([k.meta, k.options, ...k.all]);
    // Per-job, per-fingerprint and per-priority keys are documented with a placeholder.
    const placeholders: Record<string, string> = {
      fingerprint: '<fingerprint>',
      level: '<priority>',
      rollupMinute: '<start>',
      rollupHour: '<start>',
      dedup: '<key>',
      budget: '<scope>',
      group: '<group>',
    };
    for (const [name, value] of Object.entries(k)) {
      if (typeof value !== 'function') continue;
      keys.add((value as (x: string) => string)(placeholders[name] ?? '<id>'));
    }
    for (const value of Object.values(k)) {
      if (typeof value === 'string' && value !== k.prefix) keys.add(value);
    }
    const s4 = section(4);
    const missing = [...keys].filter((key) => !s4.includes(`\`${key}\``));
    expect(missing, 'keys missing from ARCHITECTURE.md §4').toEqual([]);
  });
});
