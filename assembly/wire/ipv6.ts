// IPv6 fixed header (RFC 8200 §3) and the extension-header walk (§4): hop-by-hop
// options 0, routing 43, fragment 44, destination options 60, plus AH 51
// (RFC 4302 §2.2, length in 4-byte units). Any other next header ends the walk.
import { be16, be32, putBe16, putBe32, WIRE_MALFORMED, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";

export const IPV6_HDR: usize = 40;
export const NH_HOPOPT: u32 = 0;
export const NH_ROUTING: u32 = 43;
export const NH_FRAGMENT: u32 = 44;
export const NH_ESP: u32 = 50;
export const NH_AH: u32 = 51;
export const NH_NONE: u32 = 59;
export const NH_DSTOPTS: u32 = 60;

@unmanaged export class Ipv6View {
  @inline get ptr(): usize {
    return changetype<usize>(this);
  }
  @inline get version(): u32 {
    return <u32>load<u8>(this.ptr) >> 4;
  }
  @inline get payloadLen(): u32 {
    return be16(this.ptr + 4);
  }
  @inline get nextHeader(): u32 {
    return <u32>load<u8>(this.ptr + 6);
  }
  @inline get hopLimit(): u32 {
    return <u32>load<u8>(this.ptr + 7);
  }
  /** Where the source address is (16 bytes); the destination follows it. */
  @inline get src(): usize {
    return this.ptr + 8;
  }
  @inline get dst(): usize {
    return this.ptr + 24;
  }
  @inline check(len: usize): i32 {
    if (len < IPV6_HDR) return WIRE_TRUNCATED;
    if (this.version != 6) return WIRE_MALFORMED;
    return 0;
  }
}

// Ipv6Repr (48 bytes): src[16] @0, dst[16] @16, next header u8 @32, hop limit u8
// @33, traffic class u8 @34, flow label u32 @36, payload length u16 @40.
export const IP6R_SRC: usize = 0;
export const IP6R_DST: usize = 16;
export const IP6R_NH: usize = 32;
export const IP6R_HLIM: usize = 33;
export const IP6R_TCLASS: usize = 34;
export const IP6R_FLOW: usize = 36;
export const IP6R_PLEN: usize = 40;
export const IP6R_BYTES: usize = 48;

export function ipv6Parse(p: usize, len: usize, r: usize): i32 {
  const e = changetype<Ipv6View>(p).check(len);
  if (e < 0) return e;
  const w = be32(p);
  memory.copy(r + IP6R_SRC, p + 8, 32);
  store<u8>(r + IP6R_NH, load<u8>(p + 6));
  store<u8>(r + IP6R_HLIM, load<u8>(p + 7));
  store<u8>(r + IP6R_TCLASS, <u8>(w >> 20));
  store<u32>(r + IP6R_FLOW, w & 0xfffff);
  store<u16>(r + IP6R_PLEN, <u16>be16(p + 4));
  return <i32>IPV6_HDR;
}

export function ipv6Emit(r: usize, p: usize, len: usize): i32 {
  if (len < IPV6_HDR) return WIRE_NOSPACE;
  putBe32(p, (6 << 28) | (<u32>load<u8>(r + IP6R_TCLASS) << 20) | (load<u32>(r + IP6R_FLOW) & 0xfffff));
  putBe16(p + 4, <u32>load<u16>(r + IP6R_PLEN));
  store<u8>(p + 6, load<u8>(r + IP6R_NH));
  store<u8>(p + 7, load<u8>(r + IP6R_HLIM));
  memory.copy(p + 8, r + IP6R_SRC, 32);
  return <i32>IPV6_HDR;
}

// Result of ipv6WalkExt, kept in globals (no allocation): the upper-layer protocol,
// the offset of its header from the start of the IPv6 header, and the fragment
// header fields if one was seen.
export let ext6Proto: u32 = 0;
export let ext6Off: u32 = 0;
export let ext6Frag: bool = false; // a fragment header with offset != 0 or M set
export let ext6FragOff: u32 = 0; // fragment offset in bytes
export let ext6Trunc: bool = false; // the walk stopped at the captured length

/** True for the next-header values the walk steps over. */
@inline export function isExt6(nh: u32): bool {
  return nh == NH_HOPOPT || nh == NH_ROUTING || nh == NH_FRAGMENT || nh == NH_DSTOPTS || nh == NH_AH;
}

/**
 * Walks the extension headers of the IPv6 packet at p (len captured bytes, the
 * fixed header already checked). Sets ext6*; returns the upper-layer protocol.
 * Every step advances by at least 8 bytes, so the walk terminates.
 */
export function ipv6WalkExt(p: usize, len: usize): u32 {
  let nh = <u32>load<u8>(p + 6);
  let off: usize = IPV6_HDR;
  ext6Frag = false;
  ext6FragOff = 0;
  ext6Trunc = false;
  while (isExt6(nh)) {
    if (off + 8 > len) {
      ext6Trunc = true;
      break;
    }
    const next = <u32>load<u8>(p + off);
    let hl: usize;
    if (nh == NH_FRAGMENT) {
      const fo = be16(p + off + 2);
      ext6FragOff = fo & 0xfff8;
      if ((fo & 0xfff9) != 0) ext6Frag = true; // offset or M flag (RFC 8200 §4.5)
      if (ext6FragOff != 0) {
        // A later fragment: what follows is the middle of the payload, not a header.
        off += 8;
        nh = next;
        break;
      }
      hl = 8;
    } else if (nh == NH_AH) {
      hl = (<usize>load<u8>(p + off + 1) + 2) << 2;
    } else {
      hl = (<usize>load<u8>(p + off + 1) + 1) << 3;
    }
    off += hl;
    nh = next;
  }
  ext6Proto = nh;
  ext6Off = <u32>off;
  return nh;
}

/** The header the stack sends: traffic class and flow label 0 (RFC 8200 §3; equal to ipv6Emit of the same fields). */
@inline export function ipv6EmitPlain(p: usize, payloadLen: u32, nextHeader: u32, hopLimit: u32, src: usize, dst: usize): void {
  putBe32(p, 0x60000000);
  putBe16(p + 4, payloadLen);
  store<u8>(p + 6, <u8>nextHeader);
  store<u8>(p + 7, <u8>hopLimit);
  memory.copy(p + 8, src, 16);
  memory.copy(p + 24, dst, 16);
}
