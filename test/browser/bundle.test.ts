/**
 * The shipped dashboard: its JavaScript stays within 150 KB gzipped, and its page carries no inline
 * script (the Content-Security-Policy forbids them, so one would simply not run).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { UI_DIR } from './helpers.js';

export const MAX_GZIPPED_JS = 150 * 1024;

describe('the built dashboard', () => {
  it('ships at most 150 KB of gzipped JavaScript', () => {
    const assets = path.join(UI_DIR, 'assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    const gzipped = js.reduce(
      (sum, f) => sum + gzipSync(readFileSync(path.join(assets, f)), { level: 9 }).length,
      0,
    );
    console.log(`dashboard JavaScript: ${js.length} file(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(MAX_GZIPPED_JS);
  });

  it('has no inline script or style in its page', () => {
    const html = readFileSync(path.join(UI_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/ui\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\son[a-z]+=|javascript:/i);
  });
});
