// SACK-based loss recovery (RFC 6675) against NewReno (RFC 6582): with two
// segments of one window lost, the SACK scoreboard retransmits both holes in
// the same round trip; NewReno, without SACK, only the first until a partial ACK.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { F, TCB, TcpCore, established, seqAdd, CISN } from "./harness.ts";

const MSS = 1000;
const SEGS = 10;

/** Ten 1000-byte segments in flight (cwnd opened as slow start would have), `more` segments queued behind. */
function tenInFlight(sack: boolean, more = 0) {
  const c = new TcpCore();
  const { h, iss } = established(c, { sack, mss: MSS, win: 65535 });
  c.core.u32[(c.tcb(h) + TCB.CWND) >>> 2] = SEGS * MSS;
  const n = (SEGS + more) * MSS;
  const p = c.put(
    0,
    new Uint8Array(n).map((_, i) => i & 255),
  );
  assert.is(c.send(h, p, n), n);
  c.flush();
  assert.is(c.out().length, SEGS);
  return { c, h, iss };
}

/** The receiver's ACK of `upTo` (offset from the ISN + 1) with SACK blocks [l, r) as offsets. */
function ackWith(c: TcpCore, iss: number, upTo: number, blocks: [number, number][]): void {
  c.inject({
    seq: CISN + 1,
    ack: seqAdd(iss, 1 + upTo),
    flags: F.ACK,
    win: 65535,
    sack: blocks.map(([l, r]) => [seqAdd(iss, 1 + l), seqAdd(iss, 1 + r)] as [number, number]),
  });
  c.flush();
}

/** Segments 1 and 4 (offsets 0 and 3000) lost; 2, 3, 5..10 arrive, each answered by a duplicate ACK: what was sent meanwhile. */
function dupAcksForTwoHoles(c: TcpCore, iss: number, sack: boolean): number[] {
  const retx: number[] = [];
  const got: [number, number][] = [];
  for (const k of [1, 2, 4, 5, 6, 7, 8, 9]) {
    const l = k * MSS;
    const last = got[got.length - 1];
    if (last && last[1] === l) last[1] = l + MSS;
    else got.push([l, l + MSS]);
    // RFC 2018 §4: the block with the newest segment first.
    const blocks = sack ? [...got].sort((a, b) => (a[1] === l + MSS ? -1 : b[1] === l + MSS ? 1 : 0)) : [];
    ackWith(c, iss, 0, blocks);
    for (const s of c.out()) if (s.payload.length) retx.push((s.seq - iss - 1) >>> 0);
  }
  return retx;
}

test("SACK recovery: both holes of one window retransmitted before any cumulative ACK", () => {
  const { c, h, iss } = tenInFlight(true);
  const retx = dupAcksForTwoHoles(c, iss, true);
  assert.equal(retx, [0, 3000], "segment 1 at the third duplicate ACK, segment 4 once IsLost holds for it");
  assert.is(c.counter("tcp_sack_recoveries"), 1);
  assert.is(c.counter("tcp_fast_retransmits"), 1);
  assert.is(c.counter("tcp_sack_retransmits"), 1, "the second hole chosen by NextSeg");
  // Both holes filled: one cumulative ACK covers everything and recovery ends.
  ackWith(c, iss, SEGS * MSS, []);
  assert.equal(c.out(), []);
  const cwnd = c.core.u32[(c.tcb(h) + TCB.CWND) >>> 2];
  assert.ok(cwnd >= 2 * MSS, `cwnd ${cwnd} after recovery`);
});

test("SACK recovery: the pipe (RFC 6675 SetPipe) lets cwnd - pipe of new data go", () => {
  const { c, iss } = tenInFlight(true, 5);
  const sent = dupAcksForTwoHoles(c, iss, true);
  // cwnd = ssthresh = 10000 / 2. Once segments 5-10 are SACKed the last hole is
  // lost too; pipe = the two retransmissions = 2000: 3000 bytes of new data.
  assert.equal(sent, [0, 3000, 10000, 11000, 12000]);
});

test("NewReno without SACK: only the first hole until the partial ACK", () => {
  const { c, iss } = tenInFlight(false);
  const retx = dupAcksForTwoHoles(c, iss, false);
  assert.equal(retx, [0], "one retransmission per round trip");
  assert.is(c.counter("tcp_sack_recoveries"), 0);
  // The partial ACK (segments 1-3) retransmits the next hole (RFC 6582 §3.2 step 5).
  ackWith(c, iss, 3 * MSS, []);
  const seqs = c
    .out()
    .filter((s) => s.payload.length)
    .map((s) => (s.seq - iss - 1) >>> 0);
  assert.equal(seqs, [3000]);
});

test("SACK recovery: a timeout drops the scoreboard and goes back to SND.UNA (RFC 2018 §8)", () => {
  const { c, h, iss } = tenInFlight(true);
  dupAcksForTwoHoles(c, iss, true);
  let rto: number[] = [];
  for (let i = 0; i < 20 && rto.length === 0; i++) {
    c.advance(c.timerNext() - c.now);
    c.flush();
    rto = c
      .out()
      .filter((s) => s.payload.length)
      .map((s) => (s.seq - iss - 1) >>> 0);
  }
  assert.equal(rto, [0], "the RTO resends the first unacknowledged segment");
  assert.is(c.counter("tcp_rto_timeouts"), 1);
  assert.is(c.field(h, TCB.SND_NXT) - iss - 1, MSS, "SND.NXT went back to SND.UNA");
});

test("SACK recovery starts before three duplicate ACKs once IsLost(SND.UNA) holds (more than 2 SMSS SACKed above)", () => {
  const { c, iss } = tenInFlight(true);
  // One ACK SACKs segments 2-4 at once (the ACKs for 2 and 3 were lost): 3000 bytes
  // above the hole > (DupThresh - 1) · SMSS, so segment 1 is lost (RFC 6675 §4, §5).
  ackWith(c, iss, 0, [[1000, 4000]]);
  const retx = c
    .out()
    .filter((s) => s.payload.length)
    .map((s) => (s.seq - iss - 1) >>> 0);
  assert.equal(retx, [0]);
  assert.is(c.counter("tcp_sack_recoveries"), 1);
  assert.is(c.counter("tcp_dup_acks"), 1);
  // 2000 bytes SACKed (exactly 2 SMSS) are not enough.
  const d = tenInFlight(true);
  ackWith(d.c, d.iss, 0, [[1000, 3000]]);
  assert.equal(
    d.c.out().filter((s) => s.payload.length),
    [],
  );
  assert.is(d.c.counter("tcp_sack_recoveries"), 0);
});

test.run();
