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
// TCP engine (net/tcp): drops by reason and events, bumped in one place per reason.
export const C_TCP_SEGS_IN: i32 = 34; // TCP segments handed to tcpInput
export const C_TCP_SEGS_OUT: i32 = 35; // TCP segments sent (incl. retransmissions, ACKs, RSTs)
export const C_TCP_BAD_CSUM: i32 = 36; // TCP checksum wrong (verified in tcpInput when the IP layer did not)
export const C_TCP_MALFORMED: i32 = 37; // header length impossible or cut (RFC 9293 §3.1)
export const C_TCP_NO_LISTENER: i32 = 38; // segment for no connection and no listener (RST sent unless RST, §3.10.7.1)
export const C_TCP_RST_SENT: i32 = 39; // RSTs sent
export const C_TCP_RST_RCVD: i32 = 40; // acceptable RSTs that closed a connection
export const C_TCP_OUT_OF_WINDOW: i32 = 41; // unacceptable sequence numbers (§3.10.7.4 first check), ACKed and dropped
export const C_TCP_PAWS_DROP: i32 = 42; // old timestamps (RFC 7323 §5.3 PAWS)
export const C_TCP_CHALLENGE_ACK: i32 = 43; // challenge ACKs sent (RFC 5961 §3-5)
export const C_TCP_CHALLENGE_LIMITED: i32 = 44; // challenge ACKs suppressed by the rate limit (RFC 5961 §7)
export const C_TCP_BAD_ACK: i32 = 45; // unacceptable ACKs dropped (SYN-SENT/SYN-RECEIVED RST, RFC 5961 §5 too old)
export const C_TCP_ACK_TOO_NEW: i32 = 46; // ACKs of data never sent, answered by an ACK (§3.10.7.4)
export const C_TCP_RETRANSMITS: i32 = 47; // segments retransmitted (any cause)
export const C_TCP_FAST_RETRANSMITS: i32 = 48; // fast retransmits (RFC 5681 §3.2) and NewReno partial-ACK retransmits (RFC 6582)
export const C_TCP_RTO_TIMEOUTS: i32 = 49; // retransmission timer expirations (RFC 6298 §5)
export const C_TCP_DUP_ACKS: i32 = 50; // duplicate ACKs received (RFC 5681 §2 definition)
export const C_TCP_OOO_SEGS: i32 = 51; // out-of-order segments queued
export const C_TCP_OOO_DROPS: i32 = 52; // out-of-order segments dropped (queue bound)
export const C_TCP_DUP_SEGS: i32 = 53; // segments carrying only already-received data
export const C_TCP_TCB_FULL: i32 = 54; // connections refused: TCB table or flow table full
export const C_TCP_HALFOPEN_EVICT: i32 = 55; // half-open (SYN-RECEIVED) connections evicted to make room (SYN flood)
export const C_TCP_SYN_DUP: i32 = 56; // retransmitted SYNs answered with the SYN-ACK again
export const C_TCP_PERSIST_PROBES: i32 = 57; // zero-window probes sent
export const C_TCP_CONN_TIMEOUT: i32 = 58; // connections given up (retransmissions or probes exhausted)
export const C_TCP_PASSIVE_OPENS: i32 = 59; // connections established from LISTEN
export const C_TCP_ACTIVE_OPENS: i32 = 60; // connections established from CONNECT
export const C_TCP_DELACK_SENT: i32 = 61; // ACKs sent by the delayed-ACK timer
export const C_TCP_TX_NOMBUF: i32 = 62; // segments not built: no mbuf (retried by the timers)
export const C_TCP_RCV_NOSPACE: i32 = 63; // data beyond the receive window trimmed or dropped
export const C_TCP_TIMEWAIT_REUSE: i32 = 64; // TIME-WAIT connections ended by a new SYN (RFC 6191)
export const C_TCP_PRESET_USED: i32 = 65; // replay presets applied to an arriving SYN
export const C_TCP_SYN_BAD: i32 = 66; // segments to a listener that are neither SYN nor RST nor ACK, or SYN with FIN/RST
export const C_TCP_SPAN_EXHAUSTED: i32 = 67; // SENDV spans refused: span pool empty
// Replay, raw and track modes (assembly/replay): every record is processed or dropped for one reason.
export const C_RP_PROCESSED: i32 = 68; // records processed (IP packets hashed to a worker; track: and tracked)
export const C_RP_DROP_NOT_PACKET: i32 = 69; // records that are not packets (pcapng custom blocks)
export const C_RP_DROP_UNKNOWN_LINK: i32 = 70; // link type not decoded
export const C_RP_DROP_NON_IP: i32 = 71; // no IP header (ARP, LLC, ...)
export const C_RP_DROP_IP_TRUNCATED: i32 = 72; // IP header cut by the captured length
export const C_RP_DROP_FLOW_TABLE_FULL: i32 = 73; // track: no flow entry left
export const C_RP_DROP_TCP_MALFORMED: i32 = 74; // track: TCP header cut or data offset impossible (RFC 9293 §3.1)
export const C_RP_DROP_TCP_BAD_FLAGS: i32 = 75; // track: SYN+RST, SYN+FIN, or no SYN/ACK/RST at all
export const C_RP_TCP_OUT_OF_WINDOW: i32 = 76; // track: segments outside the receiver's window (RFC 9293 §3.10.7.4), counted, not dropped
export const C_RP_DROP_TCP_RST_INVALID: i32 = 77; // track: RST outside the window (RFC 5961 §3.2)
export const C_RP_FLOWS: i32 = 78; // track: conversations (a reused tuple after close counts again)
export const C_RP_FLOWS_TCP: i32 = 79; // track: TCP conversations (state-tracked)
export const C_RP_FLOWS_MIDSTREAM: i32 = 80; // track: TCP conversations picked up without their SYN
export const C_RP_TCP_HANDSHAKES: i32 = 81; // track: three-way handshakes completed
export const C_RP_TCP_RETRANSMISSIONS: i32 = 82; // track: segments resending sequence space already seen
export const C_RP_TCP_OUT_OF_ORDER: i32 = 83; // track: segments filling a gap left by a later segment
export const C_RP_TCP_SEQ_GAPS: i32 = 84; // track: segments starting beyond the next expected byte (data not captured)
export const C_RP_TCP_ACK_UNSEEN: i32 = 85; // track: ACKs of data the capture never showed
export const C_RP_TCP_DUP_ACKS: i32 = 86; // track: duplicate ACKs (RFC 5681 §2)
export const C_RP_TCP_ZERO_WINDOW: i32 = 87; // track: segments advertising a zero window
export const C_RP_TCP_KEEPALIVES: i32 = 88; // track: keep-alives (one byte or none below the next expected, RFC 1122 §4.2.3.6)
export const C_RP_TCP_RSTS: i32 = 89; // track: acceptable RSTs (flow closed)
export const C_RP_TCP_FINS: i32 = 90; // track: FINs (first of each direction)
export const C_RP_TCP_CLOSED: i32 = 91; // track: conversations that ended (both FINs ACKed, or RST)
export const C_RP_TCP_SYN_RETRANS: i32 = 92; // track: repeated SYNs / SYN-ACKs
export const C_RP_TCP_REUSED: i32 = 93; // track: new SYN on a tuple whose conversation ended (RFC 9293 §3.10.7.4 TIME-WAIT)
export const C_RP_OTHER_IP: i32 = 94; // track: IP packets that are not state-tracked TCP (UDP, ICMP, fragments): flow lookup only
export const C_TCP_RCV_NOMBUF: i32 = 95; // in-order or out-of-order data not kept: the mbuf pool is down to its TX reserve (issue 10)
export const C_TCP_SACK_RECOVERIES: i32 = 96; // loss recoveries driven by the SACK scoreboard (RFC 6675), of tcp_fast_retransmits' entries
export const C_TCP_SACK_RETRANSMITS: i32 = 97; // segments RFC 6675 NextSeg chose to retransmit (holes), in those recoveries
// 98..255: free for later layers (append here, keep numbers stable; mirror in host/report/counters.ts)
export const C_COUNT: i32 = 98;

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
