// Byte-order helpers over linear memory. Wire formats are big-endian (RFC 791
// "network byte order"); wasm is little-endian and has no bswap instruction, so
// a 16-bit load is swapped with one shift/or pair and a 32-bit load with two
// rotates and two masks (what `bswap<u32>` lowers to): cheaper than 2 or 4 byte
// loads (AS-NOTES §6: 0.81 ns vs 0.92 ns per iteration). Callers bound-check.

/** Big-endian u16 at p. */
@inline export function be16(p: usize): u32 {
  const v = <u32>load<u16>(p);
  return ((v << 8) | (v >> 8)) & 0xffff;
}

/** Big-endian u32 at p. */
@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

@inline export function u8at(p: usize): u32 {
  return <u32>load<u8>(p);
}

@inline export function putBe16(p: usize, v: u32): void {
  store<u16>(p, <u16>(((v & 0xff) << 8) | ((v >> 8) & 0xff)));
}

@inline export function putBe32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

@inline export function put8(p: usize, v: u32): void {
  store<u8>(p, <u8>v);
}

// Results of parse functions: a header length (> 0) or one of these.
export const WIRE_TRUNCATED: i32 = -1; // the captured bytes end inside the header
export const WIRE_MALFORMED: i32 = -2; // a length or version field is impossible
export const WIRE_UNSUPPORTED: i32 = -3; // valid but not a variant this module represents
export const WIRE_NOSPACE: i32 = -4; // emit: the output buffer is too small

// Small copies on the per-packet path. Node 20's V8 turns a memory.copy into a
// call into its C++ runtime unless binaryen lowered it (it does so only for
// constant sizes of 1, 2, 4, 8 and 16 bytes): about as costly as the copy of a
// small payload itself. These do it with loads and stores instead.

/** Copies 6 bytes (a MAC address); dst and src do not overlap. */
@inline export function copy6(dst: usize, src: usize): void {
  store<u32>(dst, load<u32>(src));
  store<u16>(dst, load<u16>(src, 4), 4);
}

/** Copies 32 bytes (two IPv6-sized addresses); dst and src do not overlap. */
@inline export function copy32(dst: usize, src: usize): void {
  v128.store(dst, v128.load(src));
  v128.store(dst, v128.load(src, 16), 16);
}

/** Copies n bytes, dst and src not overlapping: 16 at a time up to 256, memory.copy above. */
export function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n > 256) {
    memory.copy(dst, src, n);
    return;
  }
  while (n >= 16) {
    v128.store(dst, v128.load(src));
    dst += 16;
    src += 16;
    n -= 16;
  }
  if (n >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
    n -= 8;
  }
  if (n >= 4) {
    store<u32>(dst, load<u32>(src));
    dst += 4;
    src += 4;
    n -= 4;
  }
  if (n >= 2) {
    store<u16>(dst, load<u16>(src));
    dst += 2;
    src += 2;
    n -= 2;
  }
  if (n != 0) store<u8>(dst, load<u8>(src));
}
