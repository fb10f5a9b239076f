// Mutations of real frames, each aimed at one class of parser bug: off-by-one at
// a layer boundary, a length field that disagrees with the bytes, an option or
// extension-header walk that never ends, a fragment that overlaps. Most mutated
// frames get their checksums refilled afterwards, so they reach the code behind
// the checksum check instead of dying at it.
import {
  ETH_IPV4,
  ETH_IPV6,
  PROTO_TCP,
  PROTO_UDP,
  be16,
  fixChecksums,
  layers,
  put16,
  put32,
  type Endpoints,
  type Layers,
} from "./packet.ts";
import { interesting16, interesting32, type Rng } from "./rng.ts";

type Mutator = (f: Buffer, L: Layers, rng: Rng) => Buffer;

/** Points a real frame at the core: its MAC and address, and often its served port. */
export function retarget(src: Buffer, ep: Endpoints, rng: Rng, port: number): Buffer {
  const f = Buffer.from(src);
  if (f.length < 14) return f;
  (rng.chance(0.05) ? Buffer.from("ffffffffffff", "hex") : ep.mac).copy(f, 0);
  ep.peerMac.copy(f, 6);
  const L = layers(f);
  if (L.ipver === 4 && L.l3 + 20 <= f.length) {
    ep.ip4.copy(f, L.l3 + 16);
    if (rng.chance(0.8)) ep.peer4.copy(f, L.l3 + 12);
  } else if (L.ipver === 6 && L.l3 + 40 <= f.length) {
    ep.ip6.copy(f, L.l3 + 24);
    if (rng.chance(0.8)) ep.peer6.copy(f, L.l3 + 8);
  }
  if ((L.proto === PROTO_TCP || L.proto === PROTO_UDP) && L.l4 > 0 && L.l4 + 4 <= f.length && rng.chance(0.7))
    put16(f, L.l4 + 2, port);
  fixChecksums(f, L);
  return f;
}

function boundaries(f: Buffer, L: Layers): number[] {
  const b = [0, 1, 6, 12, 13, 14];
  if (L.l3 > 0) b.push(L.l3, L.l3 + 1, L.l3 + 8, L.l3 + 19, L.l3 + 20, L.l3 + 39, L.l3 + 40);
  for (const e of L.ext) b.push(e, e + 1, e + 2, e + 7, e + 8);
  if (L.l4 > 0) {
    b.push(L.l4, L.l4 + 1, L.l4 + 4, L.l4 + 7, L.l4 + 8, L.l4 + 13, L.l4 + 19, L.l4 + 20);
    if (L.proto === PROTO_TCP && L.l4 + 13 <= f.length) {
      const hl = (f[L.l4 + 12] >> 4) * 4;
      b.push(L.l4 + hl - 1, L.l4 + hl, L.l4 + hl + 1);
    }
  }
  b.push(L.ipEnd - 1, f.length - 1);
  return b.filter((x) => x >= 0 && x < f.length);
}

/** Offset of a byte, mostly inside the headers where parsers branch. */
function headerPos(f: Buffer, L: Layers, rng: Rng): number {
  const hdrEnd = Math.min(f.length, (L.l4 > 0 ? L.l4 : L.l3 > 0 ? L.l3 : 14) + 40);
  return rng.chance(0.8) ? rng.int(hdrEnd) : rng.int(f.length);
}

const bitFlip: Mutator = (f, L, rng) => {
  for (let n = rng.range(1, 4); n > 0 && f.length; n--) f[headerPos(f, L, rng)] ^= 1 << rng.int(8);
  return f;
};

const byteSet: Mutator = (f, L, rng) => {
  if (f.length) f[headerPos(f, L, rng)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.u32() & 255]);
  return f;
};

const field: Mutator = (f, L, rng) => {
  const p = headerPos(f, L, rng) & ~1;
  if (p + 4 <= f.length && rng.chance(0.4)) put32(f, p, interesting32(rng));
  else if (p + 2 <= f.length) put16(f, p, interesting16(rng));
  return f;
};

const truncate: Mutator = (f, L, rng) => {
  const cut = rng.pick(boundaries(f, L)) + rng.range(-1, 1);
  return f.subarray(0, Math.max(0, Math.min(f.length, cut)));
};

const extend: Mutator = (f, _L, rng) =>
  Buffer.concat([f, rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : Buffer.alloc(rng.range(1, 600))]);

const splice: Mutator = (f, L, rng) => {
  const p = headerPos(f, L, rng);
  if (rng.chance(0.5)) return Buffer.concat([f.subarray(0, p), rng.bytes(rng.range(1, 24)), f.subarray(p)]);
  return Buffer.concat([f.subarray(0, p), f.subarray(Math.min(f.length, p + rng.range(1, 24)))]);
};

const ipLength: Mutator = (f, L, rng) => {
  if (L.ipver === 4 && L.l3 + 20 <= f.length) {
    const h = L.l3;
    if (rng.chance(0.5)) f[h] = 0x40 | rng.int(16);
    else {
      const tot = be16(f, h + 2);
      put16(f, h + 2, rng.chance(0.5) ? interesting16(rng) : (tot + rng.range(-24, 24)) & 0xffff);
    }
  } else if (L.ipver === 6 && L.l3 + 40 <= f.length) {
    const pl = be16(f, L.l3 + 4);
    put16(f, L.l3 + 4, rng.chance(0.5) ? interesting16(rng) : (pl + rng.range(-24, 24)) & 0xffff);
  }
  return f;
};

const l4Length: Mutator = (f, L, rng) => {
  if (L.l4 < 0) return f;
  if (L.proto === PROTO_TCP && L.l4 + 13 <= f.length) f[L.l4 + 12] = (rng.int(16) << 4) | (f[L.l4 + 12] & 15);
  else if (L.proto === PROTO_UDP && L.l4 + 6 <= f.length) {
    const ul = be16(f, L.l4 + 4);
    put16(f, L.l4 + 4, rng.chance(0.5) ? interesting16(rng) : (ul + rng.range(-10, 10)) & 0xffff);
  }
  return f;
};

/** Option bytes built to stress an option walk: zero and one lengths, overruns, loops of NOPs, SACK blocks. */
export function hostileOptions(rng: Rng): Buffer {
  const out: number[] = [];
  const want = rng.range(1, 40);
  while (out.length < want) {
    switch (rng.int(12)) {
      case 0:
        out.push(rng.int(256), 0); // zero length: a walk that adds the length never advances
        break;
      case 1:
        out.push(rng.int(256), 1); // one length: shorter than its own kind and length bytes
        break;
      case 2:
        out.push(1, 1, 1, 1);
        break;
      case 3:
        out.push(0); // EOL, maybe followed by junk
        break;
      case 4:
        out.push(2, rng.pick([2, 3, 4, 5]), rng.int(256), rng.int(256)); // MSS with odd length or 0
        break;
      case 5:
        out.push(3, rng.pick([2, 3, 4]), rng.pick([0, 14, 15, 255])); // window scale out of range
        break;
      case 6:
        out.push(4, rng.pick([0, 2, 3])); // SACK-permitted
        break;
      case 7: {
        const n = rng.range(0, 5); // SACK with 0..5 blocks, maybe a length not multiple of 8
        out.push(5, 2 + 8 * n + (rng.chance(0.2) ? rng.range(1, 7) : 0));
        for (let i = 0; i < 8 * n; i++) out.push(rng.int(256));
        break;
      }
      case 8:
        out.push(8, rng.pick([10, 9, 11, 2]));
        for (let i = 0; i < 8; i++) out.push(rng.pick([0, 0xff, rng.int(256)]));
        break;
      case 9:
        out.push(rng.int(256), rng.range(2, 60)); // unknown kind, length maybe past the header
        break;
      case 10:
        out.push(rng.int(256), 255);
        break;
      default:
        out.push(rng.int(256));
    }
  }
  return Buffer.from(out.slice(0, 40));
}

const tcpOptions: Mutator = (f, L, rng) => {
  if (L.proto !== PROTO_TCP || L.l4 < 0 || L.l4 + 20 > f.length) return f;
  const hl = (f[L.l4 + 12] >> 4) * 4;
  const opts = hostileOptions(rng);
  const olen = (opts.length + 3) & ~3;
  const pad = Buffer.alloc(olen - opts.length);
  const head = Buffer.from(f.subarray(0, L.l4 + 20));
  const payload = f.subarray(Math.min(f.length, L.l4 + Math.max(20, hl)));
  head[L.l4 + 12] = (((20 + olen) / 4) << 4) | (head[L.l4 + 12] & 15);
  const out = Buffer.concat([head, opts, pad, payload]);
  fixLengths(out, L, out.length - f.length);
  return out;
};

/** Keeps the IP length fields in step with a frame that grew or shrank by delta. */
function fixLengths(f: Buffer, L: Layers, delta: number): void {
  if (L.ipver === 4 && L.l3 + 4 <= f.length) put16(f, L.l3 + 2, (be16(f, L.l3 + 2) + delta) & 0xffff);
  if (L.ipver === 6 && L.l3 + 6 <= f.length) put16(f, L.l3 + 4, (be16(f, L.l3 + 4) + delta) & 0xffff);
}

/** Inserts a chain of IPv6 extension headers: long, looping back to hop-by-hop, bad lengths, or cut short. */
const ipv6Ext: Mutator = (f, L, rng) => {
  if (L.ipver !== 6 || L.l3 + 40 > f.length) return f;
  const first = f[L.l3 + 6];
  const n = rng.range(1, rng.chance(0.3) ? 40 : 6);
  const hdrs: Buffer[] = [];
  const types = [0, 43, 44, 60, 51, 135, 59, 0];
  const kinds: number[] = [];
  for (let i = 0; i < n; i++) kinds.push(rng.pick(types));
  for (let i = 0; i < n; i++) {
    const t = kinds[i];
    const next = i + 1 < n ? kinds[i + 1] : rng.chance(0.8) ? first : rng.int(256);
    const lenUnits = t === 44 ? 0 : rng.chance(0.8) ? rng.int(3) : rng.int(256);
    const size = t === 44 ? 8 : t === 51 ? (lenUnits + 2) * 4 : (lenUnits + 1) * 8;
    const h = Buffer.alloc(Math.min(size, 64));
    h[0] = next;
    h[1] = lenUnits;
    if (t === 44) {
      put16(h, 2, rng.chance(0.5) ? 0 : rng.u32() & 0xffff); // offset and M bit
      put32(h, 4, rng.u32());
    } else for (let j = 2; j < h.length; j++) h[j] = rng.chance(0.7) ? 0 : rng.int(256);
    hdrs.push(h);
  }
  const chain = Buffer.concat(hdrs);
  const out = Buffer.concat([f.subarray(0, L.l3 + 40), chain, f.subarray(L.l3 + 40)]);
  out[L.l3 + 6] = kinds[0];
  if (rng.chance(0.8)) fixLengths(out, L, chain.length);
  return out;
};

const fragment: Mutator = (f, L, rng) => {
  if (L.ipver === 4 && L.l3 + 8 <= f.length) {
    const off = rng.pick([0, 1, 2, 0x1fff, rng.int(0x2000)]);
    put16(f, L.l3 + 6, (rng.chance(0.6) ? 0x2000 : 0) | (rng.chance(0.2) ? 0x8000 : 0) | off);
    return f;
  }
  if (L.ipver === 6 && L.l3 + 40 <= f.length) {
    const h = Buffer.alloc(8);
    h[0] = f[L.l3 + 6];
    put16(h, 2, ((rng.int(0x2000) << 3) | (rng.chance(0.6) ? 1 : 0)) & 0xffff);
    put32(h, 4, rng.u32());
    const out = Buffer.concat([f.subarray(0, L.l3 + 40), h, f.subarray(L.l3 + 40)]);
    out[L.l3 + 6] = 44;
    fixLengths(out, L, 8);
    return out;
  }
  return f;
};

const vlan: Mutator = (f, _L, rng) => {
  if (f.length < 14) return f;
  const tags: Buffer[] = [];
  for (let n = rng.range(1, rng.chance(0.2) ? 12 : 2); n > 0; n--) {
    const t = Buffer.alloc(4);
    put16(t, 0, rng.pick([0x8100, 0x88a8, 0x9100]));
    put16(t, 2, rng.u32() & 0xffff);
    tags.push(t);
  }
  // dst, src, then each tag (TPID, TCI), then the original EtherType and payload.
  return Buffer.concat([f.subarray(0, 12), ...tags, f.subarray(12)]);
};

const etherType: Mutator = (f, _L, rng) => {
  if (f.length >= 14)
    put16(
      f,
      12,
      rng.pick([ETH_IPV4, ETH_IPV6, 0x0806, 0x8100, 0x88a8, 0x8847, 0x8864, 0x05dc, rng.u32() & 0xffff]),
    );
  return f;
};

const ipVersionOrProto: Mutator = (f, L, rng) => {
  if (L.l3 < 0 || L.l3 >= f.length) return f;
  if (rng.chance(0.3)) f[L.l3] = (rng.pick([4, 6, 0, 15, 5]) << 4) | (f[L.l3] & 15);
  else if (L.ipver === 4 && L.l3 + 10 <= f.length) f[L.l3 + 9] = rng.pick([1, 6, 17, 58, 0, 41, 44, 47, 255]);
  else if (L.ipver === 6 && L.l3 + 7 <= f.length)
    f[L.l3 + 6] = rng.pick([1, 6, 17, 58, 0, 43, 44, 59, 60, 255]);
  return f;
};

const tcpFlags: Mutator = (f, L, rng) => {
  if (L.proto === PROTO_TCP && L.l4 > 0 && L.l4 + 14 <= f.length) f[L.l4 + 13] = rng.int(256);
  return f;
};

const MUTATORS: [Mutator, number, string][] = [
  [bitFlip, 10, "bitflip"],
  [byteSet, 6, "byteset"],
  [field, 8, "field"],
  [truncate, 8, "truncate"],
  [extend, 3, "extend"],
  [splice, 3, "splice"],
  [ipLength, 8, "iplen"],
  [l4Length, 8, "l4len"],
  [tcpOptions, 10, "tcpopts"],
  [ipv6Ext, 6, "ipv6ext"],
  [fragment, 4, "fragment"],
  [vlan, 2, "vlan"],
  [etherType, 2, "ethertype"],
  [ipVersionOrProto, 3, "proto"],
  [tcpFlags, 5, "tcpflags"],
];
const TOTAL_WEIGHT = MUTATORS.reduce((s, m) => s + m[1], 0);

function pickMutator(rng: Rng): Mutator {
  let r = rng.int(TOTAL_WEIGHT);
  for (const [m, w] of MUTATORS) {
    if (r < w) return m;
    r -= w;
  }
  return bitFlip;
}

/** One to four mutations; checksums refilled afterwards with probability fixP (wrong checksums otherwise). */
export function mutate(src: Buffer, rng: Rng, fixP = 0.7): Buffer {
  let f: Buffer = Buffer.from(src);
  for (let n = rng.range(1, rng.chance(0.2) ? 4 : 2); n > 0; n--) f = pickMutator(rng)(f, layers(f), rng);
  if (rng.chance(fixP)) fixChecksums(f);
  else if (rng.chance(0.5)) {
    // A checksum off by one bit, so the frame is otherwise perfect.
    const L = layers(f);
    if (L.l4 > 0 && L.l4 + 18 <= f.length) f[L.l4 + (L.proto === PROTO_UDP ? 6 : 16)] ^= 1 << rng.int(8);
  }
  return f;
}

/** A run of overlapping or odd IPv4 fragments cut from one packet (all checksums right). */
export function fragmentSeries(src: Buffer, rng: Rng): Buffer[] {
  const L = layers(src);
  if (L.ipver !== 4 || L.l4 < 0 || L.ipEnd <= L.l4) return [src];
  const payload = src.subarray(L.l4, L.ipEnd);
  const out: Buffer[] = [];
  const id = rng.u32() & 0xffff;
  for (let n = rng.range(2, 6); n > 0; n--) {
    const start = rng.int(Math.max(1, payload.length)) & ~7;
    const len = rng.range(0, payload.length - start);
    const more = n > 1 || rng.chance(0.3);
    const f = Buffer.concat([src.subarray(0, L.l4), payload.subarray(start, start + len)]);
    put16(f, L.l3 + 2, L.l4 - L.l3 + len);
    put16(f, L.l3 + 4, id);
    put16(f, L.l3 + 6, (more ? 0x2000 : 0) | (start >> 3));
    fixChecksums(f);
    out.push(f);
  }
  return out;
}
