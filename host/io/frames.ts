// The host's one frame builder and parser (Ethernet, ARP, IPv4, IPv6, UDP, TCP
// and its options, ICMP), used by the fuzzer (host/fuzz/packet.ts) and the tests
// (test/helpers/frames.ts, the TCP harness, the writer's round trip). Field
// offsets are named once below, per header, in the layout of RFC 791, 8200, 768,
// 9293 and 826 that the core's wire views (assembly/wire/*.ts) read. The code is
// written apart from the core's wire code on purpose: a checker that shares the
// code it checks finds nothing, so only the layout (the RFCs' numbers) is common.

export const ETH = { DST: 0, SRC: 6, TYPE: 12, HDR: 14 } as const;
export const IPV4 = {
  VER_IHL: 0,
  LEN: 2,
  ID: 4,
  FRAG: 6,
  TTL: 8,
  PROTO: 9,
  CSUM: 10,
  SRC: 12,
  DST: 16,
  HDR: 20,
} as const;
export const IPV6 = { VER: 0, PLEN: 4, NEXT: 6, HOPS: 7, SRC: 8, DST: 24, HDR: 40 } as const;
export const TCP = {
  SPORT: 0,
  DPORT: 2,
  SEQ: 4,
  ACK: 8,
  OFF: 12,
  FLAGS: 13,
  WIN: 14,
  CSUM: 16,
  HDR: 20,
} as const;
export const UDP = { SPORT: 0, DPORT: 2, LEN: 4, CSUM: 6, HDR: 8 } as const;
export const ICMP = { TYPE: 0, CSUM: 2, ID: 4, SEQ: 6, HDR: 8 } as const;
export const ARP = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OP: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
  LEN: 28,
} as const;

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;
export const FIN = 1,
  SYN = 2,
  RST = 4,
  PSH = 8,
  ACK = 16,
  URG = 32;

// ---- bytes and addresses ----

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

export function ip4(s: string): Buffer {
  return Buffer.from(s.split(".").map(Number));
}

export function ip6(s: string): Buffer {
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** MAC of a core from its config words (macLo = bytes 0..3 LE, macHi = bytes 4..5). */
export function macWords(mac: Buffer): { macLo: number; macHi: number } {
  return { macLo: mac.readUInt32LE(0), macHi: mac.readUInt16LE(4) };
}

// ---- the Internet checksum (RFC 1071) ----

/** One's complement sum of b[off, off+len) added to init, not folded. */
export function sumRange(b: Uint8Array, off: number, len: number, init = 0): number {
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

/** The folded one's complement sum of all of b, from init: 0xffff over a buffer whose checksum is right. */
export function sum16(b: Uint8Array, init = 0): number {
  return fold(sumRange(b, 0, b.length, init));
}

/** The checksum to store: ~sum16; 0 when computed over a buffer whose checksum field is already right. */
export function checksum(b: Uint8Array, init = 0): number {
  return ~sum16(b, init) & 0xffff;
}

/** The pseudo-header's sum (RFC 9293 §3.1, RFC 8200 §8.1), from the addresses' length: 4 or 16 bytes. */
export function pseudo(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  return sumRange(dst, 0, dst.length, sumRange(src, 0, src.length, proto + len));
}

/** L4 with its checksum filled (field at csumOff) for the given addresses; a UDP 0 is sent as 0xffff (RFC 768). */
export function withChecksum(
  l4: Buffer,
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  csumOff: number,
): Buffer {
  const b = Buffer.from(l4);
  b.writeUInt16BE(0, csumOff);
  let c = checksum(b, pseudo(src, dst, proto, b.length));
  if (proto === PROTO_UDP && c === 0) c = 0xffff;
  b.writeUInt16BE(c, csumOff);
  return b;
}

// ---- headers ----

export function eth(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(ETH.HDR);
  h.set(dst, ETH.DST);
  h.set(src, ETH.SRC);
  put16(h, ETH.TYPE, type);
  return Buffer.concat([h, payload]);
}

export interface Ipv4Opts {
  ttl?: number;
  /** Flags and fragment offset (default 0x4000: DF). */
  frag?: number;
  id?: number;
  /** IPv4 options (RFC 791 §3.1), padded to 32 bits; IHL counts them. */
  options?: Uint8Array;
}

export function ipv4(
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  l4: Uint8Array,
  opts: Ipv4Opts = {},
): Buffer {
  const o = opts.options ?? new Uint8Array(0);
  const hl = IPV4.HDR + ((o.length + 3) & ~3);
  const h = Buffer.alloc(hl);
  h[IPV4.VER_IHL] = 0x40 | (hl >> 2);
  h.set(o, IPV4.HDR);
  put16(h, IPV4.LEN, hl + l4.length);
  put16(h, IPV4.ID, opts.id ?? 1);
  put16(h, IPV4.FRAG, opts.frag ?? 0x4000);
  h[IPV4.TTL] = opts.ttl ?? 64;
  h[IPV4.PROTO] = proto;
  h.set(src, IPV4.SRC);
  h.set(dst, IPV4.DST);
  put16(h, IPV4.CSUM, checksum(h));
  return Buffer.concat([h, l4]);
}

export function ipv6(src: Uint8Array, dst: Uint8Array, nh: number, l4: Uint8Array, hops = 64): Buffer {
  const h = Buffer.alloc(IPV6.HDR);
  h[IPV6.VER] = 0x60;
  put16(h, IPV6.PLEN, l4.length);
  h[IPV6.NEXT] = nh;
  h[IPV6.HOPS] = hops;
  h.set(src, IPV6.SRC);
  h.set(dst, IPV6.DST);
  return Buffer.concat([h, l4]);
}

/** An IPv4 or IPv6 packet from the addresses' length (4 or 16 bytes). */
export function ip(
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  l4: Uint8Array,
  v4: Ipv4Opts = {},
): Buffer {
  return src.length === 16 ? ipv6(src, dst, proto, l4, v4.ttl) : ipv4(src, dst, proto, l4, v4);
}

export function udp(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  data: Uint8Array,
): Buffer {
  const u = Buffer.alloc(UDP.HDR);
  put16(u, UDP.SPORT, sport);
  put16(u, UDP.DPORT, dport);
  put16(u, UDP.LEN, UDP.HDR + data.length);
  return withChecksum(Buffer.concat([u, data]), src, dst, PROTO_UDP, UDP.CSUM);
}

/** TCP options by name, written in this order: MSS, SACK-permitted, timestamps, NOP + window scale, NOP NOP + SACK. */
export interface TcpOptionSpec {
  mss?: number;
  sackOk?: boolean;
  ts?: [number, number];
  ws?: number;
  /** SACK blocks [left, right) (RFC 2018 §3), sequence numbers. */
  sack?: [number, number][];
}

export function tcpOptions(s: TcpOptionSpec): Buffer {
  const o: number[] = [];
  if (s.mss !== undefined) o.push(2, 4, (s.mss >> 8) & 255, s.mss & 255);
  if (s.sackOk) o.push(4, 2);
  if (s.ts) {
    const t = Buffer.alloc(10);
    t[0] = 8;
    t[1] = 10;
    put32(t, 2, s.ts[0]);
    put32(t, 6, s.ts[1]);
    o.push(...t);
  }
  if (s.ws !== undefined) o.push(1, 3, 3, s.ws);
  if (s.sack?.length) {
    o.push(1, 1, 5, 2 + 8 * s.sack.length);
    for (const [l, r] of s.sack) {
      const b = Buffer.alloc(8);
      put32(b, 0, l >>> 0);
      put32(b, 4, r >>> 0);
      o.push(...b);
    }
  }
  return Buffer.from(o);
}

export interface TcpSeg {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  /** Raw option bytes, padded with zeros to 32 bits (tcpOptions builds them). */
  options?: Uint8Array;
  data?: Uint8Array;
}

/** A TCP segment with its checksum filled for the given addresses. */
export function tcp(src: Uint8Array, dst: Uint8Array, s: TcpSeg): Buffer {
  const opts = s.options ?? new Uint8Array(0);
  const hl = TCP.HDR + ((opts.length + 3) & ~3);
  const h = Buffer.alloc(hl);
  put16(h, TCP.SPORT, s.sport);
  put16(h, TCP.DPORT, s.dport);
  put32(h, TCP.SEQ, s.seq >>> 0);
  put32(h, TCP.ACK, (s.ack ?? 0) >>> 0);
  h[TCP.OFF] = (hl / 4) << 4;
  h[TCP.FLAGS] = s.flags & 255;
  put16(h, TCP.WIN, (s.win ?? 65535) & 0xffff);
  h.set(opts, TCP.HDR);
  return withChecksum(Buffer.concat([h, s.data ?? new Uint8Array(0)]), src, dst, PROTO_TCP, TCP.CSUM);
}

export function icmpEcho(id: number, seq: number, data: Uint8Array, type = 8): Buffer {
  const b = Buffer.alloc(ICMP.HDR + data.length);
  b[ICMP.TYPE] = type;
  put16(b, ICMP.ID, id);
  put16(b, ICMP.SEQ, seq);
  b.set(data, ICMP.HDR);
  put16(b, ICMP.CSUM, checksum(b));
  return b;
}

export function arp(op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): Buffer {
  const b = Buffer.alloc(ARP.LEN);
  put16(b, ARP.HTYPE, 1);
  put16(b, ARP.PTYPE, ETH_IPV4);
  b[ARP.HLEN] = 6;
  b[ARP.PLEN] = 4;
  put16(b, ARP.OP, op);
  b.set(sha, ARP.SHA);
  b.set(spa, ARP.SPA);
  b.set(tha, ARP.THA);
  b.set(tpa, ARP.TPA);
  return b;
}

// ---- parsing ----

const IPV6_EXT = new Set([0, 43, 44, 51, 60, 135, 139, 140, 253, 254]);

/** Where each layer of an Ethernet frame starts; -1 when absent. Offsets are into the frame. */
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
  /** Offsets of the IPv6 extension headers walked. */
  ext: number[];
}

/** Walks an Ethernet frame (VLAN tags, IPv6 extension headers) without trusting its lengths. */
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
  if (f.length < ETH.HDR) return out;
  let p = ETH.TYPE;
  let t = be16(f, p);
  p += 2;
  for (let tags = 0; (t === 0x8100 || t === 0x88a8) && tags < 8 && p + 4 <= f.length; tags++) {
    t = be16(f, p + 2);
    p += 4;
  }
  out.l3 = p;
  out.ethertype = t;
  if (t === ETH_IPV4 && p + IPV4.HDR <= f.length && f[p] >> 4 === 4) {
    const ihl = (f[p] & 15) * 4;
    out.ipver = 4;
    out.proto = f[p + IPV4.PROTO];
    out.frag = (be16(f, p + IPV4.FRAG) & 0x3fff) !== 0;
    out.ipEnd = Math.min(f.length, p + be16(f, p + IPV4.LEN));
    if (ihl >= IPV4.HDR && p + ihl <= f.length) out.l4 = p + ihl;
  } else if (t === ETH_IPV6 && p + IPV6.HDR <= f.length && f[p] >> 4 === 6) {
    out.ipver = 6;
    out.ipEnd = Math.min(f.length, p + IPV6.HDR + be16(f, p + IPV6.PLEN));
    let nh = f[p + IPV6.NEXT];
    let q = p + IPV6.HDR;
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

/** Where the transport checksum sits, or -1 for a protocol without one here. */
export function l4CsumOffset(proto: number): number {
  if (proto === PROTO_TCP) return TCP.CSUM;
  if (proto === PROTO_UDP) return UDP.CSUM;
  if (proto === PROTO_ICMP || proto === PROTO_ICMP6) return ICMP.CSUM;
  return -1;
}

/** The pseudo-header's sum for the packet at L (its own addresses). */
export function framePseudo(f: Uint8Array, L: Layers, proto: number, len: number): number {
  if (L.ipver === 4) return sumRange(f, L.l3 + IPV4.SRC, 8, proto + len);
  return sumRange(f, L.l3 + IPV6.SRC, 32, proto + len);
}

/** Refills the IPv4 header checksum and the transport checksum where the layout allows. */
export function fixChecksums(f: Uint8Array, L: Layers = layers(f)): void {
  if (L.ipver === 4 && L.l4 > 0) {
    const h = L.l3;
    put16(f, h + IPV4.CSUM, 0);
    put16(f, h + IPV4.CSUM, ~fold(sumRange(f, h, L.l4 - h)) & 0xffff);
  }
  if (L.l4 < 0 || L.frag || L.ipEnd < L.l4) return;
  const co = l4CsumOffset(L.proto);
  const len = L.ipEnd - L.l4;
  if (co < 0 || L.l4 + co + 2 > L.ipEnd) return;
  put16(f, L.l4 + co, 0);
  const ph = L.proto === PROTO_ICMP ? 0 : framePseudo(f, L, L.proto, len);
  let c = ~fold(sumRange(f, L.l4, len, ph)) & 0xffff;
  if (L.proto === PROTO_UDP && c === 0) c = 0xffff;
  put16(f, L.l4 + co, c);
}

/** A TCP segment read back, its options by name. */
export interface ParsedTcp extends TcpOptionSpec {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** The flag byte (CWR..FIN). */
  flags: number;
  win: number;
  /** Header length from the data offset. */
  hdrLen: number;
}

/** The TCP header at t in b (options walked up to the data offset; unknown kinds skipped by length). */
export function parseTcp(b: Uint8Array, t: number): ParsedTcp {
  const hl = (b[t + TCP.OFF] >> 4) * 4;
  const seg: ParsedTcp = {
    sport: be16(b, t + TCP.SPORT),
    dport: be16(b, t + TCP.DPORT),
    seq: be32(b, t + TCP.SEQ),
    ack: be32(b, t + TCP.ACK),
    flags: b[t + TCP.FLAGS],
    win: be16(b, t + TCP.WIN),
    hdrLen: hl,
  };
  for (let i = TCP.HDR; i < hl;) {
    const k = b[t + i];
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const l = b[t + i + 1];
    if (l < 2) break;
    if (k === 2) seg.mss = be16(b, t + i + 2);
    else if (k === 3) seg.ws = b[t + i + 2];
    else if (k === 4) seg.sackOk = true;
    else if (k === 8) seg.ts = [be32(b, t + i + 2), be32(b, t + i + 6)];
    else if (k === 5) {
      seg.sack = [];
      for (let j = t + i + 2; j + 8 <= t + i + l; j += 8) seg.sack.push([be32(b, j), be32(b, j + 4)]);
    }
    i += l;
  }
  return seg;
}
