// Zero window and persist, data retransmission and give-up, SYN flood (bounded
// half-open table), replay presets, app timers, IPv6, and 10,000 concurrent
// connections between two cores with every resource returned at the end.
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
  type Seg,
  CLIENT6,
  SERVER6,
  CISN,
  one,
  established as handshake,
} from "./harness.ts";
import { Pair, SERVER_IP } from "./link.ts";

function established(c: TcpCore, win = 65535) {
  return handshake(c, { mss: 1000, win, cookie: 3 });
}

test("established_sendv: segments of MSS, SENT reports acked bytes and room, spans freed", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const data = new Uint8Array(2500).map((_, i) => i & 255);
  const p = c.put(0, data);
  assert.is(c.send(h, p, 2500), 2500);
  assert.is(c.stat(2), 1, "one span");
  c.flush();
  const segs = c.out();
  assert.equal(
    segs.map((s) => [s.seq - iss, s.payload.length, s.flags]),
    [
      [1, 1000, F.ACK],
      [1001, 1000, F.ACK],
      [2001, 500, F.ACK | F.PSH],
    ],
    "initial window 4 MSS covers it",
  );
  assert.equal([...segs[1].payload.slice(0, 4)], [1000 & 255, 1001 & 255, 1002 & 255, 1003 & 255]);
  c.now += 300n;
  c.inject({ seq: CISN + 1, ack: iss + 2001, flags: F.ACK });
  let ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.a, e.b]),
    [[EV.SENT, 2000, (1 << 18) - 500]],
  );
  // SRTT: the handshake's sample (1 µs: SYN-ACK and ACK in the same instant), then 300 µs: 1 - 1/8 + 300/8
  assert.is(c.field(h, TCB.SRTT), 38, "RTT sampled from the timed segment (RFC 6298 2.3)");
  c.inject({ seq: CISN + 1, ack: iss + 2501, flags: F.ACK });
  ev = c.events();
  assert.is(ev[0].a, 500);
  assert.is(c.stat(2), 0, "span freed when acked");
});

test("established_dupacks: exactly the third duplicate ACK triggers fast retransmit of SND.UNA (RFC 5681 §3.2)", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.send(
    h,
    c.put(
      0,
      new Uint8Array(4000).map((_, i) => i & 255),
    ),
    4000,
  );
  c.flush();
  assert.equal(
    c.out().map((s) => [s.seq - iss, s.payload.length]),
    [
      [1, 1000],
      [1001, 1000],
      [2001, 1000],
      [3001, 1000],
    ],
    "the initial window: 4 segments of the 1000-byte MSS",
  );
  // The first segment arrives; the second is lost, so each later one brings the same ACK.
  c.now += 100n;
  c.inject({ seq: CISN + 1, ack: iss + 1001, flags: F.ACK });
  c.flush();
  assert.equal(c.out(), [], "nothing owed after a new ACK (no data left to send)");
  const dupack = (k: number) => {
    c.now += 100n;
    c.inject({ seq: CISN + 1, ack: iss + 1001, flags: F.ACK });
    c.flush();
    const out = c.out();
    assert.is(c.counter("tcp_dup_acks"), k, `${k} duplicate ACKs counted`);
    return out;
  };
  assert.equal(dupack(1), [], "no retransmission after 1 duplicate ACK");
  assert.equal(dupack(2), [], "no retransmission after 2 duplicate ACKs");
  assert.is(c.counter("tcp_fast_retransmits"), 0, "not after 2");
  const rx = one(dupack(3));
  assert.is(rx.seq, iss + 1001, "the segment starting at SND.UNA");
  assert.is(rx.payload.length, 1000);
  assert.equal([...rx.payload.slice(0, 3)], [1000 & 255, 1001 & 255, 1002 & 255], "its bytes");
  assert.is(c.counter("tcp_fast_retransmits"), 1, "after the third");
  // §3.2 steps 2-3: ssthresh = max(FlightSize / 2, 2·SMSS) = max(1500, 2000); cwnd = ssthresh + 3·SMSS.
  assert.is(c.field(h, TCB.SSTHRESH), 2000);
  assert.is(c.field(h, TCB.CWND), 5000);
  // Step 4: a fourth duplicate ACK inflates cwnd by one SMSS and retransmits nothing more.
  assert.equal(dupack(4), [], "no second retransmission on the fourth duplicate ACK");
  assert.is(c.field(h, TCB.CWND), 6000);
  assert.is(c.counter("tcp_fast_retransmits"), 1);
  assert.is(c.counter("tcp_rto_timeouts"), 0, "no timeout involved");
});

test("established_rto: retransmission after RTO with backoff, then DEAD_TIMEOUT", () => {
  const c = new TcpCore({ rtoMinUs: 200000 });
  const { h, iss } = established(c);
  c.send(h, c.put(0, new Uint8Array(100)), 100);
  c.flush();
  c.out();
  const at: number[] = [];
  for (let i = 0; i < 25000 && c.tcb(h); i++) {
    c.advance(10_000);
    for (const s of c.out()) {
      assert.is(s.seq, iss + 1);
      at.push(Math.round(Number(c.now - 1_000_000n) / 1e4) / 100);
    }
  }
  assert.equal(
    at.slice(0, 5),
    [0.2, 0.6, 1.4, 3, 6.2],
    "RTO = the 200 ms minimum after the handshake's sample, doubling",
  );
  assert.is(at.length, 9, "RETRIES_DATA retransmissions");
  assert.equal(
    c.events().map((e) => [e.kind, e.a]),
    [[EV.DEAD, DEAD.TIMEOUT]],
  );
  assert.is(c.counter("tcp_rto_timeouts"), 9);
});

test("zero_window_persist: probes while the window is shut, data flows when it opens; probes are bounded", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, win: 0 });
  c.send(h, c.put(0, new Uint8Array(3000).fill(65)), 3000);
  c.flush();
  assert.equal(c.out(), [], "nothing sent into a zero window");
  c.advance(1_000_000);
  const probe = one(c.out());
  assert.is(probe.seq, iss + 1);
  assert.is(probe.payload.length, 1);
  assert.is(c.counter("tcp_persist_probes"), 1);
  // the peer still has no room: answers with the same ACK, window 0
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, win: 0 });
  c.advance(2_000_000);
  assert.is(one(c.out()).payload.length, 1, "second probe after backoff");
  // window opens
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, win: 5000 });
  c.flush();
  const segs = c.out();
  assert.is(
    segs.reduce((n, s) => n + s.payload.length, 0),
    3000,
  );
  assert.is(c.state(h), ST.ESTABLISHED);
  // A peer that keeps its window shut forever: bounded
  const d = new TcpCore();
  const e = established(d);
  d.inject({ seq: CISN + 1, ack: e.iss + 1, flags: F.ACK, win: 0 });
  d.send(e.h, d.put(0, new Uint8Array(10)), 10);
  d.flush();
  for (let i = 0; i < 2000 && d.tcb(e.h); i++) {
    d.advance(500_000);
    for (const s of d.out())
      if (s.payload.length === 1) d.inject({ seq: CISN + 1, ack: e.iss + 1, flags: F.ACK, win: 0 });
  }
  assert.is(d.tcb(e.h), 0, "given up");
  assert.is(d.counter("tcp_persist_probes"), 12);
  assert.equal(
    d.events().map((x) => [x.kind, x.a]),
    [[EV.DEAD, DEAD.TIMEOUT]],
  );
});

test("syn_flood: half-open connections bounded (oldest evicted), established ones unharmed", () => {
  const c = new TcpCore({ tcbs: 256 }); // half-open bound: max(16, 256/2) = 128
  const { h } = established(c);
  let synacks = 0;
  for (let i = 0; i < 1000; i++) {
    c.inject({ seq: i * 7, flags: F.SYN, sport: 10000 + i, src: Uint8Array.of(10, 0, i >> 8, i & 255) });
    if (i % 16 === 15) {
      c.flush(); // one batch
      synacks += c.out().length;
    }
  }
  c.flush();
  synacks += c.out().length;
  assert.is(synacks, 1000, "every SYN got a SYN-ACK");
  assert.is(c.stat(1), 128);
  assert.is(c.stat(0), 129);
  assert.is(c.counter("tcp_halfopen_evict"), 872);
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.is(c.cmd(CMD.SENDV, h, 0, 0, 0), 0, "handle still valid");
  // half-open connections time out on their own: 5 SYN-ACK retransmissions
  for (let i = 0; i < 100; i++) c.advance(1_000_000);
  assert.is(c.stat(1), 0);
  assert.is(c.stat(0), 1);
});

test("preset: the SYN-ACK carries the preset ISN, MSS, window scale and TSval; no listener needed", () => {
  const c = new TcpCore();
  const key = new Uint8Array(40);
  key[0] = 4;
  key[1] = 6;
  new DataView(key.buffer).setUint16(4, 40000, true);
  new DataView(key.buffer).setUint16(6, 8080, true);
  key.set([198, 18, 0, 2], 8);
  key.set([198, 18, 0, 1], 24);
  const kp = c.put(0, key);
  assert.is(c.f.tcpPreset(kp, 0xdeadbeef, 1380, 5, 1, 1, 123456), RET.OK);
  assert.is(c.f.tcpPreset(kp, 0xdeadbeef, 1380, 5, 1, 1, 123456), RET.OK, "updating a waiting preset");
  c.inject({ seq: CISN, flags: F.SYN, dport: 8080, mss: 1460, ws: 2, sackOk: true, ts: [9, 0] });
  c.flush();
  const sa = one(c.out());
  assert.is(sa.seq, 0xdeadbeef);
  assert.is(sa.mss, 1380);
  assert.is(sa.ws, 5);
  assert.is(sa.sackOk, true);
  assert.equal(sa.ts, [123456, 9]);
  assert.is(c.counter("tcp_preset_used"), 1);
  assert.is(c.f.tcpPreset(kp, 1, 1, 1, 1, 1, 1), RET.STATE, "flow is live now");
  // An unused preset expires after 2·MSL
  const key2 = key.slice();
  key2[11] = 3;
  c.f.tcpPreset(c.put(64, key2), 1, 1460, 255, 0, 0, 0);
  assert.is(c.stat(0), 2);
  c.advance(2_100_000);
  assert.is(c.stat(0), 1);
});

test("app timer: CMD_TIMER fires EV_TIMER with the cookie and id; timerNext says when", () => {
  const c = new TcpCore();
  assert.is(c.cmd(CMD.TIMER, 0, 99, 7, 250_000), RET.OK);
  assert.is(c.timerNext() - c.now <= 250_000n && c.timerNext() - c.now > 240_000n, true);
  c.advance(249_000);
  assert.equal(c.events(), []);
  c.advance(1_200);
  assert.equal(
    c.events().map((e) => [e.kind, e.cookie, e.a]),
    [[EV.TIMER, 99, 7]],
  );
  assert.is(c.timerNext(), 0xffffffffffffffffn, "idle");
  // 64 app timers fit (CFG_TIMERS), the 65th is refused
  for (let i = 0; i < 64; i++) assert.is(c.cmd(CMD.TIMER, 0, i, i, 1000 + i * 10_000_000), RET.OK);
  assert.is(c.cmd(CMD.TIMER, 0, 1, 1, 5), RET.NOMEM);
  c.advance(700_000_000);
  assert.is(c.events().length, 64, "timers across all wheel levels fired");
});

test("ipv6: handshake, data and close over IPv6", () => {
  const c = new TcpCore({ ipv6_0: 0, mss: 1460 });
  c.listen(80);
  const v6 = { src: CLIENT6, dst: SERVER6 };
  c.inject({ ...v6, seq: CISN, flags: F.SYN, mss: 1440 });
  c.flush();
  const sa = one(c.out());
  assert.is(sa.family, 6);
  assert.is(sa.mss, 1440, "IPv6 announces 20 bytes less");
  c.inject({ ...v6, seq: CISN + 1, ack: sa.seq + 1, flags: F.ACK, payload: "six" });
  const ev = c.events();
  assert.equal(
    ev.map((e) => [e.kind, e.d]),
    [[EV.KNOCK, 6]],
  );
  assert.is(c.cmd(CMD.ACCEPT, ev[0].handle, 1), RET.OK);
  const r = c.events();
  assert.is(new TextDecoder().decode(c.u8.slice(r[0].a, r[0].a + r[0].b)), "six");
});

test("10,000 concurrent connections between two cores, all closed, every resource back", () => {
  const N = 10_000;
  const cfg = { tcbs: 12_000, flows: 16_384, mbufs: 24_576, spans: 16_384, evqSlots: 65_536, mslMs: 100 };
  const pair = new Pair(cfg, { delayUs: 20 });
  const { a, b } = pair;
  b.listen(7);
  const addr = a.put(0, SERVER_IP);
  const msg = a.put(64, new TextEncoder().encode("ping"));
  const handles = new Set<number>();
  // Opened in waves of 500 per iteration: the server's half-open bound is
  // CFG_TCBS / 8 = 1500, and a whole-table burst of SYNs is a flood to it.
  const connectWave = () => {
    for (let i = 0; i < 500 && handles.size < N; i++) {
      const h = a.cmd(CMD.CONNECT, 0, handles.size, 4, addr, 7);
      assert.ok(h >= 0, `connect ${handles.size}: ${h}`);
      handles.add(h);
    }
  };
  let connected = 0;
  let echoed = 0;
  let deadA = 0;
  let deadB = 0;
  let peak = 0;
  for (let s = 0; s < 5000 && (deadA < N || deadB < N || a.stat(0) || b.stat(0)); s++) {
    connectWave();
    pair.step((c, ev) => {
      for (const e of ev) {
        if (c === a) {
          if (e.kind === EV.CONNECTED) {
            connected++;
            assert.is(a.send(e.handle, msg, 4), 4);
          } else if (e.kind === EV.RECV && e.b === 4) {
            echoed++;
            a.cmd(CMD.RECV_DONE, e.handle, 0, 4);
            // all 10,000 stay open until every one has its echo, then all close
            if (echoed === N) for (const x of handles) assert.is(a.cmd(CMD.CLOSE, x), RET.OK);
          } else if (e.kind === EV.DEAD) {
            assert.is(e.a, DEAD.CLOSED);
            deadA++;
          }
        } else {
          if (e.kind === EV.KNOCK) b.cmd(CMD.ACCEPT, e.handle, 0);
          else if (e.kind === EV.RECV && e.b) {
            // Echo straight from the received mbuf (zero-copy both ways): the bytes
            // must stay until acknowledged, so RECV_DONE waits for EV_TCP_SENT.
            assert.is(b.send(e.handle, e.a, e.b), e.b);
          } else if (e.kind === EV.SENT) b.cmd(CMD.RECV_DONE, e.handle, 0, e.a);
          else if (e.kind === EV.RECV) b.cmd(CMD.CLOSE, e.handle);
          else if (e.kind === EV.DEAD) deadB++;
        }
      }
    });
    peak = Math.max(peak, b.stat(0));
  }
  assert.is(connected, N);
  assert.is(echoed, N);
  assert.is(deadA, N);
  assert.is(deadB, N);
  assert.ok(peak >= N, `server held ${peak} connections at once`);
  for (const c of [a, b]) {
    assert.is(c.stat(0), 0);
    assert.is(c.stat(2), 0);
    assert.is(c.mbufsFree(), c.mbufBaseline);
    assert.is(c.f.mbufPoolCheck(), 0);
  }
});

test("pure ACK after an RTO carries SND.MAX, not the pulled-back SND.NXT (RFC 9293 §3.10.7.4: below RCV.NXT it is ignored)", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  const p = c.put(0, new Uint8Array(3000).fill(9));
  assert.is(c.send(h, p, 3000), 3000);
  c.flush();
  assert.is(c.out().length, 3);
  // Nothing acknowledged: the RTO resends the first segment, SND.NXT goes back.
  let retx: Seg[] = [];
  for (let i = 0; i < 20 && retx.length === 0; i++) {
    c.advance(c.timerNext() - c.now);
    c.flush();
    retx = c.out();
  }
  assert.is(retx.length, 1);
  assert.is(retx[0].seq, iss + 1, "go back to SND.UNA");
  assert.is(c.field(h, TCB.SND_NXT), iss + 1001);
  // The peer (which got all 3000 bytes, its ACK lost) sends data: our ACK of it
  // must carry SEQ = SND.MAX, inside the peer's window, so that its ACK field is read.
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK | F.PSH, payload: "hello" });
  c.flush();
  let ack: Seg[] = [];
  for (let i = 0; i < 20 && ack.length === 0; i++) {
    c.advance(c.timerNext() - c.now);
    c.flush();
    ack = c.out().filter((s) => s.payload.length === 0);
  }
  assert.is(ack.length, 1, "the (delayed) ACK of the peer's 5 bytes");
  assert.is(ack[0].ack, CISN + 6);
  assert.is(ack[0].seq, iss + 3001, "SEQ = SND.MAX");
});

test.run();
