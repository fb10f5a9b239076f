// netpipe and sockperf apps driven through appDispatch() by the stand-in stack
// (harness.ts): the client's byte stream is cut at arbitrary places, and what the
// app sends back must be exactly what NPtcp's / sockperf's own server would send,
// from the received bytes themselves (zero-copy), with every byte given back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CMD_ABORT, CMD_CLOSE, CMD_UDP_SEND, EV_UDP_RECV, Driver, type Conn } from "./harness.ts";
import { prng as rng } from "../../host/io/prng.ts";

const APP_NETPIPE = 7;
const APP_SOCKPERF = 8;

/**
 * Feeds bytes in random pieces (1..maxPiece), stepping every few pieces, then settles.
 * Like the stack's receive window, it holds back while 16 kB are not given back yet
 * (the stand-in has no window of its own; the app's queue is sized for the stack's).
 */
function feed(d: Driver, c: Conn, bytes: Buffer, rand: () => number, maxPiece: number): void {
  let off = 0;
  let n = 0;
  while (off < bytes.length) {
    for (let i = 0; i < 1000 && c.received - c.recvDone > 16384; i++) d.step();
    const k = Math.min(bytes.length - off, 1 + Math.floor(rand() * maxPiece));
    d.recv(c, bytes.subarray(off, off + k));
    off += k;
    if (++n % 8 === 0) d.step();
  }
  d.settle();
}

// ---- netpipe ----
// Block sizes of NPtcp 3.7.2 with its defaults, as printed by a real run (`NPtcp -h ... -u 1100`).
const NP_SIZES = [
  1, 2, 3, 4, 6, 8, 12, 13, 16, 19, 21, 24, 27, 29, 32, 35, 45, 48, 51, 61, 64, 67, 93, 96, 99, 125, 128, 131,
  189, 192, 195, 253, 256, 259, 381, 384, 387, 509, 512, 515, 765, 768, 771, 1021, 1024, 1027,
];
const SYNC = Buffer.from("SyncMe");
const QUIT = Buffer.from("QUIT\0", "latin1");

/** What NPtcp's transmitter sends for `blocks` sizes with repeat count n, and what its receiver sends back. */
function npStreams(blocks: number, n: number): { tx: Buffer; rx: Buffer } {
  const tx: Buffer[] = [SYNC, Buffer.alloc(100, 0x61), SYNC];
  const rx: Buffer[] = [SYNC, Buffer.alloc(100, 0x61), SYNC];
  for (let b = 0; b < blocks; b++) {
    const size = NP_SIZES[b];
    const count = Buffer.alloc(4);
    count.writeUInt32BE(n);
    tx.push(SYNC, count);
    rx.push(SYNC);
    for (let t = 0; t < 3; t++) {
      const data = Buffer.alloc(size * n, 0x61 + t);
      tx.push(SYNC, data);
      rx.push(SYNC, data);
    }
  }
  tx.push(QUIT);
  rx.push(QUIT);
  return { tx: Buffer.concat(tx), rx: Buffer.concat(rx) };
}

test("netpipe: answers NPtcp's stream through 46 sizes (schedule of a real run), consuming only the repeat counts", () => {
  for (const [seed, piece, window] of [
    [1, 1500, 1 << 30],
    [2, 7, 1 << 30],
    [3, 300, 100],
  ] as const) {
    const d = new Driver(APP_NETPIPE, {}, window);
    const c = d.open();
    const { tx, rx } = npStreams(NP_SIZES.length, 3);
    feed(d, c, tx, rng(seed), piece);
    d.fin(c);
    d.settle();
    const out = d.output(c);
    assert.is(out.length, rx.length, `seed ${seed}: reply length`);
    assert.ok(out.equals(rx), `seed ${seed}: reply bytes`);
    assert.is(c.recvDone, tx.length, "every received byte given back");
    assert.ok(c.closed && !c.aborted, "closed after the client's FIN");
    assert.is(d.zeroCopyViolations, 0);
    assert.is(Number(d.f.netpipeStat(0)), 1, "one session (QUIT)");
    assert.is(Number(d.f.netpipeStat(1)), NP_SIZES.length, "blocks");
    assert.is(Number(d.f.netpipeStat(2)), NP_SIZES.length * 3, "trials");
    assert.is(Number(d.f.rsStat(2)), 0, "no protocol error");
  }
});

test("netpipe: the reply spans are the received bytes (zero-copy); a bad Sync or bytes after QUIT reset the connection", () => {
  const d = new Driver(APP_NETPIPE);
  const c = d.open();
  d.recv(c, "SyncMe");
  const cmds = d.step();
  const span = d.core.u32[cmds.find((x) => x.kind === 104)!.a >>> 2];
  assert.is(span, d.core.regions.staging.offset, "SENDV points at the received bytes");
  d.settle();
  d.recv(c, Buffer.alloc(100, 1));
  d.recv(c, "SyncMX");
  d.step();
  assert.ok(c.aborted, "aborted at the wrong Sync byte");
  assert.is(Number(d.f.rsStat(2)), 1);

  const d2 = new Driver(APP_NETPIPE);
  const c2 = d2.open();
  const { tx } = npStreams(2, 1);
  feed(d2, c2, tx, rng(9), 64);
  assert.ok(!c2.aborted);
  d2.recv(c2, "x");
  d2.step();
  assert.ok(c2.aborted, "bytes after QUIT are a protocol error");
});

// ---- sockperf ----
interface Msg {
  seq: number;
  flags: number;
  len: number;
}
function spMsg(m: Msg, fill: number): Buffer {
  const b = Buffer.alloc(m.len, fill);
  b.writeBigUInt64BE(BigInt(m.seq), 0);
  b.writeUInt16BE(m.flags, 8);
  b.writeUInt32BE(m.len, 10);
  return b;
}
const answered = (f: number) => (f & 7) === 3;

test("sockperf: answers CLIENT|PONG_REQUEST messages with CLIENT cleared, consumes warm-up and no-reply ones, across any segmentation", () => {
  const rand = rng(42);
  const msgs: Buffer[] = [];
  const replies: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    const flags = i < 5 ? 1 | 2 | 4 : i % 7 === 3 ? 1 : 1 | 2; // warm-up, no reply wanted, ping-pong
    const len = 14 + (i % 5 === 0 ? Math.floor(rand() * 3000) : Math.floor(rand() * 50));
    const m = spMsg({ seq: i, flags, len }, i & 0xff);
    msgs.push(m);
    if (answered(flags)) {
      const r = Buffer.from(m);
      r.writeUInt16BE(flags & ~1, 8);
      replies.push(r);
    }
  }
  const tx = Buffer.concat(msgs);
  const rx = Buffer.concat(replies);
  for (const piece of [1, 13, 1448]) {
    const d = new Driver(APP_SOCKPERF, {}, 1 << 30);
    const c = d.open();
    feed(d, c, tx, rng(piece), piece);
    d.fin(c);
    d.settle();
    const out = d.output(c);
    assert.is(out.length, rx.length, `pieces ≤ ${piece}: reply length`);
    assert.ok(out.equals(rx), `pieces ≤ ${piece}: reply bytes`);
    assert.is(c.recvDone, tx.length);
    assert.ok(c.closed && !c.aborted);
    assert.is(d.zeroCopyViolations, 0);
    assert.is(Number(d.f.sockperfStat(0)), 400, "client messages");
    assert.is(Number(d.f.sockperfStat(1)), replies.length, "replies");
  }
});

test("sockperf: a length outside 14..65507 resets the connection (sockperf's server closes it)", () => {
  for (const len of [13, 65508]) {
    const d = new Driver(APP_SOCKPERF);
    const c = d.open();
    const h = Buffer.alloc(14);
    h.writeUInt16BE(3, 8);
    h.writeUInt32BE(len, 10);
    d.recv(c, h);
    const cmds = d.step();
    assert.ok(cmds.some((x) => x.kind === CMD_ABORT) && c.aborted, `length ${len}`);
    assert.ok(!cmds.some((x) => x.kind === CMD_CLOSE));
  }
});

test("sockperf UDP: each answered message of a datagram goes back from the datagram itself, CLIENT cleared", () => {
  const d = new Driver(APP_SOCKPERF);
  const m1 = spMsg({ seq: 7, flags: 3, len: 64 }, 0x41);
  const m2 = spMsg({ seq: 8, flags: 1, len: 20 }, 0x42); // no reply wanted
  const m3 = spMsg({ seq: 9, flags: 7, len: 14 }, 0x43); // warm-up
  const m4 = spMsg({ seq: 10, flags: 3, len: 30 }, 0x44);
  const dgram = Buffer.concat([m1, m2, m3, m4]);
  const p = d.place(dgram);
  const addr = d.place(Buffer.alloc(64, 9));
  d.event(EV_UDP_RECV, 0, 0, p, dgram.length, addr, 0);
  const cmds = d.step().filter((x) => x.kind === CMD_UDP_SEND);
  assert.equal(
    cmds.map((x) => [x.a - p, x.b, x.c]),
    [
      [0, 64, addr],
      [64 + 20 + 14, 30, addr],
    ],
  );
  const u8 = d.core.u8;
  assert.is(u8[p + 9], 2, "CLIENT cleared in place, PONG_REQUEST kept");
  assert.is(u8[p + 98 + 9], 2);
  assert.is(u8[p + 64 + 9], 1, "unanswered message untouched");
  assert.is(Number(d.f.sockperfStat(2)), 4, "client messages (warm-up included)");
  assert.is(Number(d.f.sockperfStat(3)), 2);
  // a truncated message ends the datagram's processing, counted
  const bad = spMsg({ seq: 1, flags: 3, len: 40 }, 0).subarray(0, 30);
  d.event(EV_UDP_RECV, 0, 0, d.place(bad), bad.length, addr, 0);
  assert.is(d.step().filter((x) => x.kind === CMD_UDP_SEND).length, 0);
  assert.is(Number(d.f.sockperfStat(4)), 1);
});

test.run();
