// memcached app behaviour that needs the loop clock, a small memory or a narrow
// window: expiry, flush_all with a delay, LRU eviction, output back-pressure with a
// resumed multi-get, zero-copy safety when values change while unacknowledged,
// connection close paths. Exact bytes throughout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP, CMD_ACCEPT, Driver, type Conn } from "./harness.ts";

const S = 1_000_000; // µs

function mc(window = 1 << 30, appBytes = 8 << 20, appConns = 8): { d: Driver; c: Conn } {
  const d = new Driver(APP.memcached, { appBytes, appConns, appItemMax: 64 * 1024 }, window);
  const c = d.open();
  return { d, c };
}

function ask(d: Driver, c: Conn, req: string): string {
  d.recv(c, req);
  d.settle();
  return d.take(c).toString("latin1");
}

test("relative expiry follows the loop clock; touch extends it; absolute times are unix seconds", () => {
  const { d, c } = mc();
  assert.is(ask(d, c, "set a 0 10 1\r\nx\r\nset b 0 10 1\r\ny\r\n"), "STORED\r\nSTORED\r\n");
  d.nowUs += 9 * S;
  assert.is(ask(d, c, "get a\r\ntouch b 100\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\nTOUCHED\r\n");
  d.nowUs += 1 * S;
  assert.is(ask(d, c, "get a b\r\n"), "VALUE b 0 1\r\ny\r\nEND\r\n");
  const unix = Math.floor(Date.now() / 1000);
  assert.is(ask(d, c, `set u 0 ${unix + 60} 1\r\nz\r\nget u\r\n`), "STORED\r\nVALUE u 0 1\r\nz\r\nEND\r\n");
  d.nowUs += 61 * S;
  assert.is(ask(d, c, "get u b\r\n"), "VALUE b 0 1\r\ny\r\nEND\r\n");
  d.nowUs += 40 * S;
  assert.is(ask(d, c, "get b\r\n"), "END\r\n");
  const stats = ask(d, c, "stats\r\n");
  assert.match(stats, /\r\nSTAT get_expired 3\r\n/);
});

test("flush_all with a delay: items vanish when the delay has passed, including ones set meanwhile", () => {
  const { d, c } = mc();
  assert.is(
    ask(d, c, "set a 0 0 1\r\nx\r\nflush_all 5\r\nset b 0 0 1\r\ny\r\nget a b\r\n"),
    "STORED\r\nOK\r\nSTORED\r\nVALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n",
  );
  d.nowUs += 5 * S;
  assert.is(ask(d, c, "get a b\r\n"), "END\r\n");
  assert.is(ask(d, c, "set c 0 0 1\r\nz\r\nget c\r\n"), "STORED\r\nVALUE c 0 1\r\nz\r\nEND\r\n");
});

test("LRU eviction when the store is full; recently read keys survive", () => {
  const { d, c } = mc(1 << 30, 3 << 20, 2);
  const v = "v".repeat(1000);
  let n = 0;
  let out = "";
  // keep reading key 0 so it stays at the head of its LRU
  for (; n < 4000; n++) {
    out = ask(d, c, `set k${n} 0 0 1000\r\n${v}\r\n`);
    assert.is(out, "STORED\r\n", `set ${n}`);
    if (n % 10 === 0) assert.is(ask(d, c, "get k0\r\n").length, 17 + 1000 + 2 + 5);
  }
  const stats = ask(d, c, "stats\r\n");
  const ev = Number(/STAT evictions (\d+)/.exec(stats)![1]);
  const items = Number(/STAT curr_items (\d+)/.exec(stats)![1]);
  assert.ok(ev > 0, "evicted");
  assert.is(items + ev, 4000);
  assert.is(ask(d, c, "get k0\r\n"), `VALUE k0 0 1000\r\n${v}\r\nEND\r\n`);
  assert.is(ask(d, c, "get k1\r\n"), "END\r\n", "an old unread key went first");
  assert.is(ask(d, c, `get k3999\r\n`), `VALUE k3999 0 1000\r\n${v}\r\nEND\r\n`);
});

test("a multi-get larger than the output path stalls and resumes under a 100-byte window", () => {
  const { d, c } = mc(100);
  const keys: string[] = [];
  let want = "";
  let sets = "";
  for (let i = 0; i < 200; i++) {
    const k = `key${i}`;
    const v = `${i}`.repeat(40).slice(0, 40 + (i % 3));
    keys.push(k);
    sets += `set ${k} ${i} 0 ${v.length} noreply\r\n${v}\r\n`;
    want += `VALUE ${k} ${i} ${v.length}\r\n${v}\r\n`;
  }
  assert.is(ask(d, c, sets), "");
  const line = `get ${keys.join(" ")}\r\n`;
  assert.ok(line.length < 4096);
  assert.is(ask(d, c, line + "version\r\n"), want + "END\r\nVERSION 1.6.18-ixwasm\r\n");
  assert.is(d.zeroCopyViolations, 0);
  assert.is(c.recvDone, c.received);
});

test("values replaced or deleted while their bytes are unacknowledged stay intact (zero-copy)", () => {
  const { d, c } = mc(10); // 10 bytes per SENDV: the get's value stays in flight for many steps
  ask(d, c, "set a 0 0 20\r\nAAAAAAAAAAAAAAAAAAAA\r\n");
  d.recv(
    c,
    "get a\r\nset a 0 0 20\r\nBBBBBBBBBBBBBBBBBBBB\r\ndelete a\r\nset a 0 0 3\r\n100\r\nincr a 1\r\nget a\r\n",
  );
  d.settle();
  assert.is(
    d.take(c).toString(),
    "VALUE a 0 20\r\nAAAAAAAAAAAAAAAAAAAA\r\nEND\r\nSTORED\r\nDELETED\r\nSTORED\r\n101\r\nVALUE a 0 3\r\n101\r\nEND\r\n",
  );
  assert.is(d.zeroCopyViolations, 0);
});

test("binary requests split at every byte and pipelined with ASCII-free quiet gets", () => {
  const { d, c } = mc();
  const req = (op: number, key: string, extras: Buffer, value: string, opaque: number) => {
    const h = Buffer.alloc(24);
    h[0] = 0x80;
    h[1] = op;
    h.writeUInt16BE(key.length, 2);
    h[4] = extras.length;
    h.writeUInt32BE(extras.length + key.length + value.length, 8);
    h.writeUInt32BE(opaque, 12);
    return Buffer.concat([h, extras, Buffer.from(key), Buffer.from(value)]);
  };
  const ex = Buffer.alloc(8);
  ex.writeUInt32BE(0xdeadbeef, 0);
  const stream = Buffer.concat([
    req(0x11, "k", ex, "value!", 1), // setq
    req(0x0d, "k", Buffer.alloc(0), "", 2), // getkq hit
    req(0x09, "zz", Buffer.alloc(0), "", 3), // getq miss: silent
    req(0x0a, "", Buffer.alloc(0), "", 4), // noop
  ]);
  for (const b of stream) {
    d.recv(c, Buffer.from([b]));
    d.settle();
  }
  const out = d.take(c);
  // getkq hit: header, flags, key, value; then the noop
  assert.is(out.length, 24 + 4 + 1 + 6 + 24);
  assert.is(out[0], 0x81);
  assert.is(out[1], 0x0d);
  assert.is(out.readUInt16BE(2), 1);
  assert.is(out[4], 4);
  assert.is(out.readUInt32BE(8), 11);
  assert.is(out.readUInt32BE(12), 2);
  assert.is(out.readBigUInt64BE(16), 1n, "cas of the first store");
  assert.is(out.readUInt32BE(24), 0xdeadbeef);
  assert.is(out.toString("latin1", 28, 35), "kvalue!");
  assert.is(out[36], 0x0a);
  assert.is(out.readUInt32BE(35 + 12), 4);
});

test("quit, a peer FIN, an over-long line and a dead connection each end the connection cleanly", () => {
  const { d, c } = mc();
  assert.is(ask(d, c, "set a 0 0 1\r\nx\r\nquit\r\nget a\r\n"), "STORED\r\n");
  assert.ok(c.closed);
  assert.is(c.recvDone, c.received, "unread input given back");
  const c2 = d.open();
  d.recv(c2, "get a\r\n");
  d.fin(c2);
  d.settle();
  assert.is(d.take(c2).toString(), "VALUE a 0 1\r\nx\r\nEND\r\n");
  assert.ok(c2.closed, "closed after answering");
  const c3 = d.open();
  assert.is(ask(d, c3, "set " + "x".repeat(3000)), "");
  assert.ok(c3.closed, "no newline within 2048 bytes of a non-get line");
  const c4 = d.open();
  d.window = 5;
  d.recv(c4, "get a\r\n");
  d.step();
  d.kill(c4); // dies with the value span in flight
  d.settle();
  d.window = 1 << 30;
  // the slots come back
  for (const x of [c, c2, c3]) d.kill(x);
  d.settle();
  const again = [d.open(), d.open(), d.open(), d.open()];
  assert.equal(again.map((x) => x.cookie).sort(), [0, 1, 2, 3]);
  assert.is(ask(d, again[0], "set a 0 0 2\r\nyy\r\nget a\r\n"), "STORED\r\nVALUE a 0 2\r\nyy\r\nEND\r\n");
});

test("connections beyond the configured slots are rejected", () => {
  const d = new Driver(APP.memcached, { appBytes: 8 << 20, appConns: 2 });
  const a = d.open();
  const b = d.open();
  assert.equal([a.cookie, b.cookie], [0, 1]);
  d.open();
  assert.equal(
    d.cmds.map((x) => x.kind),
    [102],
  );
  assert.ok(d.cmds.every((x) => x.kind !== CMD_ACCEPT));
});

test("pipelined binary stats under a 50-byte window: every answer whole, in order", () => {
  const { d, c } = mc(50);
  const stat = Buffer.alloc(24);
  stat[0] = 0x80;
  stat[1] = 0x10;
  const reqs: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const r = Buffer.from(stat);
    r.writeUInt32BE(i, 12);
    reqs.push(r);
  }
  d.recv(c, Buffer.concat(reqs));
  d.settle();
  const out = d.take(c);
  let p = 0;
  let groups = 0;
  let inGroup = 0;
  while (p + 24 <= out.length) {
    assert.is(out[0 + p], 0x81);
    assert.is(out.readUInt32BE(p + 12), groups, "opaque of its request");
    const kl = out.readUInt16BE(p + 2);
    const bl = out.readUInt32BE(p + 8);
    if (kl === 0 && bl === 0) {
      assert.is(inGroup, 40, "40 stats then the terminator");
      groups++;
      inGroup = 0;
    } else inGroup++;
    p += 24 + bl;
  }
  assert.is(p, out.length);
  assert.is(groups, 20);
  assert.is(d.zeroCopyViolations, 0);
});

test.run();
