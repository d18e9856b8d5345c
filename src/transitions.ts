/**
 * Texts and fixed values that every backend writes into records, in one place. The Redis Lua
 * scripts build the same strings; the conformance suite checks that both backends agree.
 * @module
 */
import { createHash } from 'node:crypto';

import type { ErrorInfo } from './types.js';

export const LEASE_EXPIRED_ERROR: ErrorInfo = Object.freeze({
  name: 'LeaseExpired',
  code: 'LEASE_EXPIRED',
  message: 'lease expired: the worker stopped renewing it (crashed, killed, frozen or cut off)',
});

/** Every poison job shares one fingerprint: their story is "it keeps killing its worker". */
export const POISON_LABEL = 'LeaseExpired|LEASE_EXPIRED|lease expired too many times: poison';
export const POISON_FINGERPRINT = createHash('sha1').update(POISON_LABEL).digest('hex').slice(0, 16);

export function stallRetryExplanation(stalls: number, maxStalls: number): string {
  return `lease expired (stall ${stalls} of ${maxStalls}): back to waiting at once`;
}

export function poisonExplanation(stalls: number, maxStalls: number): string {
  return `lease expired ${stalls} times (maxStalls ${maxStalls}): poison, dead-lettered`;
}

export function cancelExplanation(by: string, reason: string | undefined): string {
  return reason ? `cancelled by ${by}: ${reason}` : `cancelled by ${by}`;
}

/** Most events the feed keeps per queue (older ones are trimmed). */
export const EVENT_FEED_LENGTH = 10_000;
