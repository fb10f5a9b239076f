// IP input and output: IPv4 (RFC 791, host requirements RFC 1122 §3.2.1) and
// IPv6 (RFC 8200). Input is a ladder of checks, each dropping with one named
// counter; what passes fills the packet record (net/pkt.ts) and goes to the
// transport handler chosen once at init. Fragments are counted and dropped:
// the core does not reassemble (see README).
import { inetChecksum, l4ChecksumFill, l4ChecksumOk } from "../wire/checksum";
import { ETH_HDR, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethEmitPlain } from "../wire/ethernet";
import { IPV4_MIN, Ipv4View, ipv4EmitPlain } from "../wire/ipv4";
import { IPV6_HDR, Ipv6View, ipv6EmitPlain, ipv6WalkExt, ext6Frag, ext6Off, ext6Trunc } from "../wire/ipv6";
import { MB_DATA_LEN, MB_DATA_OFF, mbufBuf, mbufData, mbufFree } from "../mem/mbuf";
import {
  C_FRAGMENTS, C_IP_BAD_CSUM, C_IP_BAD_HEADER, C_L4_BAD_CSUM, C_L4_TRUNCATED, C_NOT_FOR_US, C_PROTO_UNHANDLED, bump,
} from "../mem/counters";
import { PKTF_CSUM_OK, PKTF_L4_TRUNC, PKT_FAMILY, PKT_FLAGS, PKT_L3, PKT_L4, PKT_L4LEN, PKT_PROTO, PKT_SRC, PKT_DST, PKT_TTL, pkt } from "./pkt";
import { ifCheckCsum, ifFillCsum, isOurV4, isOurV6 } from "./iface";
import { txFrame } from "./netif";
import { copy32 } from "../wire/bytes";

/** Headroom every transmitted mbuf keeps in front of the transport header: Ethernet (14) + IPv6 (40), rounded up. */
export const TX_HEADROOM: u16 = 64;

export const PROTO_ICMP: u32 = 1;
export const PROTO_TCP: u32 = 6;
export const PROTO_UDP: u32 = 17;
export const PROTO_ICMP6: u32 = 58;

// Transport handlers, chosen once (replay modes and the full stack plug in here).
// Each takes ownership of the mbuf in pkt().
function dropUnhandled(): void {
  bump(C_PROTO_UNHANDLED);
  mbufFree(load<usize>(pkt()));
}
export let tcpHandler: () => void = dropUnhandled;
export let udpHandler: () => void = dropUnhandled;
export let icmpHandler: () => void = dropUnhandled;
export let icmp6Handler: () => void = dropUnhandled;
export function setTcpHandler(f: () => void): void {
  tcpHandler = f;
}
export function setUdpHandler(f: () => void): void {
  udpHandler = f;
}
export function setIcmpHandlers(v4: () => void, v6: () => void): void {
  icmpHandler = v4;
  icmp6Handler = v6;
}

@inline function drop(m: usize, counter: i32): void {
  bump(counter);
  mbufFree(m);
}

/** Verifies the transport checksum unless disabled; true if the packet may go on. */
@inline function checksumPasses(family: i32, l3: usize, proto: u32, l4: usize, l4len: u32, truncated: bool): bool {
  const p = pkt();
  if (!ifCheckCsum()) {
    store<u8>(p + PKT_FLAGS, load<u8>(p + PKT_FLAGS) | PKTF_CSUM_OK);
    return true;
  }
  if (truncated) return true; // cannot verify what was not captured; flagged PKTF_L4_TRUNC
  if (!l4ChecksumOk(family, l3, proto, l4, l4len)) return false;
  store<u8>(p + PKT_FLAGS, load<u8>(p + PKT_FLAGS) | PKTF_CSUM_OK);
  return true;
}

@inline function toTransport(m: usize, proto: u32): void {
  if (proto == PROTO_TCP) tcpHandler();
  else if (proto == PROTO_UDP) udpHandler();
  // ICMP is IPv4's (RFC 792), ICMPv6 IPv6's (RFC 4443): in the other family they are unknown protocols.
  else if (proto == PROTO_ICMP && load<u8>(pkt() + PKT_FAMILY) == 4) icmpHandler();
  else if (proto == PROTO_ICMP6 && load<u8>(pkt() + PKT_FAMILY) == 6) icmp6Handler();
  else drop(m, C_PROTO_UNHANDLED);
}

/** IPv4 packet at l3 with `avail` captured bytes in mbuf m. */
export function ipv4Input(m: usize, l3: usize, avail: u32): void {
  // RFC 1122 §3.2.1.1-2: version 4, IHL ≥ 5, total length ≥ header; header checksum verified.
  const ip = changetype<Ipv4View>(l3);
  if (ip.check(avail) != 0) return drop(m, C_IP_BAD_HEADER);
  const ihl = ip.hdrLen;
  const total = ip.totalLen;
  if (total < ihl) return drop(m, C_IP_BAD_HEADER);
  // Captures from hosts with checksum offload carry unfinished checksums: the
  // no-checksum flag (replay serve) skips this one too.
  if (ifCheckCsum() && inetChecksum(l3, ihl) != 0) return drop(m, C_IP_BAD_CSUM);
  // Fragments are not reassembled (README: "not supported").
  if (ip.isFragment) return drop(m, C_FRAGMENTS);
  if (!isOurV4(ip.dst)) return drop(m, C_NOT_FOR_US);
  const p = pkt();
  const proto = ip.proto;
  let l4len = total - ihl;
  let flags: u8 = 0;
  if (total > avail) {
    // Captured short of the IP length (snaplen): hand on what is there, flagged.
    l4len = avail - ihl;
    flags = PKTF_L4_TRUNC;
    bump(C_L4_TRUNCATED);
  }
  store<usize>(p, m);
  store<u8>(p + PKT_FAMILY, 4);
  store<u8>(p + PKT_PROTO, <u8>proto);
  store<u8>(p + PKT_TTL, <u8>ip.ttl);
  store<u8>(p + PKT_FLAGS, flags);
  store<u32>(p + PKT_L3, <u32>l3);
  store<u32>(p + PKT_L4, <u32>(l3 + ihl));
  store<u32>(p + PKT_L4LEN, l4len);
  store<u64>(p + PKT_SRC, <u64>load<u32>(ip.src));
  store<u64>(p + PKT_SRC + 8, 0);
  store<u64>(p + PKT_DST, <u64>load<u32>(ip.dst));
  store<u64>(p + PKT_DST + 8, 0);
  if (proto == PROTO_TCP || proto == PROTO_UDP) {
    if (!checksumPasses(4, l3, proto, l3 + ihl, l4len, flags != 0)) return drop(m, C_L4_BAD_CSUM);
  }
  toTransport(m, proto);
}

/** IPv6 packet at l3 with `avail` captured bytes in mbuf m. */
export function ipv6Input(m: usize, l3: usize, avail: u32): void {
  const ip = changetype<Ipv6View>(l3);
  if (ip.check(avail) != 0) return drop(m, C_IP_BAD_HEADER);
  const plen = ip.payloadLen;
  if (plen == 0) return drop(m, C_PROTO_UNHANDLED); // jumbograms (RFC 2675) are not served
  if (!isOurV6(ip.dst)) return drop(m, C_NOT_FOR_US);
  const proto = ipv6WalkExt(l3, avail);
  if (ext6Trunc) return drop(m, C_IP_BAD_HEADER);
  if (ext6Frag) return drop(m, C_FRAGMENTS);
  const l4 = l3 + <usize>ext6Off;
  const end: u32 = 40 + plen;
  if (ext6Off > end) return drop(m, C_IP_BAD_HEADER);
  let l4len = end - ext6Off;
  let flags: u8 = 0;
  if (end > avail) {
    l4len = avail - ext6Off;
    flags = PKTF_L4_TRUNC;
    bump(C_L4_TRUNCATED);
  }
  const p = pkt();
  store<usize>(p, m);
  store<u8>(p + PKT_FAMILY, 6);
  store<u8>(p + PKT_PROTO, <u8>proto);
  store<u8>(p + PKT_TTL, <u8>ip.hopLimit);
  store<u8>(p + PKT_FLAGS, flags);
  store<u32>(p + PKT_L3, <u32>l3);
  store<u32>(p + PKT_L4, <u32>l4);
  store<u32>(p + PKT_L4LEN, l4len);
  copy32(p + PKT_SRC, ip.src); // src and dst are adjacent in both
  if (proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_ICMP6) {
    if (!checksumPasses(6, l3, proto, l4, l4len, flags != 0)) return drop(m, C_L4_BAD_CSUM);
  }
  toTransport(m, proto);
}

let ipIdent: u32 = 0;

/**
 * Sends the transport segment at mbufData(m) (l4len bytes; the mbuf's dataOff
 * must be TX_HEADROOM) from `src` to `dst` (16-byte wire-order addresses, family
 * 4|6): prepends the IP header and the Ethernet header (srcMac -> dstMac), fills
 * the transport checksum (TCP/UDP/ICMPv6) when `csum` is true, and queues the
 * frame for transmission. Takes ownership of m. Returns false if dropped.
 */
export function ipSend(m: usize, family: u32, src: usize, dst: usize, proto: u32, l4len: u32, csum: bool, srcMac: usize, dstMac: usize): bool {
  return ipSendHops(m, family, src, dst, proto, l4len, csum, srcMac, dstMac, 64);
}

/** ipSend with an explicit TTL / hop limit (neighbour discovery needs 255, RFC 4861 §7.1). */
export function ipSendHops(m: usize, family: u32, src: usize, dst: usize, proto: u32, l4len: u32, csum: bool, srcMac: usize, dstMac: usize, hops: u32): bool {
  const l4 = mbufData(m);
  let l3: usize;
  let ethType: u32;
  if (family == 4) {
    l3 = l4 - IPV4_MIN;
    ipv4EmitPlain(l3, l4len, ipIdent++, hops, proto, src, dst, ifFillCsum());
    ethType = ETHERTYPE_IPV4;
  } else {
    l3 = l4 - IPV6_HDR;
    ipv6EmitPlain(l3, l4len, proto, hops, src, dst);
    ethType = ETHERTYPE_IPV6;
  }
  if (csum && ifFillCsum()) l4ChecksumFill(<i32>family, l3, proto, l4, l4len);
  const eth = l3 - ETH_HDR;
  ethEmitPlain(eth, dstMac, srcMac, ethType);
  store<u16>(m, <u16>(eth - mbufBuf(m)), MB_DATA_OFF);
  store<u16>(m, <u16>(<u32>(l4 - eth) + l4len), MB_DATA_LEN);
  return txFrame(m);
}
