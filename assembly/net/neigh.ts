// Neighbour cache: ARP for IPv4 (RFC 826) and neighbour discovery for IPv6
// (RFC 4861 §7), one table of fixed size in region R_NEIGH. Entries expire after
// NEIGH_TTL_US; a miss sends one request per address per NEIGH_RETRY_US (the
// caller's segment waits for its retransmission timer), gratuitous ARP
// announces this core's address at start (RFC 5227 §3).
import { CFG_NEIGH_SLOTS, R_NEIGH, cfg, regionOffset } from "../mem/layout";
import { MB_DATA_LEN, MB_DATA_OFF, mbufAlloc, mbufData, mbufFree } from "../mem/mbuf";
import { C_ARP_IN, C_ARP_REPLIES, C_ND_IN, C_NEIGH_MISS, C_NOT_FOR_US, C_RUNT, bump } from "../mem/counters";
import { be16, copy6 } from "../wire/bytes";
import { PKT_L4, PKT_L4LEN, PKT_NOW_US, PKT_SRC, PKT_TTL, pkt } from "./pkt";
import { eq16, ifHasV4, ifHasV6, ifIpv4, ifIpv6, ifMac } from "./iface";
import { TX_HEADROOM, ipSendHops } from "./ip";
import { txFrame } from "./netif";

// Entry (32 bytes): family u8 @0, state u8 @1, pad, mac[6] @2, expires u64 @8 (µs), addr[16] @16.
export const NEIGH_ENTRY_BYTES: usize = 32;
const N_FAMILY: usize = 0;
const N_STATE: usize = 1;
const N_MAC: usize = 2;
const N_EXPIRES: usize = 8;
const N_ADDR: usize = 16;
const ST_FREE: u8 = 0;
const ST_INCOMPLETE: u8 = 1; // request sent, no answer yet; N_EXPIRES = when to ask again
const ST_REACHABLE: u8 = 2;

export const NEIGH_TTL_US: u64 = 60_000_000; // Linux's default base_reachable_time is 30 s; resolution is cheap here
export const NEIGH_RETRY_US: u64 = 1_000_000; // RFC 1122 §2.3.2.1: at most one ARP request per second per address

let table: usize = 0;
let slots: u32 = 0;
const BROADCAST = memory.data<u8>([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function neighInit(): void {
  table = regionOffset(R_NEIGH);
  slots = cfg(CFG_NEIGH_SLOTS);
  reaskAt = 0;
  if (slots != 0) memory.fill(table, 0, <usize>slots * NEIGH_ENTRY_BYTES);
}

@inline function now(): u64 {
  return load<u64>(pkt() + PKT_NOW_US);
}

/** Hash of the address into the table; linear probe over a few slots. */
@inline function home(addr: usize): u32 {
  const h = (load<u32>(addr) ^ load<u32>(addr + 12)) * 0x9e3779b1;
  return (h >> 8) % slots;
}

const PROBE: u32 = 8;
let learned: u32 = 0; // neighLearn calls so far: tcp/neigh-wait.ts retries waiting SYNs when it moves

/** Count of addresses learned so far (changes whenever the cache may answer something new). */
export function neighLearned(): u32 {
  return learned;
}

function find(family: u32, addr: usize): usize {
  if (slots == 0) return 0;
  const h = home(addr);
  for (let i: u32 = 0; i < PROBE && i < slots; i++) {
    const e = table + <usize>((h + i) % slots) * NEIGH_ENTRY_BYTES;
    if (load<u8>(e + N_STATE) != ST_FREE && load<u8>(e + N_FAMILY) == <u8>family && eq16(e + N_ADDR, addr)) return e;
  }
  return 0;
}

/** Slot for a new entry: a free one, else an expired one, else the home slot (evicted). */
function claim(family: u32, addr: usize): usize {
  const h = home(addr);
  const t = now();
  let victim: usize = 0;
  for (let i: u32 = 0; i < PROBE && i < slots; i++) {
    const e = table + <usize>((h + i) % slots) * NEIGH_ENTRY_BYTES;
    const st = load<u8>(e + N_STATE);
    if (st == ST_FREE) {
      victim = e;
      break;
    }
    if (victim == 0 && load<u64>(e + N_EXPIRES) <= t) victim = e;
  }
  if (victim == 0) victim = table + <usize>h * NEIGH_ENTRY_BYTES;
  store<u8>(victim + N_FAMILY, <u8>family);
  memory.copy(victim + N_ADDR, addr, 16);
  return victim;
}

/** Records addr → mac (from any ARP packet or ND message naming a sender, RFC 826 "merge"). */
export function neighLearn(family: u32, addr: usize, mac: usize): void {
  if (slots == 0) return;
  learned++;
  let e = find(family, addr);
  if (e == 0) e = claim(family, addr);
  memory.copy(e + N_MAC, mac, 6);
  store<u8>(e + N_STATE, ST_REACHABLE);
  store<u64>(e + N_EXPIRES, now() + NEIGH_TTL_US);
}

/**
 * Link address for addr (16 bytes, wire order; IPv4 in the first 4) into macOut.
 * On a miss sends (at most once per NEIGH_RETRY_US) an ARP request or neighbour
 * solicitation and returns false: the caller keeps its segment for its own retry.
 */
export function neighResolve(family: u32, addr: usize, macOut: usize): bool {
  let e = find(family, addr);
  const t = now();
  if (e != 0 && load<u8>(e + N_STATE) == ST_REACHABLE && load<u64>(e + N_EXPIRES) > t) {
    copy6(macOut, e + N_MAC);
    return true;
  }
  bump(C_NEIGH_MISS);
  if (slots == 0) return false;
  if (e == 0) e = claim(family, addr);
  else if (load<u8>(e + N_STATE) == ST_INCOMPLETE && load<u64>(e + N_EXPIRES) > t) return false;
  store<u8>(e + N_STATE, ST_INCOMPLETE);
  store<u64>(e + N_EXPIRES, t + NEIGH_RETRY_US);
  if (family == 4) arpSend(1, addr, BROADCAST, BROADCAST);
  else ndSolicit(addr);
  return false;
}

let reaskAt: u64 = 0; // neighRecheck's requests: at most one per NEIGH_RETRY_US per core

/**
 * For a connection whose retransmissions go unanswered: reachability is
 * confirmed by the upper layer's progress (RFC 4861 §7.3.1), and without it the
 * address may be wrong (a corrupted or stale answer). With `ask`, asks for addr
 * again (broadcast, at most once a second per core); whenever the cache has it
 * reachable, copies its link address into macOut (the answer to an earlier ask).
 * Addresses the cache never held (a replayed capture's peers) are left alone.
 */
export function neighRecheck(family: u32, addr: usize, macOut: usize, ask: bool): void {
  const e = find(family, addr);
  if (e == 0) return;
  const t = now();
  if (ask && t >= reaskAt) {
    reaskAt = t + NEIGH_RETRY_US;
    if (family == 4) arpSend(1, addr, BROADCAST, BROADCAST);
    else ndSolicit(addr);
  }
  if (load<u8>(e + N_STATE) == ST_REACHABLE) memory.copy(macOut, e + N_MAC, 6);
}

// ---- ARP --------------------------------------------------------------------------

/** Builds and queues an ARP packet: op 1 request / 2 reply, asking for or answering tpa. */
function arpSend(op: u32, tpa: usize, tha: usize, ethDst: usize): void {
  if (!ifHasV4()) return;
  const m = mbufAlloc();
  if (m == 0) return;
  store<u16>(m, 0, MB_DATA_OFF);
  const f = mbufData(m);
  memory.copy(f, ethDst, 6);
  memory.copy(f + 6, ifMac(), 6);
  store<u16>(f + 12, bswap<u16>(0x0806));
  const a = f + 14;
  store<u16>(a, bswap<u16>(1)); // Ethernet
  store<u16>(a + 2, bswap<u16>(0x0800));
  store<u8>(a + 4, 6);
  store<u8>(a + 5, 4);
  store<u16>(a + 6, bswap<u16>(<u16>op));
  memory.copy(a + 8, ifMac(), 6);
  memory.copy(a + 14, ifIpv4(), 4);
  if (op == 1) memory.fill(a + 18, 0, 6);
  else memory.copy(a + 18, tha, 6);
  memory.copy(a + 24, tpa, 4);
  memory.fill(a + 28, 0, 18); // pad to the 60-byte Ethernet minimum
  store<u16>(m, 60, MB_DATA_LEN);
  txFrame(m);
}

/** Announces our IPv4 address (gratuitous ARP request, RFC 5227 §3). */
export function arpAnnounce(): void {
  if (ifHasV4()) arpSend(1, ifIpv4(), BROADCAST, BROADCAST);
}

const spaScratch = memory.data(16, 16);

/** ARP packet at a (len bytes after the Ethernet header) in mbuf m. */
export function arpInput(m: usize, a: usize, len: u32): void {
  bump(C_ARP_IN);
  if (len < 28 || be16(a) != 1 || be16(a + 2) != 0x0800 || load<u8>(a + 4) != 6 || load<u8>(a + 5) != 4) {
    bump(C_RUNT);
    mbufFree(m);
    return;
  }
  const op = be16(a + 6);
  memory.fill(spaScratch, 0, 16);
  memory.copy(spaScratch, a + 14, 4);
  const forUs = ifHasV4() && load<u32>(a + 24) == load<u32>(ifIpv4());
  // RFC 826: update the sender if known; add it if the request is for us.
  if (forUs || find(4, spaScratch) != 0) neighLearn(4, spaScratch, a + 8);
  if (op == 1 && forUs) {
    const sha = memory.data(8, 8);
    memory.copy(sha, a + 8, 6);
    arpSend(2, spaScratch, sha, sha);
    bump(C_ARP_REPLIES);
  } else if (!forUs) bump(C_NOT_FOR_US);
  mbufFree(m);
}

// ---- IPv6 neighbour discovery ------------------------------------------------------

const ndDst = memory.data(16, 16);
const ndMac = memory.data(8, 8);
const ndTarget = memory.data(16, 16);

/** Neighbour solicitation for target to its solicited-node group (RFC 4861 §7.2.2). */
function ndSolicit(target: usize): void {
  if (!ifHasV6()) return;
  memory.fill(ndDst, 0, 16);
  store<u16>(ndDst, 0x02ff);
  store<u8>(ndDst + 11, 1);
  store<u8>(ndDst + 12, 0xff);
  memory.copy(ndDst + 13, target + 13, 3);
  store<u16>(ndMac, 0x3333);
  memory.copy(ndMac + 2, ndDst + 12, 4);
  ndSend(135, target, 0, 1, ndDst, ndMac);
}

/** Builds an NS (135) or NA (136) for target with our link-layer address option (type 1 source / 2 target). */
function ndSend(type: u32, target: usize, naFlags: u32, optType: u32, dst: usize, dstMac: usize): void {
  const m = mbufAlloc();
  if (m == 0) return;
  store<u16>(m, TX_HEADROOM, MB_DATA_OFF);
  const p = mbufData(m);
  store<u8>(p, <u8>type);
  store<u8>(p + 1, 0);
  store<u16>(p + 2, 0);
  store<u32>(p + 4, bswap<u32>(naFlags));
  memory.copy(p + 8, target, 16);
  store<u8>(p + 24, <u8>optType);
  store<u8>(p + 25, 1); // length in units of 8 bytes
  memory.copy(p + 26, ifMac(), 6);
  ipSendHops(m, 6, ifIpv6(), dst, 58, 32, true, ifMac(), dstMac, 255);
}

/** ICMPv6 neighbour solicitation / advertisement in pkt() (RFC 4861 §7.1: hop limit 255, code 0). */
export function ndInput(m: usize, type: u32): void {
  bump(C_ND_IN);
  const p = pkt();
  const l4 = <usize>load<u32>(p + PKT_L4);
  const len = load<u32>(p + PKT_L4LEN);
  if (load<u8>(p + PKT_TTL) != 255 || load<u8>(l4 + 1) != 0 || len < 24) {
    mbufFree(m);
    return;
  }
  const target = l4 + 8;
  // Find the link-layer address option (source for NS, target for NA).
  let lladdr: usize = 0;
  let o: usize = 24;
  while (o + 8 <= <usize>len) {
    const olen = <usize>load<u8>(l4 + o + 1) << 3;
    if (olen == 0) break; // RFC 4861 §4.6: zero length is invalid; stop
    const t = load<u8>(l4 + o);
    if ((type == 135 && t == 1) || (type == 136 && t == 2)) lladdr = l4 + o + 2;
    o += olen;
  }
  if (type == 135) {
    if (!ifHasV6() || !eq16(target, ifIpv6())) {
      mbufFree(m);
      return;
    }
    const src = p + PKT_SRC;
    const unspecified = load<u64>(src) == 0 && load<u64>(src + 8) == 0;
    if (lladdr != 0 && !unspecified) neighLearn(6, src, lladdr);
    // Answer: solicited + override to the sender (or all-nodes for DAD probes).
    if (unspecified || lladdr == 0) {
      memory.fill(ndDst, 0, 16);
      store<u16>(ndDst, 0x02ff);
      store<u8>(ndDst + 15, 1);
      store<u16>(ndMac, 0x3333);
      store<u32>(ndMac + 2, 0x01000000);
      memory.copy(ndTarget, target, 16);
      mbufFree(m);
      ndSend(136, ndTarget, 0x20000000, 2, ndDst, ndMac); // O flag only
      return;
    }
    memory.copy(ndDst, src, 16);
    memory.copy(ndMac, lladdr, 6);
    memory.copy(ndTarget, target, 16);
    mbufFree(m);
    ndSend(136, ndTarget, 0x60000000, 2, ndDst, ndMac); // S and O flags
    return;
  }
  if (lladdr != 0) neighLearn(6, target, lladdr);
  mbufFree(m);
}
