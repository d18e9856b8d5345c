/**
 * The backend's clock as seen from a worker: when did a handler start, in backend time? The worker
 * measures instants on its own monotonic clock (`performance.now()`); every claim tells it one
 * backend instant (the claim time, read by the backend between the request leaving and the reply
 * arriving). From those round trips it keeps an offset between the two clocks, NTP-style, and
 * converts a local instant into backend time. Workers' wall clocks play no part.
 * @module
 */

/** One claim round trip: sent and answered at these local instants; the backend read `serverMs` in between. */
export interface ClaimTrip {
  /** The claim time on the backend's clock (ms since epoch). */
  readonly serverMs: number;
  /** Local monotonic instant just before the request was sent. */
  readonly sentLocal: number;
  /** Local monotonic instant when the reply was taken in. */
  readonly recvLocal: number;
}

/** A sample older than this (by the newest one's arrival) no longer counts as the best. */
export const SAMPLE_MAX_AGE_MS = 10_000;

/** Most samples kept as candidates for the best one (each a few numbers). */
const MAX_SAMPLES = 32;

interface Sample {
  readonly offset: number;
  readonly trip: number;
  readonly at: number;
}

/**
 * The offset (backend − local) from the claim round trip with the shortest time in flight among
 * those of the last SAMPLE_MAX_AGE_MS (a sliding-window minimum). A trip bounds the offset
 * between `serverMs − recvLocal` and `serverMs − sentLocal`; the upper bound of the shortest trip
 * is the tightest estimate that is never too small, so a time converted with it is never earlier
 * than the real one, by more than the ms the backend's clock rounds to. A long trip (a request held
 * while the backend was unreachable, a reply read late by a busy event loop) leaves the estimate
 * alone; when the best sample ages out, the next shortest of the window takes over, not whatever
 * trip came next (a busy moment then would make every start read late by its trip).
 */
export class ServerClock {
  /** Candidates in arrival order, their trips strictly increasing: the first is the best. */
  readonly #samples: Sample[] = [];

  /** How many samples are kept as candidates (at most 32). */
  get candidates(): number {
    return this.#samples.length;
  }

  /** Learns from one claim round trip. */
  sample(t: ClaimTrip): void {
    const trip = t.recvLocal - t.sentLocal;
    if (!(trip >= 0)) return;
    const s = this.#samples;
    // A sample newer and no slower than an older one makes the older one useless.
    while (s.length > 0 && (s[s.length - 1] as Sample).trip >= trip) s.pop();
    s.push({ offset: t.serverMs - t.sentLocal, trip, at: t.recvLocal });
    while (s.length > 1 && t.recvLocal - (s[0] as Sample).at > SAMPLE_MAX_AGE_MS) s.shift();
    if (s.length > MAX_SAMPLES) s.splice(1, 1);
  }

  /**
   * The backend time at local instant `local`, for a job claimed by `claim`: the offset estimate,
   * kept within what that claim's own round trip proves (between `serverMs + (local − recvLocal)`
   * and `serverMs + (local − sentLocal)`), so a backend clock that jumped since the estimate was
   * taken cannot move it further than that. Not rounded.
   */
  at(local: number, claim: ClaimTrip): number {
    const earliest = claim.serverMs + (local - claim.recvLocal);
    const latest = claim.serverMs + (local - claim.sentLocal);
    const best = this.#samples[0];
    const estimate = best === undefined ? latest : local + best.offset;
    return Math.min(latest, Math.max(earliest, estimate));
  }
}
