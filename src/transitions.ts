/**
 * The engine's rulebook: the rules, texts and fixed values that both backends apply when a job
 * changes state, written once. The memory backend calls these functions; the Redis Lua scripts get
 * their twins, with the same names, generated at build time by `scripts/build-lua.ts` into
 * `src/backends/redis/lua/generated/transitions.lua` (every export tagged `@lua`).
 *
 * What `@lua` allows (the generator refuses anything else, naming the line): constants whose value
 * is a number, a string or plain JSON data (an object becomes its JSON text in Lua); functions whose
 * body is one `return` of an expression made of parameters, `@lua` constants, calls of earlier
 * `@lua` functions, number and string literals, `+ - * < <= > >= === !== && || !`, `?:`, template
 * literals (with number substitutions only) and object literals (which become JSON text in Lua, in
 * the same key order as `JSON.stringify`). Numbers are whole numbers (Lua prints them with `%d`).
 * @module
 */
import { createHash } from 'node:crypto';

import type { Attempt, Decision, ErrorClass, ErrorInfo, PriorityWait } from './types.js';

export type StallAttemptEnd = Pick<Attempt, 'outcome' | 'error' | 'errorClass' | 'rule' | 'decision'>;

/** @lua The error code of a lease that expired (a stall). */
export const LEASE_EXPIRED_CODE = 'LEASE_EXPIRED';

/** @lua The error recorded on a stalled attempt (and on a poison job's dead record). */
export const LEASE_EXPIRED_ERROR: ErrorInfo = Object.freeze({
  name: 'LeaseExpired',
  code: LEASE_EXPIRED_CODE,
  message: 'lease expired: the worker stopped renewing it (crashed, killed, frozen or cut off)',
});

/** @lua Every poison job shares one fingerprint: their story is "it keeps killing its worker". */
export const POISON_LABEL = 'LeaseExpired|LEASE_EXPIRED|lease expired too many times: poison';
/** @lua */
export const POISON_FINGERPRINT = createHash('sha1').update(POISON_LABEL).digest('hex').slice(0, 16);

/** @lua Most events the feed keeps per queue (older ones are trimmed; Redis trims approximately). */
export const EVENT_FEED_LENGTH = 10_000;

/** @lua How soon a worker whose claim was stopped by a suspect (see {@link isSuspect}) looks again (ms). */
export const SUSPECT_RECHECK_MS = 25;

/** @lua The `rule` of a stalled attempt's record. */
export const STALL_RULE = 'stall';

/** @lua A job whose lease expired `stalls` times is poison at its `maxStalls`-th stall: dead-lettered. */
export function isPoison(stalls: number, maxStalls: number): boolean {
  return stalls >= maxStalls;
}

/**
 * @lua Isolation of suspects: a job whose next stall would make it poison may be what kills its
 * workers, or it stalled beside that one. A suspect is only handed to an idle worker, alone, and
 * stops a busy worker's claim; so the poison verdict always follows a stall in isolation.
 */
export function isSuspect(stalls: number, maxStalls: number): boolean {
  return stalls > 0 && isPoison(stalls + 1, maxStalls);
}

/** @lua Outcomes that count against the retry budget (`failures`). */
export function countsAsFailure(outcome: string): boolean {
  return outcome === 'failed' || outcome === 'timed_out';
}

/**
 * @lua What `interrupted` and `rate_limited` keep: a job given back at shutdown, or held back by an
 * upstream rate limit, waits again at once but keeps the previous delay (for decorrelated jitter)
 * instead of recording its own zero delay.
 */
export function keepsPreviousDelay(outcome: string): boolean {
  return outcome === 'interrupted' || outcome === 'rate_limited';
}

/** @lua */
export function stallRetryExplanation(stalls: number, maxStalls: number): string {
  return `lease expired (stall ${stalls} of ${maxStalls}): back to waiting at once`;
}

/** @lua */
export function poisonExplanation(stalls: number, maxStalls: number): string {
  return `lease expired ${stalls} times (maxStalls ${maxStalls}): poison, dead-lettered`;
}

/** @lua The class of a stalled attempt's error: poison at the last permitted stall, else temporary. */
export function stallErrorClass(stalls: number, maxStalls: number): ErrorClass {
  return isPoison(stalls, maxStalls) ? 'poison' : 'temporary';
}

/** @lua What stall recovery decides for a job at its `stalls`-th stall: back to waiting now, or poison. */
export function stallDecision(stalls: number, maxStalls: number, now: number): Decision {
  return isPoison(stalls, maxStalls)
    ? { action: 'dead', reason: 'poison', explanation: poisonExplanation(stalls, maxStalls) }
    : {
        action: 'retry',
        delayMs: 0,
        nextDueAt: now,
        source: 'policy',
        explanation: stallRetryExplanation(stalls, maxStalls),
        detail: { strategy: 'immediate' },
      };
}

/** @lua How a stalled attempt ends (the record's outcome, error, class, rule and decision). */
export function stallAttemptEnd(stalls: number, maxStalls: number, now: number): StallAttemptEnd {
  return {
    outcome: 'stalled',
    error: LEASE_EXPIRED_ERROR,
    errorClass: stallErrorClass(stalls, maxStalls),
    rule: STALL_RULE,
    decision: stallDecision(stalls, maxStalls, now),
  };
}

/** Not in Lua: the cancel script receives the whole decision as an argument. */
export function cancelExplanation(by: string, reason: string | undefined): string {
  return reason ? `cancelled by ${by}: ${reason}` : `cancelled by ${by}`;
}

/** @lua The priority of a job added without one, unless its queue sets another default. */
export const DEFAULT_PRIORITY = 0;
/** @lua Lowest priority a job may have (priorities are whole numbers; higher runs first). */
export const MIN_PRIORITY = -1_000_000;
/** @lua Highest priority a job may have. */
export const MAX_PRIORITY = 1_000_000;
/** @lua Longest priority aging step (ms waited per priority level gained): one day. */
export const MAX_PRIORITY_AGING_MS = 86_400_000;

/**
 * @lua The rank of one priority level of waiting jobs: lower is claimed first. Jobs of one priority
 * are claimed in order (FIFO), so a level is ranked by its oldest job, due at `headDueAt`.
 *
 * Without aging (`agingMs` 0) the rank is `−priority`: strict order between priorities. With aging, a
 * job gains one level per `agingMs` waited, so at time `now` it ranks as `priority + (now − due) /
 * agingMs`; ordering by that is ordering by `due − priority × agingMs`, in which `now` cancels out:
 * a rank that never changes while the job waits, so the levels can stay in a sorted set and a claim
 * is O(log levels). (A cap on the gain would make the rank move with time, and would let a level
 * more than the cap below a busy one starve: the gain is uncapped on purpose.)
 */
export function levelRank(priority: number, headDueAt: number, agingMs: number): number {
  return agingMs > 0 ? headDueAt - priority * agingMs : 0 - priority;
}

/** @lua The span of the order numbers `groupRank` counts within one priority (2^32). */
export const GROUP_SEQ_SPAN = 4_294_967_296;

/**
 * @lua The score of a job waiting in its group (lower = claimed first): priority first (higher
 * first), then `seq`, the order the group's jobs came in (a per-queue counter). Exact in a double:
 * |priority| ≤ 10^6 times 2^32 stays below 2^53. Within a group the order is strict (priority aging
 * applies to jobs without a group only).
 */
export function groupRank(priority: number, seq: number): number {
  return seq - priority * GROUP_SEQ_SPAN;
}

/**
 * @lua How many jobs of another priority level were claimed ahead of a job while it waited: the
 * jobs without a group claimed since it became ready (`servedNow − servedThen`, a per-queue counter
 * both backends keep from the first push into a level other than 0) less those of its own level
 * (`levelNow − levelThen`, a counter per level), which were before it in its level's FIFO. A claim
 * takes the best-ranked level's head, so every job of another level claimed while it waited ranked
 * ahead of it: of a higher priority (with aging, of a higher effective one). O(1) per claim: two
 * counters read, two snapshots stored on the job when it is pushed (`ps`).
 */
export function priorityAhead(
  servedNow: number,
  servedThen: number,
  levelNow: number,
  levelThen: number,
): number {
  return servedNow - servedThen - (levelNow - levelThen);
}

/**
 * `priority 5 (aged to 7): waited 2400 ms while 1240 jobs of higher priority ran`: the sentence of
 * a {@link priorityWait}. "(aged to …)" only when aging raised it.
 */
export function priorityWaitExplanation(
  priority: number,
  effective: number,
  waitedMs: number,
  ahead: number,
): string {
  return `priority ${priority}${effective !== priority ? ` (aged to ${effective})` : ''}: waited ${waitedMs} ms while ${ahead}${ahead === 1 ? ' job' : ' jobs'} of higher priority ran`;
}

/**
 * What the attempt of a job claimed after jobs of a higher priority records (`priority`): its
 * priority, its effective priority at the claim ({@link agedPriority}), how long it waited ready
 * (claim time − due) and how many jobs of another level were claimed ahead of it
 * ({@link priorityAhead}). Recorded only when `ahead > 0`: no noise when priority did not matter.
 * Not generated: its Lua twin is `claimFactsJson` in includes/claimFacts.lua, which writes it from
 * the texts of the job's short `cw` without formatting the numbers again
 * (test/redis/lua-twins.test.ts).
 */
export function priorityWait(
  priority: number,
  effective: number,
  waitedMs: number,
  ahead: number,
): PriorityWait {
  return {
    priority,
    effective,
    waitedMs,
    ahead,
    explanation: priorityWaitExplanation(priority, effective, waitedMs, ahead),
  };
}

/**
 * A waiting job's effective priority after `waitedMs` ready under aging (`agingMs` per level; 0 =
 * none): `priority + ⌊waitedMs / agingMs⌋`, as `levelRank` orders it. Not generated (no division
 * in a `@lua` expression): its Lua twin is `PR.aged` in includes/waitLevels.lua
 * (test/redis/lua-twins.test.ts).
 */
export function agedPriority(priority: number, waitedMs: number, agingMs: number): number {
  return agingMs > 0 ? priority + Math.floor(Math.max(0, waitedMs) / agingMs) : priority;
}
