/**
 * `retraced schedulers QUEUE | list QUEUE | show QUEUE ID | upsert QUEUE ID … | pause | resume |
 * remove`: a queue's schedulers with their next run, last tick and paused state; one with its tick
 * ledger; creating or changing one by id; pausing, resuming and removing one.
 * @module
 */
import { formatDuration } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import type { ScheduleTemplate } from '../../queue.js';
import {
  describeSpec,
  missedText,
  type MissedPolicy,
  type ScheduleSpec,
  type Scheduler,
  type TickRecord,
} from '../../schedule.js';
import {
  CONNECTION_OPTIONS,
  durationValue,
  intValue,
  jsonValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  stringValue,
  type OptionSpecs,
} from '../args.js';
import { command, group, withClient, type Command } from '../command.js';
import type { Output } from '../output.js';
import { truncate, when } from '../output.js';

const shared = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;

/** One line for a ledger entry: `created sch:x:… (late 12 ms)`, `skipped 3 (missed)`. */
export function tickLine(t: TickRecord): string {
  const late = `${formatDuration(Math.max(0, t.at - t.plannedAt))} late`;
  if (t.outcome === 'created') return `created ${t.jobId ?? ''} (${late})`;
  const n = t.count !== undefined ? `${t.count}${t.more ? '+' : ''} ` : '';
  return `skipped ${n}(${t.reason ?? 'unknown'})`;
}

function printList(out: Output, queue: string, list: readonly Scheduler[], now: number): void {
  out.table(
    [
      { header: 'ID' },
      { header: 'SPEC' },
      { header: 'STATUS' },
      { header: 'NEXT RUN' },
      { header: 'LAST TICK' },
      { header: 'JOB' },
    ],
    list.map((s) => [
      s.id,
      truncate(describeSpec(s.spec), 40),
      s.paused ? out.paint('yellow', 'paused') : 'active',
      s.paused ? '-' : when(s.nextRunAt, now),
      when(s.lastTickAt, now),
      `${truncate(s.name, 32)}${s.priority !== 0 ? ` (priority ${s.priority})` : ''}${s.group !== undefined ? ` (group ${s.group})` : ''}`,
    ]),
    `(no schedulers in ${queue})`,
  );
}

const list = command(
  {
    name: 'schedulers list',
    usage: 'QUEUE',
    args: ['QUEUE'],
    summary:
      "Lists a queue's schedulers: spec, paused or active, next run, last tick and the job they create.",
    options: shared,
    groups: SHARED_GROUPS,
    examples: [
      'retraced schedulers emails --url http://127.0.0.1:7411',
      'retraced schedulers list emails --json',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const [found, now] = await withClient(values, (c) => Promise.all([c.schedulers(queue), c.now()]));
    out.result({ schedulers: found }, () => printList(out, queue, found, now));
  },
);

const show = command(
  {
    name: 'schedulers show',
    usage: 'QUEUE ID [--ticks N]',
    args: ['QUEUE', 'ID'],
    summary:
      'Shows a scheduler, its next runs and its tick ledger (newest first): planned and actual time of each tick, the job it created or why it was skipped.',
    options: {
      ticks: { type: 'string', arg: 'N', help: 'ledger entries to show (1-200) [default: 20]' },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: ['retraced schedulers show emails nightly-digest --ticks 50'],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const ticks = intValue(values.ticks, '--ticks', 1, 200) ?? 20;
    const [d, now] = await withClient(values, (c) =>
      Promise.all([c.getScheduler(queue, id, ticks), c.now()]),
    );
    out.result(d, () => {
      const dim = (s: string): string => out.paint('dim', s.padEnd(10));
      out.line(`${out.paint('bold', `scheduler ${d.id}`)} in ${queue}: ${describeSpec(d.spec)}`);
      out.line(`  ${dim('status')}${d.paused ? out.paint('yellow', 'paused') : 'active'}`);
      out.line(`  ${dim('job')}${d.name} ${truncate(JSON.stringify(d.data), 200)}`);
      out.line(`  ${dim('priority')}${d.priority}`);
      if (d.group !== undefined) out.line(`  ${dim('group')}${d.group}`);
      out.line(`  ${dim('policies')}missed ${missedText(d.missed)}, overlap ${d.overlap}`);
      out.line(
        `  ${dim('next runs')}${d.upcoming.length ? d.upcoming.map((t) => when(t, now)).join(', ') : '-'}`,
      );
      out.line(`  ${dim('last tick')}${when(d.lastTickAt, now)}${d.lastJobId ? ` → ${d.lastJobId}` : ''}`);
      out.line();
      out.table(
        [{ header: 'PLANNED' }, { header: 'RAN' }, { header: 'OUTCOME' }],
        d.ticks.map((t) => [when(t.plannedAt, now), when(t.at, now), tickLine(t)]),
        '(no ticks yet)',
      );
    });
  },
);

/** `skip`, `once` or `each:N`. */
function missedValue(raw: string | undefined): MissedPolicy | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'skip' || raw === 'once') return raw;
  const m = /^each:(\d{1,4})$/.exec(raw);
  if (m) return { each: Number(m[1]) };
  throw new ValidationError('--missed', "'skip', 'once' or each:N", raw);
}

const upsert = command(
  {
    name: 'schedulers upsert',
    usage:
      'QUEUE ID (--cron EXPR [--tz ZONE] | --every DURATION) --name NAME [--data JSON] [--priority N] [--group KEY] [options]',
    args: ['QUEUE', 'ID'],
    summary:
      'Creates or updates a scheduler by id (idempotent: the same spec keeps its next run). Each tick creates a job NAME with DATA, due at its planned time.',
    options: {
      cron: { type: 'string', arg: 'EXPR', help: 'a cron expression (5 fields, or 6 with seconds first)' },
      tz: { type: 'string', arg: 'ZONE', help: 'the IANA time zone of --cron [default: UTC]' },
      every: { type: 'string', arg: 'DURATION', help: 'run every this long (100ms at least): 30s, 5m, 1h' },
      name: { type: 'string', arg: 'NAME', help: 'the name of the jobs it creates' },
      data: { type: 'string', arg: 'JSON', help: 'their data (or @file.json) [default: null]' },
      priority: { type: 'string', arg: 'N', help: "their priority [default: the queue's]" },
      group: {
        type: 'string',
        arg: 'KEY',
        help: 'their group (a tenant): groups take turns, each under its rate limit [default: none]',
      },
      options: { type: 'string', arg: 'JSON', help: 'other job options: retry, timeout, maxStalls' },
      missed: { type: 'string', arg: 'POLICY', help: 'after downtime: skip, once or each:N [default: skip]' },
      overlap: { type: 'string', arg: 'POLICY', help: 'allow, or skip a tick while its last job runs' },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      `retraced schedulers upsert emails nightly --cron "0 3 * * *" --tz Europe/Paris --name digest --data '{"kind":"daily"}'`,
      'retraced schedulers upsert emails heartbeat --every 30s --name ping --overlap skip',
    ],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const every = durationValue(values.every, '--every');
    if ((values.cron === undefined) === (every === undefined)) {
      throw new ValidationError('--cron', 'given, or --every instead (one of the two)');
    }
    if (every !== undefined && values.tz !== undefined) {
      throw new ValidationError('--tz', 'not set with --every (it is for --cron)');
    }
    const spec: ScheduleSpec =
      every !== undefined
        ? { every }
        : { cron: values.cron as string, ...(values.tz !== undefined ? { tz: values.tz } : {}) };
    const name = stringValue(values.name, '--name', 200);
    if (name === undefined) throw new ValidationError('--name', 'given: the name of the jobs it creates');
    const extra = jsonValue(values.options, '--options');
    if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) {
      throw new ValidationError('--options', 'a JSON object', values.options);
    }
    const priority = intValue(values.priority, '--priority', -1_000_000, 1_000_000);
    const options = {
      ...(extra as object | undefined),
      ...(priority !== undefined ? { priority } : {}),
      ...(values.group !== undefined ? { group: values.group } : {}),
    };
    const missed = missedValue(values.missed);
    const overlap = values.overlap;
    if (overlap !== undefined && overlap !== 'allow' && overlap !== 'skip') {
      throw new ValidationError('--overlap', "'allow' or 'skip'", overlap);
    }
    const template: ScheduleTemplate<unknown> = {
      name,
      data: jsonValue(values.data, '--data') ?? null,
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(missed !== undefined ? { missed } : {}),
      ...(overlap !== undefined ? { overlap } : {}),
    };
    const [r, now] = await withClient(values, (c) =>
      Promise.all([c.upsertScheduler(queue, id, spec, template), c.now()]),
    );
    out.result(r, () =>
      out.line(
        `scheduler ${r.id} in ${queue} ${r.created ? 'created' : r.specChanged ? 'updated (new spec)' : 'updated'}: ${describeSpec(r.spec)}, next run ${r.paused ? '(paused)' : when(r.nextRunAt, now)}`,
      ),
    );
  },
);

function toggle(paused: boolean): Command {
  const verb = paused ? 'pause' : 'resume';
  return command(
    {
      name: `schedulers ${verb}`,
      usage: 'QUEUE ID',
      args: ['QUEUE', 'ID'],
      summary: paused
        ? 'Pauses a scheduler: it stops ticking; what it skips is recorded in its ledger when it resumes.'
        : 'Resumes a paused scheduler: the runs it skipped go to its ledger; it runs next from now.',
      options: shared,
      groups: SHARED_GROUPS,
      examples: [`retraced schedulers ${verb} emails nightly`],
    },
    async ({ values, positionals }, out) => {
      const [queue, id] = positionals as [string, string];
      const [s, now] = await withClient(values, (c) =>
        Promise.all([c.setSchedulerPaused(queue, id, paused), c.now()]),
      );
      out.result(s, () =>
        out.line(
          `scheduler ${s.id} in ${queue} is ${s.paused ? 'paused' : `active, next run ${when(s.nextRunAt, now)}`}`,
        ),
      );
    },
  );
}

const remove = command(
  {
    name: 'schedulers remove',
    usage: 'QUEUE ID',
    args: ['QUEUE', 'ID'],
    summary: 'Removes a scheduler and its tick ledger; the jobs it created stay.',
    options: shared,
    groups: SHARED_GROUPS,
    examples: ['retraced schedulers remove emails nightly'],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    await withClient(values, (c) => c.removeScheduler(queue, id));
    out.result({ id, removed: true }, () => out.line(`scheduler ${id} removed from ${queue}`));
  },
);

const subs = [list, show, upsert, toggle(true), toggle(false), remove];
const base = group(
  'schedulers',
  'Lists, shows (with the tick ledger), creates, pauses, resumes and removes cron and every schedulers.',
  subs,
);

/** `retraced schedulers QUEUE` is `retraced schedulers list QUEUE`. */
export const schedulers: Command = {
  ...base,
  run(argv) {
    const first = argv[0];
    if (
      first !== undefined &&
      !first.startsWith('-') &&
      first !== 'help' &&
      !subs.some((s) => s.name === first)
    ) {
      return list.run(argv);
    }
    return base.run(argv);
  },
};
