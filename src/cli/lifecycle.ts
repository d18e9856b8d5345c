/**
 * Long-running commands (dev, server, worker) wait for SIGINT or SIGTERM, then shut down
 * gracefully. A second signal during shutdown exits at once (130), for the impatient Ctrl-C.
 * @module
 */
import { isIP } from 'node:net';

export function untilSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (seen) {
        onSecond();
        return;
      }
      seen = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return false;
}

/** `http://127.0.0.1:7411`, with IPv6 hosts bracketed. */
export function baseUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Ends the process once cleanup is done: by letting the event loop drain, or, if a stray handle
 * keeps it alive, after `graceMs`.
 */
export function exitSoon(code: number, graceMs = 2000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), graceMs).unref();
}
