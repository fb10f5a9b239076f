// What a load-generating client app (assembly/apps/client.ts) measured, read
// through its exports: round trips, verified bytes, errors and the latency
// histogram (log-linear buckets of microseconds).
import type { Core } from "../core/core.ts";

export interface ClientResults {
  round_trips: number;
  bytes_verified: number;
  errors: number;
  /** Connections that never opened: CONNECT refused, or the handshake gave up or was reset. */
  connects_failed: number;
  /** Connections reset (RST) after they opened, before their requests were done. */
  conns_reset: number;
  /** Connections given up by their retransmission limit after they opened. */
  conns_timed_out: number;
  /** Answers that differed from the bytes expected (each answer counted once). */
  responses_differed: number;
  /** The first differing byte: connection, request number, offset in the answer, byte expected (null: past its end), byte received. */
  first_difference: {
    conn: number;
    request: number;
    offset: number;
    expected: number | null;
    got: number;
  } | null;
  /** Any other error (a SENDV failure, a connection aborted). `errors` is the sum of the five kinds. */
  other_errors: number;
  /** Connections that ended with an orderly close (both FINs acknowledged) after all their requests. */
  conns_closed: number;
  done: boolean;
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

const num = (v: unknown) => Number(v as bigint | number);

export function clientResults(core: Core): ClientResults {
  const e = core.exports;
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
    conns_reset: num(e.clientConnsReset()),
    conns_timed_out: num(e.clientConnsTimedOut()),
    responses_differed: num(e.clientResponsesDiffered()),
    first_difference: firstDifference(core, num(e.clientFirstDiffPtr())),
    other_errors: num(e.clientOtherErrors()),
    conns_closed: num(e.clientConnsClosed()),
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

const NONE = 0xffffffff;

function firstDifference(core: Core, ptr: number): ClientResults["first_difference"] {
  const [conn, request, offset, expected, got] = core.u32.subarray(ptr >>> 2, (ptr >>> 2) + 5);
  if (conn === NONE) return null;
  return { conn, request, offset, expected: expected === NONE ? null : expected, got };
}
