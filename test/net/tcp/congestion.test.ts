// Congestion control and the retransmission timer, read from the TCB after each
// step of a scripted conversation (MSS 1460, the peer's window 65535 so only cwnd
// limits the sender): the initial window (RFC 3390), slow start with byte
// counting (RFC 3465 §2.2, L = 2·SMSS), fast retransmit at the third duplicate
// ACK and NewReno recovery (RFC 5681 §3.2, RFC 6582 §3.2), congestion avoidance
// (one SMSS per cwnd acknowledged), the loss window after a timeout, and the RTO
// estimator (RFC 6298 §2). Each value was checked against a mutant of
// congestion.ts / output.ts (test/mutate/mutants.mjs, ids cc-*).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CISN, F, TCB, TcpCore, established, seqAdd, synToListener, type Seg } from "./harness.ts";

const MSS = 1460;

const data = (segs: Seg[]) => segs.filter((s) => s.payload.length > 0);
/** The handle of the one KNOCK event the handshake gave. */
function knock(c: TcpCore): number {
  const ev = c.events();
  assert.is(ev.length, 1);
  return ev[0].handle;
}

function setup() {
  const c = new TcpCore();
  const { h, iss } = established(c, { mss: MSS });
  assert.is(c.field(h, TCB.MSS, 2), MSS);
  const una = () => c.field(h, TCB.SND_UNA);
  const ack = (to: number) => {
    c.inject({ seq: CISN + 1, ack: to, flags: F.ACK });
    c.flush();
    return data(c.out());
  };
  assert.is(c.send(h, c.put(0, new Uint8Array(200_000)), 200_000), 200_000);
  c.flush();
  return { c, h, iss, una, ack, first: data(c.out()) };
}

test("initial window of 3 segments, slow start by at most 2 SMSS per ACK", () => {
  const { c, h, iss, ack, first } = setup();
  assert.is(c.field(h, TCB.CWND), 3 * MSS, "RFC 3390: 3 segments for an MSS of 1095..2190");
  assert.is(c.field(h, TCB.SSTHRESH), 0x7fffffff);
  assert.equal(
    first.map((s) => [s.seq - iss, s.payload.length]),
    [
      [1, MSS],
      [1 + MSS, MSS],
      [1 + 2 * MSS, MSS],
    ],
    "the congestion window, not the peer's 65535, limits the first flight",
  );
  // one ACK for all three: cwnd grows by 2 SMSS, not 3
  const next = ack(seqAdd(iss, 1 + 3 * MSS));
  assert.is(c.field(h, TCB.CWND), 5 * MSS);
  assert.is(next.length, 5);
});

test("fast retransmit at the 3rd duplicate ACK, NewReno recovery, then congestion avoidance", () => {
  const { c, h, iss, una, ack } = setup();
  ack(seqAdd(iss, 1 + 3 * MSS)); // cwnd 5 SMSS, 5 segments in flight
  const flight = c.field(h, TCB.SND_MAX) - una();
  assert.is(flight, 5 * MSS);
  const u = una();
  assert.equal(ack(u), [], "1st duplicate ACK");
  assert.equal(ack(u), [], "2nd duplicate ACK");
  const rx = ack(u);
  assert.equal(
    rx.map((s) => [s.seq - iss, s.payload.length]),
    [[u - iss, MSS]],
    "the 3rd duplicate ACK retransmits the head",
  );
  assert.is(c.counter("tcp_fast_retransmits"), 1);
  assert.is(c.field(h, TCB.SSTHRESH), flight / 2, "ssthresh = FlightSize / 2");
  assert.is(c.field(h, TCB.CWND), flight / 2 + 3 * MSS, "cwnd = ssthresh + 3 SMSS");
  // the full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
  const after = ack(c.field(h, TCB.SND_MAX));
  assert.is(c.field(h, TCB.CWND), 2 * MSS);
  assert.is(after.length, 2);
  // slow start to 4 SMSS (above ssthresh 3650), then avoidance: +1 SMSS per cwnd acknowledged
  const more = ack(c.field(h, TCB.SND_MAX));
  assert.is(c.field(h, TCB.CWND), 4 * MSS);
  assert.is(more.length, 4);
  for (const s of more) ack(seqAdd(s.seq, s.payload.length));
  assert.is(c.field(h, TCB.CWND), 5 * MSS, "one SMSS after a cwnd's worth of single-segment ACKs");
});

test("a retransmission timeout leaves a loss window of one segment", () => {
  const { c, h, iss } = setup();
  c.advance(c.field(h, TCB.RTO) + 1000);
  const rx = data(c.out());
  assert.equal(
    rx.map((s) => [s.seq - iss, s.payload.length]),
    [[1, MSS]],
  );
  assert.is(c.field(h, TCB.CWND), MSS);
  assert.is(c.field(h, TCB.SSTHRESH), 2 * MSS, "max(FlightSize / 2, 2 SMSS)");
});

test("RTO from the handshake's RTT sample: SRTT + 4 RTTVAR, at least the minimum", () => {
  // 100 ms between our SYN-ACK and the peer's ACK
  const c = new TcpCore();
  const sa = synToListener(c, { mss: MSS });
  c.advance(100_000);
  c.inject({ seq: CISN + 1, ack: seqAdd(sa.seq, 1), flags: F.ACK });
  const h = knock(c);
  assert.is(c.field(h, TCB.SRTT), 100_000);
  assert.is(c.field(h, TCB.RTTVAR), 50_000);
  assert.is(c.field(h, TCB.RTO), 300_000);
  // 10 ms: 30 ms computed, raised to the 200 ms minimum
  const d = new TcpCore();
  const sb = synToListener(d, { mss: MSS });
  d.advance(10_000);
  d.inject({ seq: CISN + 1, ack: seqAdd(sb.seq, 1), flags: F.ACK });
  assert.is(d.field(knock(d), TCB.RTO), 200_000);
});

test.run();
