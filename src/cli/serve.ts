/**
 * Listening: the one place the CLI calls `listen()` on the HTTP app (for `server` and `dev`),
 * with the settings read from flags first, then RETRACED_* variables, then defaults.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { intValue, stringValue } from './args.js';
import { CliError, UsageError } from './exit-codes.js';
import { isLoopback } from './lifecycle.js';

export const DEFAULT_PORT = 7411;
export const DEFAULT_HOST = '127.0.0.1';

export function portValue(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (flag !== undefined) return intValue(flag, '--port', 0, 65_535) as number;
  return intValue(env.RETRACED_PORT || undefined, 'RETRACED_PORT', 0, 65_535) ?? DEFAULT_PORT;
}

export function tokenValue(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const token = flag ?? (env.RETRACED_TOKEN || undefined);
  const source = flag !== undefined ? '--token' : 'RETRACED_TOKEN';
  return stringValue(token, source, 4096);
}

/** Refuses to serve beyond loopback without a token: anyone on the network could replay and purge. */
export function checkExposure(host: string, token: string | undefined): void {
  if (!isLoopback(host) && token === undefined) {
    throw new UsageError(
      `refusing to listen on ${host} without a token: anyone who can reach it could add, replay and purge jobs.\nPass --token (or set RETRACED_TOKEN), or listen on 127.0.0.1.`,
    );
  }
}

/** Listens and returns the port actually bound (useful with port 0). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        'EADDRINUSE',
        `port ${port} on ${host} is already in use: pass --port N (or --port 0 for any free port)`,
        { cause: e },
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
      throw new UsageError(`cannot listen on ${host}:${port} (${code}): check --host and --port`, {
        cause: e,
      });
    }
    throw e;
  }
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}
