// Builds real frames with correct checksums for tests (Ethernet, IPv4/IPv6, UDP,
// TCP, ICMP, ARP). Independent of the core's own emit code on purpose.

export const MAC_A = Buffer.from("020000000001", "hex");
export const MAC_B = Buffer.from("020000000002", "hex");
export const BROADCAST = Buffer.from("ffffffffffff", "hex");

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

export function sum16(b: Buffer, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function checksum(b: Buffer, init = 0): number {
  return ~sum16(b, init) & 0xffff;
}

function pseudo(src: Buffer, dst: Buffer, proto: number, len: number): number {
  const p =
    src.length === 4
      ? Buffer.concat([src, dst, Buffer.from([0, proto]), Buffer.from([len >> 8, len & 0xff])])
      : Buffer.concat([src, dst, Buffer.from([0, 0, len >> 8, len & 0xff, 0, 0, 0, proto])]);
  return sum16(p);
}

export function eth(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  src.copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

export function ipv4(
  src: Buffer,
  dst: Buffer,
  proto: number,
  l4: Buffer,
  opts: { ttl?: number; frag?: number; id?: number; options?: Buffer } = {},
): Buffer {
  // IPv4 options (RFC 791 §3.1) padded to 32 bits; IHL counts them.
  const o = opts.options ?? Buffer.alloc(0);
  const olen = (o.length + 3) & ~3;
  const h = Buffer.alloc(20 + olen);
  h[0] = 0x40 | ((20 + olen) >> 2);
  o.copy(h, 20);
  h.writeUInt16BE(h.length + l4.length, 2);
  h.writeUInt16BE(opts.id ?? 1, 4);
  h.writeUInt16BE(opts.frag ?? 0x4000, 6);
  h[8] = opts.ttl ?? 64;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, l4]);
}

export function ipv6(src: Buffer, dst: Buffer, nh: number, l4: Buffer, hops = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(l4.length, 4);
  h[6] = nh;
  h[7] = hops;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, l4]);
}

/** L4 with its checksum filled (field at csumOff) for the given addresses. */
export function withChecksum(l4: Buffer, src: Buffer, dst: Buffer, proto: number, csumOff: number): Buffer {
  const b = Buffer.from(l4);
  b.writeUInt16BE(0, csumOff);
  let c = checksum(b, pseudo(src, dst, proto, b.length));
  if (proto === 17 && c === 0) c = 0xffff;
  b.writeUInt16BE(c, csumOff);
  return b;
}

export function udp(src: Buffer, dst: Buffer, sport: number, dport: number, data: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + data.length, 4);
  return withChecksum(Buffer.concat([u, data]), src, dst, 17, 6);
}

export interface TcpSeg {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  options?: Buffer;
  data?: Buffer;
}

export const FIN = 1,
  SYN = 2,
  RST = 4,
  PSH = 8,
  ACK = 16;

export function tcp(src: Buffer, dst: Buffer, s: TcpSeg): Buffer {
  const opts = s.options ?? Buffer.alloc(0);
  const olen = (opts.length + 3) & ~3;
  const h = Buffer.alloc(20 + olen);
  h.writeUInt16BE(s.sport, 0);
  h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  h[12] = ((20 + olen) / 4) << 4;
  h[13] = s.flags;
  h.writeUInt16BE(s.win ?? 65535, 14);
  opts.copy(h, 20);
  return withChecksum(Buffer.concat([h, s.data ?? Buffer.alloc(0)]), src, dst, 6, 16);
}

export function icmpEcho(id: number, seq: number, data: Buffer, type = 8): Buffer {
  const b = Buffer.alloc(8 + data.length);
  b[0] = type;
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(seq, 6);
  data.copy(b, 8);
  b.writeUInt16BE(checksum(b), 2);
  return b;
}

export function arp(op: number, sha: Buffer, spa: Buffer, tha: Buffer, tpa: Buffer): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(0x0800, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(op, 6);
  sha.copy(b, 8);
  spa.copy(b, 14);
  tha.copy(b, 18);
  tpa.copy(b, 24);
  return b;
}
