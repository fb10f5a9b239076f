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
