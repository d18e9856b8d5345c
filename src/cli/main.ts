#!/usr/bin/env node
/**
 * `retraced`: the command-line program. Dispatches to a command, and turns any error into a clear
 * message on stderr and an exit code from the one table in exit-codes.ts (stack traces only with
 * --debug or RETRACED_DEBUG=1).
 * @module
 */
import { ValidationError } from '../errors.js';
import { render } from '../terminal.js';
import type { Command } from './command.js';
import { add } from './commands/add.js';
import { analytics } from './commands/analytics.js';
import { archive } from './commands/archive.js';
import { budget } from './commands/budget.js';
import { priorityAging } from './commands/priority-aging.js';
import { defaultPriority } from './commands/default-priority.js';
import { rateLimit } from './commands/rate-limit.js';
import { rateLimits } from './commands/rate-limits.js';
import { dev } from './commands/dev.js';
import { dlq } from './commands/dlq.js';
import { jobs } from './commands/jobs.js';
import { queues } from './commands/queues.js';
import { audit, radar, whatif } from './commands/retry-intelligence.js';
import { retryPlan } from './commands/retry-plan.js';
import { schedulers } from './commands/schedulers.js';
import { server } from './commands/server.js';
import { worker } from './commands/worker.js';
import { workers } from './commands/workers.js';
import { ExitCode, exitCodeFor, RemoteError, UsageError } from './exit-codes.js';

const COMMANDS: readonly Command[] = [
  dev,
  server,
  worker,
  add,
  jobs,
  dlq,
  queues,
  analytics,
  budget,
  rateLimit,
  rateLimits,
  priorityAging,
  defaultPriority,
  schedulers,
  workers,
  retryPlan,
  whatif,
  audit,
  radar,
  archive,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: retraced <command> [options]',
    '',
    'ReTraced: a job scheduler where retries are data, not magic.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Client commands talk to Redis directly (--redis URL, or RETRACED_REDIS_URL) or to a running',
    '`retraced server` (--url URL and --token, or RETRACED_URL and RETRACED_TOKEN).',
    '',
    'Exit codes: 0 ok, 1 unexpected error, 2 bad usage or input, 3 not found,',
    '            4 invalid state or conflict, 5 backend unreachable, 6 not authorised.',
    '',
    'Run `retraced <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    // Asked for: stdout, exit 0. No command at all is a usage error: stderr, exit 2.
    (name === undefined ? process.stderr : process.stdout).write(`${mainHelp()}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${await version()}\n`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    throw new UsageError(
      `unknown command "${name}" (known: ${COMMANDS.map((c) => c.name).join(', ')})\nSee: retraced --help`,
    );
  }
  return command.run(rest);
}

async function version(): Promise<string> {
  const { createRequire } = await import('node:module');
  const pkg = createRequire(import.meta.url)('../../package.json') as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The message a person reads: what went wrong and, for bad input, which field. Never a stack. */
function describeError(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `error: ${e.stack}`;
  if (e instanceof ValidationError) return `error: ${e.message}`;
  if (e instanceof RemoteError) {
    return `error: ${e.message}${e.field !== undefined && !e.message.includes(e.field) ? ` (field ${e.field})` : ''} [${e.code}]`;
  }
  if (e instanceof UsageError) return `error: ${e.message}`;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `error: ${e.message}${typeof code === 'string' && !e.message.includes(code) ? ` [${code}]` : ''}${exitCodeFor(e) === ExitCode.unexpected ? '\n(run with --debug for the stack trace)' : ''}`;
  }
  return `error: ${String(e)}`;
}

// `retraced jobs list … | head`: the reader went away, which is not an error of ours. Stop quietly
// (as other command-line tools do) instead of dying on an unhandled EPIPE with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);
const debug = argv.includes('--debug') || process.env.RETRACED_DEBUG === '1';
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Messages quote what was given: shown escaped, so it cannot drive the terminal.
    const lines = describeError(e, debug).split('\n');
    process.stderr.write(`${lines.map((l) => render(l, false)).join('\n')}\n`);
    const code = exitCodeFor(e);
    process.exitCode = code;
    // A failure half-way through a long-running command may leave a handle open: don't hang on it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
);
