// The control block, config words and their flag bits, modes, regions. Part of the ABI table (abi/table.ts).
import type { Code, ConfigWord, Constant, FlagBit, Region } from "./types.ts";

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
    core: "CFG_SHARD",
    host: "shard",
    default: 0,
    doc: "this process's shard of the capture's flow groups, 0..CFG_SHARDS-1 (replay --shard I/N, flow/shard.ts)",
  },
  {
    word: 54,
    core: "CFG_SHARDS",
    host: "shards",
    default: 1,
    doc: "shards the 128 flow groups are dealt to (group g: shard g mod N; 0 or 1 = none); the RETA then gives group g worker (g div N) mod CFG_WORKERS",
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
