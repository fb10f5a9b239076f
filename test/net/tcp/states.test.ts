// TCP state machine, one conversation per RFC 9293 transition, named <state>_<event>.
// Each drives one core through crafted segments and checks the exact segments it
// sends, the events the app sees, the state and the counters.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CMD,
  DEAD,
  EV,
  F,
  RET,
  ST,
  TCB,
  TcpCore,
  seqAdd,
  type Seg,
  CLIENT_IP,
  SERVER_IP,
  CISN,
  one,
  synToListener,
  established,
} from "./harness.ts";

test("listen_syn: SYN-ACK with negotiated options, half-open not visible to the app", () => {
  const c = new TcpCore();
  const sa = synToListener(c, { ts: true, ws: 7, sack: true, mss: 1400 });
  assert.is(sa.flags, F.SYN | F.ACK);
  assert.is(sa.ack, CISN + 1);
  assert.is(sa.mss, 1460);
  assert.is(sa.ws, 0, "65535-byte buffer needs no scaling");
  assert.is(sa.sackOk, true);
  assert.ok(sa.ts, "timestamps echoed");
  assert.is(sa.ts![1], 500, "TSecr = the SYN's TSval");
  assert.is(sa.win, 65535);
  assert.is(sa.sport, 80);
  assert.is(sa.dport, 40000);
  assert.equal([...sa.src], [...SERVER_IP]);
  assert.equal([...sa.dst], [...CLIENT_IP]);
  assert.equal(c.events(), [], "no KNOCK before the handshake completes");
  assert.is(c.stat(1), 1, "one half-open connection");
  assert.is(c.counter("tcp_segs_in"), 1);
});

test("listen_syn without options: no WS/TS/SACK in the SYN-ACK, default MSS 536 used for sending", () => {
  const c = new TcpCore();
  c.listen(80);
  c.inject({ seq: CISN, flags: F.SYN });
  c.flush();
  const sa = one(c.out());
  assert.is(sa.ws, undefined);
  assert.is(sa.ts, undefined);
  assert.is(sa.sackOk, undefined);
  assert.is(sa.mss, 1460);
  c.inject({ seq: CISN + 1, ack: sa.seq + 1, flags: F.ACK });
  const h = c.events()[0].handle;
  assert.is(c.field(h, TCB.MSS, 2), 536);
});

test("listen_syn with CFG_TCP_FLAGS off: options refused even when offered", () => {
  const c = new TcpCore({ tcpFlags: 0 });
  const sa = synToListener(c, { ts: true, ws: 7, sack: true });
  assert.is(sa.ws, undefined);
  assert.is(sa.ts, undefined);
  assert.is(sa.sackOk, undefined);
});

test("syn_received_ack: ESTABLISHED, KNOCK with ports, address and family", () => {
  const c = new TcpCore();
  const sa = synToListener(c);
  c.inject({ seq: CISN + 1, ack: sa.seq + 1, flags: F.ACK });
  const ev = c.events();
  assert.is(ev.length, 1);
  assert.is(ev[0].kind, EV.KNOCK);
  assert.is(ev[0].a, 80);
  assert.is(ev[0].b, 40000);
  assert.equal([...c.u8.slice(ev[0].c, ev[0].c + 4)], [...CLIENT_IP]);
  assert.is(ev[0].d, 4);
  assert.is(c.state(ev[0].handle), ST.ESTABLISHED);
  assert.is(c.stat(1), 0, "no longer half-open");
  assert.is(c.counter("tcp_passive_opens"), 1);
});

test("syn_received_dup_syn: the SYN-ACK is sent again, same ISN", () => {
  const c = new TcpCore();
  const sa = synToListener(c);
  c.inject({ seq: CISN, flags: F.SYN, mss: 1460 });
  c.flush();
  const again = one(c.out());
  assert.is(again.flags, F.SYN | F.ACK);
  assert.is(again.seq, sa.seq);
  assert.is(c.counter("tcp_syn_dup"), 1);
});

test("syn_received_dup_syn_then_ack: a retransmitted SYN and the handshake's ACK in one batch leave SND.NXT past the SYN", () => {
  // The SYN-ACK answering the duplicate SYN is still queued (flush not run) when
  // the ACK with data establishes the connection: the SYN is acknowledged, so the
  // connection must send from ISS+1. Before the fix SND.NXT stayed at ISS: every
  // ACK carried SEQ=ISS (below the peer's RCV.NXT, dropped as out of window) and
  // no data could be sent; the peer retransmitted until it gave up.
  const c = new TcpCore();
  const sa = synToListener(c);
  c.inject({ seq: CISN, flags: F.SYN, mss: 1460 });
  c.inject({ seq: CISN + 1, ack: seqAdd(sa.seq, 1), flags: F.ACK | F.PSH, payload: "hello" });
  const knock = c.events().find((e) => e.kind === EV.KNOCK)!;
  assert.ok(knock, "established");
  const h = knock.handle;
  assert.is(c.cmd(CMD.ACCEPT, h, 1), RET.OK);
  assert.is(c.field(h, TCB.SND_NXT), seqAdd(sa.seq, 1), "SND.NXT = ISS+1");
  c.flush();
  assert.equal(c.out(), [], "no SYN-ACK again: the SYN is acknowledged (the ACK of the data is delayed)");
  c.events();
  const p = c.put(0, new TextEncoder().encode("world"));
  assert.is(c.send(h, p, 5), 5);
  c.flush();
  const data = c.out().find((x) => x.payload.length > 0);
  assert.ok(data, "the data leaves");
  assert.is(data!.seq, seqAdd(sa.seq, 1));
  assert.is(new TextDecoder().decode(data!.payload), "world");
});

test("syn_received_rst: back to nothing, silently", () => {
  const c = new TcpCore();
  const sa = synToListener(c);
  c.inject({ seq: CISN + 1, flags: F.RST });
  c.flush();
  assert.equal(c.out(), []);
  assert.equal(c.events(), []);
  assert.is(c.stat(0), 0, "TCB freed");
  assert.ok(sa);
});

test("syn_received_bad_ack: RST <SEQ=SEG.ACK>", () => {
  const c = new TcpCore();
  const sa = synToListener(c);
  c.inject({ seq: CISN + 1, ack: sa.seq + 1000, flags: F.ACK });
  c.flush();
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.is(r.seq, sa.seq + 1000);
  assert.is(c.counter("tcp_bad_ack"), 1);
});

test("closed_syn: RST+ACK with ACK = SEQ + 1, no state kept", () => {
  const c = new TcpCore();
  c.inject({ seq: 5000, flags: F.SYN, dport: 81 });
  const r = one(c.out());
  assert.is(r.flags, F.RST | F.ACK);
  assert.is(r.seq, 0);
  assert.is(r.ack, 5001);
  assert.is(r.sport, 81);
  assert.is(c.stat(0), 0);
  assert.is(c.counter("tcp_no_listener"), 1);
  assert.is(c.counter("tcp_rst_sent"), 1);
});

test("closed_ack: RST <SEQ=SEG.ACK>; closed_rst: nothing (never RST an RST)", () => {
  const c = new TcpCore();
  c.inject({ seq: 5000, ack: 777, flags: F.ACK, payload: "x" });
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.is(r.seq, 777);
  c.inject({ seq: 5000, ack: 777, flags: F.RST | F.ACK });
  c.inject({ seq: 5000, flags: F.RST });
  assert.equal(c.out(), []);
});

test("closed_bad_checksum: dropped and counted before anything else", () => {
  const c = new TcpCore();
  c.listen(80);
  c.inject({ seq: 1, flags: F.SYN }, false);
  c.out();
  const before = c.counter("tcp_bad_csum");
  // corrupt one byte after the checksum was computed
  const pkt = new TcpCoreBuild().syn();
  pkt[pkt.length - 1] ^= 1;
  c.injectRaw(pkt, true);
  assert.is(c.counter("tcp_bad_csum"), before + 1);
  assert.equal(c.out(), []);
});

class TcpCoreBuild {
  syn(): Uint8Array {
    // SYN with 4 payload bytes so a flip does not hit the header
    return buildPacketLocal();
  }
}
import { buildPacket } from "./harness.ts";
function buildPacketLocal(): Uint8Array {
  return buildPacket({ seq: 9, flags: F.SYN, sport: 41000, payload: "abcd" }, CLIENT_IP, SERVER_IP);
}

test("established_data: RECV points into the mbuf; ACK every 2nd segment, else after the delayed-ACK time", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK | F.PSH, payload: "hello" });
  let ev = c.events();
  assert.is(ev.length, 1);
  assert.is(ev[0].kind, EV.RECV);
  assert.is(ev[0].cookie, 77);
  assert.is(ev[0].b, 5);
  assert.is(new TextDecoder().decode(c.u8.slice(ev[0].a, ev[0].a + 5)), "hello");
  c.flush();
  assert.equal(c.out(), [], "first segment: ACK delayed");
  c.advance(39_000);
  assert.equal(c.out(), []);
  c.advance(1_200);
  const a = one(c.out());
  assert.is(a.flags, F.ACK);
  assert.is(a.ack, CISN + 6);
  assert.is(a.win, 65535 - 5, "window shrinks until RECV_DONE");
  assert.is(c.counter("tcp_delack_sent"), 1);
  // two segments in one batch: one ACK at the flush
  c.inject({ seq: CISN + 6, ack: iss + 1, flags: F.ACK, payload: "ab" });
  c.inject({ seq: CISN + 8, ack: iss + 1, flags: F.ACK, payload: "cd" });
  ev = c.events();
  assert.is(ev.length, 2);
  c.flush();
  const a2 = one(c.out());
  assert.is(a2.ack, CISN + 10);
  // RECV_DONE re-opens the window (only when worth an update: >= MSS or half the buffer)
  assert.is(c.cmd(CMD.RECV_DONE, h, 0, 9), 9);
  c.flush();
  assert.equal(c.out(), [], "9 bytes is not worth a window update");
  assert.is(c.field(h, TCB.RCV_HELD), 0);
});

test("established_recv_done: window update after the app frees a window's worth; mbufs back in the pool", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const free0 = c.mbufsFree();
  const chunk = new Uint8Array(1460).fill(7);
  let seq = CISN + 1;
  for (let i = 0; i < 44; i++) {
    c.inject({ seq, ack: iss + 1, flags: F.ACK, payload: chunk });
    seq += 1460;
  }
  // 44 * 1460 = 64240 bytes held; window = 1295
  c.flush();
  const acks = c.out();
  assert.is(acks[acks.length - 1].ack, seq >>> 0);
  assert.is(acks[acks.length - 1].win, 65535 - 64240);
  assert.is(c.mbufsFree(), free0 - 44, "44 mbufs held for the app");
  c.events();
  assert.is(c.cmd(CMD.RECV_DONE, h, 0, 64240), 64240);
  c.flush();
  const wu = one(c.out());
  assert.is(wu.win, 65535, "window update");
  assert.is(c.mbufsFree(), free0, "all mbufs back");
});

test("established_ooo: duplicate ACK with a SACK block, then in-order delivery when the hole fills", () => {
  const c = new TcpCore();
  const { iss } = established(c, { sack: true, ts: false });
  c.inject({ seq: CISN + 11, ack: iss + 1, flags: F.ACK, payload: "klmnopqrst" });
  assert.equal(c.events(), []);
  c.flush();
  const d = one(c.out());
  assert.is(d.ack, CISN + 1);
  assert.equal(d.sack, [[CISN + 11, CISN + 21]]);
  assert.is(c.counter("tcp_ooo_segs"), 1);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "abcdefghij" });
  const ev = c.events();
  assert.equal(
    ev.map((e) => new TextDecoder().decode(c.u8.slice(e.a, e.a + e.b))),
    ["abcdefghij", "klmnopqrst"],
  );
  c.flush();
  const a = one(c.out());
  assert.is(a.ack, CISN + 21, "hole filled: immediate ACK");
  assert.is(a.sack, undefined);
});

test("established_ooo_overlap: overlapping and duplicate out-of-order segments are trimmed", () => {
  const c = new TcpCore();
  const { iss } = established(c);
  const data = "0123456789abcdefghijklmnopqrstuvwxyz";
  const part = (a: number, b: number) => ({
    seq: CISN + 1 + a,
    ack: iss + 1,
    flags: F.ACK,
    payload: data.slice(a, b),
  });
  c.inject(part(20, 30));
  c.inject(part(10, 25));
  c.inject(part(12, 14));
  c.inject(part(28, 36));
  c.inject(part(5, 8));
  c.inject(part(0, 6));
  c.inject(part(6, 12));
  const text = c
    .events()
    .map((e) => new TextDecoder().decode(c.u8.slice(e.a, e.a + e.b)))
    .join("");
  assert.is(text, data);
});

test("established_rst_exact: RST at RCV.NXT resets (DEAD_RESET)", () => {
  const c = new TcpCore();
  const { h } = established(c);
  c.inject({ seq: CISN + 1, flags: F.RST });
  const ev = c.events();
  assert.is(ev.length, 1);
  assert.is(ev[0].kind, EV.DEAD);
  assert.is(ev[0].a, DEAD.RESET);
  assert.is(ev[0].cookie, 77);
  assert.is(c.tcb(h), 0, "handle stale");
  assert.is(c.cmd(CMD.SENDV, h), RET.BADHANDLE);
  assert.equal(c.out(), [], "never RST an RST");
});

test("established_rst_in_window: challenge ACK (RFC 5961 §3.2), connection stays", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 100, flags: F.RST });
  c.flush();
  const a = one(c.out());
  assert.is(a.flags, F.ACK);
  assert.is(a.seq, iss + 1);
  assert.is(a.ack, CISN + 1);
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.is(c.counter("tcp_challenge_ack"), 1);
});

test("established_rst_out_of_window: silently dropped", () => {
  const c = new TcpCore();
  const { h } = established(c);
  c.inject({ seq: CISN + 1 + 70000, flags: F.RST });
  c.flush();
  assert.equal(c.out(), []);
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.is(c.counter("tcp_out_of_window"), 1);
});

test("established_syn: challenge ACK (RFC 5961 §4.2), rate limited per second", () => {
  const c = new TcpCore();
  const { h } = established(c);
  c.inject({ seq: CISN + 5000, flags: F.SYN });
  c.flush();
  const a = one(c.out());
  assert.is(a.flags, F.ACK);
  assert.is(a.ack, CISN + 1);
  assert.is(c.state(h), ST.ESTABLISHED);
  for (let i = 0; i < 1100; i++) {
    c.inject({ seq: CISN + 5000 + i, flags: F.SYN });
    c.flush();
  }
  assert.is(c.out().length, 999, "1000 per second in all");
  assert.is(c.counter("tcp_challenge_ack"), 1000);
  assert.is(c.counter("tcp_challenge_limited"), 101);
});

test("established_ack_too_new: an ACK for data never sent is answered and dropped", () => {
  const c = new TcpCore();
  const { iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 5000, flags: F.ACK, payload: "zz" });
  assert.equal(c.events(), [], "data not taken");
  c.flush();
  const a = one(c.out());
  assert.is(a.ack, CISN + 1);
  assert.is(c.counter("tcp_ack_too_new"), 1);
});

test("established_old_data: a retransmitted segment is acknowledged at once, not delivered twice", () => {
  const c = new TcpCore();
  const { iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "abc" });
  c.events();
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "abc" });
  assert.equal(c.events(), []);
  c.flush();
  const a = one(c.out());
  assert.is(a.ack, CISN + 4);
  assert.is(c.counter("tcp_dup_segs"), 1);
});

test("established_paws: an old timestamp is dropped and ACKed (RFC 7323 §5.3)", () => {
  const c = new TcpCore();
  const { iss } = established(c, { ts: true });
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "new", ts: [600, 0] });
  assert.is(c.events().length, 1);
  c.inject({ seq: CISN + 4, ack: iss + 1, flags: F.ACK, payload: "old", ts: [550, 0] });
  assert.equal(c.events(), []);
  c.flush();
  const a = one(c.out());
  assert.is(a.ack, CISN + 4);
  assert.is(a.ts![1], 600, "TS.Recent is the newest in-order TSval");
  assert.is(c.counter("tcp_paws_drop"), 1);
});

test("established_fin: CLOSE-WAIT, end-of-stream RECV, immediate ACK; close_wait_close: LAST-ACK; last_ack_ack: DEAD_CLOSED", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK | F.FIN, payload: "bye" });
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.b]),
    [
      [EV.RECV, 3],
      [EV.RECV, 0],
    ],
  );
  assert.is(c.state(h), ST.CLOSE_WAIT);
  c.flush();
  const a = one(c.out());
  assert.is(a.ack, CISN + 5);
  assert.is(c.cmd(CMD.CLOSE, h), RET.OK);
  assert.is(c.state(h), ST.LAST_ACK);
  c.flush();
  const fin = one(c.out());
  assert.is(fin.flags, F.ACK | F.FIN);
  assert.is(fin.seq, iss + 1);
  c.inject({ seq: CISN + 5, ack: iss + 2, flags: F.ACK });
  const d = c.events();
  assert.equal(
    d.map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.CLOSED]],
  );
  assert.is(c.stat(0), 0);
});

test("established_close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT (DEAD_CLOSED) -> freed after 2 MSL", () => {
  const c = new TcpCore({ mslMs: 1000 });
  const { h, iss } = established(c);
  assert.is(c.cmd(CMD.CLOSE, h), RET.OK);
  assert.is(c.state(h), ST.FIN_WAIT_1);
  c.flush();
  const fin = one(c.out());
  assert.is(fin.flags, F.ACK | F.FIN);
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK });
  assert.is(c.state(h), ST.FIN_WAIT_2);
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK, payload: "late" });
  assert.is(c.events()[0].kind, EV.RECV, "FIN-WAIT-2 still receives");
  c.inject({ seq: CISN + 5, ack: iss + 2, flags: F.ACK | F.FIN });
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.a, e.b]),
    [
      [EV.RECV, 0, 0],
      [EV.DEAD, DEAD.CLOSED, 0],
    ],
  );
  assert.is(c.state(h), ST.TIME_WAIT, "TCB lives on in TIME-WAIT");
  assert.is(c.cmd(CMD.SENDV, h), RET.BADHANDLE, "but the handle is dead for the app");
  c.flush();
  assert.is(one(c.out()).ack, CISN + 6);
  // a retransmitted FIN is ACKed again and restarts 2·MSL
  c.advance(1_500_000);
  c.inject({ seq: CISN + 5, ack: iss + 2, flags: F.ACK | F.FIN });
  c.flush();
  assert.is(one(c.out()).ack, CISN + 6);
  c.advance(1_999_000);
  assert.is(c.state(h), ST.TIME_WAIT);
  c.advance(2_000);
  assert.is(c.tcb(h), 0, "freed after 2·MSL");
  assert.is(c.stat(0), 0);
});

/** Established, closed by us, our FIN acknowledged: FIN-WAIT-2. */
function finWait2(c: TcpCore) {
  const { h, iss } = established(c);
  assert.is(c.cmd(CMD.CLOSE, h), RET.OK);
  c.flush();
  assert.is(one(c.out()).flags, F.ACK | F.FIN);
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK });
  assert.is(c.state(h), ST.FIN_WAIT_2);
  c.events();
  return { h, iss };
}

/** Advances the clock in steps of `step` µs up to `us`, running the timers at each. */
function advanceBy(c: TcpCore, us: number, step = 500_000): void {
  for (let done = 0; done < us; done += step) c.advance(Math.min(step, us - done));
}

test("fin_wait_2_timeout: a peer that never sends its FIN: RST and DEAD_TIMEOUT after 60 s (Linux tcp_fin_timeout)", () => {
  const c = new TcpCore();
  const { h, iss } = finWait2(c);
  advanceBy(c, 59_900_000);
  assert.is(c.state(h), ST.FIN_WAIT_2, "still waiting at 59.9 s");
  assert.equal(c.out(), []);
  advanceBy(c, 200_000, 100_000);
  assert.is(c.tcb(h), 0, "gone at 60 s");
  const rst = one(c.out());
  assert.is(rst.flags & F.RST, F.RST);
  assert.is(rst.seq, iss + 2);
  assert.equal(
    c.events().map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.TIMEOUT]],
  );
  assert.is(c.counter("tcp_conn_timeout"), 1);
  assert.is(c.stat(0), 0, "no TCB left");
});

test("fin_wait_2_timeout: configurable; data from the peer restarts it; all ones = wait forever", () => {
  const c = new TcpCore({ finTimeoutMs: 5000 });
  const { h, iss } = finWait2(c);
  advanceBy(c, 4_000_000);
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK, payload: "still here" });
  advanceBy(c, 4_900_000);
  assert.is(c.state(h), ST.FIN_WAIT_2, "5 s from the data, not from the FIN's ACK");
  advanceBy(c, 200_000, 100_000);
  assert.is(c.tcb(h), 0);
  const never = new TcpCore({ finTimeoutMs: 0xffffffff });
  const w = finWait2(never);
  advanceBy(never, 1000_000_000, 10_000_000);
  assert.is(never.state(w.h), ST.FIN_WAIT_2, "no limit");
});

test("idle limit: off by default; with idleTimeoutS a connection with nothing received that long is reset", () => {
  const off = new TcpCore();
  const o = established(off);
  advanceBy(off, 10_000_000_000, 100_000_000);
  assert.is(off.state(o.h), ST.ESTABLISHED, "no limit by default");

  const c = new TcpCore({ idleTimeoutS: 30 });
  const { h, iss } = established(c);
  advanceBy(c, 20_000_000);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "x" });
  c.events();
  advanceBy(c, 29_000_000);
  assert.is(c.state(h), ST.ESTABLISHED, "29 s after the last segment");
  c.flush();
  c.out();
  // Every TCB is looked at once per quarter of the limit: reset between 30 and 37.5 s.
  advanceBy(c, 9_000_000);
  assert.is(c.tcb(h), 0, "reset by 38 s");
  const rst = one(c.out());
  assert.is(rst.flags & F.RST, F.RST);
  assert.is(rst.seq, iss + 1);
  assert.equal(
    c.events().map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.TIMEOUT]],
  );
  assert.is(c.counter("tcp_conn_timeout"), 1);

  // CLOSE-WAIT waits for our app, not for the peer: not reset.
  const cw = new TcpCore({ idleTimeoutS: 30 });
  const e = established(cw);
  cw.inject({ seq: CISN + 1, ack: e.iss + 1, flags: F.ACK | F.FIN });
  assert.is(cw.state(e.h), ST.CLOSE_WAIT);
  advanceBy(cw, 100_000_000, 1_000_000);
  assert.is(cw.state(e.h), ST.CLOSE_WAIT);
});

test("fin_wait_1_fin: simultaneous close -> CLOSING -> TIME-WAIT", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.cmd(CMD.CLOSE, h);
  c.flush();
  c.out();
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK | F.FIN });
  assert.is(c.state(h), ST.CLOSING);
  c.flush();
  assert.is(one(c.out()).ack, CISN + 2);
  c.inject({ seq: CISN + 2, ack: iss + 2, flags: F.ACK });
  assert.is(c.state(h), ST.TIME_WAIT);
});

test("syn_sent: CONNECT sends a SYN from a port of this worker; syn_sent_synack: ESTABLISHED, CONNECTED", () => {
  const c = new TcpCore({}, CLIENT_IP);
  const addr = c.put(0, SERVER_IP);
  const h = c.cmd(CMD.CONNECT, 0, 42, 4, addr, 8080);
  assert.ok(h >= 0, `handle ${h}`);
  assert.is(c.state(h), ST.SYN_SENT);
  c.flush();
  const syn = one(c.out());
  assert.is(syn.flags, F.SYN);
  assert.is(syn.dport, 8080);
  assert.ok(syn.sport >= 32768 && syn.sport < 61000);
  assert.is(syn.mss, 1460);
  assert.ok(syn.ts && syn.sackOk && syn.ws === 0);
  c.inject({
    src: SERVER_IP,
    dst: CLIENT_IP,
    sport: 8080,
    dport: syn.sport,
    seq: 9000,
    ack: syn.seq + 1,
    flags: F.SYN | F.ACK,
    mss: 1000,
    ts: [77, syn.ts![0]],
  });
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.handle, e.cookie, e.a]),
    [[EV.CONNECTED, h, 42, RET.OK]],
  );
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.is(c.field(h, TCB.MSS, 2), 1000 - 12, "peer MSS minus the timestamp option");
  c.flush();
  const a = one(c.out());
  assert.is(a.flags, F.ACK);
  assert.is(a.ack, 9001);
  assert.is(c.counter("tcp_active_opens"), 1);
});

test("syn_sent_rst: connect refused (DEAD_REFUSED); RST without ACK ignored", () => {
  const c = new TcpCore({}, CLIENT_IP);
  const addr = c.put(0, SERVER_IP);
  const h = c.cmd(CMD.CONNECT, 0, 5, 4, addr, 8080);
  c.flush();
  const syn = one(c.out());
  const back = { src: SERVER_IP, dst: CLIENT_IP, sport: 8080, dport: syn.sport };
  c.inject({ ...back, seq: 0, flags: F.RST });
  assert.equal(c.events(), []);
  c.inject({ ...back, seq: 0, ack: syn.seq + 5, flags: F.RST | F.ACK });
  assert.equal(c.events(), [], "unacceptable ACK");
  c.inject({ ...back, seq: 0, ack: syn.seq + 1, flags: F.RST | F.ACK });
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.a, e.cookie]),
    [[EV.DEAD, DEAD.REFUSED, 5]],
  );
  assert.is(c.tcb(h), 0);
  assert.equal(c.out(), []);
});

test("syn_sent_syn: simultaneous open -> SYN-RECEIVED -> ESTABLISHED", () => {
  const c = new TcpCore({}, CLIENT_IP);
  const addr = c.put(0, SERVER_IP);
  const h = c.cmd(CMD.CONNECT, 0, 5, 4, addr, 8080);
  c.flush();
  const syn = one(c.out());
  const back = { src: SERVER_IP, dst: CLIENT_IP, sport: 8080, dport: syn.sport };
  c.inject({ ...back, seq: 3000, flags: F.SYN, mss: 1460 });
  assert.is(c.state(h), ST.SYN_RECEIVED);
  c.flush();
  const sa = one(c.out());
  assert.is(sa.flags, F.SYN | F.ACK);
  assert.is(sa.seq, syn.seq);
  assert.is(sa.ack, 3001);
  c.inject({ ...back, seq: 3001, ack: syn.seq + 1, flags: F.ACK });
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.equal(
    c.events().map((e) => e.kind),
    [EV.CONNECTED],
  );
});

test("syn_sent_timeout: SYN retransmitted with backoff 1,2,4.. s, then DEAD_TIMEOUT", () => {
  const c = new TcpCore({}, CLIENT_IP);
  const addr = c.put(0, SERVER_IP);
  const h = c.cmd(CMD.CONNECT, 0, 5, 4, addr, 8080);
  c.flush();
  const syn = one(c.out());
  const times: number[] = [];
  for (let i = 0; i < 1400 && c.tcb(h); i++) {
    c.advance(100_000);
    for (const s of c.out()) {
      assert.is(s.flags, F.SYN);
      assert.is(s.seq, syn.seq);
      times.push(Number(c.now - 1_000_000n) / 1e6);
    }
  }
  assert.equal(times, [1, 3, 7, 15, 31, 63]);
  assert.is(
    Number(c.now - 1_000_000n) / 1e6,
    127,
    "given up at 63 s + 64 s (Linux: tcp_syn_retries 6, RTO max 120 s)",
  );
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.TIMEOUT]],
  );
  assert.is(c.counter("tcp_conn_timeout"), 1);
});

test("connect_badhandle: commands on stale, forged or unknown handles fail", () => {
  const c = new TcpCore();
  assert.is(c.cmd(CMD.SENDV, 0x00000005), RET.BADHANDLE);
  assert.is(c.cmd(CMD.CLOSE, 0x12000000), RET.BADHANDLE);
  const { h } = established(c);
  assert.is(c.cmd(CMD.ACCEPT, h, 1), RET.STATE, "already accepted");
  assert.is(c.cmd(CMD.ABORT, (h + (1 << 24)) >>> 0), RET.BADHANDLE, "other generation");
  assert.is(c.cmd(CMD.ABORT, h), RET.OK);
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.equal(
    c.events().map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.ABORTED]],
  );
  assert.is(c.cmd(CMD.ABORT, h), RET.BADHANDLE);
});

test.run();
