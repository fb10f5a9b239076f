// The core's ABI, written once: every number the host and the AssemblyScript core
// must agree on (control block, config words and their flag bits, regions,
// counters). abi/generate.ts writes both sides from it:
//   assembly/abi/*.gen.ts   constants the core imports (re-exported by mem/layout.ts,
//                           mem/counters.ts, ...)
//   host/core/abi.gen.ts         the host's constants, config defaults, counter names
// Run `npm run gen:abi` after editing (`npm run build:wasm` runs it too);
// test/abi/generated.test.ts fails while a generated file differs from what this
// table gives.
//
// Why a TypeScript module and not JSON: each entry's comment is part of the table
// (the generator prints it on both sides, so the core's and the host's readers see
// the same words), JSON has no comments to keep and no type check; and tsc checks
// this file with the rest of the host (tsconfig.json includes abi/). Why here and not
// under assembly/ or host/: it belongs to neither side, and asc must never compile
// it (it is the host's TypeScript, not AssemblyScript).
//
// Rules: numbers only grow. A counter is appended at the end of COUNTERS (its index
// is its position, and reports of older builds are read by name); a config word takes
// a free index; the ABI version goes up when a meaning changes.

export interface Constant {
  name: string;
  value: number;
  /** Written in hexadecimal on both sides (addresses). */
  hex?: boolean;
  /** Index at which the core's abiCheck(i) reports this value (the host compares at every instantiation). */
  check?: number;
  doc: string;
}

/** A u32 config word at CFG_BASE + 4 * word, written by the host before plan() and init(). */
export interface ConfigWord {
  word: number;
  /** The core's constant (CFG_*); absent for the later words of a multi-word value (the core adds an index). */
  core?: string;
  /** The host's key in CONFIG_WORDS / CoreConfig; absent for words the host writes itself (CFG_ABI). */
  host?: string;
  /** The host's default. */
  default?: number;
  doc: string;
}

/** A bit of a flags word; the value is 1 << bit. */
export interface FlagBit {
  name: string;
  bit: number;
  doc: string;
}

export interface Region {
  id: number;
  core: string;
  host: string;
  doc: string;
}

export interface Counter {
  /** The report's name; the core's constant is C_ + its upper case. */
  name: string;
  doc: string;
  /** A comment line printed above this counter on the core side (a group of counters starts). */
  group?: string;
}

// ---- control block: [0, 64 KiB) of every instance's memory ---------------------
export const CONTROL: Constant[] = [
  { name: "ABI_VERSION", value: 1, check: 0, doc: "the host writes it to CFG_ABI; the core checks it" },
  { name: "CFG_BASE", value: 0x0000, check: 1, hex: true, doc: "u32 config words, written by the host" },
  { name: "CFG_WORDS", value: 64, doc: "config words the host clears and writes" },
  {
    name: "REGION_BASE",
    value: 0x0200,
    check: 2,
    hex: true,
    doc: "(offset u32, bytes u32) per region id, R_COUNT entries",
  },
  { name: "COUNTER_BASE", value: 0x0400, check: 3, hex: true, doc: "u64 counters (COUNTERS below)" },
  { name: "COUNTER_SLOTS", value: 256, doc: "u64 slots reserved for counters" },
  {
    name: "HIST_BASE",
    value: 0x0c00,
    check: 4,
    hex: true,
    doc: "u64[65] batch-size histogram (index = batch size)",
  },
  {
    name: "SCRATCH_BASE",
    value: 0x1000,
    check: 5,
    hex: true,
    doc: "small per-call result area (e.g. hash results)",
  },
  { name: "SCRATCH_BYTES", value: 0x1000, hex: true, doc: "bytes of the scratch area" },
  { name: "CTRL_END", value: 0x10000, hex: true, doc: "end of the control block" },
];

// ---- config words ----------------------------------------------------------------
export const CONFIG_WORDS: ConfigWord[] = [
  { word: 0, core: "CFG_ABI", doc: "host writes ABI_VERSION" },
  { word: 1, core: "CFG_MBUFS", host: "mbufs", default: 4096, doc: "mbufs in the pool" },
  { word: 2, core: "CFG_FLOWS", host: "flows", default: 1 << 16, doc: "flow table capacity (entries)" },
  {
    word: 3,
    core: "CFG_RING_SLOTS",
    host: "ringSlots",
    default: 1024,
    doc: "descriptors per ring (power of two)",
  },
  {
    word: 4,
    core: "CFG_STAGING_BYTES",
    host: "stagingBytes",
    default: 4 << 20,
    doc: "trace staging buffer",
  },
  {
    word: 5,
    core: "CFG_DESC_SLOTS",
    host: "descSlots",
    default: 4096,
    doc: "record descriptors per batch",
  },
  { word: 6, core: "CFG_TCBS", host: "tcbs", default: 0, doc: "TCB table capacity" },
  { word: 7, core: "CFG_WORKER", host: "worker", default: 0, doc: "this instance's worker index" },
  { word: 8, core: "CFG_WORKERS", host: "workers", default: 1, doc: "number of workers" },
  { word: 9, core: "CFG_FLAGS", host: "flags", default: 0, doc: "CFG_F_* bits" },
  {
    word: 10,
    core: "CFG_APP_BYTES",
    host: "appBytes",
    default: 0,
    doc: "bytes of the app's own region (R_APP)",
  },
  {
    word: 11,
    core: "CFG_EVQ_SLOTS",
    host: "evqSlots",
    default: 0,
    doc: "event and command descriptors per poll (each queue)",
  },
  { word: 12, core: "CFG_APP", host: "app", default: 0, doc: "app id (APP_*, apps/registry.ts)" },
  {
    word: 13,
    core: "CFG_TIMERS",
    host: "timers",
    default: 0,
    doc: "timer-wheel entries (TCBs + app timers)",
  },
  {
    word: 14,
    core: "CFG_MSL_MS",
    host: "mslMs",
    default: 30000,
    doc: "maximum segment lifetime; TIME_WAIT lasts 2*MSL (RFC 9293 §3.4.2)",
  },
  {
    word: 15,
    core: "CFG_RCVBUF",
    host: "rcvbuf",
    default: 65535,
    doc: "receive window per connection, bytes (before scaling)",
  },
  {
    word: 16,
    core: "CFG_SNDBUF",
    host: "sndbuf",
    default: 1 << 18,
    doc: "bytes a connection may hold unacknowledged + queued",
  },
  {
    word: 17,
    core: "CFG_TCP_FLAGS",
    host: "tcpFlags",
    default: 0xffffffff,
    doc: "TCPF_* bits: timestamps, window scaling, SACK-permitted, delayed ACK, ... (default: all on)",
  },
  { word: 18, core: "CFG_DELACK_US", host: "delackUs", default: 40000, doc: "delayed-ACK timeout" },
  {
    word: 19,
    core: "CFG_RTO_MIN_US",
    host: "rtoMinUs",
    default: 200000,
    doc: "lower bound of the RTO (RFC 6298 (2.4) says 1 s; Linux uses 200 ms)",
  },
  {
    word: 20,
    core: "CFG_MAC_LO",
    host: "macLo",
    default: 0,
    doc: "this core's MAC address, bytes 0..3 (little-endian word)",
  },
  { word: 21, core: "CFG_MAC_HI", host: "macHi", default: 0, doc: "bytes 4..5 in the low half" },
  {
    word: 22,
    core: "CFG_IPV4",
    host: "ipv4",
    default: 0,
    doc: "this core's IPv4 address (network byte order as stored bytes), 0 = none",
  },
  {
    word: 23,
    core: "CFG_ISN_KEY0",
    host: "isnKey0",
    default: 0,
    doc: "4 words: secret for RFC 6528 ISNs",
  },
  { word: 24, host: "isnKey1", default: 0, doc: "ISN secret, word 1" },
  { word: 25, host: "isnKey2", default: 0, doc: "ISN secret, word 2" },
  { word: 26, host: "isnKey3", default: 0, doc: "ISN secret, word 3" },
  { word: 27, core: "CFG_NEIGH_SLOTS", host: "neighSlots", default: 0, doc: "ARP/ND cache entries" },
  {
    word: 28,
    core: "CFG_MODE",
    host: "mode",
    default: 0,
    doc: "host-chosen processing mode (replay raw/track/serve, stack)",
  },
  {
    word: 29,
    core: "CFG_IPV6_0",
    host: "ipv6_0",
    default: 0,
    doc: "4 words: this core's IPv6 address (all zero = none)",
  },
  { word: 30, host: "ipv6_1", default: 0, doc: "IPv6 address, word 1" },
  { word: 31, host: "ipv6_2", default: 0, doc: "IPv6 address, word 2" },
  { word: 32, host: "ipv6_3", default: 0, doc: "IPv6 address, word 3" },
  { word: 33, core: "CFG_MSS", host: "mss", default: 1460, doc: "MSS this core announces" },
  {
    word: 34,
    core: "CFG_SPANS",
    host: "spans",
    default: 0,
    doc: "send-span pool entries (net/tcp/span.ts)",
  },
  {
    word: 35,
    core: "CFG_MBUF_DATA",
    host: "mbufData",
    default: 2048,
    doc: "bytes of an mbuf's data area: 2048, or up to 16384 (a multiple of 64) for jumbo frames; 0 = 2048 (mem/mbuf.ts)",
  },
  {
    word: 40,
    core: "CFG_APP_PORT",
    host: "appPort",
    default: 0,
    doc: "TCP/UDP port the server app listens on (0 = the app's default)",
  },
  {
    word: 41,
    core: "CFG_APP_PEER_IP4",
    host: "appPeerIp4",
    default: 0,
    doc: "client apps: server IPv4 address (bytes in wire order)",
  },
  { word: 42, core: "CFG_APP_PEER_PORT", host: "appPeerPort", default: 0, doc: "client apps: server port" },
  {
    word: 43,
    core: "CFG_APP_CONNS",
    host: "appConns",
    default: 0,
    doc: "client apps: connections to open; server apps: connection slots (0 = sized from CFG_APP_BYTES)",
  },
  {
    word: 44,
    core: "CFG_APP_MSGS",
    host: "appMsgs",
    default: 0,
    doc: "client apps: messages (requests) per connection",
  },
  {
    word: 45,
    core: "CFG_APP_MSG_BYTES",
    host: "appMsgBytes",
    default: 0,
    doc: "client apps: bytes per message (memcached: value size)",
  },
  {
    word: 46,
    core: "CFG_APP_ITEM_MAX",
    host: "appItemMax",
    default: 0,
    doc: "memcached item size limit in bytes (0 = 1 MiB, as memcached -I 1m)",
  },
  {
    word: 47,
    core: "CFG_APP_UNIX_BASE",
    host: "appUnixBase",
    default: 0,
    doc: "unix seconds at loop clock 0 (memcached absolute expiration times)",
  },
  {
    word: 48,
    core: "CFG_TCP_SYN_RETRIES",
    host: "synRetries",
    default: 0,
    doc: "SYN retransmissions before an active open gives up (0 = 6, Linux tcp_syn_retries: 1+2+...+64 s = 127 s)",
  },
  {
    word: 49,
    core: "CFG_TCP_SYNACK_RETRIES",
    host: "synackRetries",
    default: 0,
    doc: "SYN-ACK retransmissions before a half-open connection gives up (0 = 5, Linux tcp_synack_retries)",
  },
  {
    word: 50,
    core: "CFG_TCP_DATA_RETRIES",
    host: "dataRetries",
    default: 0,
    doc: "RTO expirations of data or FIN before a connection gives up (0 = 9, RFC 1122 R2)",
  },
  {
    word: 51,
    core: "CFG_TCP_FIN_TIMEOUT_MS",
    host: "finTimeoutMs",
    default: 0,
    doc: "FIN-WAIT-2 limit after our close, ms (0 = 60000, Linux tcp_fin_timeout; 0xffffffff = never)",
  },
  {
    word: 52,
    core: "CFG_TCP_IDLE_TIMEOUT_S",
    host: "idleTimeoutS",
    default: 0,
    doc: "reset a connection that received nothing for this many seconds (0 = off)",
  },
  {
    word: 53,
    core: "CFG_APP_EXT_FLAGS",
    host: "appExtFlags",
    default: 0,
    doc: "APP_EXTERNAL: the module's ixapp_flags() (bit 0: serve UDP on the port too)",
  },
];

// ---- bits of CFG_FLAGS ---------------------------------------------------------------
export const CFG_FLAG_BITS: FlagBit[] = [
  {
    name: "CFG_F_SYMMETRIC",
    bit: 0,
    doc: "the RSS key hashes both directions of a flow alike: 0x6d5a repeated (flow/toeplitz.ts)",
  },
  {
    name: "CFG_F_POISON",
    bit: 1,
    doc: "fill freed mbuf data with MBUF_POISON (debug aid; costs a data-area fill per free; mem/mbuf.ts)",
  },
  {
    name: "CFG_F_ANY_ADDRESS",
    bit: 2,
    doc: "accept every destination MAC and IP (replay serve; net/iface.ts)",
  },
  {
    name: "CFG_F_NO_CSUM_CHECK",
    bit: 3,
    doc: "do not verify IPv4 header and transport checksums (captures from hosts with checksum offload)",
  },
  {
    name: "CFG_F_FRESH_MEMORY",
    bit: 4,
    doc:
      "the memory was created for this init and is all zero, so big tables need no zero fill. First touches " +
      "of fresh pages cost ~16 µs per 4 KiB page on these VMs: a 16 MiB fill was 65 ms, more than a 1 GB " +
      "inspect's decoding of a second",
  },
  {
    name: "CFG_F_TX_CSUM_OFFLOAD",
    bit: 5,
    doc:
      "leave the IPv4 header and transport checksums of sent frames as zero (a NIC's TX checksum offload). " +
      "Replay serve sets it when no one reads the frames' bytes beyond the headers and payload (no --out): " +
      "the checksums were ~4 % of its CPU",
  },
];

// ---- bits of CFG_TCP_FLAGS (net/tcp/state.ts) ---------------------------------------
export const TCP_FLAG_BITS: FlagBit[] = [
  { name: "TCPF_TS", bit: 0, doc: "timestamps option, RTTM and PAWS (RFC 7323 §3-5)" },
  { name: "TCPF_WS", bit: 1, doc: "window scale option (RFC 7323 §2)" },
  {
    name: "TCPF_SACK",
    bit: 2,
    doc: "SACK-permitted; SACK blocks sent for the out-of-order queue (RFC 2018), hence SACK-based recovery",
  },
  {
    name: "TCPF_DELACK",
    bit: 3,
    doc: "delayed ACKs (RFC 9293 §3.8.6.3); off = ACK every segment at flush",
  },
  {
    name: "TCPF_CHALLENGE",
    bit: 4,
    doc: "RFC 5961 challenge ACKs (off: RFC 9293 behaviour, reset on any in-window RST)",
  },
  {
    name: "TCPF_TW_REUSE",
    bit: 5,
    doc: "a SYN may end TIME-WAIT when its sequence/timestamp is newer (RFC 6191)",
  },
];

// ---- CFG_MODE values: what poll() and the replay batches do ---------------------------
export const MODES: Code[] = [
  { name: "MODE_STACK", value: 0, host: "stack", doc: "the TCP/IP stack's loop (pair, tap, liveplay)" },
  { name: "MODE_RAW", value: 1, host: "raw", doc: "replay raw: hash each record to a worker, forward it" },
  { name: "MODE_TRACK", value: 2, host: "track", doc: "replay track: follow each conversation's TCP state" },
  {
    name: "MODE_SERVE",
    value: 3,
    host: "serve",
    doc: "replay serve: the stack answers the capture's clients",
  },
];

// ---- regions: entry id of the region table at REGION_BASE -----------------------------
export const REGIONS: Region[] = [
  { id: 0, core: "R_STAGING", host: "staging", doc: "raw trace bytes read by the host" },
  { id: 1, core: "R_DESC", host: "desc", doc: "record descriptors (mem/desc.ts)" },
  { id: 2, core: "R_DECODE", host: "decode", doc: "per-record decode results (wire/summary.ts)" },
  { id: 3, core: "R_MBUF", host: "mbuf", doc: "mbuf pool: headers + data" },
  { id: 4, core: "R_MBUF_STACK", host: "mbufStack", doc: "LIFO free stack of mbuf indices" },
  { id: 5, core: "R_RX_RING", host: "rxRing", doc: "host -> core" },
  { id: 6, core: "R_TX_RING", host: "txRing", doc: "core -> host" },
  { id: 7, core: "R_FLOW", host: "flow", doc: "flow table" },
  { id: 8, core: "R_TCB", host: "tcb", doc: "TCB table (net/tcp)" },
  { id: 9, core: "R_EVQ", host: "evq", doc: "events, stack -> app (api/abi.ts)" },
  { id: 10, core: "R_CMDQ", host: "cmdq", doc: "commands, app -> stack" },
  { id: 11, core: "R_APP", host: "app", doc: "the app's own memory (e.g. memcached's table and slabs)" },
  { id: 12, core: "R_TIMER", host: "timer", doc: "timer wheel (net/timer.ts)" },
  { id: 13, core: "R_NEIGH", host: "neigh", doc: "ARP / neighbour cache" },
  { id: 14, core: "R_SPAN", host: "span", doc: "send-span pool (TCP send queues, api SENDV)" },
];
/** Entries of the region table; the last one holds (regionBase, totalBytes). */
export const REGION_COUNT = 32;

// ---- counters: u64 at COUNTER_BASE + 8 * index, index = position here --------------
export const COUNTERS: Counter[] = [
  { name: "rx_frames", doc: "" },
  { name: "rx_bytes", doc: "" },
  { name: "tx_frames", doc: "" },
  { name: "tx_bytes", doc: "" },
  { name: "ipv4", doc: "frames containing an IPv4 header" },
  { name: "ipv6", doc: "frames containing an IPv6 header" },
  { name: "tcp", doc: "frames containing a TCP header" },
  { name: "udp", doc: "frames containing a UDP header" },
  { name: "tcp_flows", doc: "distinct TCP flows seen by inspect" },
  { name: "unknown_link", doc: "frames of a link type the core does not decode" },
  { name: "truncated", doc: "frames whose headers were cut by the captured length" },
  { name: "non_ip", doc: "frames without an IP header" },
  { name: "mbuf_exhausted", doc: "mbuf allocation failed (pool empty)" },
  { name: "flow_table_full", doc: "flow insert failed (table full)" },
  { name: "ring_full", doc: "ring enqueue failed (ring full)" },
  { name: "mbuf_double_free", doc: "debug check: free of an mbuf already free" },
  { name: "not_packet", doc: "records that are not packets (pcapng custom blocks)" },
  { name: "fragments", doc: "IP fragments (not reassembled)" },
  { name: "bad_checksum", doc: "checksum verification failed" },
  { name: "mbuf_bad_handle", doc: "mbuf free of a handle that is not an mbuf of this pool" },
  { name: "rx_drop_nombuf", doc: "RX frame dropped: no mbuf to post back in its ring slot" },
  { name: "runt", doc: "frame shorter than its link header" },
  { name: "not_for_us", doc: "destination MAC or IP is not ours" },
  { name: "ip_bad_header", doc: "IP version/length fields impossible (RFC 1122 §3.2.1)" },
  { name: "ip_bad_csum", doc: "IPv4 header checksum wrong" },
  { name: "l4_bad_csum", doc: "TCP/UDP/ICMP checksum wrong" },
  { name: "proto_unhandled", doc: "IP protocol / ethertype the stack does not serve" },
  { name: "arp_in", doc: "ARP frames received" },
  { name: "arp_replies", doc: "ARP replies sent" },
  { name: "icmp_echo", doc: "ICMP / ICMPv6 echo requests answered" },
  { name: "nd_in", doc: "neighbour solicitations/advertisements received" },
  { name: "neigh_miss", doc: "transmissions waiting for ARP/ND resolution" },
  { name: "udp_no_app", doc: "UDP datagrams nobody listens to" },
  { name: "l4_truncated", doc: "transport bytes cut short by the capture (snaplen)" },
  {
    name: "tcp_segs_in",
    doc: "TCP segments handed to tcpInput",
    group: "TCP engine (net/tcp): drops by reason and events, bumped in one place per reason.",
  },
  { name: "tcp_segs_out", doc: "TCP segments sent (incl. retransmissions, ACKs, RSTs)" },
  { name: "tcp_bad_csum", doc: "TCP checksum wrong (verified in tcpInput when the IP layer did not)" },
  { name: "tcp_malformed", doc: "header length impossible or cut (RFC 9293 §3.1)" },
  {
    name: "tcp_no_listener",
    doc: "segment for no connection and no listener (RST sent unless RST, §3.10.7.1)",
  },
  { name: "tcp_rst_sent", doc: "RSTs sent" },
  { name: "tcp_rst_rcvd", doc: "acceptable RSTs that closed a connection" },
  {
    name: "tcp_out_of_window",
    doc: "unacceptable sequence numbers (§3.10.7.4 first check), ACKed and dropped",
  },
  { name: "tcp_paws_drop", doc: "old timestamps (RFC 7323 §5.3 PAWS)" },
  { name: "tcp_challenge_ack", doc: "challenge ACKs sent (RFC 5961 §3-5)" },
  { name: "tcp_challenge_limited", doc: "challenge ACKs suppressed by the rate limit (RFC 5961 §7)" },
  {
    name: "tcp_bad_ack",
    doc: "unacceptable ACKs dropped (SYN-SENT/SYN-RECEIVED RST, RFC 5961 §5 too old)",
  },
  { name: "tcp_ack_too_new", doc: "ACKs of data never sent, answered by an ACK (§3.10.7.4)" },
  { name: "tcp_retransmits", doc: "segments retransmitted (any cause)" },
  {
    name: "tcp_fast_retransmits",
    doc: "fast retransmits (RFC 5681 §3.2) and NewReno partial-ACK retransmits (RFC 6582)",
  },
  { name: "tcp_rto_timeouts", doc: "retransmission timer expirations (RFC 6298 §5)" },
  { name: "tcp_dup_acks", doc: "duplicate ACKs received (RFC 5681 §2 definition)" },
  { name: "tcp_ooo_segs", doc: "out-of-order segments queued" },
  { name: "tcp_ooo_drops", doc: "out-of-order segments dropped (queue bound)" },
  { name: "tcp_dup_segs", doc: "segments carrying only already-received data" },
  { name: "tcp_tcb_full", doc: "connections refused: TCB table or flow table full" },
  {
    name: "tcp_halfopen_evict",
    doc: "half-open (SYN-RECEIVED) connections evicted to make room (SYN flood)",
  },
  { name: "tcp_syn_dup", doc: "retransmitted SYNs answered with the SYN-ACK again" },
  { name: "tcp_persist_probes", doc: "zero-window probes sent" },
  { name: "tcp_conn_timeout", doc: "connections given up (retransmissions or probes exhausted)" },
  { name: "tcp_passive_opens", doc: "connections established from LISTEN" },
  { name: "tcp_active_opens", doc: "connections established from CONNECT" },
  { name: "tcp_delack_sent", doc: "ACKs sent by the delayed-ACK timer" },
  { name: "tcp_tx_nombuf", doc: "segments not built: no mbuf (retried by the timers)" },
  { name: "tcp_rcv_nospace", doc: "data beyond the receive window trimmed or dropped" },
  { name: "tcp_timewait_reuse", doc: "TIME-WAIT connections ended by a new SYN (RFC 6191)" },
  { name: "tcp_preset_used", doc: "replay presets applied to an arriving SYN" },
  {
    name: "tcp_syn_bad",
    doc: "segments to a listener that are neither SYN nor RST nor ACK, or SYN with FIN/RST",
  },
  { name: "tcp_span_exhausted", doc: "SENDV spans refused: span pool empty" },
  {
    name: "rp_processed",
    doc: "records processed (IP packets hashed to a worker; track: and tracked)",
    group:
      "Replay, raw and track modes (assembly/replay): every record is processed or dropped for one reason.",
  },
  { name: "rp_drop_not_packet", doc: "records that are not packets (pcapng custom blocks)" },
  { name: "rp_drop_unknown_link", doc: "link type not decoded" },
  { name: "rp_drop_non_ip", doc: "no IP header (ARP, LLC, ...)" },
  { name: "rp_drop_ip_truncated", doc: "IP header cut by the captured length" },
  { name: "rp_drop_flow_table_full", doc: "track: no flow entry left" },
  {
    name: "rp_drop_tcp_malformed",
    doc: "track: TCP header cut or data offset impossible (RFC 9293 §3.1)",
  },
  { name: "rp_drop_tcp_bad_flags", doc: "track: SYN+RST, SYN+FIN, or no SYN/ACK/RST at all" },
  {
    name: "rp_tcp_out_of_window",
    doc: "track: segments outside the receiver's window (RFC 9293 §3.10.7.4), counted, not dropped",
  },
  { name: "rp_drop_tcp_rst_invalid", doc: "track: RST outside the window (RFC 5961 §3.2)" },
  { name: "rp_flows", doc: "track: conversations (a reused tuple after close counts again)" },
  { name: "rp_flows_tcp", doc: "track: TCP conversations (state-tracked)" },
  { name: "rp_flows_midstream", doc: "track: TCP conversations picked up without their SYN" },
  { name: "rp_tcp_handshakes", doc: "track: three-way handshakes completed" },
  { name: "rp_tcp_retransmissions", doc: "track: segments resending sequence space already seen" },
  { name: "rp_tcp_out_of_order", doc: "track: segments filling a gap left by a later segment" },
  {
    name: "rp_tcp_seq_gaps",
    doc: "track: segments starting beyond the next expected byte (data not captured)",
  },
  { name: "rp_tcp_ack_unseen", doc: "track: ACKs of data the capture never showed" },
  { name: "rp_tcp_dup_acks", doc: "track: duplicate ACKs (RFC 5681 §2)" },
  { name: "rp_tcp_zero_window", doc: "track: segments advertising a zero window" },
  {
    name: "rp_tcp_keepalives",
    doc: "track: keep-alives (one byte or none below the next expected, RFC 1122 §4.2.3.6)",
  },
  { name: "rp_tcp_rsts", doc: "track: acceptable RSTs (flow closed)" },
  { name: "rp_tcp_fins", doc: "track: FINs (first of each direction)" },
  { name: "rp_tcp_closed", doc: "track: conversations that ended (both FINs ACKed, or RST)" },
  { name: "rp_tcp_syn_retrans", doc: "track: repeated SYNs / SYN-ACKs" },
  {
    name: "rp_tcp_reused",
    doc: "track: new SYN on a tuple whose conversation ended (RFC 9293 §3.10.7.4 TIME-WAIT)",
  },
  {
    name: "rp_other_ip",
    doc: "track: IP packets that are not state-tracked TCP (UDP, ICMP, fragments): flow lookup only",
  },
  {
    name: "tcp_rcv_nombuf",
    doc: "in-order or out-of-order data not kept: the mbuf pool is down to its TX reserve (issue 10)",
    group: "Appended later (numbers stay stable).",
  },
  {
    name: "tcp_sack_recoveries",
    doc: "loss recoveries driven by the SACK scoreboard (RFC 6675), of tcp_fast_retransmits' entries",
  },
  {
    name: "tcp_sack_retransmits",
    doc: "segments RFC 6675 NextSeg chose to retransmit (holes), in those recoveries",
  },
];

// ---- the app API (assembly/api/abi.ts says what each kind carries) -------------------
export interface Code {
  name: string;
  value: number;
  doc: string;
  /** The host's name where it keys a table by it (DEAD reasons, app ids). */
  host?: string;
}

/** Fields of the 32-byte event/command descriptor (byte offsets). */
export const API_DESC: Constant[] = [
  { name: "DESC_SIZE", value: 32, doc: "bytes of one event or command descriptor" },
  { name: "D_KIND", value: 0, doc: "u16: EV_* or CMD_*" },
  { name: "D_FLAGS", value: 2, doc: "u16: per kind (SENDV_EOR), else 0" },
  { name: "D_HANDLE", value: 4, doc: "u32: TCB slot | generation << 24" },
  { name: "D_COOKIE", value: 8, doc: "u32: the app's own word for the connection" },
  { name: "D_A", value: 12, doc: "u32 argument a" },
  { name: "D_B", value: 16, doc: "u32 argument b" },
  { name: "D_C", value: 20, doc: "u32 argument c" },
  { name: "D_D", value: 24, doc: "u32 argument d" },
  { name: "D_RET", value: 28, doc: "i32: the command's result (RET_*, or a count)" },
  { name: "SPAN_SIZE", value: 8, doc: "bytes of a SENDV span {ptr u32, len u32}" },
];

/**
 * App modules (docs/design/app-modules.md): the mailbox an app module gets its batch in
 * (inbox: core -> module) and answers in (outbox: module -> core), byte offsets.
 */
export const APP_MODULE: Constant[] = [
  { name: "AM_VERSION", value: 1, doc: "mailbox format version (the module's ixapp_version())" },
  { name: "AM_IN_VERSION", value: 0, doc: "inbox u32: AM_VERSION" },
  { name: "AM_IN_RESULTS", value: 4, doc: "inbox u32: the module's previous commands, D_RET filled" },
  { name: "AM_IN_EVENTS", value: 8, doc: "inbox u32: events after the results" },
  {
    name: "AM_IN_DATA",
    value: 12,
    doc: "inbox u32: payload bytes after the events (offsets count from there)",
  },
  { name: "AM_IN_HDR", value: 16, doc: "inbox header bytes; descriptors follow" },
  { name: "AM_OUT_CMDS", value: 0, doc: "outbox u32: commands" },
  { name: "AM_OUT_DATA", value: 4, doc: "outbox u32: bytes after the commands (offsets count from there)" },
  { name: "AM_OUT_HDR", value: 8, doc: "outbox header bytes; command descriptors follow" },
  {
    name: "AM_UDP_ADDR",
    value: 64,
    doc: "bytes of the address record of a datagram (UDP_RECV c, UDP_SEND c)",
  },
  { name: "AM_ALIGN", value: 8, doc: "every payload piece starts at a multiple of this" },
  { name: "AM_OUT_CMDS_MAX", value: 1024, doc: "commands one outbox may carry" },
  { name: "AM_OUT_DATA_MAX", value: 262144, doc: "data bytes one outbox may carry" },
  { name: "AM_IN_DATA_MAX", value: 262144, doc: "payload bytes one inbox carries at most" },
  { name: "AM_IN_EVENTS_MAX", value: 4096, doc: "events one inbox carries at most" },
  // the proxy's control block (u32 words at extControl()): the mailbox between the core's
  // thread and the module's worker, and the proxy's counters
  { name: "XC_STATE", value: 0, doc: "mailbox state (XS_*), changed with Atomics" },
  { name: "XC_EXPORT_PTR", value: 1, doc: "address of the batch for the module (the inbox image)" },
  { name: "XC_EXPORT_LEN", value: 2, doc: "its bytes (valid in XS_EXPORTED)" },
  { name: "XC_IMPORT_PTR", value: 3, doc: "where the host copies the module's outbox" },
  { name: "XC_IMPORT_CAP", value: 4, doc: "bytes the import area holds (longer outboxes are a fault)" },
  { name: "XC_IMPORT_LEN", value: 5, doc: "bytes the host copied (set before XS_ANSWERED)" },
  { name: "XC_BATCHES", value: 6, doc: "batches exported" },
  { name: "XC_GARBAGE", value: 7, doc: "commands refused (bad handle, opcode, offset or length)" },
  { name: "XC_FAULTS", value: 8, doc: "module faults handled" },
  { name: "XC_FAULT_RESETS", value: 9, doc: "connections reset because their module faulted" },
  { name: "XC_REJECTED", value: 10, doc: "connections refused: no slot, or the module is down" },
  { name: "XC_CONNS", value: 11, doc: "connections the proxy holds now" },
  { name: "XC_RESULTS", value: 12, doc: "results of the module's commands waiting for the next batch" },
  {
    name: "XC_FLUSH",
    value: 13,
    doc: "set by the host: export waiting results even without an event (cleared by the export)",
  },
  { name: "XC_WORDS", value: 16, doc: "u32 words of the control block" },
  { name: "XS_IDLE", value: 0, doc: "no batch out: the proxy may export" },
  { name: "XS_EXPORTED", value: 1, doc: "a batch is out: the host hands it to the module" },
  { name: "XS_ANSWERED", value: 2, doc: "the module's outbox is in the import area: the proxy takes it" },
  { name: "XS_DOWN", value: 3, doc: "the module faulted and is not (yet) back: connections are refused" },
  { name: "XC_GARBAGE_MAX", value: 64, doc: "refused commands in one batch that make the module faulty" },
];

/** Event kinds (stack -> app), u16. */
export const EVENTS: Code[] = [
  { name: "EV_TCP_KNOCK", value: 1, doc: "a connection asks to be accepted" },
  { name: "EV_TCP_CONNECTED", value: 2, doc: "an active open finished (a = RET_OK or an error)" },
  { name: "EV_TCP_RECV", value: 3, doc: "bytes received (a = ptr, b = length; 0 = FIN)" },
  { name: "EV_TCP_SENT", value: 4, doc: "bytes acknowledged (a), send room now (b)" },
  { name: "EV_TCP_DEAD", value: 5, doc: "the connection is gone (a = DEAD_*)" },
  { name: "EV_UDP_RECV", value: 6, doc: "a datagram (a = ptr, b = length, c = flow key, d = mbuf)" },
  { name: "EV_TIMER", value: 7, doc: "an app timer fired (a = timer id)" },
];

/** Command kinds (app -> stack), u16. */
export const COMMANDS: Code[] = [
  { name: "CMD_ACCEPT", value: 101, doc: "accept a knocking connection" },
  { name: "CMD_REJECT", value: 102, doc: "refuse it (RST)" },
  { name: "CMD_CONNECT", value: 103, doc: "open a connection (ret = the handle)" },
  { name: "CMD_SENDV", value: 104, doc: "queue spans of bytes (ret = bytes accepted)" },
  { name: "CMD_RECV_DONE", value: 105, doc: "give received bytes back (re-opens the window)" },
  { name: "CMD_CLOSE", value: 106, doc: "FIN after queued data" },
  { name: "CMD_ABORT", value: 107, doc: "RST now" },
  { name: "CMD_UDP_SEND", value: 108, doc: "send a datagram" },
  { name: "CMD_TIMER", value: 109, doc: "start an app timer" },
];

/** D_FLAGS bits of CMD_SENDV, u16. */
export const SENDV_FLAGS: FlagBit[] = [
  {
    name: "SENDV_EOR",
    bit: 0,
    doc: "these bytes end a record (Linux's MSG_EOR): no segment carries bytes of this SENDV and a later one",
  },
];

/** Command results (D_RET), i32; counts are >= 0. */
export const RESULTS: Code[] = [
  { name: "RET_OK", value: 0, doc: "" },
  { name: "RET_BADHANDLE", value: -1, doc: "stale or never-valid handle" },
  { name: "RET_NOMEM", value: -2, doc: "mbufs, spans or TCBs exhausted" },
  { name: "RET_INVAL", value: -3, doc: "bad argument (span outside memory, bad family...)" },
  { name: "RET_STATE", value: -4, doc: "command not valid in this connection state" },
  { name: "RET_NOROUTE", value: -5, doc: "no neighbour / address for the destination" },
  { name: "RET_AGAIN", value: -6, doc: "queue full; retry next iteration" },
];

/** EV_TCP_DEAD reasons (its a), u32. */
export const DEAD_REASONS: Code[] = [
  { name: "DEAD_CLOSED", value: 0, host: "closed", doc: "orderly close finished (both FINs acknowledged)" },
  { name: "DEAD_RESET", value: 1, host: "reset", doc: "RST received" },
  { name: "DEAD_TIMEOUT", value: 2, host: "timeout", doc: "retransmissions / persist probes gave up" },
  { name: "DEAD_REFUSED", value: 3, host: "refused", doc: "connect answered by RST" },
  { name: "DEAD_ABORTED", value: 4, host: "aborted", doc: "the app aborted, or resources ran out" },
];

/** App ids (CFG_APP; assembly/apps/registry.ts maps each to its operations). */
export const APPS: Code[] = [
  { name: "APP_NONE", value: 0, doc: "no app: replay modes, the bare stack" },
  { name: "APP_ECHO", value: 1, host: "echo", doc: "TCP + UDP echo, zero-copy" },
  { name: "APP_SINK", value: 2, host: "sink", doc: "accept, discard, count" },
  { name: "APP_MEMCACHED", value: 3, host: "memcached", doc: "memcached 1.6 ASCII + binary" },
  { name: "APP_MIRROR", value: 4, host: "mirror", doc: "replay serve's server mirror" },
  {
    name: "APP_ECHO_CLIENT",
    value: 5,
    host: "echoClient",
    doc: "load generator for `pair --app echo`",
  },
  {
    name: "APP_MEMCACHED_CLIENT",
    value: 6,
    host: "memcachedClient",
    doc: "load generator for `pair --app memcached`",
  },
  { name: "APP_NETPIPE", value: 7, host: "netpipe", doc: "NPtcp's receiver (netpipe-tcp 3.7.2), zero-copy" },
  { name: "APP_SOCKPERF", value: 8, host: "sockperf", doc: "sockperf 3.7 server, TCP + UDP, zero-copy" },
  {
    name: "APP_LIVEPLAY",
    value: 9,
    host: "liveplay",
    doc: "client of `ixwasm liveplay`: captured sessions against a live server",
  },
  {
    name: "APP_EXTERNAL",
    value: 10,
    host: "external",
    doc: "proxy for an app module in a worker of its own (docs/design/app-modules.md)",
  },
];

// ---- record descriptors (R_DESC): the host's trace reader frames capture records in
// the staging region and describes each one; the core decodes a batch per call.
// Little-endian and naturally aligned, so the host fills them through its Uint32Array
// and Float64Array views: the host gets each field's u32 word index as well
// (DESC_W_*; a u16 field also gets its shift within that word).
export interface Field {
  name: string;
  offset: number;
  /** Bytes; 8 is an f64, 16 an address (four u32 words). */
  size: 1 | 2 | 4 | 8 | 16;
  doc: string;
}
export const RECORD_DESC_BYTES = 32;
export const RECORD_DESC: Field[] = [
  { name: "DESC_OFF", offset: 0, size: 4, doc: "offset of the frame's first byte in linear memory" },
  { name: "DESC_CAPLEN", offset: 4, size: 4, doc: "captured length" },
  { name: "DESC_LEN", offset: 8, size: 4, doc: "original (wire) length" },
  { name: "DESC_LINKTYPE", offset: 12, size: 2, doc: "link type (LINKTYPE_* number)" },
  { name: "DESC_FLAGS", offset: 14, size: 2, doc: "DESC_F_* bits" },
  { name: "DESC_NSEC", offset: 16, size: 4, doc: "nanoseconds within the second" },
  { name: "DESC_IFACE", offset: 20, size: 4, doc: "interface index (pcapng) / 0" },
  { name: "DESC_SEC", offset: 24, size: 8, doc: "seconds since the epoch (exact for integers < 2^53)" },
];
export const RECORD_DESC_FLAGS: FlagBit[] = [
  { name: "DESC_F_NO_TS", bit: 0, doc: "the record has no timestamp (pcapng simple packet block)" },
  {
    name: "DESC_F_NOT_PACKET",
    bit: 1,
    doc: "not a packet: a block tshark shows as a frame (pcapng custom block); never decoded",
  },
  {
    name: "DESC_F_TS_INVALID",
    bit: 2,
    doc: "the record's fraction field was out of range; nsec holds it as tshark keeps it",
  },
];

// ---- decode summaries (R_DECODE): one per record, written by decodeBatch (wire/summary.ts)
// and read by dump, inspect, prescan and serve. As for descriptors, the host gets u32 word
// indices (SUM_W_*) and, for a field narrower than its word, its shift (SUM_S_*).
export const SUMMARY_BYTES = 64;
export const SUMMARY: Field[] = [
  { name: "SUM_FLAGS", offset: 0, size: 2, doc: "SUM_F_* bits" },
  { name: "SUM_IPVER", offset: 2, size: 1, doc: "IP version of the outermost IP header (0 none, 4, 6)" },
  {
    name: "SUM_PROTO",
    offset: 3,
    size: 1,
    doc: "IP protocol / IPv6 next header after extension headers (valid if SUM_F_IP)",
  },
  { name: "SUM_SPORT", offset: 4, size: 2, doc: "source port (valid if SUM_F_PORTS)" },
  { name: "SUM_DPORT", offset: 6, size: 2, doc: "destination port" },
  { name: "SUM_TCPFLAGS", offset: 8, size: 2, doc: "TCP flags, 12 bits (valid if SUM_F_TCP)" },
  {
    name: "SUM_TCP_IPVER",
    offset: 10,
    size: 1,
    doc: "flow hook: IP version (4, 6) of the first TCP header anywhere outside ICMP errors (maybe in a tunnel), else 0",
  },
  { name: "SUM_SEQ", offset: 12, size: 4, doc: "TCP sequence number" },
  { name: "SUM_ACK", offset: 16, size: 4, doc: "TCP acknowledgement number" },
  {
    name: "SUM_PAYLOAD",
    offset: 20,
    size: 4,
    doc: "transport payload length from the headers (valid if SUM_F_PAYLOAD)",
  },
  { name: "SUM_L3OFF", offset: 24, size: 2, doc: "byte offset of the outermost IP header in the frame" },
  { name: "SUM_L4OFF", offset: 26, size: 2, doc: "byte offset of the transport header in the frame" },
  { name: "SUM_TCP_L3OFF", offset: 28, size: 2, doc: "flow hook: offset of that TCP header's IP header" },
  { name: "SUM_TCP_L4OFF", offset: 30, size: 2, doc: "flow hook: offset of that TCP header" },
  { name: "SUM_SRC", offset: 32, size: 16, doc: "source address (IPv4: first 4 bytes)" },
  { name: "SUM_DST", offset: 48, size: 16, doc: "destination address" },
];
export const SUMMARY_FLAGS: FlagBit[] = [
  { name: "SUM_F_IP", bit: 0, doc: "an IP header was found; src/dst/proto valid" },
  { name: "SUM_F_PORTS", bit: 1, doc: "TCP or UDP ports valid" },
  { name: "SUM_F_TCP", bit: 2, doc: "TCP header: flags/seq/ack valid" },
  { name: "SUM_F_PAYLOAD", bit: 3, doc: "payload length valid" },
  { name: "SUM_F_FRAG", bit: 4, doc: "IPv4/IPv6 fragment (transport absent unless first)" },
  { name: "SUM_F_TRUNC", bit: 5, doc: "a header was cut short by the captured length" },
  { name: "SUM_F_UNKNOWN_LINK", bit: 6, doc: "link type not decoded" },
  { name: "SUM_F_UDP", bit: 7, doc: "UDP header" },
  { name: "SUM_F_NOT_PACKET", bit: 8, doc: "descriptor flagged as a non-packet record" },
  {
    name: "SUM_F_ANY_V4",
    bit: 9,
    doc: "an IPv4 header anywhere in the frame (through tunnels, ICMP errors): tshark's `ip` filter; inspect counts",
  },
  { name: "SUM_F_ANY_V6", bit: 10, doc: "an IPv6 header anywhere in the frame (tshark's `ipv6`)" },
  { name: "SUM_F_ANY_TCP", bit: 11, doc: "a TCP header anywhere in the frame (tshark's `tcp`)" },
  { name: "SUM_F_ANY_UDP", bit: 12, doc: "a UDP header anywhere in the frame (tshark's `udp`)" },
];

// ---- stage timing (assembly/stats/stages.ts): stage numbers index the core's sums --------
export interface Stage {
  core: string;
  /** The report's name. */
  host: string;
  doc: string;
  /** What the report says it covers. */
  about: string;
  /** Replay modes whose timed batch function marks this stage. */
  replay?: ("raw" | "track")[];
}
export const STAGES: Stage[] = [
  {
    core: "S_PARSE",
    host: "parse+hash",
    doc: "link → IP → ports, Toeplitz hash (one walk: flow/extract.ts tupleHash)",
    about: "link → IP → ports and the Toeplitz hash (one walk in the core)",
    replay: ["raw", "track"],
  },
  {
    core: "S_LOOKUP",
    host: "flow lookup",
    doc: "flow-table lookup/insert (track)",
    about: "canonical key, flow-table lookup or insert (track)",
    replay: ["track"],
  },
  {
    core: "S_TCP",
    host: "tcp input",
    doc: "passive TCP tracking (track's TCP input)",
    about: "passive TCP tracking: window bounds, state, analysis counters (track)",
    replay: ["track"],
  },
  {
    core: "S_DISPATCH",
    host: "dispatch",
    doc: "RETA → worker, per-worker count, verdict, batch counters",
    about: "RETA → worker, per-worker counts, verdicts, batch counters",
    replay: ["raw", "track"],
  },
  {
    core: "S_TIMERS",
    host: "reclaim+timers",
    doc: "poll(): reclaim sent frames, timers",
    about: "poll(): free sent frames, due timers",
  },
  {
    core: "S_RX_INPUT",
    host: "rx+input",
    doc: "poll(): RX burst + eth → ip → tcp/udp/icmp input per frame (interleaved per packet: one section)",
    about: "poll(): RX burst and eth → ip → tcp/udp/icmp per frame (interleaved per packet: one section)",
  },
  { core: "S_APP", host: "app", doc: "poll(): the app's step", about: "poll(): the app's step" },
  {
    core: "S_COMMANDS",
    host: "commands",
    doc: "poll(): the stack executes the app's commands (TCP output of sends)",
    about: "poll(): the stack executes the app's commands",
  },
  {
    core: "S_FLUSH",
    host: "flush",
    doc: "poll(): coalesced ACKs, queued data (TCP output)",
    about: "poll(): coalesced ACKs and queued data",
  },
  { core: "S_TX", host: "tx", doc: "poll(): TX publish", about: "poll(): TX publish" },
];
/** f64 sums after the per-stage ones at stageAccPtr(), in this order. */
export const STAGE_SUMS: Code[] = [
  { name: "ACC_TOTAL_MS", value: 0, host: "totalMs", doc: "ms inside timed calls" },
  { name: "ACC_CALLS", value: 1, host: "calls", doc: "timed calls" },
  { name: "ACC_PACKETS", value: 2, host: "packets", doc: "packets in timed calls" },
  { name: "ACC_IDLE_MS", value: 3, host: "idleMs", doc: "ms of timed polls that found nothing to do" },
  { name: "ACC_IDLE_CALLS", value: 4, host: "idleCalls", doc: "those polls" },
];

// ---- hashBatch / hashBatchFrom records in the scratch area (assembly/flow/batch.ts) -------
// Record k, for descriptor first + k, at SCRATCH_BASE + k * HB_BYTES; SCRATCH_BYTES / HB_BYTES
// records at most per call.
export const HASH_BATCH_BYTES = 8;
export const HASH_BATCH: Field[] = [
  { name: "HB_HASH", offset: 0, size: 4, doc: "Toeplitz hash (0 when no IP header)" },
  {
    name: "HB_WORKER",
    offset: 4,
    size: 2,
    doc: "RETA[hash & 127]; HB_NO_WORKER when the frame has no IP header (the dispatcher's non-IP policy decides)",
  },
  { name: "HB_GROUP", offset: 6, size: 1, doc: "hash & 127 (the flow group)" },
  { name: "HB_FLAGS", offset: 7, size: 1, doc: "TX_F_* of flow/extract.ts" },
];
/** HB_WORKER of a frame without an IP header (ARP, unknown link type, not a packet). */
export const HB_NO_WORKER = 0xffff;

// ---- replayGatherBatch's control block (assembly/replay/dispatch.ts), u32 words at ctl ---
// written by the host (host/replay/plane.ts) and this call only.
export const GATHER_CONTROL: Constant[] = [
  { name: "GC_WORKERS", value: 0, doc: "n" },
  { name: "GC_BYTES", value: 4, doc: "S, a multiple of 8" },
  { name: "GC_SLOTS", value: 8, doc: "descriptor slots per outbox (power of two)" },
  { name: "GC_WSTAGE", value: 12, doc: "worker address of its staging (same in every worker)" },
  { name: "GC_OUTBOX", value: 16, doc: "address of outbox 0 in this memory" },
  { name: "GC_STRIDE", value: 20, doc: "bytes from one outbox to the next (S + slots * DESC_BYTES)" },
  {
    name: "GC_BLOCKED",
    value: 24,
    doc: "out: the worker whose outbox was full (when the call stopped early)",
  },
  {
    name: "GC_PARSED",
    value: 28,
    doc: "in/out: descriptors below this index were parsed (so --loop rewritten) by an earlier call; the host zeroes it per batch",
  },
  { name: "GC_HEADER", value: 64, doc: "bytes before the per-worker words" },
  {
    name: "GC_HEAD",
    value: 0,
    doc: "per worker: free-running descriptor count written (in: published + pending)",
  },
  { name: "GC_TAIL", value: 4, doc: "per worker, in: the worker's tail as the host last read it" },
  { name: "GC_WPOS", value: 8, doc: "per worker: next free byte (outbox-relative)" },
  { name: "GC_PER_WORKER", value: 16, doc: "bytes per worker, at ctl + GC_HEADER + GC_PER_WORKER * w" },
];

// ---- mbufs (assembly/mem/mbuf.ts): the host posts RX mbufs and reads TX ones ------------
/** The header's fields (byte offsets from the mbuf's handle); all free for the owner but STATE and INDEX. */
export const MBUF_FIELDS: Field[] = [
  { name: "MB_NEXT", offset: 0, size: 4, doc: "next mbuf of the same packet (chain), 0 = last" },
  {
    name: "MB_LINK",
    offset: 4,
    size: 4,
    doc: "next packet in a queue (TCP send/reassembly queue, batch), 0 = none",
  },
  {
    name: "MB_DATA_OFF",
    offset: 8,
    size: 2,
    doc: "offset of the first valid byte inside the data area (headroom)",
  },
  { name: "MB_DATA_LEN", offset: 10, size: 2, doc: "valid bytes in this mbuf" },
  { name: "MB_PKT_LEN", offset: 12, size: 4, doc: "total bytes of the chain (valid in the first mbuf)" },
  {
    name: "MB_REFCNT",
    offset: 16,
    size: 2,
    doc: "references (1 after alloc); the owner decides when to free",
  },
  {
    name: "MB_STATE",
    offset: 18,
    size: 2,
    doc: "MBUF_STATE_FREE / MBUF_STATE_USED (pool-owned; double-free check)",
  },
  { name: "MB_INDEX", offset: 20, size: 4, doc: "this mbuf's pool index (pool-owned, constant)" },
  { name: "MB_FLOW", offset: 24, size: 4, doc: "flow-table entry or TCB index, 0xffffffff = none" },
  {
    name: "MB_SEQ",
    offset: 28,
    size: 4,
    doc: "TCP sequence number of the first data byte (buffered segments)",
  },
  {
    name: "MB_TS",
    offset: 32,
    size: 8,
    doc: 'timestamp, ns (u64; virtual or wall clock, see DESIGN "Time")',
  },
  { name: "MB_HASH", offset: 40, size: 4, doc: "RSS hash of the packet" },
  { name: "MB_L3OFF", offset: 44, size: 2, doc: "offset of the IP header from data start" },
  { name: "MB_L4OFF", offset: 46, size: 2, doc: "offset of the transport header from data start" },
  { name: "MB_FLAGS", offset: 48, size: 4, doc: "MBUF_F_* (owner-defined bits)" },
  { name: "MB_USER0", offset: 52, size: 4, doc: "free for the layer that owns the mbuf (api/apps)" },
  { name: "MB_USER1", offset: 56, size: 4, doc: "free for the layer that owns the mbuf" },
];
export const MBUF: Constant[] = [
  { name: "MBUF_HEADER_BYTES", value: 64, doc: "bytes of an mbuf's header, before its data area" },
  { name: "MBUF_DATA_DEFAULT", value: 2048, doc: "data-area bytes when CFG_MBUF_DATA is 0" },
];

// ---- replay raw/track results (assembly/replay/common.ts) ---------------------------------
export const REPLAY: Constant[] = [
  {
    name: "VERDICT_WHY_SHIFT",
    value: 16,
    doc: "a record's u32 verdict (R_DECODE, u32 per descriptor): low half the worker, from this bit the drop reason (0: processed)",
  },
  {
    name: "WORKER_COUNT_BYTES",
    value: 16,
    doc: "per-worker counts at replayWorkerCounts(): bytes per worker",
  },
  { name: "WC_PACKETS", value: 0, doc: "u64 packets processed by the worker" },
  { name: "WC_BYTES", value: 8, doc: "u64 bytes of those packets" },
];

// ---- SPSC descriptor rings (assembly/mem/ring.ts, host/runtime/ring.ts) ------------------
// In this order the core's ringLayout(i) reports them (test/mem/ring.test.ts asks it).
export interface RingConst extends Constant {
  /** The host's key in RING. */
  host: string;
  /** The core's type (offsets are usize). */
  type?: "u32" | "u16";
}
export const RING: RingConst[] = [
  { name: "RING_HEAD", host: "head", value: 0, doc: "u32 producer index (own cache line)" },
  { name: "RING_TAIL", host: "tail", value: 64, doc: "u32 consumer index (own cache line)" },
  { name: "RING_SLEEP", host: "sleep", value: 128, doc: "i32 1 while the consumer waits (Atomics.wait)" },
  { name: "RING_SLOTS", host: "slots", value: 192, doc: "u32 slot count (power of two)" },
  { name: "RING_MASK", host: "mask", value: 196, doc: "u32 slots - 1" },
  { name: "RING_MAGIC_OFF", host: "magicOff", value: 200, doc: "u32 RING_MAGIC once initialised" },
  { name: "RING_REFUSED", host: "refused", value: 204, doc: "u32 enqueues refused (ring full)" },
  { name: "RING_NOTIFIES", host: "notifies", value: 208, doc: "u32 wake-ups sent by the producer" },
  { name: "RING_HEADER_BYTES", host: "headerBytes", value: 256, doc: "bytes before slot 0" },
  { name: "RING_SLOT_BYTES", host: "slotBytes", value: 16, doc: "bytes of one slot" },
  { name: "RING_MAGIC", host: "magic", value: 0x31474e52, hex: true, type: "u32", doc: '"RNG1"' },
  { name: "SLOT_BUF", host: "slotBuf", value: 0, doc: "u32 mbuf index, or byte offset with RING_F_OFFSET" },
  { name: "SLOT_LEN", host: "slotLen", value: 4, doc: "u16 frame length" },
  {
    name: "SLOT_FLAGS",
    host: "slotFlags",
    value: 6,
    doc: "u16 RING_F_* (extend freely; both sides pass them through)",
  },
  { name: "SLOT_HASH", host: "slotHash", value: 8, doc: "u32 RSS hash (valid with RING_F_HASHED)" },
  { name: "SLOT_USER", host: "slotUser", value: 12, doc: "u32 free for the producer" },
  {
    name: "RING_F_OFFSET",
    host: "fOffset",
    value: 1,
    type: "u16",
    doc: "buf is a byte offset, not an mbuf index",
  },
  { name: "RING_F_HASHED", host: "fHashed", value: 2, type: "u16", doc: "hash is valid" },
  {
    name: "RING_F_NON_IP",
    host: "fNonIp",
    value: 4,
    type: "u16",
    doc: "frame has no IP header (dispatcher policy)",
  },
];
