/**
 * The shape of a command: a declared spec (parsing and `--help` from one place) and a thin `run`
 * that parses, calls the library or the API, and prints. Groups (`jobs list|show|…`) dispatch on
 * their first argument.
 * @module
 */
import {
  helpText,
  parseCommand,
  type CommandSpec,
  type OptionSpecs,
  type Parsed,
  type Values,
} from './args.js';
import type { Client } from './client.js';
import { connect, type ConnectionValues } from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { Output } from './output.js';

export interface Command {
  /** The word that selects it (`list` within `jobs`, `dev` at the top). */
  readonly name: string;
  /** One line for the listing in the parent's help. */
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}

type RunFn<O extends OptionSpecs> = (args: Parsed<O>, out: Output) => Promise<number | void>;

/** A leaf command: `--help` prints the spec's help; otherwise `run` gets the parsed flags. */
export function command<O extends OptionSpecs>(spec: CommandSpec<O>, run: RunFn<O>): Command {
  return {
    name: spec.name.split(' ').pop() ?? spec.name,
    summary: spec.brief ?? spec.summary.split(/(?<=\.)\s/)[0] ?? spec.summary,
    async run(argv) {
      const parsed = parseCommand(spec, argv);
      const flags = parsed.values as Values<{
        help: { type: 'boolean'; help: '' };
        json: { type: 'boolean'; help: '' };
      }>;
      const out = new Output({ json: flags.json === true });
      if (flags.help) {
        for (const l of helpText(spec).split('\n')) out.line(l);
        return ExitCode.ok;
      }
      return (await run(parsed, out)) ?? ExitCode.ok;
    },
  };
}

/** A command made of subcommands; with no subcommand, `fallback` runs (or the group's help). */
export function group(name: string, summary: string, subs: readonly Command[], fallback?: string): Command {
  const help = (): string => {
    const width = Math.max(...subs.map((s) => s.name.length)) + 2;
    return [
      `Usage: retraced ${name} <command> [options]`,
      '',
      summary,
      '',
      'Commands:',
      ...subs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`),
      '',
      `Run \`retraced ${name} <command> --help\` for the options of each.`,
      '',
    ].join('\n');
  };
  return {
    name,
    summary,
    async run(argv) {
      const [first, ...rest] = argv;
      if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
        const sub =
          fallback !== undefined && first === undefined ? subs.find((s) => s.name === fallback) : undefined;
        if (sub) return sub.run(rest);
        (first === undefined ? process.stderr : process.stdout).write(`${help()}\n`);
        return first === undefined ? ExitCode.usage : ExitCode.ok;
      }
      const sub = subs.find((s) => s.name === first);
      if (sub) return sub.run(rest);
      if (fallback !== undefined && first.startsWith('-')) {
        return (subs.find((s) => s.name === fallback) as Command).run(argv);
      }
      throw new UsageError(
        `unknown command "${name} ${first}" (known: ${subs.map((s) => s.name).join(', ')})\nSee: retraced ${name} --help`,
      );
    },
  };
}

/** Connects as the flags say, runs `fn`, and always closes the connection. */
export async function withClient<T>(
  values: ConnectionValues,
  fn: (client: Client) => Promise<T>,
  archive?: { readonly url: string; readonly schema: string | undefined },
): Promise<T> {
  const client = await connect(values, process.env, archive);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
