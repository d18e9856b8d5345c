import { describe, expect, it } from 'vitest';

import { SAMPLE_MAX_AGE_MS, ServerClock } from '../../src/server-clock.js';

// Local instants are a worker's performance.now(); server times are the backend's ms since epoch.
const trip = (serverMs: number, sentLocal: number, recvLocal: number) => ({ serverMs, sentLocal, recvLocal });

describe('ServerClock', () => {
  it("without an estimate, converts with the claim's own upper bound: claim time + time since the request left", () => {
    const c = new ServerClock();
    expect(c.at(130, trip(1_000_000, 100, 101))).toBe(1_000_030);
  });

  it('uses the shortest round trip: a reply read late by a busy event loop does not make starts early', () => {
    const c = new ServerClock();
    c.sample(trip(1_000_000, 100, 100.5)); // offset ≤ 999_900 (server − local)
    // Sent at 99.8, claimed at server 1_000_000, but the reply was taken in 40 ms late (at 140).
    const late = trip(1_000_000, 99.8, 140);
    c.sample(late);
    // The handler starts at local 150: server 1_000_050. Counting from the reply would say 1_000_010.
    expect(c.at(150, late)).toBe(1_000_050);
  });

  it('a request held before it reached the backend (offline queue) does not make starts late', () => {
    const c = new ServerClock();
    c.sample(trip(1_000_000, 100, 100.4));
    // Sent at 200, held 3 s, claimed at server 1_003_100, answered at 3200.2.
    const held = trip(1_003_100, 200, 3200.2);
    c.sample(held);
    // Local 3210 is server 1_003_110. Counting from the request would say 1_006_110.
    expect(c.at(3210, held)).toBe(1_003_110);
  });

  it("keeps within what the job's own claim proves when the backend's clock jumped since the estimate", () => {
    const c = new ServerClock();
    c.sample(trip(1_000_000, 100, 100.5));
    // The backend's clock stepped back 60 s: the estimate would say 1_000_110 at local 210.
    const back = trip(940_100, 200, 201);
    c.sample(back);
    expect(c.at(210, back)).toBe(940_110);
    // …and forward 60 s.
    const ahead = trip(1_060_100, 200, 201);
    expect(c.at(210, ahead)).toBe(1_060_109);
  });

  it('replaces an estimate older than SAMPLE_MAX_AGE_MS by the next sample, whatever its round trip', () => {
    const c = new ServerClock();
    c.sample(trip(1_000_000, 100, 100.5)); // offset 999_900
    const later = 100.5 + SAMPLE_MAX_AGE_MS + 1;
    c.sample(trip(1_020_000, later - 5, later)); // a 5 ms trip, but the old one is stale: offset 1_009_903.5
    const t = trip(1_020_010, later + 5, later + 5.5);
    // With the stale offset the estimate would be 1_010_011.5, held up by the claim's bound 1_020_014.5.
    expect(c.at(later + 10, t)).toBe(1_020_015);
    // A fresh estimate is kept over a slower sample.
    c.sample(trip(1_020_100, later + 100, later + 120));
    expect(c.at(later + 10, t)).toBe(1_020_015);
  });

  it('when the best sample ages out, the shortest trip of the window takes over, not the next one to arrive', () => {
    const c = new ServerClock();
    c.sample(trip(1_000_000, 100, 101)); // 1 ms trip: offset 999_900
    c.sample(trip(1_005_000, 5_100, 5_130)); // 30 ms, dominated by the next one
    c.sample(trip(1_006_000, 6_100, 6_103)); // 3 ms: offset 999_900 (the clocks agree)
    const at = 100 + SAMPLE_MAX_AGE_MS + 500;
    // A busy moment: 40 ms in flight, claimed 1 ms after it left (offset 999_901 from its upper bound).
    const busy = trip(999_901 + at - 40, at - 40, at);
    c.sample(busy);
    // The 1 ms sample is out of the window; the 3 ms one is the best: local `at` is 999_900 + at.
    // Taking the 40 ms trip's bound instead would read the start 1 ms late; a worse claim, more.
    expect(c.at(at, busy)).toBe(999_900 + at);
    // Once every sample but the newest has aged out, the newest is the estimate.
    const later = at + SAMPLE_MAX_AGE_MS + 1;
    const slow = trip(999_900 + later - 50 + 20, later - 50, later);
    c.sample(slow);
    expect(c.at(later, slow)).toBe(999_900 + later - 50 + 20 + 50);
  });

  it('keeps a bounded number of samples however long a run of ever slower trips is', () => {
    const c = new ServerClock();
    for (let i = 0; i < 1000; i++) c.sample(trip(1_000_000 + i, i * 2, i * 2 + 0.001 * (i + 1)));
    expect(c.candidates).toBe(32);
    // The first (shortest) is still the best: offset 1_000_000, so local 5 is 1_000_005 (the claim
    // given allows 1_000_004.999 … 1_000_005).
    expect(c.at(5, trip(1_000_000, 0, 0.001))).toBe(1_000_005);
    // A faster trip replaces them all.
    c.sample(trip(1_002_000, 2_000, 2_000));
    expect(c.candidates).toBe(1);
  });

  it('ignores a sample whose reply came before its request (not a round trip)', () => {
    const c = new ServerClock();
    c.sample(trip(5_000, 10, 9));
    expect(c.at(20, trip(1_000, 10, 11))).toBe(1_010);
  });
});
