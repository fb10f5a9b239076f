// Flow key: an IPv4 or IPv6 5-tuple in 40 bytes of linear memory, the unit the
// flow table stores and compares (byte-wise, so unused bytes must be zero).
//
//  off size field
//   0   1   family  4 or 6 (0 marks a free table entry: never a valid key)
//   1   1   proto   IP protocol (6 TCP, 17 UDP, ...)
//   2   2   pad     must be 0
//   4   2   sport   source port as a number (u16 little-endian, NOT network order)
//   6   2   dport   destination port as a number
//   8  16   src     source address, network byte order; IPv4 in bytes 8..11, 12..23 zero
//  24  16   dst     destination address, network byte order; IPv4 in 24..27, 28..39 zero
//
// Keys are written and compared in the same three units: the 8-byte header
// (family, proto, pad, ports) as one u64, src and dst as one v128 each. A key
// built just before a lookup (every packet) is then read back by loads that
// each match one store, so the CPU forwards them from the store buffer; a u64
// load over a u32 and two u16 stores, or a v128 load over two stores, has to
// wait until the stores reach the cache (measured with `bench cost`). The
// compare ORs the three differences into one vector and tests it once (V8
// turns a scalar header compare && vector test into setcc chains).
import { rssHashV4, rssHashV6 } from "./toeplitz";

export const FLOW_KEY_BYTES: usize = 40;
export const FK_FAMILY: usize = 0;
export const FK_PROTO: usize = 1;
export const FK_PAD: usize = 2;
export const FK_SPORT: usize = 4;
export const FK_DPORT: usize = 6;
export const FK_SRC: usize = 8;
export const FK_DST: usize = 24;

/** The header word: family, proto, pad 0, sport, dport (ports as numbers). */
@inline function keyHead(family: u32, proto: u32, ports: u32): u64 {
  return <u64>(family | ((proto & 0xff) << 8)) | (<u64>ports << 32);
}

@inline export function flowKeyEqual(a: usize, b: usize): bool {
  const d = v128.or(
    v128.or(
      v128.xor(v128.load(a, FK_SRC), v128.load(b, FK_SRC)),
      v128.xor(v128.load(a, FK_DST), v128.load(b, FK_DST)),
    ),
    v128.xor(v128.load64_zero(a), v128.load64_zero(b)),
  );
  return !v128.any_true(d);
}

@inline export function flowKeyCopy(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  v128.store(dst, v128.load(src, FK_SRC), FK_SRC);
  v128.store(dst, v128.load(src, FK_DST), FK_DST);
}

/** Writes an IPv4 key. src/dst point at 4 address bytes in network order. */
export function flowKeySetV4(key: usize, proto: u32, src: usize, dst: usize, sport: u32, dport: u32): void {
  store<u64>(key, keyHead(4, proto, (sport & 0xffff) | (dport << 16)));
  v128.store(key, i32x4(<i32>load<u32>(src), 0, 0, 0), FK_SRC);
  v128.store(key, i32x4(<i32>load<u32>(dst), 0, 0, 0), FK_DST);
}

/** flowKeySetV4 with the ports read from the wire: l4 points at the transport
 * header (source port, destination port, network order). */
@inline export function flowKeySetV4Wire(key: usize, proto: u32, src: usize, dst: usize, l4: usize): void {
  const w = load<u32>(l4); // sport high, sport low, dport high, dport low
  store<u64>(key, keyHead(4, proto, ((w & 0x00ff00ff) << 8) | ((w >> 8) & 0x00ff00ff)));
  v128.store(key, i32x4(<i32>load<u32>(src), 0, 0, 0), FK_SRC);
  v128.store(key, i32x4(<i32>load<u32>(dst), 0, 0, 0), FK_DST);
}

/** Writes an IPv6 key. src/dst point at 16 address bytes in network order. */
export function flowKeySetV6(key: usize, proto: u32, src: usize, dst: usize, sport: u32, dport: u32): void {
  store<u64>(key, keyHead(6, proto, (sport & 0xffff) | (dport << 16)));
  v128.store(key, v128.load(src), FK_SRC);
  v128.store(key, v128.load(dst), FK_DST);
}

/** Swaps the endpoints in place (the reply direction's key). */
export function flowKeyReverse(key: usize): void {
  const a = v128.load(key, FK_SRC);
  v128.store(key, v128.load(key, FK_DST), FK_SRC);
  v128.store(key, a, FK_DST);
  const h = load<u64>(key);
  const p = <u32>(h >> 32);
  store<u64>(key, (h & 0xffffffff) | (<u64>((p >> 16) | (p << 16)) << 32));
}

/** Orders the endpoints so both directions of a flow give one key: after the
 * call (src address, sport) <= (dst address, dport), addresses compared as
 * big-endian byte strings, then ports as numbers. Idempotent. */
export function flowKeyCanonical(key: usize): void {
  flowKeyCanonicalSwap(key);
}

/** flowKeyCanonical that also says whether it swapped: 1 if the packet the key
 * came from travels dst→src of the stored key (useful to tell client from server). */
export function flowKeyCanonicalSwap(key: usize): i32 {
  // bswap turns network-order bytes into numbers whose order is the byte-string order.
  const s0 = bswap<u64>(load<u64>(key, FK_SRC));
  const d0 = bswap<u64>(load<u64>(key, FK_DST));
  let swap = false;
  if (s0 != d0) swap = s0 > d0;
  else {
    const s1 = bswap<u64>(load<u64>(key, FK_SRC + 8));
    const d1 = bswap<u64>(load<u64>(key, FK_DST + 8));
    if (s1 != d1) swap = s1 > d1;
    else swap = load<u16>(key, FK_SPORT) > load<u16>(key, FK_DPORT);
  }
  if (swap) flowKeyReverse(key);
  return swap ? 1 : 0;
}

/** RSS (Toeplitz) hash of the key's 4-tuple with the configured key: 12 table
 * lookups for IPv4, 36 for IPv6. Same value the dispatcher computes for a
 * packet travelling src→dst of this key, so a canonical key with a symmetric
 * RSS key hashes like either direction of its packets. */
export function flowKeyHash(key: usize): u32 {
  const sp = <u32>load<u16>(key, FK_SPORT);
  const dp = <u32>load<u16>(key, FK_DPORT);
  if (load<u8>(key) == 6) return rssHashV6(key + FK_SRC, key + FK_DST, sp, dp);
  return rssHashV4(key + FK_SRC, key + FK_DST, sp, dp);
}

/** A hash of the whole 40-byte key for tables that need no RSS value (inspect's
 * conversation count): each 64-bit word times its own odd constant, XORed,
 * then one more multiply so every key bit reaches the top 32 bits (the flow
 * table takes its home slot from the top bits). About 20 instructions where
 * flowKeyHash's Toeplitz is 12 table lookups (IPv4) or 36 (IPv6). */
export function flowKeyMix(key: usize): u32 {
  let h: u64 = load<u64>(key) * 0x9e3779b97f4a7c15;
  h ^= load<u64>(key, 8) * 0xc2b2ae3d27d4eb4f;
  h ^= load<u64>(key, 16) * 0x165667b19e3779f9;
  h ^= load<u64>(key, 24) * 0xd6e8feb86659fd93;
  h ^= load<u64>(key, 32) * 0xff51afd7ed558ccd;
  h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9;
  return <u32>(h >> 32);
}
