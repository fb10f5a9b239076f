// Toeplitz hash (Microsoft RSS) over a 40-byte key.
//
// Definition: for every input bit b (MSB first) that is set, XOR into the
// result the 32 key bits that start at b's bit position. The input is the
// tuple in network byte order: src addr, dst addr, src port, dst port (12 bytes
// for IPv4 with ports, 36 for IPv6 with ports; 8/32 without).
//
// Two implementations, tested against each other and the published vectors:
// - toeplitzRef: bit by bit, straight from the definition (reference).
// - toeplitz / rssHash*: one 256-entry u32 table per input byte position,
//   built from the key at init (36 positions x 1 KiB = 36 KiB of static data).
//   The hash is linear over XOR, so it is the XOR of one lookup per input byte.
//
// Symmetric mode (CFG_FLAGS bit 0): the key 0x6d5a repeated. Its bit pattern
// repeats every 16 bits, so swapping src/dst (shift by 32 or 128 bits) and
// sport/dport (shift by 16 bits) meets the same key windows: hash(a→b) ==
// hash(b→a). Both directions of a flow then reach the same worker.
import { CFG_FLAGS, CFG_F_SYMMETRIC, cfg } from "../mem/layout";

export const RSS_KEY_BYTES: u32 = 40;
export const RSS_MAX_INPUT: u32 = 36; // IPv6 addresses + ports

// The standard Microsoft RSS key (also the default of most NICs).
const DEFAULT_KEY: usize = memory.data<u8>([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
  0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
  0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

const rssKey: usize = memory.data(40, 16);
const rssTable: usize = memory.data(<i32>RSS_MAX_INPUT * 256 * 4, 64);

/** Address of the current 40-byte key (read-only for callers: use rssSetKey). */
export function rssKeyPtr(): usize {
  return rssKey;
}

/** Installs a new key (40 bytes at src) and rebuilds the lookup tables. */
export function rssSetKey(src: usize): void {
  memory.copy(rssKey, src, RSS_KEY_BYTES);
  rssBuildTables();
}

/** Chooses the key from CFG_FLAGS (bit 0: symmetric) and builds the tables. */
export function rssInit(): void {
  if ((cfg(CFG_FLAGS) & CFG_F_SYMMETRIC) != 0) {
    for (let i: u32 = 0; i < RSS_KEY_BYTES; i += 2) {
      store<u8>(rssKey + i, 0x6d);
      store<u8>(rssKey + i + 1, 0x5a);
    }
  } else {
    memory.copy(rssKey, DEFAULT_KEY, RSS_KEY_BYTES);
  }
  rssBuildTables();
}

@inline function keyByte(i: u32): u64 {
  return i < RSS_KEY_BYTES ? <u64>load<u8>(rssKey + i) : 0;
}

function rssBuildTables(): void {
  for (let pos: u32 = 0; pos < RSS_MAX_INPUT; pos++) {
    // 64 key bits starting at byte pos: window for bit j (0 = MSB) is bits [8pos+j, 8pos+j+32).
    let k: u64 = 0;
    for (let b: u32 = 0; b < 8; b++) k = (k << 8) | keyByte(pos + b);
    const t = rssTable + (<usize>pos << 10);
    store<u32>(t, 0);
    for (let v: u32 = 1; v < 256; v++) {
      // Each table value = the value without its lowest set bit, XOR that bit's window.
      const low = ctz(v); // bit `low` of the byte is input bit j = 7 - low
      const w = <u32>((k << (7 - <u64>low)) >> 32);
      store<u32>(t + (<usize>v << 2), load<u32>(t + (<usize>(v & (v - 1)) << 2)) ^ w);
    }
  }
}

/** Reference Toeplitz over len bytes at input (len <= 36), bit by bit. */
export function toeplitzRef(input: usize, len: u32): u32 {
  let result: u32 = 0;
  let window: u32 = bswap<u32>(load<u32>(rssKey));
  for (let i: u32 = 0; i < len; i++) {
    const b = <u32>load<u8>(input + i);
    const next = <u32>keyByte(i + 4);
    for (let j: i32 = 7; j >= 0; j--) {
      if ((b >> j) & 1) result ^= window;
      window = (window << 1) | ((next >> j) & 1);
    }
  }
  return result;
}

@inline function tab(pos: u32, byte: u32): u32 {
  return load<u32>(rssTable + (<usize>pos << 10) + (<usize>byte << 2));
}

// XOR of the four lookups for the 4 bytes of w (little-endian load of network-order bytes).
@inline function tab4(pos: u32, w: u32): u32 {
  return (
    tab(pos, w & 0xff) ^
    tab(pos + 1, (w >> 8) & 0xff) ^
    tab(pos + 2, (w >> 16) & 0xff) ^
    tab(pos + 3, w >> 24)
  );
}

// tab4 at byte positions 0, 4 and 8 (the IPv4 4-tuple) with the table
// addresses as the loads' constant offsets and each byte shifted straight to
// its byte offset in the table (x4): V8 emits shift, and, load per lookup
// instead of shift, zero-extend, lea, load. (AssemblyScript needs the offsets
// as literals, hence one function per position.)
@inline function tab4at0(w: u32): u32 {
  return load<u32>((w << 2) & 0x3fc, rssTable) ^ load<u32>((w >> 6) & 0x3fc, rssTable + 1024) ^
    load<u32>((w >> 14) & 0x3fc, rssTable + 2048) ^ load<u32>((w >> 22) & 0x3fc, rssTable + 3072);
}
@inline function tab4at4(w: u32): u32 {
  return load<u32>((w << 2) & 0x3fc, rssTable + 4096) ^ load<u32>((w >> 6) & 0x3fc, rssTable + 5120) ^
    load<u32>((w >> 14) & 0x3fc, rssTable + 6144) ^ load<u32>((w >> 22) & 0x3fc, rssTable + 7168);
}
@inline function tab4at8(w: u32): u32 {
  return load<u32>((w << 2) & 0x3fc, rssTable + 8192) ^ load<u32>((w >> 6) & 0x3fc, rssTable + 9216) ^
    load<u32>((w >> 14) & 0x3fc, rssTable + 10240) ^ load<u32>((w >> 22) & 0x3fc, rssTable + 11264);
}

// Port as a number (host order) at byte position pos, network order (high byte first).
@inline function tabPort(pos: u32, port: u32): u32 {
  return tab(pos, (port >> 8) & 0xff) ^ tab(pos + 1, port & 0xff);
}

/** Table-driven Toeplitz over len bytes at input (len <= 36). Same result as toeplitzRef. */
export function toeplitz(input: usize, len: u32): u32 {
  let h: u32 = 0;
  let i: u32 = 0;
  for (; i + 4 <= len; i += 4) h ^= tab4(i, load<u32>(input + i));
  for (; i < len; i++) h ^= tab(i, load<u8>(input + i));
  return h;
}

/** RSS hash of an IPv4 TCP/UDP 4-tuple: src/dst point at 4 address bytes in
 * network order, ports are numbers. 12 lookups. */
@inline export function rssHashV4(src: usize, dst: usize, sport: u32, dport: u32): u32 {
  // Ports as numbers: the high byte is input byte 8 (10), the low byte 9 (11); offsets as in tab4at0.
  return tab4at0(load<u32>(src)) ^ tab4at4(load<u32>(dst)) ^
    load<u32>((sport >> 6) & 0x3fc, rssTable + 8192) ^ load<u32>((sport << 2) & 0x3fc, rssTable + 9216) ^
    load<u32>((dport >> 6) & 0x3fc, rssTable + 10240) ^ load<u32>((dport << 2) & 0x3fc, rssTable + 11264);
}

/** rssHashV4 with the ports read from the wire: l4 points at the transport
 * header (source then destination port, network order). The table bytes are
 * taken straight from the little-endian load, no byte swap. */
@inline export function rssHashV4Wire(src: usize, dst: usize, l4: usize): u32 {
  return tab4at0(load<u32>(src)) ^ tab4at4(load<u32>(dst)) ^ tab4at8(load<u32>(l4));
}

/** RSS hash of an IPv4 address pair (non-TCP/UDP, fragments). 8 lookups. */
@inline export function rssHashV4Addr(src: usize, dst: usize): u32 {
  return tab4at0(load<u32>(src)) ^ tab4at4(load<u32>(dst));
}

@inline function tab16(pos: u32, p: usize): u32 {
  return tab4(pos, load<u32>(p)) ^ tab4(pos + 4, load<u32>(p, 4)) ^
    tab4(pos + 8, load<u32>(p, 8)) ^ tab4(pos + 12, load<u32>(p, 12));
}

/** RSS hash of an IPv6 TCP/UDP 4-tuple (16-byte addresses in network order). 36 lookups. */
@inline export function rssHashV6(src: usize, dst: usize, sport: u32, dport: u32): u32 {
  return tab16(0, src) ^ tab16(16, dst) ^ tabPort(32, sport) ^ tabPort(34, dport);
}

/** rssHashV6 with the ports read from the wire (see rssHashV4Wire). */
@inline export function rssHashV6Wire(src: usize, dst: usize, l4: usize): u32 {
  return tab16(0, src) ^ tab16(16, dst) ^ tab4(32, load<u32>(l4));
}

/** RSS hash of an IPv6 address pair. 32 lookups. */
@inline export function rssHashV6Addr(src: usize, dst: usize): u32 {
  return tab16(0, src) ^ tab16(16, dst);
}

// ---- exported wrappers for tests and benchmarks (the inline versions above are for the core) ----

export function rssHashV4At(src: usize, dst: usize, sport: u32, dport: u32): u32 {
  return rssHashV4(src, dst, sport, dport);
}
export function rssHashV6At(src: usize, dst: usize, sport: u32, dport: u32): u32 {
  return rssHashV6(src, dst, sport, dport);
}

/** Benchmark loop: hashes n IPv4 4-tuples (12-byte records at input, stride 12)
 * with the table version (fast != 0) or the reference; returns the XOR of all
 * hashes so the work can't be optimised away. One call per measurement. */
export function rssBench(input: usize, n: u32, fast: i32): u32 {
  let x: u32 = 0;
  if (fast) {
    for (let i: u32 = 0; i < n; i++) {
      const p = input + <usize>i * 12;
      x ^= rssHashV4(p, p + 4, bswap<u16>(load<u16>(p, 8)), bswap<u16>(load<u16>(p, 10)));
    }
  } else {
    for (let i: u32 = 0; i < n; i++) x ^= toeplitzRef(input + <usize>i * 12, 12);
  }
  return x;
}
