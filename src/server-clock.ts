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

/** A best sample older than this is replaced by the next one, whatever its round trip. */
export const SAMPLE_MAX_AGE_MS = 10_000;

/**
 * The offset (backend − local) from the claim round trip with the shortest time in flight among
 * recent ones. A trip bounds the offset between `serverMs − recvLocal` and `serverMs − sentLocal`;
 * the upper bound of the shortest trip is the tightest estimate that is never too small, so a time
 * converted with it is never earlier than the real one, by more than the ms the backend's clock
 * rounds to. A long trip (a request held while the backend was unreachable, a reply read late by
 * a busy event loop) leaves the estimate alone.
 */
export class ServerClock {
  #offset = Number.NaN;
  #trip = Number.POSITIVE_INFINITY;
  #at = Number.NEGATIVE_INFINITY;

  /** Learns from one claim round trip. */
  sample(t: ClaimTrip): void {
    const trip = t.recvLocal - t.sentLocal;
    if (!(trip >= 0)) return;
    if (trip <= this.#trip || t.recvLocal - this.#at > SAMPLE_MAX_AGE_MS) {
      this.#offset = t.serverMs - t.sentLocal;
      this.#trip = trip;
      this.#at = t.recvLocal;
    }
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
    const estimate = Number.isNaN(this.#offset) ? latest : local + this.#offset;
    return Math.min(latest, Math.max(earliest, estimate));
  }
}
