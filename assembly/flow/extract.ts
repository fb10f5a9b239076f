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
import { rssHashV4Addr, rssHashV4Wire, rssHashV6Addr, rssHashV6Wire } from "./toeplitz";

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

// Why the walk is written the way it is (the per-frame fast path of the
// dispatcher and replay; measured with `bench cost` against host/measure/native/ref.c,
// together 1.7x faster on Ethernet IPv4 TCP): tupleHash and linkToIp are
// inlined into their few callers (hashBatchFrom, rpParse): Node 20's V8 does
// not inline wasm calls, and each call cost a frame with spills; the outputs
// are written once per frame from locals (a global read back right after a
// store waits for store forwarding); Ethernet is tested first, its EtherTypes
// compared without byte swaps; the ports are hashed from the raw bytes
// (rssHashV4Wire: no swap then split). Only untagged Ethernet IPv4 is inlined:
// VLAN/PPPoE, other link types and IPv6 are out-of-line functions, which keeps
// the inlined code small enough for V8 to hold the caller's loop in registers.

// EtherTypes as a little-endian u16 load of their two wire bytes sees them:
// Ethernet frames are matched without a byte swap.
const LE_IPV4: u32 = 0x0008; // 0x0800
const LE_IPV6: u32 = 0xdd86; // 0x86dd
const LE_PPPOE: u32 = 0x6488; // 0x8864, PPPoE session
const LE_PPP_IPV4: u32 = 0x2100; // PPP protocol 0x0021
const LE_PPP_IPV6: u32 = 0x5700; // PPP protocol 0x0057

/** 802.1Q (0x8100), 802.1ad (0x88a8) or legacy QinQ (0x9100) tag, little-endian. */
@inline function isVlanLe(t: u32): bool {
  return t == 0x0081 || t == 0xa888 || t == 0x0091;
}

/** Where the IP header starts in an Ethernet frame, packed as (offset << 8) |
 * TX_F_V4 or TX_F_V6; -1 when there is no IP header or it is cut. Untagged IP
 * is decided here (inlined); tags and PPPoE are walked out of line. */
@inline function ethToIp(p: usize, len: u32): i32 {
  if (len < 14) return -1;
  const t = <u32>load<u16>(p, 12);
  if (t == LE_IPV4) return <i32>((14 << 8) | TX_F_V4);
  if (t == LE_IPV6) return <i32>((14 << 8) | TX_F_V6);
  return ethTaggedToIp(p, len, t);
}

/** ethToIp past the first EtherType t: up to 3 VLAN tags, then optionally
 * PPPoE. The tags are unrolled (a loop adds V8's per-iteration stack check). */
function ethTaggedToIp(p: usize, len: u32, t: u32): i32 {
  let off: u32 = 14;
  if (isVlanLe(t)) {
    if (len < 18) return -1;
    t = <u32>load<u16>(p, 16);
    off = 18;
    if (isVlanLe(t)) {
      if (len < 22) return -1;
      t = <u32>load<u16>(p, 20);
      off = 22;
      if (isVlanLe(t)) {
        if (len < 26) return -1;
        t = <u32>load<u16>(p, 24);
        off = 26;
      }
    }
  }
  if (t == LE_PPPOE) {
    // PPPoE session (RFC 2516): 6-byte header, then the 2-byte PPP protocol.
    if (off + 8 > len) return -1;
    const ppp = <u32>load<u16>(p + off, 6);
    t = ppp == LE_PPP_IPV4 ? LE_IPV4 : ppp == LE_PPP_IPV6 ? LE_IPV6 : 0;
    off += 8;
  }
  if (t == LE_IPV4) return <i32>((off << 8) | TX_F_V4);
  if (t == LE_IPV6) return <i32>((off << 8) | TX_F_V6);
  return -1;
}

/** Where the IP header starts for a frame of this link type, packed as
 * (offset << 8) | TX_F_V4 or TX_F_V6; -1 when there is no IP header or it is cut. */
@inline function linkToIp(p: usize, len: u32, linktype: u32): i32 {
  if (linktype == 1) return ethToIp(p, len); // most frames
  return otherLinkToIp(p, len, linktype);
}

/** linkToIp for the link types other than Ethernet (out of line: keeps the
 * inlined Ethernet path small). */
function otherLinkToIp(p: usize, len: u32, linktype: u32): i32 {
  let off: u32 = 0;
  let etype: u32 = 0;
  switch (linktype) {
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
  if (etype == 0x0800) return <i32>((off << 8) | TX_F_V4);
  if (etype == 0x86dd) return <i32>((off << 8) | TX_F_V6);
  return -1;
}

/** Sets the outputs of tupleHash and returns the hash. */
@inline function done(flags: u32, proto: u32, hash: u32): u32 {
  txFlags = flags;
  txProto = proto;
  return hash;
}

/** RSS hash of the frame at p (len captured bytes, LINKTYPE_* linktype): the
 * 4-tuple for unfragmented TCP/UDP, the address pair for other IP packets, 0
 * (txFlags == 0) without an IP header. Sets txFlags, txProto, txL3 (txL3 only
 * when there is an IP header). */
@inline export function tupleHash(p: usize, len: u32, linktype: u32): u32 {
  const link = linkToIp(p, len, linktype);
  if (link < 0) return done(0, 0, 0);
  const l3 = <u32>link >> 8;
  txL3 = l3;
  const ip = p + <usize>l3;
  const rem = len - l3;
  if ((link & TX_F_V4) != 0) {
    if (rem < 20) return done(TX_F_TRUNC, 0, 0);
    const b0 = <u32>load<u8>(ip);
    if ((b0 >> 4) != 4) return done(TX_F_TRUNC, 0, 0);
    const ihl = (b0 & 15) << 2;
    const proto = <u32>load<u8>(ip, 9);
    // Flags and fragment offset (bytes 6-7) & 0x3fff, read little-endian: MF and the offset's 13 bits.
    if ((<u32>load<u16>(ip, 6) & 0xff3f) != 0) return done(TX_F_V4 | TX_F_FRAG, proto, rssHashV4Addr(ip + 12, ip + 16));
    if ((proto == 6 || proto == 17) && ihl >= 20) {
      if (ihl + 4 <= rem) return done(TX_F_V4 | TX_F_PORTS, proto, rssHashV4Wire(ip + 12, ip + 16, ip + <usize>ihl));
      return done(TX_F_V4 | TX_F_TRUNC, proto, rssHashV4Addr(ip + 12, ip + 16));
    }
    return done(TX_F_V4, proto, rssHashV4Addr(ip + 12, ip + 16));
  }
  return v6Hash(ip, rem);
}

/** tupleHash from an IPv6 header at ip with rem captured bytes (out of line:
 * 36 lookups and the extension walk would crowd the inlined IPv4 path). */
function v6Hash(ip: usize, rem: u32): u32 {
  // Step over hop-by-hop, routing, destination options and fragment
  // headers (at most 8, each at least 8 bytes) to reach TCP/UDP.
  if (rem < 40 || (load<u8>(ip) >> 4) != 6) return done(TX_F_TRUNC, 0, 0);
  let nh = <u32>load<u8>(ip, 6);
  let off: u32 = 40;
  for (let n = 0; n < 8; n++) {
    if (nh != 0 && nh != 43 && nh != 60 && nh != 44) break;
    if (off + 8 > rem) return done(TX_F_V6 | TX_F_TRUNC, 0, rssHashV6Addr(ip + 8, ip + 24));
    const h = ip + off;
    if (nh == 44) {
      if ((be16(h + 2) & 0xfff9) != 0) return done(TX_F_V6 | TX_F_FRAG, <u32>load<u8>(h), rssHashV6Addr(ip + 8, ip + 24));
      off += 8; // atomic fragment (offset 0, no M): the header that follows is real
    } else {
      off += (<u32>load<u8>(h, 1) + 1) << 3;
    }
    nh = <u32>load<u8>(h);
  }
  if (nh == 6 || nh == 17) {
    if (off + 4 <= rem) return done(TX_F_V6 | TX_F_PORTS, nh, rssHashV6Wire(ip + 8, ip + 24, ip + off));
    return done(TX_F_V6 | TX_F_TRUNC, nh, rssHashV6Addr(ip + 8, ip + 24));
  }
  return done(TX_F_V6, nh, rssHashV6Addr(ip + 8, ip + 24));
}
