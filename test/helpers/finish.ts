import type { Backend, FinishRequest, FinishResult } from '../../src/backend.js';

/**
 * Finishes attempts without claiming more, through the port's only finish: `finishAndClaim` (what
 * the worker calls) with `max: 0`, as the first request's worker.
 */
export async function finishOnly(
  backend: Backend,
  queue: string,
  reqs: readonly FinishRequest[],
): Promise<FinishResult[]> {
  const claim = { workerId: reqs[0]?.workerId ?? '', leaseMs: 1000, max: 0 };
  const [results] = await backend.finishAndClaim(queue, reqs, claim);
  return results;
}
