/**
 * The attempt timeline's geometry, pure: one lane per attempt on a shared, linear time axis. Each
 * lane has the planned due time, the actual start (drift = start − due), the run until it
 * finished, and its outcome; between an attempt and the next, the wait the decision chose, with
 * its delay and explanation. A running attempt ends at `now`; a retry still pending waits until
 * its due time.
 */
import { formatDuration } from './format.js';
import type { Attempt, CurrentAttempt } from './types.js';

export interface TimelineInput {
  readonly createdAt: number;
  readonly attempts: readonly Attempt[];
  readonly current?: CurrentAttempt | undefined;
  /** The job's due time, when its next attempt is still to come (scheduled or waiting). */
  readonly nextDueAt?: number | undefined;
  readonly now: number;
}

export interface Lane {
  readonly n: number;
  readonly trigger: string;
  readonly outcome: string;
  readonly y: number;
  readonly dueX: number;
  readonly startX: number;
  readonly endX: number;
  readonly driftMs: number;
  readonly durationMs: number;
  readonly running: boolean;
}

export interface Wait {
  /** The attempt whose decision chose this wait. */
  readonly after: number;
  readonly y: number;
  readonly fromX: number;
  readonly toX: number;
  readonly delayMs: number;
  readonly explanation: string;
  readonly pending: boolean;
}

export interface Tick {
  readonly x: number;
  readonly offsetMs: number;
}

export interface TimelineLayout {
  readonly width: number;
  readonly height: number;
  readonly t0: number;
  readonly t1: number;
  readonly lanes: readonly Lane[];
  readonly waits: readonly Wait[];
  readonly ticks: readonly Tick[];
}

export const MARGIN = { left: 72, right: 24, top: 16, bottom: 36 } as const;
export const LANE_HEIGHT = 44;
const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The smallest step from the list giving at most `max` ticks over `spanMs`. */
export function tickStep(spanMs: number, max: number): number {
  return STEPS_MS.find((s) => spanMs / s <= max) ?? Math.ceil(spanMs / max / 86_400_000) * 86_400_000;
}

export function layoutTimeline(input: TimelineInput, width: number): TimelineLayout {
  const { attempts, current, now } = input;
  const first = attempts[0]?.dueAt ?? current?.dueAt ?? input.nextDueAt ?? input.createdAt;
  const t0 = Math.min(first, input.createdAt);
  let t1 = t0;
  for (const a of attempts) t1 = Math.max(t1, a.finishedAt, a.dueAt);
  if (current) t1 = Math.max(t1, now, current.startedAt);
  if (input.nextDueAt !== undefined) t1 = Math.max(t1, input.nextDueAt);
  if (t1 - t0 < 10) t1 = t0 + 10;
  const plot = width - MARGIN.left - MARGIN.right;
  const x = (t: number) => MARGIN.left + ((t - t0) / (t1 - t0)) * plot;
  const laneY = (i: number) => MARGIN.top + i * LANE_HEIGHT;

  const lanes: Lane[] = attempts.map((a, i) => ({
    n: a.n,
    trigger: a.trigger,
    outcome: a.outcome,
    y: laneY(i),
    dueX: x(a.dueAt),
    startX: x(a.startedAt),
    endX: x(a.finishedAt),
    driftMs: a.driftMs,
    durationMs: a.finishedAt - a.startedAt,
    running: false,
  }));
  if (current) {
    lanes.push({
      n: current.n,
      trigger: current.trigger,
      outcome: 'running',
      y: laneY(attempts.length),
      dueX: x(current.dueAt),
      startX: x(current.startedAt),
      endX: x(Math.max(now, current.startedAt)),
      driftMs: current.startedAt - current.dueAt,
      durationMs: Math.max(0, now - current.startedAt),
      running: true,
    });
  }

  const waits: Wait[] = [];
  attempts.forEach((a, i) => {
    if (a.decision.action !== 'retry') return;
    const next = attempts[i + 1];
    const pending = next === undefined && !current;
    if (!next && !current && input.nextDueAt === undefined) return;
    waits.push({
      after: a.n,
      y: laneY(i),
      fromX: x(a.finishedAt),
      toX: x(a.decision.nextDueAt),
      delayMs: a.decision.delayMs,
      explanation: a.decision.explanation,
      pending,
    });
  });

  const step = tickStep(t1 - t0, Math.max(2, Math.floor(plot / 90)));
  const ticks: Tick[] = [];
  for (let off = 0; off <= t1 - t0; off += step) ticks.push({ x: x(t0 + off), offsetMs: off });

  const laneCount = Math.max(1, lanes.length);
  return {
    width,
    height: MARGIN.top + laneCount * LANE_HEIGHT + MARGIN.bottom,
    t0,
    t1,
    lanes,
    waits,
    ticks,
  };
}

/** About how wide a character of the 11 px label font is, to keep a label within its wait. */
const CHAR_PX = 6;

/** `waited 2 s — fixed: 2 s`, shortened to fit `px` (never shorter than the delay itself). */
export function waitLabel(pending: boolean, delayMs: number, explanation: string, px: number): string {
  const head = `${pending ? 'next in' : 'waited'} ${formatDuration(delayMs)}`;
  const full = `${head} — ${explanation}`;
  const room = Math.max(head.length, Math.floor(px / CHAR_PX));
  if (full.length <= room) return full;
  return room >= head.length + 6 ? `${full.slice(0, room - 1)}…` : head;
}
