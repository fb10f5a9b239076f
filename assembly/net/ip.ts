// IP output and input (IPv4 RFC 791 / RFC 1122, IPv6 RFC 8200).
import { mbufFree } from "../mem/mbuf";

/** Headroom every transmitted mbuf keeps in front of the transport header: Ethernet (14) + IPv6 (40), rounded up. */
export const TX_HEADROOM: u16 = 64;

/**
 * Sends the transport segment at mbufData(m) (l4len bytes; the mbuf's dataOff
 * must be TX_HEADROOM) from `src` to `dst` (16-byte wire-order addresses, family
 * 4|6): prepends the IP header and the Ethernet header (srcMac -> dstMac), fills
 * the transport checksum (TCP/UDP/ICMPv6 via wire/checksum l4ChecksumFill) when
 * `csum` is true, and queues the frame for transmission. Takes ownership of m
 * (freed on failure). Returns false if the frame was dropped (counted).
 */
export function ipSend(m: usize, family: u32, src: usize, dst: usize, proto: u32, l4len: u32, csum: bool, srcMac: usize, dstMac: usize): bool {
  // Placeholder until net/ip output lands (being written now).
  mbufFree(m);
  return false;
}
