// Checks of the SEGMENT ARRIVES ladder that no conversation in states.test.ts
// reached: each case was written against a mutant of input.ts or output.ts that
// survived the TCP suites (test/mutate/mutants.mjs, the id is in the title).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID } from "../../../host/core/abi.gen.ts";
import {
  CMD,
  F,
  RET,
  ST,
  TcpCore,
  buildPacket,
  seqAdd,
  CLIENT_IP,
  SERVER_IP,
  CISN,
  one,
  synToListener,
  established,
} from "./harness.ts";

test("tcp-in-doff-past-end: a data offset beyond the segment is malformed, dropped unanswered", () => {
  const c = new TcpCore();
  c.listen(80);
  const pkt = buildPacket({ seq: CISN, flags: F.SYN }, CLIENT_IP, SERVER_IP);
  pkt[20 + 12] = 15 << 4; // 60-byte header claimed in a 20-byte segment
  c.injectRaw(pkt);
  c.flush();
  assert.equal(c.out(), []);
  assert.is(c.counter("tcp_malformed"), 1);
  assert.is(c.stat(1), 0, "no half-open connection");
});

test("tcp-in-listen-ack-no-rst: an ACK to a listening port gets <SEQ=SEG.ACK><CTL=RST>", () => {
  const c = new TcpCore();
  c.listen(80);
  c.inject({ seq: 5000, ack: 4242, flags: F.ACK });
  c.flush();
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.is(r.seq, 4242);
  assert.is(c.stat(1), 0);
});

test("tcp-in-synsent-ack-le-iss: SYN-SENT answers a SYN-ACK acknowledging only ISS with RST and stays", () => {
  const c = new TcpCore({}, CLIENT_IP);
  const addr = c.put(0, SERVER_IP);
  const h = c.cmd(CMD.CONNECT, 0, 5, 4, addr, 8080);
  c.flush();
  const syn = one(c.out());
  const back = { src: SERVER_IP, dst: CLIENT_IP, sport: 8080, dport: syn.sport };
  c.inject({ ...back, seq: 3000, ack: syn.seq, flags: F.SYN | F.ACK, mss: 1460 });
  c.flush();
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.is(r.seq, syn.seq, "<SEQ=SEG.ACK>");
  assert.is(c.state(h), ST.SYN_SENT);
  assert.equal(c.events(), []);
  // the right ACK still completes the handshake
  c.inject({ ...back, seq: 3000, ack: seqAdd(syn.seq, 1), flags: F.SYN | F.ACK, mss: 1460 });
  assert.is(c.state(h), ST.ESTABLISHED);
});

test("tcp-out-syn-window-scaled: the SYN-ACK's window is never scaled, even with a large buffer", () => {
  const c = new TcpCore({ rcvbuf: 1 << 20 });
  const sa = synToListener(c, { ws: 7 });
  assert.ok(sa.ws! > 0, "we scale our window");
  assert.is(sa.win, 65535, "RFC 7323 §2.2: min(window, 65535), unscaled, in a SYN");
});

/** Server (port 80, still listening) in TIME-WAIT after it closed first; no timestamps. */
function timeWait() {
  const c = new TcpCore({ mslMs: 1000 });
  const { h, iss } = established(c);
  assert.is(c.cmd(CMD.CLOSE, h), RET.OK);
  c.flush();
  c.out();
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK });
  c.inject({ seq: CISN + 1, ack: iss + 2, flags: F.ACK | F.FIN });
  c.events();
  c.flush();
  c.out();
  assert.is(c.state(h), ST.TIME_WAIT);
  return { c, h };
}

test("tcp-in-tw-reuse-seq: a SYN ends TIME-WAIT only with a sequence number beyond RCV.NXT (RFC 6191)", () => {
  // RCV.NXT is CISN + 2 (SYN and FIN): a SYN at CISN + 1 is an old duplicate
  const old = timeWait();
  old.c.inject({ seq: CISN + 1, flags: F.SYN, mss: 1460 });
  old.c.flush();
  const ack = one(old.c.out());
  assert.is(ack.flags & F.SYN, 0, "no SYN-ACK for an old duplicate");
  assert.is(old.c.counter("tcp_timewait_reuse"), 0);
  assert.is(old.c.state(old.h), ST.TIME_WAIT);
  // a new incarnation beyond it is taken
  const fresh = timeWait();
  fresh.c.inject({ seq: CISN + 100_000, flags: F.SYN, mss: 1460 });
  fresh.c.flush();
  const sa = one(fresh.c.out());
  assert.is(sa.flags, F.SYN | F.ACK);
  assert.is(sa.ack, CISN + 100_001);
  assert.is(fresh.c.counter("tcp_timewait_reuse"), 1);
});

test("tcp-in-ooo-count: at most 64 out-of-order segments are held; the next is dropped", () => {
  const c = new TcpCore({ rcvbuf: 1 << 20 });
  const { iss } = established(c, { win: 65535 });
  // 65 one-byte segments, each after a one-byte hole
  for (let i = 0; i < 65; i++)
    c.inject({ seq: CISN + 1 + 2 + 2 * i, ack: iss + 1, flags: F.ACK, payload: "x" });
  assert.is(c.counter("tcp_ooo_segs"), 64);
  assert.is(c.counter("tcp_ooo_drops"), 1);
});

test("tcp-out-window-update-edge: RECV_DONE of at least one MSS re-opens the window with an ACK; less waits", () => {
  // receiver SWS avoidance (RFC 9293 §3.8.6.2.2): update when the window grows by min(RCV.BUFF/2, MSS)
  const c = new TcpCore();
  const { h, iss } = established(c);
  let seq = CISN + 1;
  for (let i = 0; i < 10; i++) {
    c.inject({ seq, ack: iss + 1, flags: F.ACK, payload: new Uint8Array(1000) });
    seq += 1000;
  }
  c.flush();
  const acks = c.out();
  assert.is(acks[acks.length - 1].win, 65535 - 10_000);
  c.events();
  assert.is(c.cmd(CMD.RECV_DONE, h, 0, 1000), 1000);
  c.flush();
  assert.equal(c.out(), [], "1000 bytes < MSS: no update yet");
  assert.is(c.cmd(CMD.RECV_DONE, h, 0, 500), 500);
  c.flush();
  assert.is(one(c.out()).win, 65535 - 8500, "1500 bytes >= MSS 1460: window update");
});

test("cmd-recvdone-partial-ptr: after a partial RECV_DONE the unread bytes are the ones a migration moves", () => {
  // The sink app (api/app.ts APP_SINK = 2) keeps no per-connection record, so its
  // connections may move; it is selected but never run: the test is the app.
  const c = new TcpCore({ app: APP_ID.sink });
  assert.is(c.f.appInit(), 0);
  const { h, iss } = established(c);
  const payload = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, payload });
  c.events();
  assert.is(c.cmd(CMD.RECV_DONE, h, 0, 30), 30);
  // export the connection's flow group (migrate.ts chunk format, version 1)
  const group = Array.from({ length: 128 }, (_, g) => g).find((g) => c.f.migrateGroupFlows(g) > 0)!;
  const out = c.appBase + 65536;
  const n = c.f.migrateExport(group, out, 65536, Number(c.now));
  assert.ok(n > 0, `export: ${n}`);
  const u8 = c.u8;
  const dv = new DataView(u8.buffer);
  assert.is(dv.getUint32(out + 12, true), 1, "one flow");
  const rec = out + 32;
  assert.is(dv.getUint16(rec + 4, true), 1, "one receive-queue mbuf");
  const ent = rec + 312;
  const buf = dv.getUint32(ent, true);
  const lo = dv.getUint16(ent + 4, true);
  const len = dv.getUint32(ent + 8, true);
  const ptr = dv.getUint32(ent + 12, true);
  assert.is(len, 70, "unread length");
  const at = ent + 24 + (ptr - (buf + lo));
  assert.equal([...u8.subarray(at, at + len)], [...payload.subarray(30)], "the unread bytes");
});

test("cmd-abort-rst-seq: ABORT with data in flight sends <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5)", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.send(h, c.put(0, new Uint8Array(100)), 100);
  c.flush();
  assert.is(one(c.out()).payload.length, 100);
  assert.is(c.cmd(CMD.ABORT, h), RET.OK);
  const r = one(c.out());
  assert.is(r.flags, F.RST);
  assert.is(r.seq, iss + 101);
});

test("persist-no-backoff: zero-window probes back off like the RTO: 0.2, 0.6, 1.4, 3.0 s", () => {
  const c = new TcpCore();
  const { h, iss } = established(c);
  c.inject({ seq: CISN + 1, ack: iss + 1, flags: F.ACK, win: 0 });
  c.send(h, c.put(0, new Uint8Array(100)), 100);
  c.flush();
  assert.equal(c.out(), []);
  const start = c.now;
  const at: number[] = [];
  for (let i = 0; i < 320; i++) {
    c.advance(10_000);
    for (const s of c.out()) {
      assert.is(s.payload.length, 1, "a one-byte probe");
      at.push(Number(c.now - start) / 1e6);
    }
  }
  assert.equal(at, [0.2, 0.6, 1.4, 3.0]);
});

test.run();
