import { describe, expect, it } from 'vitest';

import { redactUrl } from '../../src/cli/redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://:PASSWORD@10.0.0.1:6379/2', 'redis://:***@10.0.0.1:6379/2'],
    ['rediss://ada:PASSWORD@cache.example.com:6380', 'rediss://ada:***@cache.example.com:6380'],
    ['redis://user:p@ss@host', 'redis://user:***@host'],
    ['https://TOKEN@api.example.com/retraced', 'https://***@api.example.com/retraced'],
    ['http://user:PASSWORD@127.0.0.1:7411', 'http://user:***@127.0.0.1:7411/'],
    ['http://127.0.0.1:7411/x?mail=ada@example.com', 'http://127.0.0.1:7411/x?mail=ada@example.com'],
    // Malformed: everything between `//` (or the start) and the last `@` is hidden.
    ['redis//:PASSWORD@host', 'redis//***@host'],
    ['redis://:pass/word@host:6379', 'redis://***@host:6379'],
    ['redis://:pass#word@host', 'redis://***@host'],
    ['redis:PASSWORD@host', '***@host'],
    ['PASSWORD@host:6379', '***@host:6379'],
    ['not a url', 'not a url'],
    ['mailto:ada@example.com', '***@example.com'],
    ['', ''],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
