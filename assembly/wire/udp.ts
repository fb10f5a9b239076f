// UDP header (RFC 768).
import { be16, putBe16, WIRE_MALFORMED, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";

export const UDP_HDR: usize = 8;

@unmanaged export class UdpView {
  @inline get ptr(): usize {
    return changetype<usize>(this);
  }
  @inline get srcPort(): u32 {
    return be16(this.ptr);
  }
  @inline get dstPort(): u32 {
    return be16(this.ptr + 2);
  }
  @inline get length(): u32 {
    return be16(this.ptr + 4);
  }
  @inline get checksum(): u32 {
    return be16(this.ptr + 6);
  }
}

// UdpRepr (8 bytes): src port u16 @0, dst port @2, length @4, checksum @6 (host order).
export const UDPR_SPORT: usize = 0;
export const UDPR_DPORT: usize = 2;
export const UDPR_LEN: usize = 4;
export const UDPR_CSUM: usize = 6;
export const UDPR_BYTES: usize = 8;

export function udpParse(p: usize, len: usize, r: usize): i32 {
  if (len < UDP_HDR) return WIRE_TRUNCATED;
  const v = changetype<UdpView>(p);
  if (v.length < 8) return WIRE_MALFORMED; // RFC 768: length includes the header
  store<u16>(r + UDPR_SPORT, <u16>v.srcPort);
  store<u16>(r + UDPR_DPORT, <u16>v.dstPort);
  store<u16>(r + UDPR_LEN, <u16>v.length);
  store<u16>(r + UDPR_CSUM, <u16>v.checksum);
  return <i32>UDP_HDR;
}

/** Writes the header with the repr's checksum; use l4ChecksumFill once the payload is in place. */
export function udpEmit(r: usize, p: usize, len: usize): i32 {
  if (len < UDP_HDR) return WIRE_NOSPACE;
  for (let i: usize = 0; i < 8; i += 2) putBe16(p + i, <u32>load<u16>(r + i));
  return <i32>UDP_HDR;
}
