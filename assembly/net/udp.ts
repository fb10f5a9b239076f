// UDP (RFC 768): datagrams to a listening port become EV_UDP_RECV events that
// point into the received mbuf; the mbuf lives until the end of the iteration
// (after the app's commands ran), then it is freed. CMD_UDP_SEND copies the
// app's bytes into a fresh mbuf.
import { MB_DATA_OFF, mbufAlloc, mbufData, mbufFree } from "../mem/mbuf";
import { C_PROTO_UNHANDLED, C_UDP_NO_APP, bump } from "../mem/counters";
import { be16 } from "../wire/bytes";
import { D_A, D_B, D_C, D_D, D_RET, EV_UDP_RECV, RET_INVAL, RET_NOMEM, RET_NOROUTE, RET_OK, evPush } from "../api/abi";
import { PKTF_L4_TRUNC, PKT_DMAC, PKT_FAMILY, PKT_FLAGS, PKT_L4, PKT_L4LEN, PKT_SMAC, PKT_SRC, pkt } from "./pkt";
import { TX_HEADROOM, ipSend } from "./ip";
import { ifHasV4, ifIpv4, ifIpv6, ifMac } from "./iface";
import { neighResolve } from "./neigh";

// Datagram address record given to the app with EV_UDP_RECV (64 bytes): the 40-byte
// flow key of flow/key.ts (family @0, proto @1, sport u16 @4, dport u16 @6 as numbers,
// src[16] @8, dst[16] @24) followed by the source MAC @40 and destination MAC @46.
export const UDPA_BYTES: usize = 64;
export const UDPA_SMAC: usize = 40;
export const UDPA_DMAC: usize = 46;
const MAX_HELD: u32 = 64; // one RX batch

const addrs = memory.data(<i32>(UDPA_BYTES * MAX_HELD), 16);
const held = memory.data(<i32>(4 * MAX_HELD), 4);
let heldCount: u32 = 0;
const listening = memory.data(8192, 8); // one bit per port
let listenAny = false;

export function udpListen(port: u32): void {
  if (port == 0) listenAny = true;
  else store<u8>(listening + (port >> 3), load<u8>(listening + (port >> 3)) | <u8>(1 << <u8>(port & 7)));
}

@inline function isListening(port: u32): bool {
  return listenAny || (load<u8>(listening + (port >> 3)) & <u8>(1 << <u8>(port & 7))) != 0;
}

export function udpInput(): void {
  const p = pkt();
  const m = load<usize>(p);
  const u = <usize>load<u32>(p + PKT_L4);
  const l4len = load<u32>(p + PKT_L4LEN);
  if (l4len < 8 || (load<u8>(p + PKT_FLAGS) & PKTF_L4_TRUNC) != 0) {
    bump(C_PROTO_UNHANDLED);
    mbufFree(m);
    return;
  }
  const ulen = be16(u + 4);
  const dport = be16(u + 2);
  if (ulen < 8 || ulen > l4len || !isListening(dport) || heldCount >= MAX_HELD) {
    bump(C_UDP_NO_APP);
    mbufFree(m);
    return;
  }
  const a = addrs + <usize>heldCount * UDPA_BYTES;
  store<u8>(a, load<u8>(p + PKT_FAMILY));
  store<u8>(a + 1, 17);
  store<u16>(a + 2, 0);
  store<u16>(a + 4, <u16>be16(u));
  store<u16>(a + 6, <u16>dport);
  memory.copy(a + 8, p + PKT_SRC, 32);
  memory.copy(a + UDPA_SMAC, p + PKT_SMAC, 6);
  memory.copy(a + UDPA_DMAC, p + PKT_DMAC, 6);
  store<u32>(held + (<usize>heldCount << 2), <u32>m);
  heldCount++;
  if (evPush(EV_UDP_RECV, 0, 0, <u32>(u + 8), ulen - 8, <u32>a, <u32>m) == 0) bump(C_UDP_NO_APP);
}

/** Frees the mbufs of this iteration's datagrams (call after the app's commands ran). */
export function udpRelease(): void {
  for (let i: u32 = 0; i < heldCount; i++) mbufFree(<usize>load<u32>(held + (<usize>i << 2)));
  heldCount = 0;
}

const macScratch = memory.data(8, 8);

/**
 * CMD_UDP_SEND: a = data, b = length, c = address record; d = 0: answer the
 * datagram the record describes (swap ends, reuse its MACs), d = 1: send to the
 * record's destination from its source (dst MAC resolved by ARP/ND; src 0 = ours).
 */
export function udpCommand(cmd: usize): void {
  const data = <usize>load<u32>(cmd + D_A);
  const len = load<u32>(cmd + D_B);
  const a = <usize>load<u32>(cmd + D_C);
  const asSent = load<u32>(cmd + D_D) == 1;
  if (a == 0 || len > 1472) {
    store<i32>(cmd + D_RET, RET_INVAL);
    return;
  }
  const family = <u32>load<u8>(a);
  let src = a + 24;
  let dst = a + 8;
  let sport = <u32>load<u16>(a + 6);
  let dport = <u32>load<u16>(a + 4);
  // A reply comes from the MAC the datagram was sent to, unless that was a group address.
  let smac = (load<u8>(a + UDPA_DMAC) & 1) != 0 ? ifMac() : a + UDPA_DMAC;
  let dmac = a + UDPA_SMAC;
  if (asSent) {
    src = a + 8;
    dst = a + 24;
    sport = <u32>load<u16>(a + 4);
    dport = <u32>load<u16>(a + 6);
    if (load<u64>(src) == 0 && load<u64>(src + 8) == 0) src = family == 4 ? ifIpv4() : ifIpv6();
    if (family == 4 && !ifHasV4()) {
      store<i32>(cmd + D_RET, RET_NOROUTE);
      return;
    }
    smac = ifMac();
    if (!neighResolve(family, dst, macScratch)) {
      store<i32>(cmd + D_RET, RET_NOROUTE);
      return;
    }
    dmac = macScratch;
  }
  const m = mbufAlloc();
  if (m == 0) {
    store<i32>(cmd + D_RET, RET_NOMEM);
    return;
  }
  store<u16>(m, TX_HEADROOM, MB_DATA_OFF);
  const u = mbufData(m);
  store<u16>(u, bswap<u16>(<u16>sport));
  store<u16>(u + 2, bswap<u16>(<u16>dport));
  store<u16>(u + 4, bswap<u16>(<u16>(len + 8)));
  store<u16>(u + 6, 0);
  memory.copy(u + 8, data, len);
  ipSend(m, family, src, dst, 17, len + 8, true, smac, dmac);
  store<i32>(cmd + D_RET, RET_OK);
}

