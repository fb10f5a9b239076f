// ICMP echo (RFC 792) and ICMPv6 echo (RFC 4443 §4) answered; neighbour
// discovery handed to net/neigh.ts; everything else counted and dropped.
import { MB_DATA_OFF, MBUF_DATA_DEFAULT, mbufBuf, mbufDataBytes, mbufFree } from "../mem/mbuf";
import { C_ICMP_ECHO, C_L4_BAD_CSUM, C_PROTO_UNHANDLED, bump } from "../mem/counters";
import { inetChecksum } from "../wire/checksum";
import { PKTF_L4_TRUNC, PKT_FLAGS, PKT_L4, PKT_L4LEN, PKT_SMAC, PKT_SRC, pkt } from "./pkt";
import { TX_HEADROOM, ipSend } from "./ip";
import { replySrcAddr, replySrcMac } from "./iface";
import { ndInput } from "./neigh";

/**
 * Turns the echo request in m around into its reply (type `replyType`), in its
 * own mbuf, and sends it back the way it came. The transport header stays where
 * it is; the IP and Ethernet headers ipSend writes in front of it fit in the
 * bytes the request's own headers took (no option or extension header is sent
 * back). No allocation and no copy: a lone ping's reply on the tap is on its
 * latency path (docs/measurement/performance-log.md §12).
 */
function echoReply(m: usize, family: u32, replyType: u8, proto: u32): void {
  const p = pkt();
  const l4 = <usize>load<u32>(p + PKT_L4);
  const len = load<u32>(p + PKT_L4LEN);
  // Echo data up to 1500 bytes with the default mbufs; with larger mbufs, what
  // fits one after the headroom and an Ethernet + IPv6 header (the bound of the
  // time the reply was a copy in a fresh mbuf, kept so what is answered stays the same).
  const lim: u32 = mbufDataBytes == MBUF_DATA_DEFAULT ? 1500 : <u32>mbufDataBytes - TX_HEADROOM - 54;
  if ((load<u8>(p + PKT_FLAGS) & PKTF_L4_TRUNC) != 0 || len > lim) {
    bump(C_PROTO_UNHANDLED);
    mbufFree(m);
    return;
  }
  store<u16>(m, <u16>(l4 - mbufBuf(m)), MB_DATA_OFF);
  if (family == 4) {
    // The request's checksum was verified (icmpInput: a truncated one is refused above), so
    // the reply's is an update for the one word that changes, type and code (RFC 1624 eqn. 3:
    // HC' = ~(~HC + ~m + m')), not a new sum over the whole message.
    const m0 = <u32>bswap<u16>(load<u16>(l4)); // type << 8 | code, as the checksum sums it
    const m1 = (<u32>replyType << 8) | (m0 & 0xff);
    let sum = (~<u32>bswap<u16>(load<u16>(l4 + 2)) & 0xffff) + (~m0 & 0xffff) + m1;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    // ~sum is 0 when the reply's other words sum to zero (id, seq and data all zero): a
    // receiver that folds and complements rejects 0x0000 there, while 0xffff (the other
    // zero of ones' complement) is right whatever they sum to (a fresh sum gives it).
    const hc = ~sum & 0xffff;
    store<u16>(l4 + 2, bswap<u16>(<u16>(hc == 0 ? 0xffff : hc)));
  } else store<u16>(l4 + 2, 0); // ICMPv6: ipSend sums it with the pseudo-header
  store<u8>(l4, replyType);
  bump(C_ICMP_ECHO);
  // Reply from the address and MAC the request was sent to (any-address mode answers as them):
  // pkt() holds copies of both addresses and MACs, so overwriting the request's headers is safe.
  ipSend(m, family, replySrcAddr(), p + PKT_SRC, proto, len, family == 6, replySrcMac(), p + PKT_SMAC);
}

export function icmpInput(): void {
  const p = pkt();
  const m = load<usize>(p);
  const l4 = <usize>load<u32>(p + PKT_L4);
  const len = load<u32>(p + PKT_L4LEN);
  if (len < 8 || (load<u8>(p + PKT_FLAGS) & PKTF_L4_TRUNC) == 0 && inetChecksum(l4, len) != 0) {
    bump(C_L4_BAD_CSUM);
    mbufFree(m);
    return;
  }
  if (load<u8>(l4) == 8 && load<u8>(l4 + 1) == 0) echoReply(m, 4, 0, 1);
  else {
    bump(C_PROTO_UNHANDLED);
    mbufFree(m);
  }
}

/** ICMPv6; the checksum (with pseudo-header) was verified by ipv6Input. */
export function icmp6Input(): void {
  const p = pkt();
  const m = load<usize>(p);
  const l4 = <usize>load<u32>(p + PKT_L4);
  if (load<u32>(p + PKT_L4LEN) < 8) {
    bump(C_PROTO_UNHANDLED);
    mbufFree(m);
    return;
  }
  const type = <u32>load<u8>(l4);
  if (type == 128) echoReply(m, 6, 129, 58);
  else if (type == 135 || type == 136) ndInput(m, type);
  else {
    bump(C_PROTO_UNHANDLED);
    mbufFree(m);
  }
}
