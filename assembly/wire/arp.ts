// ARP (RFC 826) for Ethernet/IPv4 only: hardware type 1, protocol 0x0800,
// address lengths 6 and 4. Other combinations are a value, not an error: parse
// returns WIRE_UNSUPPORTED and the caller counts the frame as non-IP.
import { be16, putBe16, WIRE_NOSPACE, WIRE_TRUNCATED, WIRE_UNSUPPORTED } from "./bytes";

export const ARP_LEN: usize = 28;
export const ARP_OP_REQUEST: u32 = 1;
export const ARP_OP_REPLY: u32 = 2;

// ArpRepr (32 bytes): op u16 @0, sha[6] @2, spa[4] @8, tha[6] @12, tpa[4] @18.
export const ARPR_OP: usize = 0;
export const ARPR_SHA: usize = 2;
export const ARPR_SPA: usize = 8;
export const ARPR_THA: usize = 12;
export const ARPR_TPA: usize = 18;
export const ARPR_BYTES: usize = 32;

export function arpParse(p: usize, len: usize, r: usize): i32 {
  if (len < 8) return WIRE_TRUNCATED;
  if (be16(p) != 1 || be16(p + 2) != 0x0800 || load<u8>(p + 4) != 6 || load<u8>(p + 5) != 4)
    return WIRE_UNSUPPORTED;
  if (len < ARP_LEN) return WIRE_TRUNCATED;
  store<u16>(r + ARPR_OP, <u16>be16(p + 6));
  memory.copy(r + ARPR_SHA, p + 8, 20); // sha, spa, tha, tpa are contiguous in both
  return <i32>ARP_LEN;
}

export function arpEmit(r: usize, p: usize, len: usize): i32 {
  if (len < ARP_LEN) return WIRE_NOSPACE;
  putBe16(p, 1);
  putBe16(p + 2, 0x0800);
  store<u8>(p + 4, 6);
  store<u8>(p + 5, 4);
  putBe16(p + 6, <u32>load<u16>(r + ARPR_OP));
  memory.copy(p + 8, r + ARPR_SHA, 20);
  return <i32>ARP_LEN;
}
