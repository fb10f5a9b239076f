// IPv4 header (RFC 791 §3.1). Options are kept as opaque bytes (up to 40);
// fragments are recognised (RFC 791 §2.3 "Fragmentation") but not reassembled.
import { be16, putBe16, WIRE_MALFORMED, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";
import { inetChecksum } from "./checksum";

export const IPV4_MIN: usize = 20;
export const IPV4_F_DF: u32 = 0x4000;
export const IPV4_F_MF: u32 = 0x2000;
export const IPV4_OFFMASK: u32 = 0x1fff;

/** Zero-cost view of an IPv4 header; `check` before trusting the rest. */
@unmanaged export class Ipv4View {
  @inline get ptr(): usize {
    return changetype<usize>(this);
  }
  @inline get version(): u32 {
    return <u32>load<u8>(this.ptr) >> 4;
  }
  @inline get hdrLen(): u32 {
    return (<u32>load<u8>(this.ptr) & 15) << 2;
  }
  @inline get totalLen(): u32 {
    return be16(this.ptr + 2);
  }
  @inline get ident(): u32 {
    return be16(this.ptr + 4);
  }
  @inline get flagsFrag(): u32 {
    return be16(this.ptr + 6);
  }
  /** True for any fragment: more-fragments set or a non-zero offset. */
  @inline get isFragment(): bool {
    return (this.flagsFrag & (IPV4_F_MF | IPV4_OFFMASK)) != 0;
  }
  @inline get fragOffset(): u32 {
    return this.flagsFrag & IPV4_OFFMASK;
  }
  @inline get ttl(): u32 {
    return <u32>load<u8>(this.ptr + 8);
  }
  @inline get proto(): u32 {
    return <u32>load<u8>(this.ptr + 9);
  }
  @inline get checksum(): u32 {
    return be16(this.ptr + 10);
  }
  /** Where the source address is (4 bytes, wire order); the destination follows it. */
  @inline get src(): usize {
    return this.ptr + 12;
  }
  @inline get dst(): usize {
    return this.ptr + 16;
  }
  /** 0 if the header is at least 20 bytes, has version 4 and a sane IHL within len; else a WIRE_* error. */
  @inline check(len: usize): i32 {
    if (len < IPV4_MIN) return WIRE_TRUNCATED;
    const hl = <usize>this.hdrLen;
    if (this.version != 4 || hl < IPV4_MIN) return WIRE_MALFORMED;
    if (hl > len) return WIRE_TRUNCATED;
    return 0;
  }
}

// Ipv4Repr (64 bytes): src[4] @0, dst[4] @4, proto u8 @8, ttl u8 @9, tos u8 @10,
// flags u8 @11 (top 3 bits of the flags/offset word >> 13), ident u16 @12,
// fragment offset u16 @14 (8-byte units), total length u16 @16, header length u8
// @18, checksum-valid u8 @19, options length u8 @20, options[40] @24.
export const IP4R_SRC: usize = 0;
export const IP4R_DST: usize = 4;
export const IP4R_PROTO: usize = 8;
export const IP4R_TTL: usize = 9;
export const IP4R_TOS: usize = 10;
export const IP4R_FLAGS: usize = 11;
export const IP4R_IDENT: usize = 12;
export const IP4R_FRAGOFF: usize = 14;
export const IP4R_TOTLEN: usize = 16;
export const IP4R_HDRLEN: usize = 18;
export const IP4R_CSUM_OK: usize = 19;
export const IP4R_OPTLEN: usize = 20;
export const IP4R_OPTS: usize = 24;
export const IP4R_BYTES: usize = 64;

/** Parses the IPv4 header at p (len captured bytes) into r; returns the header length or a WIRE_* error. */
export function ipv4Parse(p: usize, len: usize, r: usize): i32 {
  const v = changetype<Ipv4View>(p);
  const e = v.check(len);
  if (e < 0) return e;
  const hl = <usize>v.hdrLen;
  if (v.totalLen < <u32>hl) return WIRE_MALFORMED;
  memory.copy(r + IP4R_SRC, p + 12, 8);
  store<u8>(r + IP4R_PROTO, <u8>v.proto);
  store<u8>(r + IP4R_TTL, <u8>v.ttl);
  store<u8>(r + IP4R_TOS, load<u8>(p + 1));
  store<u8>(r + IP4R_FLAGS, <u8>(v.flagsFrag >> 13));
  store<u16>(r + IP4R_IDENT, <u16>v.ident);
  store<u16>(r + IP4R_FRAGOFF, <u16>v.fragOffset);
  store<u16>(r + IP4R_TOTLEN, <u16>v.totalLen);
  store<u8>(r + IP4R_HDRLEN, <u8>hl);
  store<u8>(r + IP4R_CSUM_OK, inetChecksum(p, hl) == 0 ? 1 : 0);
  store<u8>(r + IP4R_OPTLEN, <u8>(hl - IPV4_MIN));
  memory.copy(r + IP4R_OPTS, p + IPV4_MIN, hl - IPV4_MIN);
  return <i32>hl;
}

export function ipv4BufferLen(r: usize): i32 {
  return <i32>IPV4_MIN + <i32>((<u32>load<u8>(r + IP4R_OPTLEN) + 3) & ~3);
}

/** Writes the header (options padded with zeros, RFC 791 "Padding") and its checksum. */
export function ipv4Emit(r: usize, p: usize, len: usize): i32 {
  const hl = <usize>ipv4BufferLen(r);
  if (len < hl) return WIRE_NOSPACE;
  store<u8>(p, <u8>(0x40 | (hl >> 2)));
  store<u8>(p + 1, load<u8>(r + IP4R_TOS));
  putBe16(p + 2, <u32>load<u16>(r + IP4R_TOTLEN));
  putBe16(p + 4, <u32>load<u16>(r + IP4R_IDENT));
  putBe16(p + 6, ((<u32>load<u8>(r + IP4R_FLAGS) & 7) << 13) | (<u32>load<u16>(r + IP4R_FRAGOFF) & IPV4_OFFMASK));
  store<u8>(p + 8, load<u8>(r + IP4R_TTL));
  store<u8>(p + 9, load<u8>(r + IP4R_PROTO));
  store<u16>(p + 10, 0);
  memory.copy(p + 12, r + IP4R_SRC, 8);
  const ol = <usize>load<u8>(r + IP4R_OPTLEN);
  memory.copy(p + IPV4_MIN, r + IP4R_OPTS, ol);
  memory.fill(p + IPV4_MIN + ol, 0, hl - IPV4_MIN - ol);
  putBe16(p + 10, inetChecksum(p, hl));
  return <i32>hl;
}

/**
 * The header the stack sends (no Repr: every field but the length, ident and
 * addresses is fixed): 20 bytes, no options, DF set because the stack segments
 * by the MSS and never fragments (RFC 791 §3.1), the header checksum when `csum`
 * (zero otherwise: the host fills it, as a NIC with offload would). Equal to
 * ipv4Emit of the same fields (test/wire/headers.test.ts).
 */
@inline export function ipv4EmitPlain(p: usize, payloadLen: u32, ident: u32, ttl: u32, proto: u32, src: usize, dst: usize, csum: bool): void {
  store<u8>(p, 0x45);
  store<u8>(p + 1, 0);
  putBe16(p + 2, <u32>IPV4_MIN + payloadLen);
  putBe16(p + 4, ident & 0xffff);
  putBe16(p + 6, IPV4_F_DF);
  store<u8>(p + 8, <u8>ttl);
  store<u8>(p + 9, <u8>proto);
  store<u16>(p + 10, 0);
  store<u32>(p + 12, load<u32>(src));
  store<u32>(p + 16, load<u32>(dst));
  if (csum) putBe16(p + 10, inetChecksum(p, IPV4_MIN));
}
