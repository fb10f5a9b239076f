// Record descriptors, decode summaries, hashBatch records, the gather control block, replay results. Part of the ABI table (abi/table.ts).
import type { Constant, Field, FlagBit } from "./types.ts";

// ---- record descriptors (R_DESC): the host's trace reader frames capture records in
// the staging region and describes each one; the core decodes a batch per call.
// Little-endian and naturally aligned, so the host fills them through its Uint32Array
// and Float64Array views: the host gets each field's u32 word index as well
// (DESC_W_*; a u16 field also gets its shift within that word).
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
