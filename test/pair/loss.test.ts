// Loss during the handshake and the give-up limits of `ixwasm pair`'s cores, on
// the virtual clock (deterministic; minutes of protocol time in milliseconds).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pairOneThread, type PairOptions } from "../../host/pair/pair.ts";

const base: PairOptions = {
  app: "echo",
  conns: 4,
  msgs: 5,
  size: 64,
  workers: 1,
  faults: {},
  timeoutS: 600,
  clock: "virtual",
};

// Frame classification (Ethernet + IPv4 + TCP, as the cores send them).
const isArp = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x06;
function tcpFlags(f: Uint8Array): number {
  if (f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 6) return -1;
  return f[14 + (f[14] & 15) * 4 + 13];
}
const SYN = 2;
const ACK = 16;
const isSyn = (f: Uint8Array) => tcpFlags(f) >= 0 && (tcpFlags(f) & (SYN | ACK)) === SYN;
const isSynAck = (f: Uint8Array) => tcpFlags(f) >= 0 && (tcpFlags(f) & (SYN | ACK)) === (SYN | ACK);

test("a SYN lost after a slow neighbour answer is retransmitted: the wait for ARP is not counted as SYN retries", () => {
  // The server's first two ARP frames (its announcement and the first reply) are
  // lost: the client learns the server's MAC from the second request, 1 s later,
  // after ~50 neighbour-wait ticks. Then every connection's first SYN is lost.
  let arpDropped = 0;
  let synsSeen = 0;
  const r = pairOneThread({
    ...base,
    linkFilter: (dir, f) => {
      if (dir === "ba" && isArp(f) && arpDropped < 2) return (arpDropped++, false);
      if (dir === "ab" && isSyn(f)) return ++synsSeen > base.conns;
      return true;
    },
  });
  assert.is(arpDropped, 2);
  assert.is(synsSeen, 2 * base.conns, "each connection's SYN sent twice");
  assert.is(r.counters.client.tcp_conn_timeout ?? 0, 0, "no connection given up");
  assert.is(r.completed, true);
  assert.is(r.errors, 0);
  assert.is(r.connects_failed, 0);
  assert.is(r.round_trips, base.conns * base.msgs);
  // The answer comes 1-2 s in (the neighbour wait's ticks slow to 1 s after the first), the SYN RTO is 1 s.
  assert.ok(r.duration_s > 2 && r.duration_s < 4, `done at ${r.duration_s} s`);
});

test("a corrupted ARP answer (a wrong MAC learned) is asked again after two RTOs: the connections open", () => {
  let poisoned = 0;
  const r = pairOneThread({
    ...base,
    linkFilter: (dir, f) => {
      // The server's first ARP reply (op 2) gets a bit of its sender MAC flipped: ARP has no checksum.
      if (dir === "ba" && isArp(f) && f[21] === 2 && poisoned++ === 0) f[14 + 8 + 5] ^= 1;
      return true;
    },
  });
  assert.is(poisoned >= 1, true);
  assert.ok((r.counters.server.not_for_us ?? 0) > 0, "SYNs went to the wrong MAC first");
  assert.is(r.completed, true);
  assert.is(r.errors, 0);
  assert.is(r.counters.client.tcp_conn_timeout ?? 0, 0);
  // SYN at 0, 1, 3 s (asks again), 7 s with the right address.
  assert.ok(r.duration_s > 7 && r.duration_s < 8, `done at ${r.duration_s} s`);
});

test("... and when the first new ask is lost too, the next RTO asks again", () => {
  let poisoned = 0;
  let asks = 0;
  const r = pairOneThread({
    ...base,
    linkFilter: (dir, f) => {
      if (dir === "ba" && isArp(f) && f[21] === 2 && poisoned++ === 0) f[14 + 8 + 5] ^= 1;
      // The client's ARP requests: the first resolves, the second (the ask again at the second RTO) is lost.
      if (dir === "ab" && isArp(f) && f[21] === 1 && ++asks === 2) return false;
      return true;
    },
  });
  assert.ok(asks >= 3, `${asks} requests`);
  assert.is(r.completed, true);
  assert.is(r.errors, 0);
  // SYN at 0, 1, 3 (asks, lost), 7 (asks again), 15 s with the right address.
  assert.ok(r.duration_s > 15 && r.duration_s < 16, `done at ${r.duration_s} s`);
});

/**
 * Runs with every SYN, every SYN-ACK or every ARP frame of the server dropped
 * ("ack": everything the client sends after its SYN, so the server's SYN-ACK is
 * never acknowledged); returns the report and the dropped SYNs or the SYN-ACKs
 * seen, per connection.
 */
function unanswered(o: Partial<PairOptions>, drop: "syn" | "ack" | "arp") {
  let seen = 0;
  const r = pairOneThread({
    ...base,
    ...o,
    linkFilter: (dir, f) => {
      if (drop === "arp") return !(dir === "ba" && isArp(f));
      if (drop === "syn" && dir === "ab" && isSyn(f)) return (seen++, false);
      if (drop === "ack" && dir === "ba" && isSynAck(f)) seen++;
      if (drop === "ack" && dir === "ab" && tcpFlags(f) >= 0 && !isSyn(f)) return false;
      return true;
    },
  });
  return { r, perConn: seen / base.conns };
}

test("SYN retries: Linux's 6 by default (1+2+...+64 s = 127 s), or as configured", () => {
  const d = unanswered({}, "syn");
  assert.is(d.perConn, 7, "the SYN and 6 retransmissions");
  assert.is(d.r.counters.client.tcp_conn_timeout, base.conns);
  assert.ok(d.r.duration_s >= 127 && d.r.duration_s < 128.5, `gave up at ${d.r.duration_s} s`);
  const two = unanswered({ synRetries: 2 }, "syn");
  assert.is(two.perConn, 3);
  assert.is(two.r.counters.client.tcp_conn_timeout, base.conns);
  assert.ok(two.r.duration_s >= 7 && two.r.duration_s < 8.5, `gave up at ${two.r.duration_s} s`);
});

test("SYN-ACK retries: Linux's 5 by default, or as configured; the half-open connection is then gone", () => {
  const d = unanswered({ timeoutS: 100 }, "ack");
  assert.is(d.perConn, 6, "the SYN-ACK and 5 retransmissions");
  assert.is(d.r.counters.server.tcp_conn_timeout, base.conns);
  const two = unanswered({ synackRetries: 2, timeoutS: 100 }, "ack");
  assert.is(two.perConn, 3);
  assert.is(two.r.counters.server.tcp_conn_timeout, base.conns);
});

test("an unanswered neighbour: the SYN waits as long as its retries would have taken, then the connect fails", () => {
  const d = unanswered({}, "arp");
  assert.is(d.r.counters.client.tcp_conn_timeout, base.conns);
  assert.is(d.r.counters.client.tcp_segs_out ?? 0, 0, "no SYN left");
  assert.ok(d.r.duration_s >= 127 && d.r.duration_s < 129, `gave up at ${d.r.duration_s} s`);
  const two = unanswered({ synRetries: 2 }, "arp");
  assert.ok(two.r.duration_s >= 7 && two.r.duration_s < 8.5, `gave up at ${two.r.duration_s} s`);
});

test.run();
