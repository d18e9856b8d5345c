/**
 * Correctness checks shared by the scenarios: speed must never come from skipped work.
 * @module
 */
import type { Counts } from './types.js';

/** Counts handler runs per job index. */
export class RunCounter {
  readonly runs: Uint16Array;
  total = 0;
  outOfRange = 0;

  constructor(readonly jobs: number) {
    this.runs = new Uint16Array(jobs);
  }

  add(i: number): number {
    this.total++;
    if (!Number.isInteger(i) || i < 0 || i >= this.jobs) {
      this.outOfRange++;
      return 0;
    }
    const n = this.runs[i]! + 1;
    this.runs[i] = n;
    return n;
  }

  /** Problems if any job did not run exactly `expected` times. */
  check(expected: number): string[] {
    const problems: string[] = [];
    if (this.outOfRange > 0) problems.push(`${this.outOfRange} handler runs for unknown job indexes`);
    let missing = 0;
    let wrong = 0;
    const examples: string[] = [];
    for (let i = 0; i < this.jobs; i++) {
      const n = this.runs[i]!;
      if (n === expected) continue;
      if (n === 0) missing++;
      else wrong++;
      if (examples.length < 3) examples.push(`#${i} ran ${n}×`);
    }
    if (missing > 0) problems.push(`${missing} of ${this.jobs} jobs never ran`);
    if (wrong > 0) problems.push(`${wrong} jobs ran a number of times other than ${expected}`);
    if (examples.length > 0 && (missing > 0 || wrong > 0)) problems.push(`e.g. ${examples.join(', ')}`);
    const want = this.jobs * expected;
    if (this.total !== want) problems.push(`${this.total} handler runs, expected ${want}`);
    return problems;
  }
}

/** Problems if the counts differ from what is expected (fields not given must be 0). */
export function checkCounts(c: Counts, expected: Partial<Counts>): string[] {
  const problems: string[] = [];
  for (const key of ['waiting', 'active', 'delayed', 'completed', 'failed'] as const) {
    const want = expected[key] ?? 0;
    if (c[key] !== want) problems.push(`${key}: ${c[key]}, expected ${want}`);
  }
  return problems;
}

/** Collects at most `max` example messages, then a count of the rest. */
export class ProblemList {
  readonly items: string[] = [];
  #more = 0;
  constructor(readonly max = 5) {}
  add(msg: string): void {
    if (this.items.length < this.max) this.items.push(msg);
    else this.#more++;
  }
  result(): string[] {
    return this.#more > 0 ? [...this.items, `… and ${this.#more} more`] : [...this.items];
  }
}
