// mbufs and the SPSC descriptor rings. Part of the ABI table (abi/table.ts).
import type { Constant, Field, RingConst } from "./types.ts";

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

// ---- SPSC descriptor rings (assembly/mem/ring.ts, host/runtime/ring.ts) ------------------
// In this order the core's ringLayout(i) reports them (test/mem/ring.test.ts asks it).
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
