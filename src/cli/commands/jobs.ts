/**
 * `retraced jobs list|show|cancel|retry`: find jobs, read one's whole story as a timeline, and act
 * on one by hand (each action recorded with who and why).
 * @module
 */
import { userInfo } from 'node:os';

import { ValidationError } from '../../errors.js';
import { errorLine } from '../../summary.js';
import { timelineLines } from '../../timeline.js';
import { JobStates, type Job, type JobState } from '../../types.js';
import {
  CONNECTION_OPTIONS,
  intValue,
  jsonValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  stringValue,
  type OptionSpecs,
} from '../args.js';
import { command, group, withClient } from '../command.js';
import { archiveFrom, SOURCE_OPTIONS, sourceFrom } from './dlq-filter.js';
import { truncate, when, type Output } from '../output.js';

const shared = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;
const FINISHED: readonly JobState[] = ['completed', 'dead', 'cancelled'];
const BY = {
  type: 'string',
  arg: 'NAME',
  help: 'who does this, recorded with the job [default: your OS user name]',
} as const;

/** `--by`, defaulting to the OS user so that every manual action names someone. */
export function byValue(raw: string | undefined): string {
  if (raw !== undefined) return stringValue(raw, '--by', 200) as string;
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER;
  }
  if (!name) {
    throw new ValidationError('--by', 'a name recorded as who did this (no OS user name to default to)');
  }
  return name;
}

const list = command(
  {
    name: 'jobs list',
    usage: 'QUEUE [--state STATE] [--name NAME] [--source live|archive|all] [--limit N] [--cursor C]',
    args: ['QUEUE'],
    summary:
      'Lists the jobs of a queue: all states (active first) or one, a page at a time; finished jobs also from the PostgreSQL archive (--source archive|all, with --state completed, dead or cancelled), archived ones marked.',
    options: {
      state: { type: 'string', arg: 'STATE', help: `only jobs in this state: ${JobStates.join(', ')}` },
      name: { type: 'string', arg: 'NAME', help: 'only jobs with this name' },
      limit: { type: 'string', arg: 'N', help: 'jobs per page, 1-500 [default: 50]' },
      cursor: { type: 'string', arg: 'C', help: 'the cursor printed under the previous page' },
      ...SOURCE_OPTIONS,
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      'retraced jobs list demo --url http://127.0.0.1:7411',
      'retraced jobs list emails --state dead --limit 20 --redis redis://127.0.0.1:6379',
      'retraced jobs list emails --state completed --source all --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const state = values.state as JobState | undefined;
    if (state !== undefined && !JobStates.includes(state)) {
      throw new ValidationError('--state', `one of ${JobStates.join(', ')}`, state);
    }
    const source = sourceFrom(values);
    if (source !== undefined && source !== 'live' && !FINISHED.includes(state as JobState)) {
      throw new ValidationError(
        '--source',
        `${source} only with --state ${FINISHED.join(', ')} (the archive holds finished jobs)`,
      );
    }
    const query = {
      limit: intValue(values.limit, '--limit', 1, 500) ?? 50,
      ...(state ? { state } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
      ...(source !== undefined ? { source } : {}),
    };
    const page = await withClient(values, (c) => c.listJobs(queue, query), archiveFrom(values));
    out.result({ jobs: page.items, nextCursor: page.nextCursor }, () => {
      out.table(
        [
          { header: 'ID' },
          { header: 'NAME' },
          { header: 'STATE' },
          { header: 'ATTEMPTS', align: 'right' },
          { header: 'DUE / FINISHED' },
          { header: 'LAST ERROR' },
        ],
        page.items.map((j) => [
          j.archived ? `${j.id} ${out.paint('dim', '(archived)')}` : j.id,
          truncate(j.name, 32),
          out.paint(stateColour(j.state), j.state),
          String(j.attempts),
          when(j.finishedAt ?? j.dueAt),
          truncate(j.lastError ? errorLine(j.lastError) : '', 80),
        ]),
        state ? `(no ${state} jobs in ${queue})` : `(no jobs in ${queue})`,
      );
      if (page.nextCursor) out.line(out.paint('dim', `next page: --cursor ${page.nextCursor}`));
    });
  },
);

export function stateColour(state: string): 'green' | 'red' | 'blue' | 'yellow' | 'dim' {
  return state === 'completed'
    ? 'green'
    : state === 'dead'
      ? 'red'
      : state === 'active'
        ? 'blue'
        : state === 'cancelled'
          ? 'dim'
          : 'yellow';
}

/** The timeline plus the job's data and result, as `jobs show` and `dlq show` print it. */
export function printJob(out: Output, job: Job): void {
  for (const l of timelineLines(job)) out.line(l);
  out.line();
  out.line(`  ${out.paint('dim', 'data')}   ${truncate(JSON.stringify(job.data), 500)}`);
  if (job.result !== undefined) {
    out.line(`  ${out.paint('dim', 'result')} ${truncate(JSON.stringify(job.result), 500)}`);
  }
  if (job.dead) {
    out.line(
      `  ${out.paint('dim', 'dead')}   ${job.dead.reason}, fingerprint ${job.dead.fingerprint}, ${when(job.dead.at)}`,
    );
  }
  if (job.archived) {
    out.line(`  ${out.paint('dim', 'source')} the archive (retention evicted the job from Redis)`);
  }
}

const show = command(
  {
    name: 'jobs show',
    usage: 'QUEUE ID',
    args: ['QUEUE', 'ID'],
    summary:
      "Shows a job's whole story as a timeline: each attempt's due and actual start (drift), duration, outcome, error, class and rule, and the decision taken with its explanation; once retention evicted it from Redis, from the PostgreSQL archive (--postgres with --redis; a server reads its own).",
    options: {
      postgres: SOURCE_OPTIONS.postgres,
      'archive-schema': SOURCE_OPTIONS['archive-schema'],
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      'retraced jobs show demo 42 --url http://127.0.0.1:7411',
      'retraced jobs show emails welcome:ada --json',
    ],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const job = await withClient(values, (c) => c.getJob(queue, id), archiveFrom(values));
    out.result(job, () => printJob(out, job));
  },
);

const why = command(
  {
    name: 'jobs why',
    usage: 'QUEUE ID',
    args: ['QUEUE', 'ID'],
    summary:
      'Says why a job is not running, from recorded state: due later (which retry, the backoff and its explanation), queue paused, the jobs a claim takes first (priority, aging), no live worker for how long; or that it runs, or what finished it.',
    options: shared,
    groups: SHARED_GROUPS,
    examples: ['retraced jobs why emails 42', 'retraced jobs why emails sch:nightly:1767268800000 --json'],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const e = await withClient(values, (c) => c.explain(queue, id));
    out.result(e, () => {
      out.line(`${out.paint('bold', `job ${e.id}`)} in ${e.queue} (${e.state}): ${e.summary}`);
      if (e.holds.length > 1 || (e.holds.length === 1 && e.holds[0]?.text !== e.summary)) {
        for (const h of e.holds) out.line(`  ${out.paint('yellow', h.kind.padEnd(12))}${h.text}`);
      }
    });
  },
);

const cancel = command(
  {
    name: 'jobs cancel',
    usage: 'QUEUE ID [--by NAME] [--reason TEXT]',
    args: ['QUEUE', 'ID'],
    summary:
      "Cancels a scheduled, waiting or active job (an active job's worker loses its lease); recorded with who and why.",
    options: {
      by: BY,
      reason: { type: 'string', arg: 'TEXT', help: 'why, recorded with the job' },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: ['retraced jobs cancel emails 42 --by ada --reason "customer unsubscribed"'],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const by = byValue(values.by);
    const reason = stringValue(values.reason, '--reason');
    const job = await withClient(values, (c) => c.cancel(queue, id, by, reason));
    out.result(job, () =>
      out.line(`cancelled job ${job.id} in ${queue} (by ${by}${reason ? `: ${reason}` : ''})`),
    );
  },
);

const retry = command(
  {
    name: 'jobs retry',
    usage: 'QUEUE ID [--by NAME] [--note TEXT] [--patch JSON]',
    args: ['QUEUE', 'ID'],
    summary:
      'Runs a dead job, or one waiting for its retry, now: the next attempt is recorded as manual with who, the note and the data patch as a diff.',
    options: {
      by: BY,
      note: { type: 'string', arg: 'TEXT', help: 'why, recorded with the attempt' },
      patch: {
        type: 'string',
        arg: 'JSON',
        help: 'JSON Merge Patch applied to the data first (or @file.json)',
      },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      `retraced jobs retry emails 42 --by ada --note "mail server is back" --patch '{"to":"ada@example.com"}'`,
    ],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const note = stringValue(values.note, '--note');
    const patch = jsonValue(values.patch, '--patch');
    const options = {
      by: byValue(values.by),
      ...(note !== undefined ? { note } : {}),
      ...(patch !== undefined ? { patch } : {}),
    };
    const job = await withClient(values, (c) => c.retry(queue, id, options));
    out.result(job, () =>
      out.line(`job ${job.id} in ${queue} is ${job.state}: its next attempt is manual (by ${options.by})`),
    );
  },
);

export const jobs = group(
  'jobs',
  'Lists jobs, shows one as a timeline, says why one is not running, cancels or retries one by hand.',
  [list, show, why, cancel, retry],
);
