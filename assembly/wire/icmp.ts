// ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1) share the first 8 bytes: type,
// code, checksum and a 4-byte type-specific word (identifier and sequence for
// echo, RFC 792 "Echo or Echo Reply Message"; unused/MTU/pointer for errors).
import { be16, be32, putBe16, putBe32, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";
import { inetChecksum } from "./checksum";

export const ICMP_HDR: usize = 8;
export const ICMP_ECHO_REPLY: u32 = 0;
export const ICMP_ECHO_REQUEST: u32 = 8;
export const ICMP6_ECHO_REQUEST: u32 = 128;
export const ICMP6_ECHO_REPLY: u32 = 129;

/** Errors that quote the offending datagram's IP header and 8+ bytes after it (RFC 792, RFC 1812 §4.3.2.3). */
@inline export function icmpIsError(t: u32): bool {
  return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

/** ICMPv6 error messages 1..4 quote as much of the invoking packet as fits (RFC 4443 §2.4(c)). */
@inline export function icmp6IsError(t: u32): bool {
  return t >= 1 && t <= 4;
}

// IcmpRepr (8 bytes): type u8 @0, code u8 @1, checksum u16 @2 (host order), rest u32 @4 (host order).
export const ICMPR_TYPE: usize = 0;
export const ICMPR_CODE: usize = 1;
export const ICMPR_CSUM: usize = 2;
export const ICMPR_REST: usize = 4;
export const ICMPR_BYTES: usize = 8;

export function icmpParse(p: usize, len: usize, r: usize): i32 {
  if (len < ICMP_HDR) return WIRE_TRUNCATED;
  store<u8>(r + ICMPR_TYPE, load<u8>(p));
  store<u8>(r + ICMPR_CODE, load<u8>(p + 1));
  store<u16>(r + ICMPR_CSUM, <u16>be16(p + 2));
  store<u32>(r + ICMPR_REST, be32(p + 4));
  return <i32>ICMP_HDR;
}

/** Writes the 8-byte header with the repr's checksum (see icmpChecksumFill / l4ChecksumFill for ICMPv6). */
export function icmpEmit(r: usize, p: usize, len: usize): i32 {
  if (len < ICMP_HDR) return WIRE_NOSPACE;
  store<u8>(p, load<u8>(r + ICMPR_TYPE));
  store<u8>(p + 1, load<u8>(r + ICMPR_CODE));
  putBe16(p + 2, <u32>load<u16>(r + ICMPR_CSUM));
  putBe32(p + 4, load<u32>(r + ICMPR_REST));
  return <i32>ICMP_HDR;
}

/** ICMPv4 checksum covers the whole message, no pseudo-header (RFC 792). Stores and returns it. */
export function icmpChecksumFill(p: usize, msgLen: usize): u32 {
  store<u16>(p + 2, 0);
  const c = inetChecksum(p, msgLen);
  putBe16(p + 2, c);
  return c;
}
