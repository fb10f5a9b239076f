// The one place that says where everything lives in a core instance's linear memory.
//
//   [0, 64 KiB)            control block, owned by the host/core ABI (below)
//   [64 KiB, heap end)     AssemblyScript static data and a small stub heap
//   [regionBase, total)    regions sized from the config: staging, descriptors,
//                          decode output, mbuf pool, rings, flow table, ...
//
// The host writes the config words, calls `plan()` (on a throw-away instance with
// a small memory) to learn the total size, creates one shared Memory of exactly
// that size (never grown), instantiates, writes the config again and calls
// `init()`. Region offsets are then read back from the region table, so only the
// fixed offsets of this control block are mirrored in host/core.ts (a test checks
// that the two agree through `abiCheck()`).

// ---- control block ---------------------------------------------------------
export const ABI_VERSION: u32 = 1;
export const CFG_BASE: usize = 0x0000; // u32 config words, written by the host
export const REGION_BASE: usize = 0x0200; // (offset u32, bytes u32) per region id, 32 entries
export const COUNTER_BASE: usize = 0x0400; // u64 counters, see mem/counters.ts
export const COUNTER_SLOTS: usize = 256;
export const HIST_BASE: usize = 0x0c00; // u64[65] batch-size histogram (index = batch size)
export const SCRATCH_BASE: usize = 0x1000; // small per-call result area (e.g. hash results)
export const SCRATCH_BYTES: usize = 0x1000;
export const CTRL_END: usize = 0x10000;

// Config word indices (u32 at CFG_BASE + 4*i).
export const CFG_ABI: i32 = 0; // host writes ABI_VERSION
export const CFG_MBUFS: i32 = 1; // mbufs in the pool
export const CFG_FLOWS: i32 = 2; // flow table capacity (entries)
export const CFG_RING_SLOTS: i32 = 3; // descriptors per ring (power of two)
export const CFG_STAGING_BYTES: i32 = 4; // trace staging buffer
export const CFG_DESC_SLOTS: i32 = 5; // record descriptors per batch
export const CFG_TCBS: i32 = 6; // TCB table capacity
export const CFG_WORKER: i32 = 7; // this instance's worker index
export const CFG_WORKERS: i32 = 8; // number of workers
export const CFG_FLAGS: i32 = 9; // bit 0: symmetric RSS key; bit 1: poison freed mbufs
export const CFG_APP_BYTES: i32 = 10; // bytes of the app's own region (R_APP)
export const CFG_EVQ_SLOTS: i32 = 11; // event and command descriptors per poll (each queue)
export const CFG_APP: i32 = 12; // app id (api/apps.ts APP_*)
export const CFG_TIMERS: i32 = 13; // timer-wheel entries (TCBs + app timers)
export const CFG_MSL_MS: i32 = 14; // maximum segment lifetime; TIME_WAIT lasts 2*MSL (RFC 9293 §3.4.2)
export const CFG_RCVBUF: i32 = 15; // receive window per connection, bytes (before scaling)
export const CFG_SNDBUF: i32 = 16; // bytes a connection may hold unacknowledged + queued
export const CFG_TCP_FLAGS: i32 = 17; // TCPF_* (net/tcp): timestamps, window scaling, SACK-permitted, delayed ACK
export const CFG_DELACK_US: i32 = 18; // delayed-ACK timeout
export const CFG_RTO_MIN_US: i32 = 19; // lower bound of the RTO (RFC 6298 (2.4) says 1 s; Linux uses 200 ms)
export const CFG_MAC_LO: i32 = 20; // this core's MAC address, bytes 0..3 (little-endian word)
export const CFG_MAC_HI: i32 = 21; // bytes 4..5 in the low half
export const CFG_IPV4: i32 = 22; // this core's IPv4 address (network byte order as stored bytes), 0 = none
export const CFG_ISN_KEY0: i32 = 23; // 4 words: secret for RFC 6528 ISNs
export const CFG_NEIGH_SLOTS: i32 = 27; // ARP/ND cache entries
export const CFG_MODE: i32 = 28; // host-chosen processing mode (replay raw/track/serve, stack)
export const CFG_IPV6_0: i32 = 29; // 4 words: this core's IPv6 address (all zero = none)
export const CFG_MSS: i32 = 33; // MSS this core announces (default 1460)
export const CFG_SPANS: i32 = 34; // send-span pool entries (net/tcp/span.ts)
export const CFG_MBUF_DATA: i32 = 35; // bytes of an mbuf's data area (0 = 2048; a multiple of 64, 2048..16384; mem/mbuf.ts)
export const CFG_APP_PORT: i32 = 40; // TCP/UDP port the server app listens on (0 = the app's default)
export const CFG_APP_PEER_IP4: i32 = 41; // client apps: server IPv4 address (bytes in wire order)
export const CFG_APP_PEER_PORT: i32 = 42; // client apps: server port
export const CFG_APP_CONNS: i32 = 43; // client apps: connections to open; server apps: connection slots (0 = sized from CFG_APP_BYTES)
export const CFG_APP_MSGS: i32 = 44; // client apps: messages (requests) per connection
export const CFG_APP_MSG_BYTES: i32 = 45; // client apps: bytes per message (memcached: value size)
export const CFG_APP_ITEM_MAX: i32 = 46; // memcached item size limit in bytes (0 = 1 MiB, as memcached -I 1m)
export const CFG_APP_UNIX_BASE: i32 = 47; // unix seconds at loop clock 0 (memcached absolute expiration times)
// TCP give-up policy (net/tcp/state.ts; 0 = the default named there).
export const CFG_TCP_SYN_RETRIES: i32 = 48; // SYN retransmissions before an active open gives up (Linux tcp_syn_retries, 6)
export const CFG_TCP_SYNACK_RETRIES: i32 = 49; // SYN-ACK retransmissions before a half-open one does (Linux tcp_synack_retries, 5)
export const CFG_TCP_DATA_RETRIES: i32 = 50; // RTO expirations of data/FIN before giving up (RFC 1122 R2; default 9)
export const CFG_TCP_FIN_TIMEOUT_MS: i32 = 51; // FIN-WAIT-2 after our close, ms (Linux tcp_fin_timeout, 60 s); 0xffffffff = never
export const CFG_TCP_IDLE_TIMEOUT_S: i32 = 52; // a connection with nothing received for this long is reset; 0 = off (default)
export const CFG_WORDS: i32 = 64;

// Region ids (entry i of the region table).
export const R_STAGING: i32 = 0; // raw trace bytes read by the host
export const R_DESC: i32 = 1; // record descriptors (mem/desc.ts)
export const R_DECODE: i32 = 2; // per-record decode results (wire/summary.ts)
export const R_MBUF: i32 = 3; // mbuf pool: headers + data
export const R_MBUF_STACK: i32 = 4; // LIFO free stack of mbuf indices
export const R_RX_RING: i32 = 5; // host -> core
export const R_TX_RING: i32 = 6; // core -> host
export const R_FLOW: i32 = 7; // flow table
export const R_TCB: i32 = 8; // TCB table (net/tcp)
export const R_EVQ: i32 = 9; // events, stack -> app (api/abi.ts)
export const R_CMDQ: i32 = 10; // commands, app -> stack
export const R_APP: i32 = 11; // the app's own memory (e.g. memcached's table and slabs)
export const R_TIMER: i32 = 12; // timer wheel (net/timer.ts)
export const R_NEIGH: i32 = 13; // ARP / neighbour cache
export const R_SPAN: i32 = 14; // send-span pool (TCP send queues, api SENDV)
export const R_COUNT: i32 = 32;
export const R_TOTAL: i32 = 31; // last entry holds (regionBase, totalBytes)

// ---- sizes -------------------------------------------------------------------
export const CACHE_LINE: usize = 64;
export const PAGE: usize = 65536;

/** CFG_FLAGS bit 4: the memory was created for this init and is all zero, so
 * big tables need no zero fill. First touches of fresh pages cost ~16 µs per
 * 4 KiB page on these VMs: a 16 MiB fill was 65 ms, more than a 1 GB inspect's
 * decoding of a second. */
export const CFG_F_FRESH_MEMORY: u32 = 16;

@inline export function memoryIsFresh(): bool {
  return (load<u32>(CFG_BASE + (<usize>CFG_FLAGS << 2)) & CFG_F_FRESH_MEMORY) != 0;
}

@inline export function cfg(i: i32): u32 {
  return load<u32>(CFG_BASE + (<usize>i << 2));
}

@inline export function regionOffset(r: i32): usize {
  return <usize>load<u32>(REGION_BASE + (<usize>r << 3));
}

@inline export function regionBytes(r: i32): usize {
  return <usize>load<u32>(REGION_BASE + (<usize>r << 3) + 4);
}

@inline export function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}
