// Where the sender cuts segments: record ends (CMD_SENDV with SENDV_EOR, as
// Linux's MSG_EOR) that no segment crosses, and sender-side silly window
// avoidance (RFC 9293 §3.8.6.2.1) with its override timer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SENDV_EOR } from "../../../host/core/abi.gen.ts";
import { F, TcpCore, established, seqAdd, CISN } from "./harness.ts";

/** Segments as [offset from the ISN, payload length, flags]. */
function shape(c: TcpCore, iss: number): number[][] {
  return c.out().map((s) => [(s.seq - iss) >>> 0, s.payload.length, s.flags]);
}

function ack(c: TcpCore, iss: number, upTo: number, win: number): void {
  c.inject({ seq: CISN + 1, ack: seqAdd(iss, 1 + upTo), flags: F.ACK, win });
}

test("sendv_eor: three adjacent records queued before one flush leave as three segments", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const p = c.put(0, new Uint8Array(3000).fill(7));
  for (let i = 0; i < 3; i++) assert.is(c.send(h, p + i * 1000, 1000, 0, SENDV_EOR), 1000);
  c.flush();
  assert.equal(shape(c, iss), [
    [1, 1000, F.ACK | F.PSH],
    [1001, 1000, F.ACK | F.PSH],
    [2001, 1000, F.ACK | F.PSH],
  ]);
});

test("sendv without EOR: the same bytes are filled up to the MSS", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const p = c.put(0, new Uint8Array(3000).fill(7));
  for (let i = 0; i < 3; i++) assert.is(c.send(h, p + i * 1000, 1000), 1000);
  assert.is(c.stat(2), 1, "adjacent spans merged into one");
  c.flush();
  assert.equal(shape(c, iss), [
    [1, 1460, F.ACK],
    [1461, 1460, F.ACK],
    [2921, 80, F.ACK | F.PSH],
  ]);
});

test("sendv_eor: a record longer than the MSS is cut at the MSS and ends at its own end", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const p = c.put(0, new Uint8Array(4000).fill(1));
  assert.is(c.send(h, p, 2000, 0, SENDV_EOR), 2000);
  assert.is(c.send(h, p + 2000, 2000, 1, SENDV_EOR), 2000);
  c.flush();
  assert.equal(shape(c, iss), [
    [1, 1460, F.ACK],
    [1461, 540, F.ACK | F.PSH],
    [2001, 1460, F.ACK],
    [3461, 540, F.ACK | F.PSH],
  ]);
});

test("sendv_eor: records held by the window keep their ends when it opens", () => {
  const c = new TcpCore();
  const { h, iss } = established(c, { win: 1000 });
  const p = c.put(0, new Uint8Array(3000).fill(2));
  for (let i = 0; i < 3; i++) assert.is(c.send(h, p + i * 1000, 1000, 0, SENDV_EOR), 1000);
  c.flush();
  assert.equal(shape(c, iss), [[1, 1000, F.ACK | F.PSH]]);
  ack(c, iss, 1000, 10000);
  c.flush();
  assert.equal(shape(c, iss), [
    [1001, 1000, F.ACK | F.PSH],
    [2001, 1000, F.ACK | F.PSH],
  ]);
});

test("sendv_eor: a record is queued whole or not at all; without EOR the buffer takes a part", () => {
  const c = new TcpCore({ sndbuf: 4000 });
  const { h, iss } = established(c, { win: 1000 });
  const p = c.put(0, new Uint8Array(5000).fill(3));
  assert.is(c.send(h, p, 3000, 0, SENDV_EOR), 3000);
  assert.is(c.send(h, p + 3000, 2000, 1, SENDV_EOR), 0, "1000 bytes of room: the 2000-byte record waits");
  const d = new TcpCore({ sndbuf: 4000 });
  const e = established(d, { win: 1000 });
  const q = d.put(0, new Uint8Array(5000).fill(3));
  assert.is(d.send(e.h, q, 3000), 3000);
  assert.is(d.send(e.h, q + 3000, 2000, 1), 1000, "without EOR: what fits");
  // Once 1000 bytes are acknowledged the record fits and keeps its boundary.
  c.flush();
  c.out();
  ack(c, iss, 1000, 8000);
  assert.is(c.send(h, p + 3000, 2000, 1, SENDV_EOR), 2000);
  c.flush();
  assert.equal(shape(c, iss), [
    [1001, 1460, F.ACK],
    [2461, 540, F.ACK | F.PSH],
    [3001, 1460, F.ACK],
    [4461, 540, F.ACK | F.PSH],
  ]);
});

test("sender SWS: a runt the window allows is held while nothing is in flight, and the override timer sends it", () => {
  const c = new TcpCore();
  const { h, iss } = established(c, { mss: 1000, win: 4000 });
  const p = c.put(0, new Uint8Array(6000).fill(4));
  assert.is(c.send(h, p, 6000), 6000);
  c.flush();
  assert.is(c.out().length, 4, "the window: 4 × 1000");
  // Everything acknowledged, the window shrinks to 300: 300 < MSS, < the 2000 left,
  // < half the largest window (4000): hold (RFC 9293 §3.8.6.2.1).
  ack(c, iss, 4000, 300);
  c.flush();
  assert.equal(c.out(), [], "no 300-byte runt at once");
  const t0 = c.now;
  let segs: number[][] = [];
  for (let i = 0; i < 20 && segs.length === 0; i++) {
    const due = c.timerNext();
    assert.ok(due > c.now, "a timer is armed");
    c.advance(due - c.now);
    c.flush();
    segs = shape(c, iss);
  }
  assert.equal(segs, [[4001, 300, F.ACK]], "the override sends what the window takes");
  assert.ok(c.now - t0 >= 200_000n, "after the persist interval (the RTO, at least 200 ms), not at once");
  // The window opens: full segments again.
  ack(c, iss, 4300, 4000);
  c.flush();
  assert.equal(shape(c, iss), [
    [4301, 1000, F.ACK],
    [5301, 700, F.ACK | F.PSH],
  ]);
});

test("sender SWS: a window of at least half the largest one is used at once (Fs = 1/2)", () => {
  const c = new TcpCore();
  const { h, iss } = established(c, { mss: 1000, win: 1500 });
  const p = c.put(0, new Uint8Array(3000).fill(5));
  assert.is(c.send(h, p, 3000), 3000);
  c.flush();
  assert.equal(shape(c, iss), [[1, 1000, F.ACK]], "500 more would fit, but 500 < 750 with 1000 in flight");
  ack(c, iss, 1000, 800);
  c.flush();
  assert.equal(shape(c, iss), [[1001, 800, F.ACK]], "800 >= 1500 / 2: sent");
});

test("sender SWS: all the data up to the push point goes even when it is a runt", () => {
  const c = new TcpCore();
  const { h, iss } = established(c, { mss: 1000, win: 4000 });
  const p = c.put(0, new Uint8Array(200).fill(6));
  assert.is(c.send(h, p, 200), 200);
  c.flush();
  assert.equal(shape(c, iss), [[1, 200, F.ACK | F.PSH]]);
});

test.run();
