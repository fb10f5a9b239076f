// Per-instance counters: u64 slots in the control block, bumped by the core (once
// per batch where possible) and read by the host, which merges workers and prints.
// Names come from this one list; host/report/counters.ts mirrors the names (a test
// checks the mirror against counterName()).
import { COUNTER_BASE } from "./layout";

export const C_RX_FRAMES: i32 = 0;
export const C_RX_BYTES: i32 = 1;
export const C_TX_FRAMES: i32 = 2;
export const C_TX_BYTES: i32 = 3;
export const C_IPV4: i32 = 4; // frames containing an IPv4 header
export const C_IPV6: i32 = 5; // frames containing an IPv6 header
export const C_TCP: i32 = 6; // frames containing a TCP header
export const C_UDP: i32 = 7; // frames containing a UDP header
export const C_TCP_FLOWS: i32 = 8; // distinct TCP flows seen by inspect
export const C_UNKNOWN_LINK: i32 = 9; // frames of a link type the core does not decode
export const C_TRUNCATED: i32 = 10; // frames whose headers were cut by the captured length
export const C_NON_IP: i32 = 11; // frames without an IP header
export const C_MBUF_EXHAUSTED: i32 = 12; // mbuf allocation failed (pool empty)
export const C_FLOW_TABLE_FULL: i32 = 13; // flow insert failed (table full)
export const C_RING_FULL: i32 = 14; // ring enqueue failed (ring full)
export const C_MBUF_DOUBLE_FREE: i32 = 15; // debug check: free of an mbuf already free
export const C_NOT_PACKET: i32 = 16; // records that are not packets (pcapng custom blocks)
export const C_FRAGMENTS: i32 = 17; // IP fragments (not reassembled)
export const C_BAD_CHECKSUM: i32 = 18; // checksum verification failed
export const C_MBUF_BAD_HANDLE: i32 = 19; // mbuf free of a handle that is not an mbuf of this pool

export const C_RX_DROP_NOMBUF: i32 = 20; // RX frame dropped: no mbuf to post back in its ring slot
export const C_RUNT: i32 = 21; // frame shorter than its link header
export const C_NOT_FOR_US: i32 = 22; // destination MAC or IP is not ours
export const C_IP_BAD_HEADER: i32 = 23; // IP version/length fields impossible (RFC 1122 §3.2.1)
export const C_IP_BAD_CSUM: i32 = 24; // IPv4 header checksum wrong
export const C_L4_BAD_CSUM: i32 = 25; // TCP/UDP/ICMP checksum wrong
export const C_PROTO_UNHANDLED: i32 = 26; // IP protocol / ethertype the stack does not serve
export const C_ARP_IN: i32 = 27; // ARP frames received
export const C_ARP_REPLIES: i32 = 28; // ARP replies sent
export const C_ICMP_ECHO: i32 = 29; // ICMP / ICMPv6 echo requests answered
export const C_ND_IN: i32 = 30; // neighbour solicitations/advertisements received
export const C_NEIGH_MISS: i32 = 31; // transmissions waiting for ARP/ND resolution
export const C_UDP_NO_APP: i32 = 32; // UDP datagrams nobody listens to
export const C_L4_TRUNCATED: i32 = 33; // transport bytes cut short by the capture (snaplen)
// 34..255: free for later layers (append here, keep numbers stable; mirror in host/report/counters.ts)
export const C_COUNT: i32 = 34;

@inline export function bump(c: i32, by: u64 = 1): void {
  const p = COUNTER_BASE + (<usize>c << 3);
  store<u64>(p, load<u64>(p) + by);
}

@inline export function counter(c: i32): u64 {
  return load<u64>(COUNTER_BASE + (<usize>c << 3));
}

export function resetCounters(): void {
  memory.fill(COUNTER_BASE, 0, 256 * 8);
}
