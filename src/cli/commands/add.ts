/**
 * `retraced add QUEUE NAME` adds one job; `retraced add QUEUE --file jobs.ndjson` adds many, one
 * `{ name, data, options? }` per line, in batches with a progress bar. Every line is parsed before
 * anything is sent, so a malformed file adds nothing.
 * @module
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { ValidationError } from '../../errors.js';
import type { JobOptions } from '../../options.js';
import type { AddedJob, BulkJob } from '../../queue.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../../transitions.js';
import type { RetryPolicy } from '../../types.js';
import {
  CONNECTION_OPTIONS,
  durationValue,
  intValue,
  jsonValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  timeValue,
} from '../args.js';
import type { Client } from '../client.js';
import { command, withClient } from '../command.js';
import { RemoteError, UsageError } from '../exit-codes.js';
import type { Output } from '../output.js';

const BATCH = 500;
const MAX_LINES = 1_000_000;

export const add = command(
  {
    name: 'add',
    usage:
      'QUEUE NAME [--data JSON] [--id ID] [--delay 30s] [--priority N] [--group KEY] [--retry JSON] [--dedup KEY --ttl 10m | --debounce KEY --delay 5s] | QUEUE --file jobs.ndjson',
    args: ['QUEUE', 'NAME?'],
    brief: 'Adds a job, or many from an NDJSON file.',
    summary:
      'Adds a job to a queue, or many from an NDJSON file (one {"name","data","options"} per line) with a progress bar.',
    options: {
      data: { type: 'string', arg: 'JSON', help: 'the job data, as JSON or @file.json [default: null]' },
      id: {
        type: 'string',
        arg: 'ID',
        help: 'your own id: adding the same id again changes nothing (idempotent)',
      },
      delay: { type: 'string', arg: 'DURATION', help: 'run after this long: ms, or 30s, 5m, 2h' },
      'run-at': { type: 'string', arg: 'TIME', help: 'run at this time: ISO date or ms since epoch' },
      priority: {
        type: 'string',
        arg: 'N',
        help: 'higher runs first, FIFO within one (-1000000..1000000) [default: the queue default, 0]',
      },
      group: {
        type: 'string',
        arg: 'KEY',
        help: "the job's group (a tenant): groups take turns, each under its rate limit (retraced rate-limit)",
      },
      retry: {
        type: 'string',
        arg: 'JSON',
        help: 'retry policy, e.g. {"attempts":5,"backoff":{"type":"exponential","delayMs":1000}}',
      },
      timeout: { type: 'string', arg: 'DURATION', help: 'per-attempt timeout (0 = none)' },
      'max-stalls': {
        type: 'string',
        arg: 'N',
        help: 'expired leases before the job is dead-lettered as poison',
      },
      dedup: {
        type: 'string',
        arg: 'KEY',
        help: 'throttle: within --ttl of the first add with KEY, later adds return that job (folded)',
      },
      ttl: { type: 'string', arg: 'DURATION', help: 'the --dedup window, e.g. 10m' },
      debounce: {
        type: 'string',
        arg: 'KEY',
        help: 'debounce: run --delay after the last add with KEY; a later add replaces the data of a job not started',
      },
      file: { type: 'string', arg: 'PATH', help: 'add every job of this NDJSON file (- for stdin)' },
      ...CONNECTION_OPTIONS,
      ...OUTPUT_OPTIONS,
    },
    groups: SHARED_GROUPS,
    examples: [
      `retraced add emails welcome --data '{"to":"ada@example.com"}' --id welcome:ada --delay 10s --url http://127.0.0.1:7411`,
      'retraced add emails --file jobs.ndjson --redis redis://127.0.0.1:6379',
      'retraced add search reindex --data \'{"doc":7}\' --debounce doc-7 --delay 5s',
    ],
  },
  async ({ values, positionals }, out) => {
    const [queue, name] = positionals as [string, string | undefined];
    if (values.file !== undefined) {
      const single = [
        'data',
        'id',
        'delay',
        'run-at',
        'priority',
        'group',
        'retry',
        'timeout',
        'max-stalls',
        'dedup',
        'ttl',
        'debounce',
      ] as const;
      const mixed = single.find((k) => values[k] !== undefined);
      if (name !== undefined || mixed) {
        throw new UsageError(
          `--file takes every job from the file: drop ${name !== undefined ? `the job name "${name}"` : `--${mixed}`}`,
        );
      }
      const jobs = await readNdjson(values.file);
      return withClient(values, (c) => addMany(c, queue, jobs, out, values.file as string));
    }
    if (name === undefined) {
      throw new UsageError(
        'missing NAME (or --file jobs.ndjson)\nUsage: retraced add QUEUE NAME [--data JSON]',
      );
    }
    const job: BulkJob<unknown> = {
      name,
      data: jsonValue(values.data, '--data') ?? null,
      options: jobOptions(values),
    };
    const a = await withClient(values, (c) => c.addOne(queue, job));
    out.result(a, () =>
      out.line(
        a.created
          ? `added job ${a.id} to ${queue} (${a.state})`
          : a.folded
            ? `folded into job ${a.id} of ${queue} (${a.state}) by its ${values.debounce !== undefined ? 'debounce key: data replaced, due time pushed' : 'dedup key: nothing created'}`
            : `job ${a.id} already exists in ${queue} (${a.state}): nothing changed`,
      ),
    );
  },
);

function jobOptions(values: {
  id?: string;
  delay?: string;
  'run-at'?: string;
  priority?: string;
  group?: string;
  retry?: string;
  timeout?: string;
  'max-stalls'?: string;
  dedup?: string;
  ttl?: string;
  debounce?: string;
}): JobOptions {
  if (values.ttl !== undefined && values.dedup === undefined) {
    throw new UsageError('--ttl goes with --dedup KEY');
  }
  if (values.dedup !== undefined && values.ttl === undefined) {
    throw new UsageError('--dedup KEY needs --ttl DURATION (the window)');
  }
  if (values.debounce !== undefined && values.delay === undefined) {
    throw new UsageError('--debounce KEY needs --delay DURATION (how long after the last add it runs)');
  }
  const delay = durationValue(values.delay, '--delay');
  const o: Record<string, unknown> = {
    id: values.id,
    delay: values.debounce === undefined ? delay : undefined,
    dedup:
      values.dedup === undefined
        ? undefined
        : { key: values.dedup, ttlMs: durationValue(values.ttl, '--ttl') },
    debounce: values.debounce === undefined ? undefined : { key: values.debounce, delayMs: delay },
    runAt: timeValue(values['run-at'], '--run-at'),
    priority: intValue(values.priority, '--priority', MIN_PRIORITY, MAX_PRIORITY),
    group: values.group,
    retry: jsonValue(values.retry, '--retry') as RetryPolicy | undefined,
    timeout: durationValue(values.timeout, '--timeout'),
    maxStalls: intValue(values['max-stalls'], '--max-stalls', 1, 1000),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as JobOptions;
}

interface Line {
  readonly job: BulkJob<unknown>;
  readonly line: number;
}

async function readNdjson(path: string): Promise<Line[]> {
  const lines: Line[] = [];
  let n = 0;
  try {
    const input = path === '-' ? process.stdin : createReadStream(path);
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      if (text.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        throw new ValidationError(
          `${path} line ${n}`,
          `a JSON object (${e instanceof Error ? e.message : String(e)})`,
        );
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new ValidationError(`${path} line ${n}`, 'a JSON object { name, data, options? }', v);
      }
      lines.push({ job: v as BulkJob<unknown>, line: n });
      if (lines.length > MAX_LINES) throw new ValidationError(path, `at most ${MAX_LINES} jobs`);
    }
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    // Missing, a directory, a name too long or with a NUL byte, no permission: the flag is wrong.
    const code = (e as NodeJS.ErrnoException).code;
    throw new ValidationError(
      '--file',
      `a readable file${code && code !== 'ENOENT' ? ` (${code})` : ''}`,
      path,
    );
  }
  if (lines.length === 0) throw new ValidationError(path, 'at least one job (one JSON object per line)');
  return lines;
}

async function addMany(
  client: Client,
  queue: string,
  lines: readonly Line[],
  out: Output,
  path: string,
): Promise<void> {
  const bar = out.progress(lines.length, 'adding');
  const added: AddedJob[] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const batch = lines.slice(i, i + BATCH);
    try {
      added.push(
        ...(await client.add(
          queue,
          batch.map((l) => l.job),
        )),
      );
    } catch (e) {
      throw lineError(e, batch, path, added.length);
    }
    bar.advance(batch.length);
  }
  const created = added.filter((a) => a.created).length;
  const folded = added.filter((a) => a.folded).length;
  const existed = added.length - created - folded;
  const notes = [
    ...(existed > 0 ? [`${existed} already existed`] : []),
    ...(folded > 0 ? [`${folded} folded into existing jobs`] : []),
  ];
  bar.finish(
    `added ${created} job${created === 1 ? '' : 's'} to ${queue}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`,
  );
  if (out.json) out.data({ jobs: added });
}

/** Points a batch's validation error (`jobs[3].options.retry`) at the file's line. */
function lineError(e: unknown, batch: readonly Line[], path: string, before: number): unknown {
  const field = e instanceof ValidationError ? e.field : e instanceof RemoteError ? e.field : undefined;
  const m = field === undefined ? null : /^(?:body\.)?\/?jobs[[/.](\d+)/.exec(field);
  const line = m ? batch[Number(m[1])]?.line : undefined;
  if (line === undefined || !(e instanceof Error)) return e;
  const where = `${path} line ${line}: `;
  const done = before > 0 ? ` (${before} jobs from earlier lines were added)` : '';
  e.message = `${where}${e.message}${done}`;
  return e;
}
