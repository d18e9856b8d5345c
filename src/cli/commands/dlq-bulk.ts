/**
 * `retraced dlq replay|purge`: acting on many dead jobs at once. The target (ids, a filter, or
 * `--all`) is resolved first, which is also the dry run; replays then go in batches with a
 * progress bar, each recorded as a manual attempt; purges ask for confirmation.
 * @module
 */
import { createInterface } from 'node:readline/promises';

import {
  intValue,
  jsonValue,
  listValue,
  SHARED_GROUPS,
  stringValue,
  type OptionSpecs,
  type Values,
} from '../args.js';
import { MAX_BULK, maxReplayJobs } from '../../dlq.js';
import type { Client, DlqFilterData } from '../client.js';
import { command, withClient } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { Output } from '../output.js';
import {
  archiveFrom,
  FILTER_OPTIONS,
  filterFrom,
  onSchedulerClock,
  SHARED_OPTIONS as shared,
  SOURCE_OPTIONS,
  sourceFrom,
} from './dlq-filter.js';
import { byValue } from './jobs.js';

const TARGET_OPTIONS = {
  ids: { type: 'string', arg: 'A,B', help: 'these dead jobs (ids may also be given as arguments)' },
  ...FILTER_OPTIONS,
  all: { type: 'boolean', help: 'every dead job of the queue (when no ids or filter are given)' },
  'dry-run': { type: 'boolean', help: 'show what would happen; change nothing' },
  yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation' },
} as const satisfies OptionSpecs;

interface Target {
  readonly ids?: string[];
  readonly filter?: DlqFilterData;
}

function targetFrom(values: Values<typeof TARGET_OPTIONS>, positionals: readonly string[]): Target {
  const ids = [...positionals.slice(1), ...(listValue(values.ids) ?? [])];
  const filter = filterFrom(values);
  const hasFilter = Object.keys(filter).length > 0;
  if (ids.length > 0 && (hasFilter || values.all)) {
    throw new UsageError('give either job ids or a filter (or --all), not both');
  }
  if (ids.length > 0) return { ids };
  if (hasFilter) return { filter };
  if (values.all) return { filter: {} };
  throw new UsageError(
    'say which dead jobs: ids (as arguments or --ids a,b), a filter (--reason, --code, --name, --fingerprint, --since, --until), or --all',
  );
}

async function confirm(out: Output, question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (process.stdin.isTTY !== true || out.json) {
    throw new UsageError(`${question}: pass --yes to confirm (or --dry-run to preview)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question}? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const BATCH = 50;

export const replay = command(
  {
    name: 'dlq replay',
    usage:
      'QUEUE [ID...] [--ids A,B | filters | --all] [--source live|archive|all] [--by NAME] [--note TEXT] [--patch JSON] [--dry-run] [--yes]',
    args: ['QUEUE', 'ID...'],
    summary:
      'Sends dead jobs back to waiting: each next attempt is recorded as manual with who, the note and the data patch as a diff; the retry budget starts afresh. A filter is resolved first (shown with --dry-run; --source archive|all: over the archive too), then replayed in batches with a progress bar. A dead job retention evicted is restored from the archive with its whole history, then replayed.',
    options: {
      ...TARGET_OPTIONS,
      ...SOURCE_OPTIONS,
      by: {
        type: 'string',
        arg: 'NAME',
        help: 'who replays, recorded with each attempt [default: your OS user name]',
      },
      note: { type: 'string', arg: 'TEXT', help: 'why, recorded with each attempt' },
      patch: {
        type: 'string',
        arg: 'JSON',
        help: "JSON Merge Patch applied to each job's data (or @file.json)",
      },
      limit: {
        type: 'string',
        arg: 'N',
        help: 'replay at most N jobs of a filter, 1-10000 [default: 1000; fewer with a patch over 16 KB]',
      },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      'retraced dlq replay demo 17 --by ada --note "fixed the address" --patch \'{"email":"a@example.com"}\'',
      'retraced dlq replay demo --code ECONNRESET --since 1h --dry-run',
      'retraced dlq replay demo --fingerprint 3f2a9c01d4e5b6a7 --by ada --yes',
      'retraced dlq replay demo --code ECONNRESET --since 30d --source all --url http://127.0.0.1:7411',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const target = targetFrom(values, positionals);
    const by = byValue(values.by);
    const note = stringValue(values.note, '--note');
    const patch = jsonValue(values.patch, '--patch');
    // A large patch lowers how many jobs one request may replay (maxReplayJobs): size to it.
    const most = maxReplayJobs(patch === undefined ? 0 : Buffer.byteLength(JSON.stringify(patch)));
    const limit = intValue(values.limit, '--limit', 1, MAX_BULK) ?? Math.min(1000, most);
    const base = { by, ...(note !== undefined ? { note } : {}), ...(patch !== undefined ? { patch } : {}) };
    const source = sourceFrom(values);
    return withClient(
      values,
      async (client) => {
        // Resolve the target to ids first: that is the dry run, and it sizes the progress bar.
        const selection = target.ids
          ? { ids: target.ids }
          : {
              filter: await onSchedulerClock(target.filter ?? {}, values, client),
              limit,
              ...(source !== undefined ? { source } : {}),
            };
        const preview = await client.dlqReplay(queue, { ...base, ...selection, dryRun: true });
        if (values['dry-run']) {
          out.result(preview, () => {
            out.line(
              `would replay ${preview.replayed.length} dead job${preview.replayed.length === 1 ? '' : 's'} of ${queue}${preview.replayed.length ? `: ${idList(preview.replayed)}` : ''}`,
            );
            for (const f of preview.failed) out.line(out.paint('yellow', `  skip ${f.id}: ${f.error}`));
          });
          return preview.failed.length > 0 && target.ids ? ExitCode.conflict : ExitCode.ok;
        }
        const ids = preview.replayed;
        // Replaying is undoable (jobs can die again), so only "everything" asks first.
        const ask = values.all === true && ids.length > 0;
        if (
          ask &&
          !(await confirm(
            out,
            `replay all ${ids.length} dead job${ids.length === 1 ? '' : 's'} of ${queue}`,
            values.yes,
          ))
        ) {
          out.note('nothing replayed');
          return ExitCode.ok;
        }
        const result = await replayInBatches(client, queue, ids, base, Math.min(BATCH, most), out);
        const failed = [...preview.failed, ...result.failed];
        out.result({ dryRun: false, matched: preview.matched, replayed: result.replayed, failed }, () => {
          out.line(
            `replayed ${result.replayed.length} job${result.replayed.length === 1 ? '' : 's'} of ${queue}${result.replayed.length ? `: ${idList(result.replayed)}` : ''}`,
          );
          for (const f of failed) out.line(out.paint('yellow', `  not replayed ${f.id}: ${f.error}`));
        });
        return failed.length > 0 ? ExitCode.conflict : ExitCode.ok;
      },
      archiveFrom(values),
    );
  },
);

async function replayInBatches(
  client: Client,
  queue: string,
  ids: readonly string[],
  base: { by: string; note?: string; patch?: unknown },
  size: number,
  out: Output,
): Promise<{ replayed: string[]; failed: { id: string; error: string }[] }> {
  const bar = ids.length > size ? out.progress(ids.length, 'replaying') : undefined;
  const replayed: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (let i = 0; i < ids.length; i += size) {
    const batch = ids.slice(i, i + size);
    const r = await client.dlqReplay(queue, { ...base, ids: batch });
    replayed.push(...r.replayed);
    failed.push(...r.failed);
    bar?.advance(batch.length);
  }
  bar?.finish(`replayed ${replayed.length} of ${ids.length}`);
  return { replayed, failed };
}

export const purge = command(
  {
    name: 'dlq purge',
    usage: 'QUEUE [ID...] [--ids A,B | filters | --all] [--dry-run] [--yes]',
    args: ['QUEUE', 'ID...'],
    summary:
      'Deletes dead jobs for good: by id, by filter, or all. Asks first unless --yes; --dry-run counts only. Only the dead jobs Redis holds: the archive keeps history until its own retention prunes it.',
    options: {
      ...TARGET_OPTIONS,
      postgres: SOURCE_OPTIONS.postgres,
      'archive-schema': SOURCE_OPTIONS['archive-schema'],
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      'retraced dlq purge demo --reason permanent --until 7d --dry-run',
      'retraced dlq purge demo 17 18 --yes',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const target = targetFrom(values, positionals);
    return withClient(
      values,
      async (client) => {
        // One instant for the preview and the purge: `--until 7d` must not move between the two.
        const request = {
          ...(target.ids ? { ids: target.ids } : {}),
          ...(target.filter ? { filter: await onSchedulerClock(target.filter, values, client) } : {}),
        };
        const preview = await client.dlqPurge(queue, { ...request, dryRun: true });
        if (values['dry-run']) {
          out.result(preview, () =>
            out.line(`would purge ${preview.purged} dead job${preview.purged === 1 ? '' : 's'} of ${queue}`),
          );
          return ExitCode.ok;
        }
        if (preview.purged === 0) {
          out.result({ dryRun: false, purged: 0 }, () =>
            out.line(`no dead jobs of ${queue} match: nothing purged`),
          );
          return ExitCode.ok;
        }
        if (
          !(await confirm(
            out,
            `purge ${preview.purged} dead job${preview.purged === 1 ? '' : 's'} of ${queue} for good`,
            values.yes,
          ))
        ) {
          out.note('nothing purged');
          return ExitCode.ok;
        }
        const res = await client.dlqPurge(queue, request);
        out.result(res, () =>
          out.line(`purged ${res.purged} dead job${res.purged === 1 ? '' : 's'} of ${queue}`),
        );
        return ExitCode.ok;
      },
      archiveFrom(values),
    );
  },
);

function idList(ids: readonly string[]): string {
  return ids.length > 20 ? `${ids.slice(0, 20).join(', ')}, … (${ids.length - 20} more)` : ids.join(', ');
}
