// Frame helpers for the fuzzer, written independently of the core's wire code
// (a checker that shares the code it checks finds nothing): locate the layers of
// an Ethernet frame, refill checksums after a mutation, build TCP segments for
// the stateful peers, and judge every frame the core transmits.

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;
export const TCP_FIN = 1,
  TCP_SYN = 2,
  TCP_RST = 4,
  TCP_PSH = 8,
  TCP_ACK = 16,
  TCP_URG = 32;

const IPV6_EXT = new Set([0, 43, 44, 51, 60, 135, 139, 140, 253, 254]);

/** Where each layer of a frame starts; -1 when absent. Offsets are into the frame. */
export interface Layers {
  /** End of the link header (after VLAN tags): start of the EtherType's payload. */
  l3: number;
  ethertype: number;
  ipver: 0 | 4 | 6;
  /** Transport protocol after IPv6 extension headers. */
  proto: number;
  l4: number;
  /** One past the last byte the IP header says belongs to the packet, capped at the frame end. */
  ipEnd: number;
  /** IPv4 MF or offset, or an IPv6 fragment header. */
  frag: boolean;
  /** Offsets of the IPv6 extension headers walked (for the mutator). */
  ext: number[];
}

export function layers(f: Uint8Array): Layers {
  const out: Layers = {
    l3: -1,
    ethertype: -1,
    ipver: 0,
    proto: -1,
    l4: -1,
    ipEnd: f.length,
    frag: false,
    ext: [],
  };
  if (f.length < 14) return out;
  let p = 12;
  let t = (f[p] << 8) | f[p + 1];
  p += 2;
  for (let tags = 0; (t === 0x8100 || t === 0x88a8) && tags < 8 && p + 4 <= f.length; tags++) {
    t = (f[p + 2] << 8) | f[p + 3];
    p += 4;
  }
  out.l3 = p;
  out.ethertype = t;
  if (t === ETH_IPV4 && p + 20 <= f.length && f[p] >> 4 === 4) {
    const ihl = (f[p] & 15) * 4;
    const tot = (f[p + 2] << 8) | f[p + 3];
    out.ipver = 4;
    out.proto = f[p + 9];
    out.frag = (((f[p + 6] << 8) | f[p + 7]) & 0x3fff) !== 0;
    out.ipEnd = Math.min(f.length, p + tot);
    if (ihl >= 20 && p + ihl <= f.length) out.l4 = p + ihl;
  } else if (t === ETH_IPV6 && p + 40 <= f.length && f[p] >> 4 === 6) {
    out.ipver = 6;
    out.ipEnd = Math.min(f.length, p + 40 + ((f[p + 4] << 8) | f[p + 5]));
    let nh = f[p + 6];
    let q = p + 40;
    for (let n = 0; IPV6_EXT.has(nh) && n < 16; n++) {
      if (q + 8 > f.length) return { ...out, proto: nh };
      out.ext.push(q);
      if (nh === 44) out.frag = true;
      const len = nh === 44 ? 8 : nh === 51 ? (f[q + 1] + 2) * 4 : (f[q + 1] + 1) * 8;
      nh = f[q];
      q += len;
    }
    out.proto = nh;
    if (q <= f.length) out.l4 = q;
  }
  return out;
}

/** One's complement sum of b[off, off+len) added to init (not folded). */
export function sum16(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

function pseudo(f: Uint8Array, L: Layers, proto: number, len: number): number {
  if (L.ipver === 4) return sum16(f, L.l3 + 12, 8, proto + len);
  return sum16(f, L.l3 + 8, 32, proto + len);
}

function l4CsumOffset(proto: number): number {
  if (proto === PROTO_TCP) return 16;
  if (proto === PROTO_UDP) return 6;
  if (proto === PROTO_ICMP || proto === PROTO_ICMP6) return 2;
  return -1;
}

/** Refills the IPv4 header checksum and the transport checksum where the layout allows. */
export function fixChecksums(f: Uint8Array, L: Layers = layers(f)): void {
  if (L.ipver === 4 && L.l4 > 0) {
    const h = L.l3;
    f[h + 10] = f[h + 11] = 0;
    const c = ~fold(sum16(f, h, L.l4 - h)) & 0xffff;
    f[h + 10] = c >> 8;
    f[h + 11] = c & 255;
  }
  if (L.l4 < 0 || L.frag || L.ipEnd < L.l4) return;
  const co = l4CsumOffset(L.proto);
  const len = L.ipEnd - L.l4;
  if (co < 0 || L.l4 + co + 2 > L.ipEnd) return;
  f[L.l4 + co] = f[L.l4 + co + 1] = 0;
  const ph = L.proto === PROTO_ICMP ? 0 : pseudo(f, L, L.proto, len);
  let c = ~fold(sum16(f, L.l4, len, ph)) & 0xffff;
  if (L.proto === PROTO_UDP && c === 0) c = 0xffff;
  f[L.l4 + co] = c >> 8;
  f[L.l4 + co + 1] = c & 255;
}

export const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const be32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** The addresses a fuzzed core answers as, and its peer's. */
export interface Endpoints {
  mac: Buffer;
  peerMac: Buffer;
  ip4: Buffer;
  peer4: Buffer;
  ip6: Buffer;
  peer6: Buffer;
}

export interface SegSpec {
  v6: boolean;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  options?: Uint8Array;
  data?: Uint8Array;
  /** Source address (default: the peer's). */
  peer?: Uint8Array;
}

/** An Ethernet frame carrying one TCP segment from the peer to the core, checksums filled. */
export function tcpFrame(ep: Endpoints, s: SegSpec): Buffer {
  const opt = s.options ?? new Uint8Array(0);
  const olen = (opt.length + 3) & ~3;
  const data = s.data ?? new Uint8Array(0);
  const l3len = s.v6 ? 40 : 20;
  const f = Buffer.alloc(14 + l3len + 20 + olen + data.length);
  ep.mac.copy(f, 0);
  ep.peerMac.copy(f, 6);
  put16(f, 12, s.v6 ? ETH_IPV6 : ETH_IPV4);
  const h = 14;
  const tl = 20 + olen + data.length;
  if (s.v6) {
    f[h] = 0x60;
    put16(f, h + 4, tl);
    f[h + 6] = PROTO_TCP;
    f[h + 7] = 64;
    f.set(s.peer ?? ep.peer6, h + 8);
    ep.ip6.copy(f, h + 24);
  } else {
    f[h] = 0x45;
    put16(f, h + 2, 20 + tl);
    f[h + 6] = 0x40;
    f[h + 8] = 64;
    f[h + 9] = PROTO_TCP;
    f.set(s.peer ?? ep.peer4, h + 12);
    ep.ip4.copy(f, h + 16);
  }
  const t = h + l3len;
  put16(f, t, s.sport);
  put16(f, t + 2, s.dport);
  put32(f, t + 4, s.seq >>> 0);
  put32(f, t + 8, s.ack >>> 0);
  f[t + 12] = ((20 + olen) / 4) << 4;
  f[t + 13] = s.flags & 255;
  put16(f, t + 14, s.win & 0xffff);
  f.set(opt, t + 20);
  f.set(data, t + 20 + olen);
  fixChecksums(f);
  return f;
}

/** A TCP segment the core sent, as the peers need it. */
export interface TxSeg {
  v6: boolean;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  dataLen: number;
  data: Uint8Array;
  /** Destination address (the peer the core answers). */
  peer: Uint8Array;
}

export function parseTxTcp(f: Uint8Array): TxSeg | null {
  const L = layers(f);
  if (L.proto !== PROTO_TCP || L.l4 < 0) return null;
  const t = L.l4;
  const hl = (f[t + 12] >> 4) * 4;
  return {
    v6: L.ipver === 6,
    sport: be16(f, t),
    dport: be16(f, t + 2),
    seq: be32(f, t + 4),
    ack: be32(f, t + 8),
    flags: f[t + 13],
    win: be16(f, t + 14),
    dataLen: L.ipEnd - t - hl,
    data: f.subarray(t + hl, L.ipEnd),
    peer: L.ipver === 6 ? f.subarray(L.l3 + 24, L.l3 + 40) : f.subarray(L.l3 + 16, L.l3 + 20),
  };
}

/**
 * Judges one frame the core transmitted. Returns what is wrong, or null. The
 * core must only emit frames a strict receiver accepts: sane lengths, correct
 * checksums, its own source addresses, well-formed TCP options.
 */
export function checkTx(f: Uint8Array, ep: Endpoints): string | null {
  if (f.length < 14) return `runt TX frame of ${f.length} bytes`;
  if (f.length > 1514) return `TX frame of ${f.length} bytes exceeds the 1514-byte MTU frame`;
  for (let i = 0; i < 6; i++) if (f[6 + i] !== ep.mac[i]) return "TX source MAC is not the core's";
  const L = layers(f);
  if (L.ethertype === ETH_ARP) {
    if (f.length < 42) return "short ARP frame";
    if (be16(f, 14) !== 1 || be16(f, 16) !== ETH_IPV4 || f[18] !== 6 || f[19] !== 4)
      return "ARP with bad hardware/protocol fields";
    const op = be16(f, 20);
    if (op !== 1 && op !== 2) return `ARP opcode ${op}`;
    return null;
  }
  if (L.ethertype === ETH_IPV4) {
    const h = L.l3;
    if (L.ipver !== 4 || L.l4 < 0) return "IPv4 header malformed";
    const ihl = (f[h] & 15) * 4;
    const tot = be16(f, h + 2);
    if (tot < ihl || h + tot > f.length) return `IPv4 total length ${tot} vs frame ${f.length}`;
    if (fold(sum16(f, h, ihl)) !== 0xffff) return "IPv4 header checksum wrong";
    if (L.frag) return "core sent an IPv4 fragment";
    for (let i = 0; i < 4; i++) if (f[h + 12 + i] !== ep.ip4[i]) return "IPv4 source is not the core's";
  } else if (L.ethertype === ETH_IPV6) {
    const h = L.l3;
    if (L.ipver !== 6) return "IPv6 header malformed";
    const pl = be16(f, h + 4);
    if (h + 40 + pl > f.length) return `IPv6 payload length ${pl} vs frame ${f.length}`;
    const own = ep.ip6.every((b, i) => f[h + 8 + i] === b);
    const linkLocal = f[h + 8] === 0xfe && (f[h + 9] & 0xc0) === 0x80;
    if (!own && !linkLocal) return "IPv6 source is not the core's";
    if (L.ext.length) return "core sent IPv6 extension headers";
  } else return `TX EtherType 0x${L.ethertype.toString(16)}`;
  return checkL4(f, L);
}

function checkL4(f: Uint8Array, L: Layers): string | null {
  const len = L.ipEnd - L.l4;
  const co = l4CsumOffset(L.proto);
  if (co < 0) return `TX IP protocol ${L.proto}`;
  if (len < co + 2) return `transport of ${len} bytes is shorter than its header`;
  const ph = L.proto === PROTO_ICMP ? 0 : pseudo(f, L, L.proto, len);
  const zeroUdp = L.proto === PROTO_UDP && L.ipver === 4 && be16(f, L.l4 + 6) === 0;
  if (!zeroUdp && fold(sum16(f, L.l4, len, ph)) !== 0xffff) return `protocol ${L.proto} checksum wrong`;
  if (L.proto === PROTO_UDP) {
    if (len < 8 || be16(f, L.l4 + 4) !== len) return `UDP length ${be16(f, L.l4 + 4)} vs ${len}`;
  } else if (L.proto === PROTO_TCP) {
    if (len < 20) return "TCP header truncated";
    const t = L.l4;
    const hl = (f[t + 12] >> 4) * 4;
    if (hl < 20 || hl > len) return `TCP data offset ${hl} vs ${len}`;
    const fl = f[t + 13];
    if (fl & TCP_SYN && fl & (TCP_RST | TCP_FIN)) return `TCP flags 0x${fl.toString(16)}`;
    if (!(fl & (TCP_ACK | TCP_RST | TCP_SYN)))
      return `TCP segment without ACK/SYN/RST (flags 0x${fl.toString(16)})`;
    return checkTcpOptions(f, t + 20, t + hl, fl);
  }
  return null;
}

function checkTcpOptions(f: Uint8Array, p: number, end: number, flags: number): string | null {
  while (p < end) {
    const k = f[p];
    if (k === 0) return null;
    if (k === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) return `TCP option ${k} without a length`;
    const l = f[p + 1];
    if (l < 2 || p + l > end) return `TCP option ${k} has length ${l}`;
    const want: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };
    if (want[k] !== undefined && l !== want[k]) return `TCP option ${k} has length ${l}`;
    if (k === 5 && (l - 2) % 8 !== 0) return `SACK option of length ${l}`;
    if ((k === 2 || k === 3 || k === 4) && !(flags & TCP_SYN))
      return `SYN-only option ${k} on a non-SYN segment`;
    if (k === 3 && f[p + 2] > 14) return `window scale ${f[p + 2]} above 14`;
    p += l;
  }
  return null;
}
