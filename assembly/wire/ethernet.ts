// Ethernet II (IEEE 802.3 clause 3.1.1 with the EtherType of RFC 894) and the
// 802.1Q / 802.1ad tags that may follow the source address (0x8100 C-tag,
// 0x88a8 S-tag, 0x9100 legacy QinQ).
import { be16, putBe16, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";

export const ETH_HDR: usize = 14;
export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_ARP: u32 = 0x0806;
export const ETHERTYPE_VLAN: u32 = 0x8100;
export const ETHERTYPE_QINQ: u32 = 0x88a8;
export const ETHERTYPE_QINQ_OLD: u32 = 0x9100;
export const ETHERTYPE_IPV6: u32 = 0x86dd;
export const ETHERTYPE_MPLS_UC: u32 = 0x8847;
export const ETHERTYPE_MPLS_MC: u32 = 0x8848;
export const ETHERTYPE_PPPOE_SESSION: u32 = 0x8864;
export const ETHERTYPE_TEB: u32 = 0x6558; // transparent Ethernet bridging (GRE)
export const ETHERTYPE_ERSPAN2: u32 = 0x88be;
export const ETHERTYPE_ERSPAN3: u32 = 0x22eb;
export const ETHERTYPE_PPP: u32 = 0x880b; // PPP in GRE (PPTP, RFC 2637)

@inline export function isVlanTpid(t: u32): bool {
  return t == ETHERTYPE_VLAN || t == ETHERTYPE_QINQ || t == ETHERTYPE_QINQ_OLD;
}

/** Zero-cost view of an Ethernet header; check the length before use. */
@unmanaged export class EthView {
  @inline get ptr(): usize {
    return changetype<usize>(this);
  }
  @inline get ethertype(): u32 {
    return be16(this.ptr + 12);
  }
  @inline set ethertype(v: u32) {
    putBe16(this.ptr + 12, v);
  }
}

/** An untagged header as the stack sends it (the tagged ones come from ethEmit's Repr). */
@inline export function ethEmitPlain(p: usize, dstMac: usize, srcMac: usize, ethertype: u32): void {
  memory.copy(p, dstMac, 6);
  memory.copy(p + 6, srcMac, 6);
  putBe16(p + 12, ethertype);
}

// EthRepr (in memory, 32 bytes): dst[6] @0, src[6] @6, ethertype u16 @12 (after the
// tags), tag count u8 @14, then per tag (tpid u16, tci u16) @16 and @20.
export const ETHR_DST: usize = 0;
export const ETHR_SRC: usize = 6;
export const ETHR_TYPE: usize = 12;
export const ETHR_NTAGS: usize = 14;
export const ETHR_TAGS: usize = 16;
export const ETHR_BYTES: usize = 32;
export const ETH_MAX_TAGS: i32 = 2;

/** Parses an Ethernet header with up to two VLAN tags into the repr at r. Returns the header length. */
export function ethParse(p: usize, len: usize, r: usize): i32 {
  if (len < ETH_HDR) return WIRE_TRUNCATED;
  memory.copy(r, p, 12);
  let off: usize = 12;
  let n: i32 = 0;
  let t = be16(p + off);
  while (isVlanTpid(t) && n < ETH_MAX_TAGS) {
    if (off + 6 > len) return WIRE_TRUNCATED;
    store<u16>(r + ETHR_TAGS + (<usize>n << 2), <u16>t);
    store<u16>(r + ETHR_TAGS + (<usize>n << 2) + 2, <u16>be16(p + off + 2));
    off += 4;
    n++;
    t = be16(p + off);
  }
  store<u16>(r + ETHR_TYPE, <u16>t);
  store<u8>(r + ETHR_NTAGS, <u8>n);
  return <i32>(off + 2);
}

export function ethBufferLen(r: usize): i32 {
  return <i32>ETH_HDR + (<i32>load<u8>(r + ETHR_NTAGS) << 2);
}

export function ethEmit(r: usize, p: usize, len: usize): i32 {
  const n = <usize>load<u8>(r + ETHR_NTAGS);
  const need = ETH_HDR + (n << 2);
  if (len < need) return WIRE_NOSPACE;
  memory.copy(p, r, 12);
  let off: usize = 12;
  for (let i: usize = 0; i < n; i++) {
    putBe16(p + off, <u32>load<u16>(r + ETHR_TAGS + (i << 2)));
    putBe16(p + off + 2, <u32>load<u16>(r + ETHR_TAGS + (i << 2) + 2));
    off += 4;
  }
  putBe16(p + off, <u32>load<u16>(r + ETHR_TYPE));
  return <i32>need;
}
