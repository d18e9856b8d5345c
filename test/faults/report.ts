/**
 * Prints the Markdown table of the latest fault-suite results (test/faults/results/*.json), short
 * runs first, for docs/reliability.md:
 *
 *   npx tsx test/faults/report.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TABLE_HEADER, tableLine, type Report } from './harness.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const reports = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Report & { at: string })
  .sort((a, b) =>
    a.scale === b.scale
      ? a.title.localeCompare(b.title, 'en', { numeric: true })
      : a.scale === 'short'
        ? -1
        : 1,
  );
console.log(TABLE_HEADER);
for (const r of reports) console.log(tableLine(r));
console.log(
  `\nRuns: ${[...new Set(reports.map((r) => r.at.slice(0, 16).replace('T', ' ')))].sort().join(', ')} UTC`,
);
