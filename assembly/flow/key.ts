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
// 40 bytes = 5 u64 words: equality is five 64-bit compares. Entries are laid
// out so keys are 16-byte aligned.
import { rssHashV4, rssHashV6 } from "./toeplitz";

export const FLOW_KEY_BYTES: usize = 40;
export const FK_FAMILY: usize = 0;
export const FK_PROTO: usize = 1;
export const FK_PAD: usize = 2;
export const FK_SPORT: usize = 4;
export const FK_DPORT: usize = 6;
export const FK_SRC: usize = 8;
export const FK_DST: usize = 24;

@inline export function flowKeyEqual(a: usize, b: usize): bool {
  return (
    ((load<u64>(a) ^ load<u64>(b)) |
      (load<u64>(a, 8) ^ load<u64>(b, 8)) |
      (load<u64>(a, 16) ^ load<u64>(b, 16)) |
      (load<u64>(a, 24) ^ load<u64>(b, 24)) |
      (load<u64>(a, 32) ^ load<u64>(b, 32))) == 0
  );
}

@inline export function flowKeyCopy(dst: usize, src: usize): void {
  v128.store(dst, v128.load(src));
  v128.store(dst, v128.load(src, 16), 16);
  store<u64>(dst, load<u64>(src, 32), 32);
}

/** Writes an IPv4 key. src/dst point at 4 address bytes in network order. */
export function flowKeySetV4(key: usize, proto: u32, src: usize, dst: usize, sport: u32, dport: u32): void {
  store<u32>(key, 4 | ((proto & 0xff) << 8));
  store<u16>(key, <u16>sport, FK_SPORT);
  store<u16>(key, <u16>dport, FK_DPORT);
  v128.store(key, i32x4(<i32>load<u32>(src), 0, 0, 0), FK_SRC);
  v128.store(key, i32x4(<i32>load<u32>(dst), 0, 0, 0), FK_DST);
}

/** Writes an IPv6 key. src/dst point at 16 address bytes in network order. */
export function flowKeySetV6(key: usize, proto: u32, src: usize, dst: usize, sport: u32, dport: u32): void {
  store<u32>(key, 6 | ((proto & 0xff) << 8));
  store<u16>(key, <u16>sport, FK_SPORT);
  store<u16>(key, <u16>dport, FK_DPORT);
  v128.store(key, v128.load(src), FK_SRC);
  v128.store(key, v128.load(dst), FK_DST);
}

/** Swaps the endpoints in place (the reply direction's key). */
export function flowKeyReverse(key: usize): void {
  const a = v128.load(key, FK_SRC);
  v128.store(key, v128.load(key, FK_DST), FK_SRC);
  v128.store(key, a, FK_DST);
  const p = load<u32>(key, FK_SPORT);
  store<u32>(key, (p >> 16) | (p << 16), FK_SPORT);
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
