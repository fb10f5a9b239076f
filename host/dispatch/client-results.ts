// What a load-generating client app (assembly/apps/client.ts) measured, read
// through its exports: round trips, verified bytes, errors and the latency
// histogram (log-linear buckets of microseconds).
import type { Core } from "../core.ts";

export interface ClientResults {
  round_trips: number;
  bytes_verified: number;
  errors: number;
  connects_failed: number;
  done: boolean;
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

const num = (v: unknown) => Number(v as bigint | number);

export function clientResults(core: Core): ClientResults {
  const e = core.exports as Record<string, (...a: number[]) => unknown>;
  const rt = num(e.clientRoundTrips());
  const buckets = num(e.clientHistBuckets());
  const ptr = num(e.clientHistPtr());
  const counts: number[] = [];
  for (let b = 0; b < buckets; b++)
    counts.push(core.u32[(ptr >>> 2) + 2 * b] + core.u32[(ptr >>> 2) + 2 * b + 1] * 2 ** 32);
  const total = counts.reduce((a, b) => a + b, 0);
  const pct = (q: number) => {
    if (total === 0) return 0;
    const want = Math.ceil(q * total);
    let acc = 0;
    for (let b = 0; b < buckets; b++) {
      acc += counts[b];
      // Report the bucket's upper edge: a latency is never understated.
      if (acc >= want) return num(e.histBucketLow(b + 1));
    }
    return num(e.histBucketLow(buckets));
  };
  let maxB = 0;
  counts.forEach((c, b) => {
    if (c) maxB = b;
  });
  return {
    round_trips: rt,
    bytes_verified: num(e.clientBytesVerified()),
    errors: num(e.clientErrors()),
    connects_failed: num(e.clientConnectsFailed()),
    done: num(e.clientDone()) !== 0,
    latency_us: {
      p50: pct(0.5),
      p90: pct(0.9),
      p99: pct(0.99),
      p999: pct(0.999),
      max: total ? num(e.histBucketLow(maxB + 1)) : 0,
      mean: rt ? num(e.clientLatencySumUs()) / rt : 0,
    },
  };
}
