// Test harness for the TCP engine: one core in capture mode, raw IPv4/IPv6 TCP
// packets built here and fed through tcpTestInject, the engine's output read
// back as parsed segments, events read from the event queue, commands run at
// once through tcpTestCmd. Also a seeded two-core link (loss, reordering,
// duplication) for transfer tests.
import * as assert from "uvu/assert";
import * as A from "../../host/core/abi.gen.ts";
import { createCore, type Core, type CoreConfig, COUNTER_BASE } from "../../host/core/core.ts";
import { COUNTER_NAMES, type CounterName } from "../../host/report/counters.ts";

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
export const ST = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;
export const TCPF = {
  TS: A.TCPF_TS,
  WS: A.TCPF_WS,
  SACK: A.TCPF_SACK,
  DELACK: A.TCPF_DELACK,
  CHALLENGE: A.TCPF_CHALLENGE,
  TW_REUSE: A.TCPF_TW_REUSE,
} as const;
// TCB field offsets (assembly/net/tcp/tcb.ts)
export const TCB = {
  STATE: 0,
  FLAGS: 4,
  SND_WSCALE: 28,
  RCV_WSCALE: 29,
  ISS: 80,
  SND_UNA: 84,
  SND_NXT: 88,
  SND_MAX: 92,
  SND_WND: 96,
  IRS: 128,
  RCV_NXT: 132,
  RCV_ADV: 136,
  RCV_HELD: 140,
  MSS: 156,
  CWND: 160,
  SSTHRESH: 164,
  SRTT: 176,
  RTTVAR: 180,
  RTO: 184,
  TS_RECENT: 196,
} as const;

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

const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
};

function csum(data: Uint8Array, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < data.length; i += 2) s += (data[i] << 8) | data[i + 1];
  if (data.length & 1) s += data[data.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Builds an IPv4 (4-byte addresses) or IPv6 (16-byte) packet carrying the TCP segment, checksums filled. */
export function buildPacket(s: SegSpec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const opts: number[] = [];
  if (s.mss !== undefined) opts.push(2, 4, (s.mss >> 8) & 255, s.mss & 255);
  if (s.sackOk) opts.push(4, 2);
  if (s.ts) {
    const t = new Uint8Array(10);
    t[0] = 8;
    t[1] = 10;
    put32(t, 2, s.ts[0]);
    put32(t, 6, s.ts[1]);
    opts.push(...t);
  }
  if (s.ws !== undefined) opts.push(1, 3, 3, s.ws);
  if (s.sack?.length) {
    const b = new Uint8Array(2 + 8 * s.sack.length);
    b[0] = 5;
    b[1] = b.length;
    s.sack.forEach(([l, r], i) => {
      put32(b, 2 + 8 * i, l >>> 0);
      put32(b, 6 + 8 * i, r >>> 0);
    });
    opts.push(1, 1, ...b);
  }
  while (opts.length % 4) opts.push(0);
  const payload =
    typeof s.payload === "string" ? new TextEncoder().encode(s.payload) : (s.payload ?? new Uint8Array(0));
  const hl = 20 + opts.length;
  const tcp = new Uint8Array(hl + payload.length);
  put16(tcp, 0, s.sport ?? 40000);
  put16(tcp, 2, s.dport ?? 80);
  put32(tcp, 4, s.seq >>> 0);
  put32(tcp, 8, (s.ack ?? 0) >>> 0);
  put16(tcp, 12, ((hl / 4) << 12) | s.flags);
  put16(tcp, 14, s.win ?? 65535);
  tcp.set(opts, 20);
  tcp.set(payload, hl);
  const v6 = src.length === 16;
  let ph = 0;
  ph = csum(src, ph);
  ph = csum(dst, ph);
  ph += 6 + tcp.length;
  put16(tcp, 16, ~csum(tcp, ph) & 0xffff);
  if (v6) {
    const ip = new Uint8Array(40 + tcp.length);
    ip[0] = 0x60;
    put16(ip, 4, tcp.length);
    ip[6] = 6;
    ip[7] = 64;
    ip.set(src, 8);
    ip.set(dst, 24);
    ip.set(tcp, 40);
    return ip;
  }
  const ip = new Uint8Array(20 + tcp.length);
  ip[0] = 0x45;
  put16(ip, 2, ip.length);
  ip[8] = 64;
  ip[9] = 6;
  ip.set(src, 12);
  ip.set(dst, 16);
  put16(ip, 10, ~csum(ip.subarray(0, 20)) & 0xffff);
  ip.set(tcp, 20);
  return ip;
}

export function parsePacket(raw: Uint8Array): Seg {
  const v6 = raw[0] >> 4 === 6;
  const l3 = v6 ? 40 : (raw[0] & 15) * 4;
  const src = v6 ? raw.slice(8, 24) : raw.slice(12, 16);
  const dst = v6 ? raw.slice(24, 40) : raw.slice(16, 20);
  const t = raw.subarray(l3);
  const hl = (t[12] >> 4) * 4;
  const seg: Seg = {
    family: v6 ? 6 : 4,
    src,
    dst,
    sport: be16(t, 0),
    dport: be16(t, 2),
    seq: be32(t, 4),
    ack: be32(t, 8),
    flags: be16(t, 12) & 0x3f,
    win: be16(t, 14),
    payload: t.slice(hl),
    raw,
  };
  let i = 20;
  while (i < hl) {
    const k = t[i];
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const l = t[i + 1];
    if (k === 2) seg.mss = be16(t, i + 2);
    else if (k === 3) seg.ws = t[i + 2];
    else if (k === 4) seg.sackOk = true;
    else if (k === 8) seg.ts = [be32(t, i + 2), be32(t, i + 6)];
    else if (k === 5) {
      seg.sack = [];
      for (let j = i + 2; j + 8 <= i + l; j += 8) seg.sack.push([be32(t, j), be32(t, j + 4)]);
    }
    i += l;
  }
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
    this.core = createCore(cfg);
    this.f = this.core.exports as unknown as Record<string, Fn>;
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
export { prng as rng } from "../../host/io/faults.ts";

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
