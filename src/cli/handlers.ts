/**
 * Loading the user's handlers module for `retraced worker`. The module's default export is either
 * one handler `(job, signal) => result` or an object `{ [jobName]: handler }`; it may also export
 * `strategies` (custom retry strategies) and `queueOptions` (classification table, size limits…).
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { CustomStrategy } from '../backoff.js';
import { PermanentError, ValidationError } from '../errors.js';
import type { QueueOptions } from '../options.js';
import type { Handler } from '../worker.js';
import { UsageError } from './exit-codes.js';

export interface LoadedHandlers {
  readonly handler: Handler;
  /** Job names with a handler of their own, or undefined for a single catch-all handler. */
  readonly names: readonly string[] | undefined;
  readonly strategies: Readonly<Record<string, CustomStrategy>> | undefined;
  readonly queueOptions: Omit<QueueOptions, 'backend'> | undefined;
}

const SHAPE = 'a module whose default export is a function (job, signal) or an object { [jobName]: handler }';

export async function loadHandlers(path: string, cwd = process.cwd()): Promise<LoadedHandlers> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new ValidationError('--handlers', 'a path to an existing module file', path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(
      `cannot load --handlers ${path}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      { cause: e },
    );
  }
  const exported = mod.default;
  const strategies = objectExport(mod, 'strategies') as Record<string, CustomStrategy> | undefined;
  const queueOptions = objectExport(mod, 'queueOptions') as Omit<QueueOptions, 'backend'> | undefined;
  if (typeof exported === 'function') {
    return { handler: exported as Handler, names: undefined, strategies, queueOptions };
  }
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
    throw new ValidationError('--handlers', SHAPE, exported === undefined ? 'no default export' : exported);
  }
  const table = exported as Record<string, unknown>;
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== 'function') {
      throw new ValidationError(`--handlers default export.${name}`, 'a handler function (job, signal)', fn);
    }
  }
  const names = Object.keys(table);
  if (names.length === 0) {
    throw new ValidationError('--handlers', `${SHAPE} with at least one handler`, 'an empty object');
  }
  const handler: Handler = (job, signal) => {
    const fn = Object.hasOwn(table, job.name) ? (table[job.name] as Handler) : undefined;
    if (!fn) {
      // Retrying will not grow a handler: dead-letter at once, with a code to group and find it by.
      throw new PermanentError(
        `no handler for job name ${JSON.stringify(job.name)} in ${path} (known: ${names.join(', ')})`,
        { code: 'NO_HANDLER' },
      );
    }
    return fn(job, signal);
  };
  return { handler, names, strategies, queueOptions };
}

function objectExport(mod: Record<string, unknown>, name: string): object | undefined {
  const v = mod[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ValidationError(`--handlers export ${name}`, 'an object', v);
  }
  return v;
}
