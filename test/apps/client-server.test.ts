// Client apps against server apps, back to back through a stand-in for the two
// TCP stacks: CONNECT on the client becomes a KNOCK on the server, SENDV bytes (up
// to a window per call) arrive as RECV on the other side and are acknowledged one
// step later, CLOSE arrives as a zero-length RECV (FIN), DEAD once both closed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  APP,
  CMD_ACCEPT,
  CMD_CLOSE,
  CMD_CONNECT,
  CMD_RECV_DONE,
  CMD_SENDV,
  EV_TCP_CONNECTED,
  EV_TCP_DEAD,
  EV_TCP_KNOCK,
  EV_TCP_RECV,
  EV_TCP_SENT,
  appCore,
  type Fns,
} from "./harness.ts";
import type { Core, CoreConfig } from "../../host/core/core.ts";

interface Side {
  core: Core;
  f: Fns;
  events: number[][];
  stage: number;
}

interface Link {
  ch: number; // client handle
  sh: number; // server handle
  cCookie: number;
  sCookie: number;
  ackToClient: number;
  ackToServer: number;
  cClosed: boolean;
  sClosed: boolean;
  dead: boolean;
  cRecvDone: number;
  sRecvDone: number;
  cReceived: number;
  sReceived: number;
}

class Pair {
  c: Side;
  s: Side;
  links: Link[] = [];
  now = 1_000_000;
  constructor(
    clientApp: number,
    serverApp: number,
    cfg: Partial<CoreConfig>,
    public window = 1 << 30,
  ) {
    const mk = (app: number): Side => {
      const { core, f } = appCore(app, { ...cfg, app }, false);
      return { core, f, events: [], stage: 0 };
    };
    this.c = mk(clientApp);
    this.s = mk(serverApp);
  }

  private place(side: Side, bytes: Uint8Array): number {
    const { offset, bytes: size } = side.core.regions.staging;
    if (side.stage + bytes.length > size) side.stage = 0;
    const p = offset + side.stage;
    side.core.u8.set(bytes, p);
    side.stage += (bytes.length + 15) & ~15;
    return p;
  }

  private run(
    side: Side,
  ): { kind: number; handle: number; cookie: number; a: number; b: number; c: number; p: number }[] {
    for (const e of side.events) side.f.appTestEvent(e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
    side.events = [];
    side.f.appTestClock(this.now);
    side.f.appDispatch();
    const n = side.f.appCmdCount();
    const base = side.core.regions.cmdq.offset;
    const u = side.core.u32;
    const out = [];
    for (let i = 0; i < n; i++) {
      const p = base + i * 32;
      out.push({
        kind: side.core.u16[p >>> 1],
        handle: u[(p + 4) >>> 2],
        cookie: u[(p + 8) >>> 2],
        a: u[(p + 12) >>> 2],
        b: u[(p + 16) >>> 2],
        c: u[(p + 20) >>> 2],
        p,
      });
    }
    return out;
  }

  private sendv(
    from: Side,
    to: Side,
    cmd: { a: number; b: number },
    toHandle: number,
    toCookie: number,
  ): number {
    let budget = this.window;
    let took = 0;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < cmd.b && budget > 0; i++) {
      const sp = cmd.a + i * 8;
      const ptr = from.core.u32[sp >>> 2];
      const len = Math.min(from.core.u32[(sp + 4) >>> 2], budget);
      chunks.push(from.core.u8.slice(ptr, ptr + len));
      budget -= len;
      took += len;
    }
    if (took > 0) {
      const bytes = Buffer.concat(chunks);
      to.events.push([EV_TCP_RECV, toHandle, toCookie, this.place(to, bytes), bytes.length, 0, 0]);
    }
    return took;
  }

  step(): number {
    this.now += 10; // 10 µs per iteration
    for (const l of this.links) {
      if (l.ackToClient) this.c.events.push([EV_TCP_SENT, l.ch, l.cCookie, l.ackToClient, this.window, 0, 0]);
      if (l.ackToServer) this.s.events.push([EV_TCP_SENT, l.sh, l.sCookie, l.ackToServer, this.window, 0, 0]);
      l.ackToClient = l.ackToServer = 0;
    }
    let work = 0;
    for (const cmd of this.run(this.c)) {
      work++;
      let ret = 0;
      if (cmd.kind === CMD_CONNECT) {
        const l: Link = {
          ch: 0x1000 + this.links.length,
          sh: 0x2000 + this.links.length,
          cCookie: cmd.cookie,
          sCookie: -1,
          ackToClient: 0,
          ackToServer: 0,
          cClosed: false,
          sClosed: false,
          dead: false,
          cRecvDone: 0,
          sRecvDone: 0,
          cReceived: 0,
          sReceived: 0,
        };
        this.links.push(l);
        this.s.events.push([EV_TCP_KNOCK, l.sh, 0, 11211, 40000, 0, 4]);
        ret = l.ch;
      } else {
        const l = this.links.find((x) => x.ch === cmd.handle)!;
        if (cmd.kind === CMD_SENDV) {
          ret = this.sendv(this.c, this.s, cmd, l.sh, l.sCookie);
          l.ackToClient += ret;
          l.sReceived += ret;
        } else if (cmd.kind === CMD_RECV_DONE) l.cRecvDone += cmd.a;
        else if (cmd.kind === CMD_CLOSE) {
          l.cClosed = true;
          this.s.events.push([EV_TCP_RECV, l.sh, l.sCookie, 0, 0, 0, 0]);
        }
      }
      this.c.core.i32[(cmd.p + 28) >>> 2] = ret;
    }
    for (const cmd of this.run(this.s)) {
      work++;
      let ret = 0;
      const l = this.links.find((x) => x.sh === cmd.handle)!;
      if (cmd.kind === CMD_ACCEPT) {
        l.sCookie = cmd.cookie;
        this.c.events.push([EV_TCP_CONNECTED, l.ch, l.cCookie, 0, 0, 0, 0]);
      } else if (cmd.kind === CMD_SENDV) {
        ret = this.sendv(this.s, this.c, cmd, l.ch, l.cCookie);
        l.ackToServer += ret;
        l.cReceived += ret;
      } else if (cmd.kind === CMD_RECV_DONE) l.sRecvDone += cmd.a;
      else if (cmd.kind === CMD_CLOSE) {
        l.sClosed = true;
        this.c.events.push([EV_TCP_RECV, l.ch, l.cCookie, 0, 0, 0, 0]);
      }
      this.s.core.i32[(cmd.p + 28) >>> 2] = ret;
    }
    for (const l of this.links) {
      if (!l.dead && l.cClosed && l.sClosed) {
        l.dead = true;
        this.c.events.push([EV_TCP_DEAD, l.ch, l.cCookie, 0, 0, 0, 0]);
        this.s.events.push([EV_TCP_DEAD, l.sh, l.sCookie, 0, 0, 0, 0]);
        work++;
      }
    }
    return work + this.c.events.length + this.s.events.length;
  }

  runUntilDone(max = 200000): number {
    for (let i = 0; i < max; i++) {
      this.step();
      if (this.c.f.clientDone()) {
        for (let k = 0; k < 5; k++) this.step();
        return i;
      }
    }
    throw new Error("client did not finish");
  }
}

const num = (x: unknown) => Number(x);

function histogram(p: Pair): number[] {
  const f = p.c.f;
  const ptr = f.clientHistPtr() >>> 0;
  const n = f.clientHistBuckets();
  const out: number[] = [];
  for (let b = 0; b < n; b++) out.push(Number(new BigUint64Array(p.c.core.memory.buffer, ptr + b * 8, 1)[0]));
  return out;
}

test("histogram buckets: exact below 16, 16 per power of two, low bound of each bucket", () => {
  const { f } = appCore(APP.echoClient, { appConns: 1, appMsgs: 1 }, false);
  const B = (v: number) => f.histBucket(BigInt(v) as unknown as number);
  const L = (b: number) => Number(f.histBucketLow(b));
  assert.equal(
    [0, 1, 15, 16, 17, 31, 32, 33, 34, 63, 64, 1000].map(B),
    [0, 1, 15, 16, 17, 31, 32, 32, 33, 47, 48, 111],
  );
  for (const v of [0, 5, 16, 33, 100, 999, 123456, 2 ** 31]) {
    const b = B(v);
    assert.ok(L(b) <= v && (b + 1 >= 512 || L(b + 1) > v), `bucket of ${v}`);
  }
});

test("echo-client x echo: 8 connections x 50 messages of 100 bytes, every byte verified, all closed", () => {
  const cfg = { appConns: 8, appMsgs: 50, appMsgBytes: 100, appPeerIp4: 0x0100a8c0, appPeerPort: 7 };
  const p = new Pair(APP.echoClient, APP.echo, cfg);
  p.runUntilDone();
  const f = p.c.f;
  assert.is(num(f.clientRoundTrips()), 400);
  assert.is(num(f.clientBytesVerified()), 400 * 100);
  assert.is(num(f.clientErrors()), 0);
  assert.is(p.links.length, 8);
  for (const l of p.links) {
    assert.ok(l.dead, "closed both ways");
    assert.is(l.cRecvDone, l.cReceived);
    assert.is(l.sRecvDone, l.sReceived);
    assert.is(l.sReceived, 50 * 100);
  }
  const h = histogram(p);
  assert.is(
    h.reduce((a, b) => a + b, 0),
    400,
  );
  // CONNECT carried the configured peer
  const peer = p.c.core.u32[(p.c.core.regions.app.offset + 512 * 8) >>> 2];
  assert.is(peer, 0x0100a8c0);
});

test("echo-client x echo with a 7-byte window: partial SENDV acceptance on both sides", () => {
  const cfg = { appConns: 3, appMsgs: 10, appMsgBytes: 300 };
  const p = new Pair(APP.echoClient, APP.echo, cfg, 7);
  p.runUntilDone();
  assert.is(num(p.c.f.clientRoundTrips()), 30);
  assert.is(num(p.c.f.clientBytesVerified()), 30 * 300);
  assert.is(num(p.c.f.clientErrors()), 0);
});

test("echo-client detects a corrupted echo", () => {
  const cfg = { appConns: 1, appMsgs: 3, appMsgBytes: 64 };
  const p = new Pair(APP.echoClient, APP.echo, cfg);
  // corrupt the first echoed byte on its way to the client
  let done = false;
  for (let i = 0; i < 100000 && !p.c.f.clientDone(); i++) {
    if (!done) {
      const ev = p.c.events.find((e) => e[0] === EV_TCP_RECV && e[4] > 0);
      if (ev) {
        p.c.core.u8[ev[3]] ^= 0x40;
        done = true;
      }
    }
    p.step();
  }
  assert.ok(done);
  assert.is(num(p.c.f.clientErrors()), 1);
  assert.is(num(p.c.f.clientRoundTrips()), 3);
  assert.is(num(p.c.f.clientBytesVerified()), 2 * 64);
});

test("memcached-client x memcached: set then get of generated keys, values verified", () => {
  const cfg = { appConns: 4, appMsgs: 25, appMsgBytes: 1000, appBytes: 24 << 20 };
  const p = new Pair(APP.memcachedClient, APP.memcached, cfg, 1460);
  p.runUntilDone();
  const f = p.c.f;
  assert.is(num(f.clientErrors()), 0);
  assert.is(num(f.clientRoundTrips()), 4 * 25 * 2);
  // verified: "STORED\r\n" per set, "VALUE k<c>-<m> 0 1000\r\n" + value + "\r\nEND\r\n" per get
  let want = 0;
  for (let c = 0; c < 4; c++)
    for (let m = 0; m < 25; m++) want += 8 + `VALUE k${c}-${m} 0 1000\r\n`.length + 1000 + 7;
  assert.is(num(f.clientBytesVerified()), want);
  assert.is(num(p.s.f.mcItems()), 100);
  for (const l of p.links) assert.ok(l.dead);
});

test.run();
