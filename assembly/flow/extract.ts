// Minimal, bounded tuple extractor for the dispatcher: link header (Ethernet
// with up to 3 VLAN tags, PPPoE session, raw IP, Linux SLL/SLL2, BSD
// NULL/LOOP) → IPv4/IPv6 (+ extension headers) → TCP/UDP ports, just enough to
// compute the RSS hash, like a NIC: no tunnels, no MPLS, outermost IP only.
// Written here because assembly/wire/ had no link-type demultiplexer when the
// dispatcher entry point was built. wire/decode.ts (wireDecodeFrame) now walks
// much more (tunnels, ICMP errors, tshark semantics) and costs more per frame;
// the dispatcher is the serial stage, so it keeps this lean walk, and
// test/flow/hash-vs-wire.test.ts checks both agree on the tuple of every
// corpus frame. Every read is checked against the captured length; anything
// unexpected ends the walk with what was found so far (addresses without
// ports, or nothing).
import { rssHashV4, rssHashV4Addr, rssHashV6, rssHashV6Addr } from "./toeplitz";

// Result flags (also the per-record flags of hashBatch).
export const TX_F_V4: u32 = 1;
export const TX_F_V6: u32 = 2;
export const TX_F_PORTS: u32 = 4; // TCP or UDP ports were hashed (4-tuple)
export const TX_F_FRAG: u32 = 8; // IP fragment: addresses only, so all fragments of a datagram stay together
export const TX_F_TRUNC: u32 = 16; // headers cut by the captured length

// Outputs of the last tupleHash call (module globals: no allocation).
export let txFlags: u32 = 0;
export let txProto: u32 = 0;
export let txL3: u32 = 0; // offset of the IP header in the frame

@inline function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

/** Offset of the IP header for a frame of this link type, and its version in
 * txFlags (TX_F_V4/TX_F_V6); -1 when there is no IP header or it is cut. */
function linkToIp(p: usize, len: u32, linktype: u32): i32 {
  let off: u32 = 0;
  let etype: u32 = 0;
  switch (linktype) {
    case 1: {
      // Ethernet, up to 3 VLAN tags (802.1Q, 802.1ad, legacy 0x9100).
      if (len < 14) return -1;
      off = 12;
      etype = be16(p + 12);
      for (let n = 0; n < 3 && (etype == 0x8100 || etype == 0x88a8 || etype == 0x9100); n++) {
        off += 4;
        if (off + 2 > len) return -1;
        etype = be16(p + off);
      }
      off += 2;
      if (etype == 0x8864) {
        // PPPoE session (RFC 2516): 6-byte header, then the 2-byte PPP protocol.
        if (off + 8 > len) return -1;
        const ppp = be16(p + off + 6);
        etype = ppp == 0x0021 ? 0x0800 : ppp == 0x0057 ? 0x86dd : 0;
        off += 8;
      }
      break;
    }
    case 101: case 12: case 14: {
      // Raw IP: version from the first nibble.
      if (len < 1) return -1;
      const v = <u32>load<u8>(p) >> 4;
      etype = v == 4 ? 0x0800 : v == 6 ? 0x86dd : 0;
      break;
    }
    case 228: etype = 0x0800; break;
    case 229: etype = 0x86dd; break;
    case 113: {
      // Linux cooked v1: protocol at 14, header 16.
      if (len < 16) return -1;
      etype = be16(p + 14);
      off = 16;
      break;
    }
    case 276: {
      // Linux cooked v2: protocol at 0, header 20.
      if (len < 20) return -1;
      etype = be16(p);
      off = 20;
      break;
    }
    case 0: case 108: {
      // BSD loopback: 4-byte family (NULL: host order, either endianness seen; LOOP: network order).
      if (len < 4) return -1;
      let fam = load<u32>(p);
      if (fam > 0xffff) fam = bswap<u32>(fam);
      etype = fam == 2 ? 0x0800 : fam == 24 || fam == 28 || fam == 30 ? 0x86dd : 0;
      off = 4;
      break;
    }
    default:
      return -1;
  }
  if (etype == 0x0800) txFlags = TX_F_V4;
  else if (etype == 0x86dd) txFlags = TX_F_V6;
  else return -1;
  return <i32>off;
}

/** RSS hash of the frame at p (len captured bytes, LINKTYPE_* linktype): the
 * 4-tuple for unfragmented TCP/UDP, the address pair for other IP packets, 0
 * (txFlags == 0) without an IP header. Sets txFlags, txProto, txL3. */
export function tupleHash(p: usize, len: u32, linktype: u32): u32 {
  txFlags = 0;
  txProto = 0;
  const l3 = linkToIp(p, len, linktype);
  if (l3 < 0) {
    txFlags = 0;
    return 0;
  }
  txL3 = <u32>l3;
  const ip = p + <usize>l3;
  const rem = len - <u32>l3;
  if (txFlags == TX_F_V4) {
    if (rem < 20 || (load<u8>(ip) >> 4) != 4) {
      txFlags = TX_F_TRUNC;
      return 0;
    }
    const ihl = (<u32>load<u8>(ip) & 15) << 2;
    const proto = <u32>load<u8>(ip, 9);
    txProto = proto;
    if ((be16(ip + 6) & 0x3fff) != 0) {
      txFlags |= TX_F_FRAG;
      return rssHashV4Addr(ip + 12, ip + 16);
    }
    if ((proto == 6 || proto == 17) && ihl >= 20) {
      if (ihl + 4 <= rem) {
        const l4 = ip + ihl;
        txFlags |= TX_F_PORTS;
        return rssHashV4(ip + 12, ip + 16, be16(l4), be16(l4 + 2));
      }
      txFlags |= TX_F_TRUNC;
    }
    return rssHashV4Addr(ip + 12, ip + 16);
  }
  // IPv6: step over hop-by-hop, routing, destination options and fragment
  // headers (at most 8, each at least 8 bytes) to reach TCP/UDP.
  if (rem < 40 || (load<u8>(ip) >> 4) != 6) {
    txFlags = TX_F_TRUNC;
    return 0;
  }
  let nh = <u32>load<u8>(ip, 6);
  let off: u32 = 40;
  for (let n = 0; n < 8; n++) {
    if (nh != 0 && nh != 43 && nh != 60 && nh != 44) break;
    if (off + 8 > rem) {
      txFlags |= TX_F_TRUNC;
      return rssHashV6Addr(ip + 8, ip + 24);
    }
    const h = ip + off;
    if (nh == 44) {
      if ((be16(h + 2) & 0xfff9) != 0) {
        txProto = <u32>load<u8>(h);
        txFlags |= TX_F_FRAG;
        return rssHashV6Addr(ip + 8, ip + 24);
      }
      off += 8; // atomic fragment (offset 0, no M): the header that follows is real
    } else {
      off += (<u32>load<u8>(h, 1) + 1) << 3;
    }
    nh = <u32>load<u8>(h);
  }
  txProto = nh;
  if (nh == 6 || nh == 17) {
    if (off + 4 <= rem) {
      const l4 = ip + off;
      txFlags |= TX_F_PORTS;
      return rssHashV6(ip + 8, ip + 24, be16(l4), be16(l4 + 2));
    }
    txFlags |= TX_F_TRUNC;
  }
  return rssHashV6Addr(ip + 8, ip + 24);
}
