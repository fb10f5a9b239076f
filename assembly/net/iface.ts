// This core's own link and network identity, from the config words. In replay
// serve mode the core takes on every server address of a capture instead
// (IFACE_ANY): it accepts frames for any destination and answers from the
// address the frame was sent to.
import { CFG_FLAGS, CFG_F_ANY_ADDRESS, CFG_F_NO_CSUM_CHECK, CFG_F_TX_CSUM_OFFLOAD, CFG_IPV4, CFG_IPV6_0, CFG_MAC_HI, CFG_MAC_LO, cfg } from "../mem/layout";
import { PKT_DMAC, PKT_DST, PKT_FAMILY, pkt } from "./pkt";

const ident = memory.data(64, 16);
export const IF_MAC: usize = 0; // 6 bytes
export const IF_IPV4: usize = 8; // 4 bytes
export const IF_IPV6: usize = 16; // 16 bytes
export const IF_SOLICITED: usize = 32; // 16 bytes: solicited-node multicast of IF_IPV6 (RFC 4291 §2.7.1)

let anyAddress = false;
let checkCsum = true;
let fillCsum = true;
let hasV4 = false;
let hasV6 = false;

export function ifaceInit(): void {
  store<u32>(ident + IF_MAC, cfg(CFG_MAC_LO));
  store<u16>(ident + IF_MAC + 4, <u16>cfg(CFG_MAC_HI));
  store<u32>(ident + IF_IPV4, cfg(CFG_IPV4));
  for (let i = 0; i < 4; i++) store<u32>(ident + IF_IPV6 + (<usize>i << 2), cfg(CFG_IPV6_0 + i));
  // ff02::1:ffXX:XXXX with the low 24 bits of the address.
  memory.fill(ident + IF_SOLICITED, 0, 16);
  store<u8>(ident + IF_SOLICITED, 0xff);
  store<u8>(ident + IF_SOLICITED + 1, 0x02);
  store<u8>(ident + IF_SOLICITED + 11, 0x01);
  store<u8>(ident + IF_SOLICITED + 12, 0xff);
  memory.copy(ident + IF_SOLICITED + 13, ident + IF_IPV6 + 13, 3);
  const flags = cfg(CFG_FLAGS);
  anyAddress = (flags & CFG_F_ANY_ADDRESS) != 0;
  checkCsum = (flags & CFG_F_NO_CSUM_CHECK) == 0;
  fillCsum = (flags & CFG_F_TX_CSUM_OFFLOAD) == 0;
  hasV4 = load<u32>(ident + IF_IPV4) != 0;
  hasV6 = load<u64>(ident + IF_IPV6) != 0 || load<u64>(ident + IF_IPV6 + 8) != 0;
}

@inline export function ifMac(): usize {
  return ident + IF_MAC;
}
@inline export function ifIpv4(): usize {
  return ident + IF_IPV4;
}
@inline export function ifIpv6(): usize {
  return ident + IF_IPV6;
}
@inline export function ifSolicited(): usize {
  return ident + IF_SOLICITED;
}
@inline export function ifAnyAddress(): bool {
  return anyAddress;
}
@inline export function ifCheckCsum(): bool {
  return checkCsum;
}
/** False with CFG_F_TX_CSUM_OFFLOAD: sent frames keep zero checksums. */
@inline export function ifFillCsum(): bool {
  return fillCsum;
}
@inline export function ifHasV4(): bool {
  return hasV4;
}
@inline export function ifHasV6(): bool {
  return hasV6;
}

/** Frame addressed to us at the link layer: our MAC, broadcast, multicast, or anything in any-address mode. */
@inline export function macAccepts(dst: usize): bool {
  if (anyAddress) return true;
  if ((load<u8>(dst) & 1) != 0) return true; // group bit: broadcast and multicast (IPv6 ND)
  return load<u32>(dst) == load<u32>(ident + IF_MAC) && load<u16>(dst + 4) == load<u16>(ident + IF_MAC + 4);
}

@inline export function isOurV4(a: usize): bool {
  return anyAddress || (hasV4 && load<u32>(a) == load<u32>(ident + IF_IPV4));
}

@inline export function eq16(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a + 8) == load<u64>(b + 8);
}

/** Our unicast address, the all-nodes group ff02::1, or our solicited-node group. */
export function isOurV6(a: usize): bool {
  if (anyAddress) return true;
  if (!hasV6) return false;
  if (eq16(a, ident + IF_IPV6) || eq16(a, ident + IF_SOLICITED)) return true;
  return load<u64>(a) == 0x02ff && load<u32>(a + 8) == 0 && load<u32>(a + 12) == 0x01000000;
}

/** Source MAC for a reply to pkt(): the MAC it was sent to, unless that was a group address. */
export function replySrcMac(): usize {
  const d = pkt() + PKT_DMAC;
  return (load<u8>(d) & 1) != 0 ? ident + IF_MAC : d;
}

/** Source address for a reply to pkt(): the address it was sent to, unless multicast/broadcast. */
export function replySrcAddr(): usize {
  const p = pkt();
  const d = p + PKT_DST;
  if (load<u8>(p + PKT_FAMILY) == 6) return load<u8>(d) == 0xff ? ident + IF_IPV6 : d;
  const b0 = load<u8>(d);
  return b0 >= 224 || load<u32>(d) == 0xffffffff ? ident + IF_IPV4 : d;
}
