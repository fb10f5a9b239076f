// mbuf pool, IX layout: a fixed number of buffers, each a 64-byte header
// followed by a data area (2048 bytes by default; CFG_MBUF_DATA picks another
// size per core at init, e.g. 9216 for jumbo frames on `tap --mtu 9000`), carved out of region R_MBUF at init and never
// grown. Free buffers sit on a LIFO stack of u32 indices (region R_MBUF_STACK),
// so alloc/free are O(1) and the most recently freed (cache-warm) buffer is
// handed out first.
//
// Handles: an mbuf is named by the linear-memory address of its header (a
// "pointer handle"). 0 is the null handle (exhaustion, end of a chain); it can
// never be a real mbuf because regions start above the 64 KiB control block.
// Rings and the host use the u32 *index* instead (mbufIndex / mbufAt), which
// stays meaningful across memories (e.g. when the control plane moves state).
//
// Stride is data + 64 rounded up to an odd number of cache lines: 2112 bytes
// (33 lines) for 2048, 9280 (145 lines) for 9216. A stride of 2048 (or any
// multiple of a large power of two) puts every header in the same L1 set
// (AS-NOTES §6); an odd line count walks the headers through every set.
//
// Data size and stride are module globals set once at init, not constants:
// one core binary serves both sizes, and reading a global costs the fast path
// no measurable time (CPU-time A/B against the constants, docs/design/decisions.md).
//
// Header (MBUF_HEADER_BYTES, little-endian): the MB_* fields of abi/table.ts
// MBUF_FIELDS, all free for the owner except MB_STATE and MB_INDEX, which the pool owns.
import { CFG_FLAGS, CFG_F_POISON, CFG_MBUF_DATA, CFG_MBUFS, R_MBUF, R_MBUF_STACK, cfg, regionOffset } from "./layout";
import { C_MBUF_BAD_HANDLE, C_MBUF_DOUBLE_FREE, C_MBUF_EXHAUSTED, bump } from "./counters";

// Header size and default data size: abi/table.ts MBUF (the host posts RX mbufs).
export { MBUF_HEADER_BYTES, MBUF_DATA_DEFAULT } from "./layout";
import { MBUF_HEADER_BYTES, MBUF_DATA_DEFAULT } from "./layout";
export const MBUF_DATA_MAX: u32 = 16384; // dataOff/dataLen are u16; 16 KiB is ample for a 9000-byte MTU
// Room kept in front of received data so headers can be prepended in place.
export const MBUF_HEADROOM: u16 = 0;

export { MB_NEXT, MB_LINK, MB_DATA_OFF, MB_DATA_LEN, MB_PKT_LEN, MB_REFCNT, MB_STATE, MB_INDEX } from "./layout";
export { MB_FLOW, MB_SEQ, MB_TS, MB_HASH, MB_L3OFF, MB_L4OFF, MB_FLAGS, MB_USER0, MB_USER1 } from "./layout";
import { MB_NEXT, MB_LINK, MB_DATA_OFF, MB_DATA_LEN, MB_PKT_LEN, MB_REFCNT, MB_STATE, MB_INDEX } from "./layout";
import { MB_FLOW, MB_SEQ, MB_TS, MB_HASH, MB_L3OFF, MB_L4OFF, MB_FLAGS, MB_USER0, MB_USER1 } from "./layout";

// Distinct non-zero magics so a stray write of 0 or 1 is not mistaken for either state.
export const MBUF_STATE_FREE: u16 = 0xf4ee;
export const MBUF_STATE_USED: u16 = 0xa11c;
export const MBUF_POISON: u8 = 0xdb;
export const MBUF_NO_FLOW: u32 = 0xffffffff;

/** The data-area size CFG_MBUF_DATA asks for (0 = the default), or 0 if it is not a multiple of 64 in [2048, 16384]. */
export function mbufDataCfg(): u32 {
  const d = cfg(CFG_MBUF_DATA);
  if (d == 0) return MBUF_DATA_DEFAULT;
  if ((d & 63) != 0 || d < MBUF_DATA_DEFAULT || d > MBUF_DATA_MAX) return 0;
  return d;
}

/** Header + data rounded up to an odd number of cache lines (see the top comment). */
export function mbufStrideFor(data: u32): usize {
  const lines = (<usize>data + MBUF_HEADER_BYTES) >> 6;
  return ((lines & 1) == 0 ? lines + 1 : lines) << 6;
}

/** Data-area bytes and stride of this core's mbufs (set by mbufPoolInit from CFG_MBUF_DATA). */
export let mbufDataBytes: usize = MBUF_DATA_DEFAULT;
export let mbufStride: usize = mbufStrideFor(MBUF_DATA_DEFAULT);

export function mbufPoolBytes(count: u32): usize {
  return <usize>count * mbufStrideFor(mbufDataCfg());
}
export function mbufStackBytes(count: u32): usize {
  return <usize>count * 4;
}

let poolBase: usize = 0;

let stackBase: usize = 0;
let mbufCount: u32 = 0;
let freeTop: u32 = 0; // number of indices on the free stack
let poison: bool = false;

// Mbufs [fresh, count) have never been handed out: their headers are written on
// first use, not at init. Init touching every header of a large pool costs a page
// fault per header on these VMs (~16 µs each: 100 ms for a 26 MB pool) for
// buffers a run may never use. Freed mbufs go on the LIFO stack and are reused
// first (cache-warm); only when the stack is empty does the next fresh one come.
let fresh: u32 = 0;

/** Carves the pool from the planned regions; every mbuf starts free. O(1). */
export function mbufPoolInit(): void {
  poolBase = regionOffset(R_MBUF);
  stackBase = regionOffset(R_MBUF_STACK);
  mbufCount = cfg(CFG_MBUFS);
  mbufDataBytes = mbufDataCfg(); // plan() refused an invalid size before init runs
  mbufStride = mbufStrideFor(<u32>mbufDataBytes);

  poison = (cfg(CFG_FLAGS) & CFG_F_POISON) != 0;
  freeTop = 0;
  fresh = 0;
}

/** Writes the pool-owned header fields of a never-used mbuf. */
@inline function mbufFirstUse(i: u32): usize {
  const m = poolBase + <usize>i * mbufStride;
  memory.fill(m, 0, MBUF_HEADER_BYTES);
  store<u32>(m, i, MB_INDEX);
  return m;
}

@inline export function mbufAt(index: u32): usize {
  return poolBase + <usize>index * mbufStride;
}

@inline export function mbufIndex(m: usize): u32 {
  return load<u32>(m, MB_INDEX);
}

/** Address of the first valid data byte (data area + dataOff). */
@inline export function mbufData(m: usize): usize {
  return m + MBUF_HEADER_BYTES + <usize>load<u16>(m, MB_DATA_OFF);
}

/** Start of the data area (mbufDataBytes long), ignoring dataOff. */
@inline export function mbufBuf(m: usize): usize {
  return m + MBUF_HEADER_BYTES;
}

/** Takes one mbuf; 0 when the pool is empty (C_MBUF_EXHAUSTED bumped). */
@inline export function mbufAlloc(): usize {
  let m: usize;
  if (freeTop != 0) {
    freeTop--;
    m = mbufAt(load<u32>(stackBase + (<usize>freeTop << 2)));
  } else if (fresh < mbufCount) {
    m = mbufFirstUse(fresh);
    fresh++;
  } else {
    bump(C_MBUF_EXHAUSTED);
    return 0;
  }
  // Reset the owner-visible fields a fresh buffer must not inherit.
  store<u64>(m, 0, MB_NEXT); // next + link
  store<u32>(m, MBUF_HEADROOM, MB_DATA_OFF); // dataOff + dataLen(0)
  store<u32>(m, 0, MB_PKT_LEN);
  store<u16>(m, 1, MB_REFCNT);
  store<u16>(m, MBUF_STATE_USED, MB_STATE);
  store<u32>(m, MBUF_NO_FLOW, MB_FLOW);
  store<u32>(m, 0, MB_FLAGS);
  return m;
}

/** Returns one mbuf to the pool. A handle that is not an mbuf of this pool
 * (C_MBUF_BAD_HANDLE) or one already free (C_MBUF_DOUBLE_FREE) is counted and
 * ignored: freeing it again would hand the same buffer to two owners. */
@inline export function mbufFree(m: usize): void {
  // In range, then on a header: its index field names it (a multiply, not a
  // division by the run-time stride; a handle between headers reads some data
  // word there, and no index below fresh maps back to a non-header address).
  const i = m < poolBase || m >= poolBase + <usize>fresh * mbufStride ? fresh : load<u32>(m, MB_INDEX);
  if (i >= fresh || mbufAt(i) != m) {
    bump(C_MBUF_BAD_HANDLE);
    return;
  }
  if (load<u16>(m, MB_STATE) != MBUF_STATE_USED) {
    bump(C_MBUF_DOUBLE_FREE);
    return;
  }
  store<u16>(m, MBUF_STATE_FREE, MB_STATE);
  if (poison) memory.fill(m + MBUF_HEADER_BYTES, MBUF_POISON, mbufDataBytes);
  store<u32>(stackBase + (<usize>freeTop << 2), load<u32>(m, MB_INDEX));
  freeTop++;
}

/** Frees a whole chain (following `next`). */
export function mbufFreeChain(m: usize): void {
  while (m != 0) {
    const n = <usize>load<u32>(m, MB_NEXT);
    mbufFree(m);
    m = n;
  }
}

/** Allocates up to n mbufs, writing their u32 indices to out; returns how many
 * (fewer than n only if the pool ran out, C_MBUF_EXHAUSTED bumped once). */
export function mbufAllocBatch(out: usize, n: u32): u32 {
  let got: u32 = 0;
  while (got < n && (freeTop > 0 || fresh < mbufCount)) {
    const m = mbufAlloc();
    store<u32>(out + (<usize>got << 2), mbufIndex(m));
    got++;
  }
  if (got < n) bump(C_MBUF_EXHAUSTED);
  return got;
}

/** Frees n mbufs named by the u32 indices at src. */
export function mbufFreeBatch(src: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const idx = load<u32>(src + (<usize>i << 2));
    mbufFree(idx < mbufCount ? mbufAt(idx) : 1); // 1: deliberately invalid → counted
  }
}

export function mbufFreeCount(): u32 {
  return freeTop + (mbufCount - fresh);
}

export function mbufTotal(): u32 {
  return mbufCount;
}

/** Debug check: walks the free stack and every header. Returns 0 when the pool
 * is consistent: every stacked index is in range, marked FREE and stacked once,
 * and every mbuf not on the stack is marked USED. Otherwise the number of
 * problems found. O(count); for tests and end-of-run checks, not the fast path. */
export function mbufPoolCheck(): u32 {
  let bad: u32 = 0;
  // Use the state field as the "seen" mark: flip FREE to a third value while
  // walking, then restore, so no extra memory is needed.
  const SEEN: u16 = 0x5ee0;
  for (let i: u32 = 0; i < freeTop; i++) {
    const idx = load<u32>(stackBase + (<usize>i << 2));
    if (idx >= fresh) {
      bad++; // never handed out, so it cannot have been freed
      continue;
    }
    const m = mbufAt(idx);
    const s = load<u16>(m, MB_STATE);
    if (s == MBUF_STATE_FREE) store<u16>(m, SEEN, MB_STATE);
    else bad++; // used mbuf on the stack, or stacked twice
  }
  for (let i: u32 = 0; i < fresh; i++) {
    const m = mbufAt(i);
    const s = load<u16>(m, MB_STATE);
    if (s == SEEN) store<u16>(m, MBUF_STATE_FREE, MB_STATE);
    else if (s != MBUF_STATE_USED) bad++; // FREE but not on the stack: lost
    if (load<u32>(m, MB_INDEX) != i) bad++;
  }
  return bad;
}
