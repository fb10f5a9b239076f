// echo and sink apps driven through appDispatch() by the stand-in stack.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  APP,
  CMD_ACCEPT,
  CMD_CLOSE,
  CMD_RECV_DONE,
  CMD_SENDV,
  CMD_UDP_SEND,
  EV_UDP_RECV,
  Driver,
  appCore,
} from "./harness.ts";

test("echo: accepts with a cookie, echoes the received span itself (zero-copy), RECV_DONE only after the ack", () => {
  const d = new Driver(APP.echo);
  const c = d.open();
  assert.equal(
    d.cmds.map((x) => x.kind),
    [CMD_ACCEPT],
  );
  assert.is(c.cookie, 0);
  d.recv(c, "hello");
  const cmds = d.step();
  assert.equal(
    cmds.map((x) => x.kind),
    [CMD_SENDV],
  );
  // the span handed to SENDV is the received buffer itself, not a copy
  const span = d.core.u32[cmds[0].a >>> 2];
  const staged = d.core.regions.staging.offset;
  assert.is(span, staged);
  assert.is(cmds[0].b, 1);
  assert.is(d.output(c).toString(), "hello");
  assert.is(c.recvDone, 0, "not given back before the ack");
  const next = d.step(); // the stand-in acknowledges 5 bytes
  assert.equal(
    next.map((x) => [x.kind, x.a]),
    [[CMD_RECV_DONE, 5]],
  );
  assert.is(c.recvDone, 5);
  assert.is(d.zeroCopyViolations, 0);
});

test("echo: flow control takes part of the offer; the rest goes after EV_TCP_SENT, in order", () => {
  const d = new Driver(APP.echo, {}, 3);
  const c = d.open();
  d.recv(c, "abcdefgh");
  d.recv(c, "ijk");
  d.settle();
  assert.is(d.output(c).toString(), "abcdefghijk");
  assert.is(c.recvDone, 11);
  assert.is(d.zeroCopyViolations, 0);
  assert.is(Number(d.f.echoStat(2)), 11, "bytes echoed and acknowledged");
});

test("echo: many connections keep their own streams; peer FIN is answered with CLOSE after the data", () => {
  const d = new Driver(APP.echo, {}, 7);
  const conns = [d.open(), d.open(), d.open()];
  assert.equal(
    conns.map((c) => c.cookie),
    [0, 1, 2],
  );
  for (let r = 0; r < 5; r++) for (const [i, c] of conns.entries()) d.recv(c, `c${i}r${r}-`.repeat(i + 1));
  for (const c of conns) d.fin(c);
  d.settle();
  for (const [i, c] of conns.entries()) {
    let want = "";
    for (let r = 0; r < 5; r++) want += `c${i}r${r}-`.repeat(i + 1);
    assert.is(d.output(c).toString(), want);
    assert.is(c.recvDone, want.length);
    assert.ok(c.closed, "CLOSE sent");
  }
  assert.ok(
    d.cmds.every((x) => x.kind !== CMD_CLOSE),
    "CLOSE only once",
  );
  // a dead connection's slot is reused
  d.kill(conns[1]);
  d.step();
  const again = d.open();
  assert.is(again.cookie, 1);
});

test("echo: UDP datagrams are copied out (payload and the 64-byte address record) and sent back", () => {
  const d = new Driver(APP.echo);
  const rec = new Uint8Array(64); // flow key (40) + source and destination MACs (net/udp.ts)
  rec[0] = 4;
  rec[1] = 17;
  rec.set([1, 2, 3, 4], 8);
  rec.set([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], 40);
  const kp = d.place(rec);
  const dp = d.place(Buffer.from("ping!"));
  d.event(EV_UDP_RECV, 0, 0, dp, 5, kp, 0);
  const cmds = d.step();
  assert.is(cmds.length, 1);
  assert.is(cmds[0].kind, CMD_UDP_SEND);
  assert.is(cmds[0].b, 5);
  assert.ok(cmds[0].a !== dp, "payload copied out of the mbuf");
  assert.is(Buffer.from(d.core.u8.subarray(cmds[0].a, cmds[0].a + 5)).toString(), "ping!");
  assert.equal([...d.core.u8.subarray(cmds[0].c, cmds[0].c + 64)], [...rec]);
  assert.is(cmds[0].d, 0, "the record is the received one: the stack swaps it");
});

test("sink: accepts, gives bytes back at once, counts, closes on FIN", () => {
  const d = new Driver(APP.sink);
  const c = d.open();
  d.recv(c, "x".repeat(1000));
  d.recv(c, "y".repeat(234));
  const cmds = d.step();
  assert.equal(
    cmds.map((x) => [x.kind, x.a]),
    [
      [CMD_RECV_DONE, 1000],
      [CMD_RECV_DONE, 234],
    ],
  );
  d.fin(c);
  d.step();
  assert.ok(c.closed);
  assert.is(Number(d.f.sinkStat(2)), 1234);
  assert.is(Number(d.f.sinkStat(3)), 2);
  assert.is(d.output(c).length, 0);
});

test("appRegionBytes sizes R_APP: exactly enough for the connections asked for", () => {
  const probe = appCore(APP.sink, {}).f;
  const echo3 = probe.appRegionBytes(APP.echo, 3, 0) >>> 0;
  assert.is(echo3, 131072 + 3 * 2224);
  assert.is(appCore(APP.echo, { appBytes: echo3 }).f.echoConns(), 3);
  assert.is(appCore(APP.echo, { appBytes: echo3 - 1 }).f.echoConns(), 2);
  const cl = probe.appRegionBytes(APP.echoClient, 5, 100) >>> 0;
  assert.is(cl, 512 * 8 + 64 + 5 * (64 + 2 * 448));
  const client = appCore(APP.echoClient, { appBytes: cl, appConns: 5, appMsgBytes: 100 }).f;
  assert.equal([client.clientConnState(4), client.clientConnState(5)], [0, -1], "5 records, idle");
  assert.throws(
    () => appCore(APP.echoClient, { appBytes: cl - 1, appConns: 5, appMsgBytes: 100 }),
    /init failed|appInit failed/,
  );
  const mc = probe.appRegionBytes(APP.memcached, 4, 0) >>> 0;
  assert.is(appCore(APP.memcached, { appBytes: mc, appConns: 4 }).f.mcConnSlots(), 4);
});

test.run();
