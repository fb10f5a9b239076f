// Frame writer of `ixwasm gen` (host/gen/synth.ts): turns a batch of packet
// descriptors into capture records (pcap or pcapng header, Ethernet, IPv4, TCP with
// options, payload) with their checksums, in this module's own memory. The host
// owns the layout: it puts the per-burst arrays, the value pattern with its prefix
// sums, the message areas, the descriptors and the output buffer in this memory and
// passes their addresses to setup(). Nothing here allocates.
//
// Why here and not in the core: a separate module with no imports, so the generator
// does not depend on the dataplane's build and memory. Why batches: a descriptor is
// 7 stores in JS; the ~30 header stores, the checksum and the payload copy run here
// (JS frame() was ~40 % of a steady-state ETC packet).
//
// Every value is computed as synth.ts computed it in JS (same doubles for the times,
// same mod-2^32 sums), so files are byte-identical to the JS writer's.

const FIN: i32 = 0x01;
const SYN: i32 = 0x02;
const ACK: i32 = 0x10;
/** Linux's SYN window, and an established window of 8192 << 7 = 1 MiB (window scale 7). */
const SYN_WINDOW: u32 = 64240;
const WINDOW: u32 = 8192;
const WSCALE: u32 = 7;

// The descriptor (GD_*: f64 time, then i32 burst, flags | GD_F_CLIENT | k << GD_SIDE_SHIFT,
// seqOff, ackOff, off, len), the options' sizes and the areas: the host's host/gen/synth.ts
// has the same names (abi/table/gen.ts). The only import: a file of constants.
import {
  DESC_BYTES, GD_TIME, GD_BURST, GD_FLAGS, GD_SEQ_OFF, GD_ACK_OFF, GD_OFF, GD_LEN, GD_TCP_FLAGS, GD_F_CLIENT,
  GD_SIDE_SHIFT, OPT_BYTES, SYN_OPT_BYTES, HEAD_MAX, AREA, PATTERN_PERIOD,
} from "../abi/genframe.gen";
export { DESC_BYTES };

// Layout (byte addresses) and run constants, from setup().
let cip: usize = 0; // u32[cap]
let sip: usize = 0; // u32[cap]
let cport: usize = 0; // u16[cap]
let sport: usize = 0; // u16[cap]
let cseq: usize = 0; // u32[cap]
let sseq: usize = 0; // u32[cap]
let cts: usize = 0; // u32[cap]
let sts: usize = 0; // u32[cap]
let ipSum: usize = 0; // u32[cap]
let tcpSum: usize = 0; // u32[cap]
let t0: usize = 0; // f64[cap]
let cDelay: usize = 0; // f64[cap]
let hl: usize = 0; // u32[2 cap]
let vl: usize = 0; // u32[2 cap]
let vb: usize = 0; // u32[2 cap]
let tl: usize = 0; // u32[2 cap]
let areaOff: usize = 0; // message areas, AREA bytes per burst side
let pattern: usize = 0; // value bytes, PATTERN_PERIOD + 64 KiB
let sumEven: usize = 0; // i32 prefix sums of the pattern's even/odd bytes
let sumOdd: usize = 0;
let desc: usize = 0;
let out: usize = 0;
let fmt: i32 = 0; // 0 pcap µs, 1 pcap ns, 2 pcapng
let startSec: u32 = 0;
let baseHi: i64 = 0;
let baseLo: i64 = 0;
let mss: u32 = 0;

export function setLayout(
  aCip: usize,
  aSip: usize,
  aCport: usize,
  aSport: usize,
  aCseq: usize,
  aSseq: usize,
  aCts: usize,
  aSts: usize,
  aIpSum: usize,
  aTcpSum: usize,
  aT0: usize,
  aCDelay: usize,
  aHl: usize,
  aVl: usize,
  aVb: usize,
  aTl: usize,
  aArea: usize,
): void {
  cip = aCip;
  sip = aSip;
  cport = aCport;
  sport = aSport;
  cseq = aCseq;
  sseq = aSseq;
  cts = aCts;
  sts = aSts;
  ipSum = aIpSum;
  tcpSum = aTcpSum;
  t0 = aT0;
  cDelay = aCDelay;
  hl = aHl;
  vl = aVl;
  vb = aVb;
  tl = aTl;
  areaOff = aArea;
}

export function setup(
  aPattern: usize,
  aSumEven: usize,
  aSumOdd: usize,
  aDesc: usize,
  aOut: usize,
  format: i32,
  start: u32,
  hi: f64,
  lo: f64,
  segMss: u32,
): void {
  pattern = aPattern;
  sumEven = aSumEven;
  sumOdd = aSumOdd;
  desc = aDesc;
  out = aOut;
  fmt = format;
  startSec = start;
  baseHi = <i64>hi;
  baseLo = <i64>lo;
  mss = segMss;
}

@inline function be32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** Copies n bytes (no overlap). */
@inline function copy(dst: usize, src: usize, n: usize): void {
  // V8 compiles a memory.copy of unknown size to a call out of the module, which
  // costs more than copying the short values of ETC and USR here.
  if (n >= 128) {
    memory.copy(dst, src, n);
    return;
  }
  let j: usize = 0;
  for (; j + 8 <= n; j += 8) store<u64>(dst + j, load<u64>(src + j));
  for (; j < n; j++) store<u8>(dst + j, load<u8>(src + j));
}

/** Big-endian 16-bit word sum of n bytes at src, copied to dst; pos odd: the first byte is a low byte. */
@inline function copySum(dst: usize, src: usize, n: u32, pos: u32): u32 {
  let sum: u32 = 0;
  let j: u32 = 0;
  if (pos & 1 && n > 0) {
    const c = load<u8>(src);
    store<u8>(dst, c);
    sum = c;
    j = 1;
  }
  for (; j + 4 <= n; j += 4) {
    const w = load<u32>(src + j);
    store<u32>(dst + j, w);
    const x = bswap<u32>(w);
    sum += (x >>> 16) + (x & 0xffff);
  }
  if (j + 2 <= n) {
    const w = load<u16>(src + j);
    store<u16>(dst + j, w);
    sum += bswap<u16>(w);
    j += 2;
  }
  if (j < n) {
    const c = load<u8>(src + j);
    store<u8>(dst + j, c);
    sum += <u32>c << 8;
  }
  return sum;
}

/** Payload bytes [from, from+len) of side i's message (head, value, tail) to at; their word sum. */
function payload(i: usize, from: u32, len: u32, at: usize): u32 {
  const h = load<u32>(hl + (i << 2));
  const v = load<u32>(vl + (i << 2));
  const area = areaOff + i * AREA;
  let sum: u32 = 0;
  let pos: u32 = 0;
  let x = from;
  const end = from + len;
  if (x < h) {
    const n = (end < h ? end : h) - x;
    sum += copySum(at, area + x, n, 0);
    pos = n;
    x += n;
  }
  if (x < end && x < h + v) {
    const n = (end < h + v ? end : h + v) - x;
    const p0 = (load<u32>(vb + (i << 2)) + x - h) % PATTERN_PERIOD;
    copy(at + pos, pattern + p0, n);
    const e = load<i32>(sumEven + ((p0 + n) << 2)) - load<i32>(sumEven + (p0 << 2));
    const od = load<i32>(sumOdd + ((p0 + n) << 2)) - load<i32>(sumOdd + (p0 << 2));
    sum += <u32>((p0 + pos) & 1 ? od * 256 + e : e * 256 + od);
    pos += n;
    x += n;
  }
  if (x < end) sum += copySum(at + pos, area + HEAD_MAX + (x - h - v), end - x, pos);
  return sum;
}

/** Writes n records from the descriptors at out + olen; returns the new olen. */
export function frames(n: i32, olen: u32): u32 {
  for (let d: i32 = 0; d < n; d++) {
    const r = desc + <usize>d * DESC_BYTES;
    const t = load<f64>(r, GD_TIME);
    const b = <usize>load<i32>(r, GD_BURST);
    const fl = load<i32>(r, GD_FLAGS);
    const seqOff = load<i32>(r, GD_SEQ_OFF);
    const ackOff = load<i32>(r, GD_ACK_OFF);
    const off = load<u32>(r, GD_OFF);
    const len = load<u32>(r, GD_LEN);
    const flags = fl & GD_TCP_FLAGS;
    const fromClient = (fl & GD_F_CLIENT) != 0;
    const k = <usize>((fl >> GD_SIDE_SHIFT) & 1);
    const syn = (flags & SYN) != 0;
    const optLen: u32 = syn ? SYN_OPT_BYTES : OPT_BYTES;
    const tcpLen = 20 + optLen + len;
    const frameLen = 14 + 20 + tcpLen;
    const tn = Math.floor(t);
    let p = out + olen;
    const sec = Math.floor(tn / 1e9);
    const nsec = <i32>(tn - sec * 1e9);
    if (fmt == 2) {
      const padded = (frameLen + 3) & ~3;
      const total = 32 + padded;
      const tnI = <i64>tn;
      let lo = baseLo + (tnI & 0xffffffff);
      let hi = baseHi + (tnI >> 32);
      if (lo >= 0x100000000) {
        lo -= 0x100000000;
        hi++;
      }
      store<u32>(p, 6);
      store<u32>(p, total, 4);
      store<u32>(p, 0, 8);
      store<u32>(p, <u32>hi, 12);
      store<u32>(p, <u32>lo, 16);
      store<u32>(p, frameLen, 20);
      store<u32>(p, frameLen, 24);
      store<u32>(p + 28 + padded - 4, 0); // padding zero before the frame overwrites its part
      store<u32>(p + 28 + padded, total);
      p += 28;
      olen = <u32>(p - out) + padded + 4;
    } else {
      const sub = fmt == 1 ? nsec : nsec / 1000;
      store<u32>(p, startSec + <u32><i64>sec);
      store<u32>(p, <u32>sub, 4);
      store<u32>(p, frameLen, 8);
      store<u32>(p, frameLen, 12);
      p += 16;
      olen = <u32>(p - out) + frameLen;
    }
    const bc = load<u32>(cip + (b << 2));
    const bs = load<u32>(sip + (b << 2));
    const src = fromClient ? bc : bs;
    const dst = fromClient ? bs : bc;
    // Ethernet: locally administered MACs 02:00:<IPv4 address>.
    be32(p, 0x02000000 | (dst >>> 16));
    be32(p + 4, (dst << 16) | 0x0200);
    be32(p + 8, src);
    be32(p + 12, 0x08004500);
    // IPv4 (RFC 791): DF, TTL 64, header checksum from the burst's constant sum (RFC 1071).
    const ip = p + 14;
    const totLen = 20 + tcpLen;
    store<u16>(ip + 2, bswap<u16>(<u16>totLen));
    be32(ip + 4, 0x00004000);
    let s = load<u32>(ipSum + (b << 2)) + totLen;
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    be32(ip + 8, 0x40060000 | (~s & 0xffff));
    be32(ip + 12, src);
    be32(ip + 16, dst);
    // TCP (RFC 9293) with timestamps (RFC 7323).
    const tcp = ip + 20;
    const cp = <u32>load<u16>(cport + (b << 1));
    const spt = <u32>load<u16>(sport + (b << 1));
    const sp = fromClient ? cp : spt;
    const dp = fromClient ? spt : cp;
    const cs = load<u32>(cseq + (b << 2));
    const ss = load<u32>(sseq + (b << 2));
    const seq = (fromClient ? cs : ss) + <u32>seqOff;
    const ack: u32 = flags == SYN ? 0 : (fromClient ? ss : cs) + <u32>ackOff;
    const offFlags = ((20 + optLen) << 10) | <u32>flags;
    const win = syn ? SYN_WINDOW : WINDOW;
    be32(tcp, (sp << 16) | dp);
    be32(tcp + 4, seq);
    be32(tcp + 8, ack);
    be32(tcp + 12, (offFlags << 16) | win);
    const ct = load<u32>(cts + (b << 2));
    const st = load<u32>(sts + (b << 2));
    const myTs = fromClient ? ct : st;
    const peerTs = fromClient ? st : ct;
    const tsval = myTs + <u32>(<i64>sec * 1000) + <u32>(nsec / 1000000);
    let tsecr: u32 = 0;
    if (!(flags & SYN) || flags & ACK) {
      const back = flags & SYN ? load<f64>(t0 + (b << 3)) : Math.max(0, t - load<f64>(cDelay + (b << 3)));
      tsecr = peerTs + <u32><i64>Math.floor(back / 1e6);
    }
    let sum = load<u32>(tcpSum + (b << 2)) + tcpLen + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
    sum += offFlags + win + (tsval >>> 16) + (tsval & 0xffff) + (tsecr >>> 16) + (tsecr & 0xffff);
    const o = tcp + 20;
    if (syn) {
      be32(o, 0x02040000 | mss);
      be32(o + 4, 0x0402080a);
      be32(o + 8, tsval);
      be32(o + 12, tsecr);
      be32(o + 16, 0x01030300 | WSCALE);
      sum += 0x0204 + mss + 0x0402 + 0x080a + 0x0103 + (0x0300 | WSCALE);
    } else {
      be32(o, 0x0101080a);
      be32(o + 4, tsval);
      be32(o + 8, tsecr);
      sum += 0x0101 + 0x080a;
    }
    if (len > 0) sum += payload(2 * b + k, off, len, o + optLen);
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    be32(tcp + 16, (~sum & 0xffff) << 16); // checksum, urgent pointer 0
  }
  return olen;
}
