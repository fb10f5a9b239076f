// Test harness for the TCP engine: one core in capture mode, raw IPv4/IPv6 TCP
// packets built here and fed through tcpTestInject, the engine's output read
// back as parsed segments, events read from the event queue, commands run at
// once through tcpTestCmd. Also a seeded two-core link (loss, reordering,
// duplication) for transfer tests.
import * as assert from "uvu/assert";
import * as A from "../../../host/core/abi.gen.ts";
import { TCB, TCP_STATE } from "../../../host/core/tcb.gen.ts";
import { createCore, testHooks, type Core, type CoreConfig, COUNTER_BASE } from "../../../host/core/core.ts";
import { COUNTER_NAMES, type CounterName } from "../../../host/report/counters.ts";
import { PROTO_TCP, ip, parseTcp, tcp, tcpOptions } from "../../../host/io/frames.ts";

// The API's numbers under short names (from abi/table.ts through host/core/abi.gen.ts).
export const EV = {
  KNOCK: A.EV_TCP_KNOCK,
  CONNECTED: A.EV_TCP_CONNECTED,
  RECV: A.EV_TCP_RECV,
  SENT: A.EV_TCP_SENT,
  DEAD: A.EV_TCP_DEAD,
  UDP_RECV: A.EV_UDP_RECV,
  TIMER: A.EV_TIMER,
} as const;
export const CMD = {
  ACCEPT: A.CMD_ACCEPT,
  REJECT: A.CMD_REJECT,
  CONNECT: A.CMD_CONNECT,
  SENDV: A.CMD_SENDV,
  RECV_DONE: A.CMD_RECV_DONE,
  CLOSE: A.CMD_CLOSE,
  ABORT: A.CMD_ABORT,
  TIMER: A.CMD_TIMER,
} as const;
export const RET = {
  OK: A.RET_OK,
  BADHANDLE: A.RET_BADHANDLE,
  NOMEM: A.RET_NOMEM,
  INVAL: A.RET_INVAL,
  STATE: A.RET_STATE,
  NOROUTE: A.RET_NOROUTE,
  AGAIN: A.RET_AGAIN,
} as const;
export const DEAD = {
  CLOSED: A.DEAD_CLOSED,
  RESET: A.DEAD_RESET,
  TIMEOUT: A.DEAD_TIMEOUT,
  REFUSED: A.DEAD_REFUSED,
  ABORTED: A.DEAD_ABORTED,
} as const;
export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;
export const ST = TCP_STATE;
export const TCPF = {
  TS: A.TCPF_TS,
  WS: A.TCPF_WS,
  SACK: A.TCPF_SACK,
  DELACK: A.TCPF_DELACK,
  CHALLENGE: A.TCPF_CHALLENGE,
  TW_REUSE: A.TCPF_TW_REUSE,
} as const;
// TCB field offsets: the ABI table's (abi/tcb.ts, through host/core/tcb.gen.ts).
export { TCB };

type Fn = (...a: (number | bigint)[]) => number;
type BigFn = (...a: (number | bigint)[]) => bigint;

export interface Event {
  kind: number;
  handle: number;
  cookie: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

export interface Seg {
  family: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: [number, number];
  sack?: [number, number][];
  payload: Uint8Array;
  raw: Uint8Array;
}

export interface SegSpec {
  sport?: number;
  dport?: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: [number, number];
  /** SACK blocks [left, right) (RFC 2018 §3), sequence numbers. */
  sack?: [number, number][];
  payload?: Uint8Array | string;
  src?: Uint8Array;
  dst?: Uint8Array;
}

export const SERVER_IP = Uint8Array.of(198, 18, 0, 1);
export const CLIENT_IP = Uint8Array.of(198, 18, 0, 2);
export const SERVER6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
export const CLIENT6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

/** Builds an IPv4 (4-byte addresses; id 0, no DF) or IPv6 (16-byte) packet carrying the TCP segment, checksums filled. */
export function buildPacket(s: SegSpec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const payload = typeof s.payload === "string" ? Buffer.from(s.payload) : s.payload;
  const seg = { ...s, sport: s.sport ?? 40000, dport: s.dport ?? 80, options: tcpOptions(s), data: payload };
  return ip(src, dst, PROTO_TCP, tcp(src, dst, seg), { id: 0, frag: 0 });
}

/** A raw IPv4 (no options walked past IHL) or IPv6 (no extension headers) packet's TCP segment. */
export function parsePacket(raw: Uint8Array): Seg {
  const v6 = raw[0] >> 4 === 6;
  const l3 = v6 ? 40 : (raw[0] & 15) * 4;
  const t = parseTcp(raw, l3);
  const seg: Seg = {
    family: v6 ? 6 : 4,
    src: v6 ? raw.slice(8, 24) : raw.slice(12, 16),
    dst: v6 ? raw.slice(24, 40) : raw.slice(16, 20),
    sport: t.sport,
    dport: t.dport,
    seq: t.seq,
    ack: t.ack,
    flags: t.flags & 0x3f,
    win: t.win,
    payload: raw.slice(l3 + t.hdrLen),
    raw,
  };
  // Only the options present, as keys (deep-equal comparisons see absent, not undefined).
  if (t.mss !== undefined) seg.mss = t.mss;
  if (t.ws !== undefined) seg.ws = t.ws;
  if (t.sackOk) seg.sackOk = true;
  if (t.ts) seg.ts = t.ts;
  if (t.sack) seg.sack = t.sack;
  return seg;
}

export const DEFAULTS: Partial<CoreConfig> = {
  mbufs: 2048,
  flows: 4096,
  ringSlots: 64,
  stagingBytes: 65536,
  descSlots: 16,
  tcbs: 1024,
  timers: 64,
  spans: 4096,
  evqSlots: 4096,
  appBytes: 1 << 20,
  mslMs: 1000,
  rcvbuf: 65535,
  sndbuf: 1 << 18,
  tcpFlags: 0xffffffff,
  delackUs: 40000,
  rtoMinUs: 200000,
};

export class TcpCore {
  core: Core;
  f: Record<string, Fn>;
  big: Record<string, BigFn>;
  now = 1_000_000n; // µs
  scratch: number; // packet staging in R_APP
  mbufBaseline: number; // free mbufs right after init (the RX ring holds some)
  appBase: number; // app bytes after the staging area
  constructor(partial: Partial<CoreConfig> = {}, ip4 = SERVER_IP) {
    const cfg = { ...DEFAULTS, ...partial };
    if (cfg.ipv4 === undefined) cfg.ipv4 = ip4[0] | (ip4[1] << 8) | (ip4[2] << 16) | ((ip4[3] << 24) >>> 0);
    this.core = createCore(cfg, { test: true }); // tcpTest* are the test core's
    this.f = testHooks(this.core) as unknown as Record<string, Fn>;
    this.big = this.core.exports as unknown as Record<string, BigFn>;
    this.f.tcpInit();
    this.f.tcpTestCapture(1);
    this.f.tcpTimers(this.now); // the engine's clock starts where the test's does
    this.mbufBaseline = this.f.mbufFreeCount() >>> 0;
    this.scratch = this.core.regions.app.offset;
    this.appBase = this.scratch + 4096;
  }
  get u8(): Uint8Array {
    return this.core.u8;
  }
  counter(name: CounterName): number {
    const i = COUNTER_NAMES.indexOf(name);
    if (i < 0) throw new Error(`no counter ${name}`);
    return this.core.u32[(COUNTER_BASE >>> 2) + 2 * i];
  }
  listen(port: number): void {
    this.f.tcpListen(port);
  }
  /** Injects a raw IP packet at the current time. */
  injectRaw(pkt: Uint8Array, verify = false): void {
    this.u8.set(pkt, this.scratch);
    const r = this.f.tcpTestInject(this.scratch, pkt.length, this.now, verify ? 1 : 0);
    if (r !== 0) throw new Error(`inject failed ${r}`);
  }
  /** A segment from the client (CLIENT_IP) to this core (SERVER_IP) unless src/dst given. */
  inject(s: SegSpec, verify = false): void {
    this.injectRaw(buildPacket(s, s.src ?? CLIENT_IP, s.dst ?? SERVER_IP), verify);
  }
  flush(): void {
    this.f.tcpFlush();
  }
  timers(): void {
    this.f.tcpTimers(this.now);
  }
  advance(us: number | bigint): void {
    this.now += BigInt(us);
    this.timers();
  }
  /** Captured output, oldest first (drains the capture queue). */
  out(): Seg[] {
    const segs: Seg[] = [];
    for (;;) {
      const m = this.f.tcpTestTxPop() >>> 0;
      if (!m) break;
      const ip = this.core.u32[(m + A.MB_USER0) >>> 2];
      const len = this.core.u32[(m + A.MB_USER1) >>> 2];
      segs.push(parsePacket(this.u8.slice(ip, ip + len)));
      this.f.mbufFree(m);
    }
    return segs;
  }
  /** Raw captured packets (for relaying to another core). */
  outRaw(): Uint8Array[] {
    const pk: Uint8Array[] = [];
    for (;;) {
      const m = this.f.tcpTestTxPop() >>> 0;
      if (!m) break;
      const ip = this.core.u32[(m + A.MB_USER0) >>> 2];
      const len = this.core.u32[(m + A.MB_USER1) >>> 2];
      pk.push(this.u8.slice(ip, ip + len));
      this.f.mbufFree(m);
    }
    return pk;
  }
  events(): Event[] {
    const n = this.f.tcpTestEvCount() >>> 0;
    const base = this.f.tcpTestEvBase() >>> 0;
    const u32 = this.core.u32;
    const ev: Event[] = [];
    for (let i = 0; i < n; i++) {
      const p = base + i * A.DESC_SIZE;
      ev.push({
        kind: this.core.u16[(p + A.D_KIND) >>> 1],
        handle: u32[(p + A.D_HANDLE) >>> 2],
        cookie: u32[(p + A.D_COOKIE) >>> 2],
        a: u32[(p + A.D_A) >>> 2],
        b: u32[(p + A.D_B) >>> 2],
        c: u32[(p + A.D_C) >>> 2],
        d: u32[(p + A.D_D) >>> 2],
      });
    }
    this.f.tcpTestEvReset();
    return ev;
  }
  cmd(kind: number, handle = 0, cookie = 0, a = 0, b = 0, c = 0, d = 0, flags = 0): number {
    return this.f.tcpTestCmd(kind, handle, cookie, a, b, c, d, flags);
  }
  /** Writes bytes into the app region at offset off (from appBase); returns the address. */
  put(off: number, bytes: Uint8Array): number {
    this.u8.set(bytes, this.appBase + off);
    return this.appBase + off;
  }
  /** SENDV of one span at address ptr. */
  send(handle: number, ptr: number, len: number, spanOff = 0, flags = 0): number {
    const arr = this.scratch + 2048 + spanOff * A.SPAN_SIZE;
    this.core.u32[arr >>> 2] = ptr;
    this.core.u32[(arr + 4) >>> 2] = len;
    return this.cmd(CMD.SENDV, handle, 0, arr, 1, 0, 0, flags);
  }
  tcb(handle: number): number {
    return this.f.tcpTestTcb(handle) >>> 0;
  }
  field(handle: number, off: number, size: 1 | 2 | 4 = 4): number {
    const t = this.tcb(handle);
    if (!t) throw new Error("stale handle");
    if (size === 1) return this.u8[t + off];
    if (size === 2) return this.core.u16[(t + off) >>> 1];
    return this.core.u32[(t + off) >>> 2];
  }
  state(handle: number): number {
    const t = this.tcb(handle);
    return t ? this.u8[t] : -1;
  }
  stat(i: 0 | 1 | 2 | 3): number {
    return this.f.tcpTestStat(i) >>> 0;
  }
  mbufsFree(): number {
    return this.f.mbufFreeCount() >>> 0;
  }
  timerNext(): bigint {
    return BigInt.asUintN(64, this.big.tcpTimerNext());
  }
}

/** Seeded PRNG: the fault injector's own (host/io/faults.ts), so tests and `pair` draw alike. */
export { prng as rng } from "../../../host/io/prng.ts";

export const seqAdd = (a: number, b: number) => (a + b) >>> 0;

/** The client's ISN in the harness's conversations. */
export const CISN = 1000;

export function one(segs: Seg[]): Seg {
  assert.is(segs.length, 1, `one segment expected, got ${segs.length}`);
  return segs[0];
}

export interface HandshakeOpts {
  ts?: boolean;
  ws?: number;
  sack?: boolean;
  /** The client's MSS option (1460). */
  mss?: number;
  /** The client's window (65535). */
  win?: number;
}

/** LISTEN -> SYN-RECEIVED on port 80: returns the SYN-ACK. */
export function synToListener(c: TcpCore, opts: HandshakeOpts = {}): Seg {
  c.listen(80);
  c.inject({
    seq: CISN,
    flags: F.SYN,
    mss: opts.mss ?? 1460,
    win: opts.win,
    ws: opts.ws,
    sackOk: opts.sack,
    ts: opts.ts ? [500, 0] : undefined,
  });
  c.flush();
  return one(c.out());
}

/** Full passive handshake (ACCEPT with `cookie` unless accept is false): the handle from KNOCK and the server ISN. */
export function established(c: TcpCore, opts: HandshakeOpts & { accept?: boolean; cookie?: number } = {}) {
  const sa = synToListener(c, opts);
  c.inject({
    seq: CISN + 1,
    ack: seqAdd(sa.seq, 1),
    flags: F.ACK,
    win: opts.win,
    ts: opts.ts ? [501, sa.ts![0]] : undefined,
  });
  const ev = c.events();
  assert.is(ev.length, 1);
  assert.is(ev[0].kind, EV.KNOCK);
  const h = ev[0].handle;
  if (opts.accept !== false) assert.is(c.cmd(CMD.ACCEPT, h, opts.cookie ?? 77), RET.OK);
  c.flush();
  assert.equal(c.out(), [], "no segment owed after the handshake");
  return { h, iss: sa.seq, sa };
}
