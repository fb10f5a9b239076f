// TCP under attack (issue 10), what test/net/tcp/states.test.ts and robust.test.ts do
// not cover already. Covered there: an in-window RST gets a challenge ACK, an
// out-of-window one is dropped, an exact one resets (states: established_rst_*);
// a SYN in ESTABLISHED gets a rate-limited challenge ACK (established_syn); an
// ACK above SND.NXT is answered and dropped (established_ack_too_new); PAWS;
// the half-open bound under a SYN flood (robust: syn_flood); persist probes
// bounded (robust: zero_window_persist). Added here: a blind attack campaign
// (RST, SYN and data sprayed over the sequence space) on a live transfer that
// must stay byte-exact; data whose ACK is too old (RFC 5961 §5.2); an ACK storm
// between two desynchronised ends, bounded by the challenge budget; transfers
// across the 2^32 sequence wrap both ways; and zero-window exhaustion on many
// connections, all given up within the persist limit with every resource back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CMD, DEAD, EV, F, ST, TCB, TcpCore, parsePacket, rng, seqAdd, type Seg } from "./harness.ts";

const CISN = 1000;

function established(c: TcpCore, cisn = CISN, sport = 40000, win = 65535) {
  c.inject({ seq: cisn, flags: F.SYN, mss: 1000, win, sport });
  c.flush();
  const sa = c.out().find((s) => (s.flags & (F.SYN | F.ACK)) === (F.SYN | F.ACK) && s.dport === sport)!;
  c.inject({ seq: seqAdd(cisn, 1), ack: seqAdd(sa.seq, 1), flags: F.ACK, win, sport });
  const h = c.events().find((e) => e.kind === EV.KNOCK)!.handle;
  c.cmd(CMD.ACCEPT, h, 3);
  return { h, iss: sa.seq };
}

const text = (c: TcpCore, e: { a: number; b: number }) => c.u8.slice(e.a, e.a + e.b);

test("blind attack campaign on a live transfer: RST/SYN/data sprayed over 2^32, connection unharmed, bytes exact", () => {
  const c = new TcpCore();
  c.listen(80);
  const { h, iss } = established(c);
  const rand = rng(7);
  const want: number[] = [];
  const got: number[] = [];
  let seq = CISN + 1;
  let challenges = 0;
  for (let round = 0; round < 200; round++) {
    // the real peer sends 500 bytes
    const data = Uint8Array.from({ length: 500 }, (_, i) => (round * 7 + i) & 255);
    want.push(...data);
    c.inject({ seq, ack: iss + 1, flags: F.ACK | F.PSH, payload: data });
    seq = seqAdd(seq, 500);
    // the attacker does not see the connection: random sequence and ACK numbers,
    // 20 spoofed segments per round (never exactly RCV.NXT: a 1 in 2^32 guess)
    for (let k = 0; k < 20; k++) {
      let s = Math.floor(rand() * 2 ** 32) >>> 0;
      if (s === seq) s = seqAdd(s, 1);
      const a = Math.floor(rand() * 2 ** 32) >>> 0;
      const kind = k % 3;
      if (kind === 0) c.inject({ seq: s, flags: F.RST });
      else if (kind === 1) c.inject({ seq: s, flags: F.SYN });
      else c.inject({ seq: s, ack: a, flags: F.ACK | F.PSH, payload: "EVIL" });
    }
    c.flush();
    for (const o of c.out()) if (o.payload.length === 0 && o.ack !== seq) challenges++;
    for (const e of c.events()) {
      assert.is.not(e.kind, EV.DEAD, "connection must survive");
      if (e.kind === EV.RECV && e.b) {
        got.push(...text(c, e));
        c.cmd(CMD.RECV_DONE, h, 0, e.b);
      }
    }
    c.advance(10_000);
  }
  assert.is(c.state(h), ST.ESTABLISHED);
  assert.is(got.length, want.length);
  assert.ok(Buffer.from(got).equals(Buffer.from(want)), "no injected byte delivered");
  assert.is(c.counter("tcp_rst_rcvd"), 0, "no RST accepted");
  assert.ok(c.counter("tcp_challenge_ack") > 0, "in-window RSTs and SYNs challenged");
  assert.is(c.field(h, TCB.RCV_NXT), seq);
  console.log(
    `note: blind campaign: 4000 spoofed segments, ${c.counter("tcp_challenge_ack")} challenge ACKs,` +
      ` ${c.counter("tcp_out_of_window")} out of window, 100000 bytes exact`,
  );
});

test("data with an ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5.2): discarded, challenge ACK", () => {
  const c = new TcpCore();
  c.listen(80);
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 1, ack: seqAdd(iss, 1 - 200_000), flags: F.ACK, payload: "blind" });
  c.flush();
  const out = c.out();
  assert.is(out.length, 1);
  assert.is(out[0].ack, CISN + 1, "challenge ACK says what we expect");
  assert.equal(c.events(), [], "data not taken");
  assert.is(c.counter("tcp_challenge_ack"), 1);
  assert.is(c.field(h, TCB.RCV_NXT), CISN + 1);
  // the real peer's data still goes through
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload: "real" });
  assert.is(new TextDecoder().decode(text(c, c.events()[0])), "real");
});

test("ACK storm between two desynchronised ends: bounded by the challenge budget (1000/s per core)", () => {
  // Two cores connected; an attacker's injected data advances B's RCV.NXT past
  // anything A sent. Then A's pure ACKs are out of B's window (B answers), and
  // B's ACKs acknowledge data A never sent (A answers): each answer provokes the next.
  const a = new TcpCore({}, Uint8Array.of(198, 18, 0, 2));
  const b = new TcpCore();
  b.listen(80);
  const h = a.cmd(CMD.CONNECT, 0, 1, 4, a.put(0, Uint8Array.of(198, 18, 0, 1)), 80);
  assert.ok(h >= 0);
  a.flush();
  const relay = (from: TcpCore, to: TcpCore) => {
    const pk = from.outRaw();
    for (const p of pk) to.injectRaw(p);
    to.flush();
    return pk.length;
  };
  const syn = a.outRaw();
  const aport = parsePacket(syn[0]).sport;
  for (const p of syn) b.injectRaw(p);
  b.flush(); // SYN
  relay(b, a); // SYN-ACK
  relay(a, b); // ACK
  const kb = b.events().find((e) => e.kind === EV.KNOCK)!;
  b.cmd(CMD.ACCEPT, kb.handle, 1);
  a.events();
  // the injection: 1000 bytes at B's RCV.NXT with an acceptable ACK, spoofed as A
  const rcvNxt = b.field(kb.handle, TCB.RCV_NXT);
  const bNxt = b.field(kb.handle, TCB.SND_NXT);
  b.inject({
    sport: aport,
    dport: 80,
    seq: rcvNxt,
    ack: bNxt,
    flags: F.ACK | F.PSH,
    payload: new Uint8Array(1000),
    src: Uint8Array.of(198, 18, 0, 2),
    dst: Uint8Array.of(198, 18, 0, 1),
  });
  b.events();
  assert.is(
    b.field(kb.handle, TCB.RCV_NXT),
    seqAdd(rcvNxt, 1000),
    "the injection was taken (it guessed right)",
  );
  b.flush();
  // Now relay for 3 virtual seconds, 0.1 ms per step.
  let frames = 0;
  const perSecond: number[] = [];
  for (let s = 0; s < 3; s++) {
    let n = 0;
    for (let i = 0; i < 10_000; i++) {
      n += relay(b, a) + relay(a, b);
      a.now += 100n;
      b.now += 100n;
      a.timers();
      b.timers();
    }
    perSecond.push(n);
    frames += n;
  }
  console.log(`note: ack storm: ${perSecond.join(" / ")} frames per virtual second`);
  // Unbounded, the ping-pong runs at one frame per relay step for ever (20,000/s here,
  // and as fast as the wire allows in real life). Bounded: at most 1000 answers
  // per second per core, and the total limited counter says how many were refused.
  for (const n of perSecond) assert.ok(n <= 2 * 1000 + 2, `${n} frames in a second`);
  assert.ok(
    a.counter("tcp_challenge_limited") + b.counter("tcp_challenge_limited") > 0,
    "the budget was hit",
  );
  assert.ok(frames > 0);
  assert.is(a.state(h), ST.ESTABLISHED, "nobody crashed or reset");
});

test("sequence-number wraparound: 1 MB each way across 2^32, byte-exact, SENT counts right", () => {
  const c = new TcpCore();
  // The client's ISN just below 2^32; the server's ISS preset just below 2^32 too.
  const cisn = 0xffffffff - 3000;
  const key = new Uint8Array(40);
  key[0] = 4;
  key[1] = 6;
  new DataView(key.buffer).setUint16(4, 40000, true);
  new DataView(key.buffer).setUint16(6, 80, true);
  key.set([198, 18, 0, 2], 8);
  key.set([198, 18, 0, 1], 24);
  c.listen(80);
  assert.is(c.f.tcpPreset(c.put(0, key), 0xffffffff - 5000, 1000, 0xff, 0, 0, 0), 0);
  const { h, iss } = established(c, cisn);
  assert.is(iss, 0xffffffff - 5000);
  const N = 1 << 20;
  const pat = (i: number) => (i * 31 + (i >> 8)) & 255;
  // client -> server: 1000-byte segments, every 7th pair swapped (reordering around the wrap)
  let seq = seqAdd(cisn, 1);
  const segs: { seq: number; data: Uint8Array }[] = [];
  for (let off = 0; off < N; off += 1000) {
    const len = Math.min(1000, N - off);
    segs.push({ seq: seqAdd(seq, off), data: Uint8Array.from({ length: len }, (_, i) => pat(off + i)) });
  }
  for (let i = 0; i + 1 < segs.length; i += 7) [segs[i], segs[i + 1]] = [segs[i + 1], segs[i]];
  let got = 0;
  let bad = 0;
  for (const s of segs) {
    c.inject({ seq: s.seq, ack: seqAdd(iss, 1), flags: F.ACK, payload: s.data });
    for (const e of c.events())
      if (e.kind === EV.RECV && e.b) {
        const b = text(c, e);
        for (let i = 0; i < b.length; i++) if (b[i] !== pat(got + i)) bad++;
        got += e.b;
        c.cmd(CMD.RECV_DONE, h, 0, e.b);
      }
    c.flush();
    c.out();
  }
  seq = seqAdd(seq, N);
  assert.is(got, N);
  assert.is(bad, 0);
  assert.is(c.field(h, TCB.RCV_NXT), seq, "RCV.NXT wrapped");
  // server -> client: 1 MB from the app, acknowledged as it arrives
  const src = c.put(
    0,
    Uint8Array.from({ length: 65536 }, (_, i) => pat(i)),
  );
  let sentBytes = 0;
  let acked = 0;
  let rx = 0;
  let rxBad = 0;
  let expect = seqAdd(iss, 1);
  for (let guard = 0; guard < 100_000 && acked < N; guard++) {
    if (sentBytes < N && sentBytes - acked < 65536) {
      const n = Math.min(65536 - (sentBytes - acked), N - sentBytes, 16384);
      const off = sentBytes % 65536;
      const take = Math.min(n, 65536 - off);
      const r = c.send(h, src + off, take);
      if (r > 0) sentBytes += r;
    }
    c.flush();
    const out: Seg[] = c.out();
    for (const s of out) {
      if (s.payload.length && s.seq === expect) {
        for (let i = 0; i < s.payload.length; i++) if (s.payload[i] !== pat((rx + i) % 65536)) rxBad++;
        rx += s.payload.length;
        expect = seqAdd(expect, s.payload.length);
      }
    }
    if (out.length) c.inject({ seq, ack: expect, flags: F.ACK, win: 65535 });
    for (const e of c.events()) if (e.kind === EV.SENT) acked += e.a;
    c.advance(1000);
  }
  assert.is(rx, N);
  assert.is(rxBad, 0);
  assert.is(acked, N, "SENT events add up across the wrap");
  assert.is(c.field(h, TCB.SND_UNA), seqAdd(iss, 1 + N));
  assert.ok(c.field(h, TCB.SND_UNA) < iss, "SND.UNA wrapped");
  assert.is(c.counter("tcp_retransmits"), 0, "no spurious retransmission at the wrap");
});

test("zero-window exhaustion: 200 connections stuck on a shut window all given up within the persist limit, every resource back", () => {
  const c = new TcpCore({ tcbs: 512, timers: 512 });
  c.listen(80);
  const base = { mbufs: c.mbufsFree(), spans: c.stat(2) };
  const conns: { h: number; iss: number; sport: number }[] = [];
  for (let i = 0; i < 200; i++) {
    const sport = 20000 + i;
    const { h, iss } = established(c, CISN + i * 100000, sport);
    conns.push({ h, iss, sport });
  }
  const t0 = c.now;
  for (const k of conns) {
    const cseq = seqAdd(CISN + (k.sport - 20000) * 100000, 1);
    c.inject({ sport: k.sport, seq: cseq, ack: k.iss + 1, flags: F.ACK, win: 0 });
    assert.is(c.send(k.h, c.put(0, new Uint8Array(4000).fill(1)), 4000), 4000);
  }
  c.flush();
  c.out();
  let dead = 0;
  let lastDeath = 0n;
  for (let i = 0; i < 10_000 && dead < conns.length; i++) {
    c.advance(100_000);
    for (const s of c.out()) {
      if (s.payload.length !== 1) continue;
      // the malicious peer answers every probe and never opens its window
      const k = conns.find((x) => x.sport === s.dport)!;
      c.inject({ sport: k.sport, seq: s.ack, ack: k.iss + 1, flags: F.ACK, win: 0 });
    }
    for (const e of c.events())
      if (e.kind === EV.DEAD) {
        assert.is(e.a, DEAD.TIMEOUT);
        dead++;
        lastDeath = c.now;
      }
  }
  const secs = Number(lastDeath - t0) / 1e6;
  console.log(`note: zero-window exhaustion: 200 connections given up after ${secs.toFixed(1)} s virtual`);
  assert.is(dead, conns.length);
  assert.ok(secs < 1000, "bounded time");
  assert.is(c.counter("tcp_persist_probes"), 12 * conns.length, "12 probes each (the persist limit)");
  assert.is(c.stat(0), 0, "no TCB left");
  assert.is(c.stat(2), base.spans, "send spans freed");
  assert.is(c.stat(3), 0, "no timer left");
  assert.is(c.mbufsFree(), base.mbufs);
  assert.is(c.f.mbufPoolCheck(), 0);
});

test.run();
