// A connection table for app modules: `count` records of `recBytes` in one heap
// block, a free list through the free ones, and the record's index as the
// connection's cookie (CMD_ACCEPT's, returned in every event of it). One per
// module: an app keeps one table of its connections.
//
// Record header (the app's own fields start at SLOT_HDR): 0 the proxy's handle,
// 4 the state (SLOT_FREE, or the app's own states above it), 8 the next free
// record while free.
export const SLOT_HDR: usize = 12;
export const SLOT_FREE: u32 = 0;
/** slotTake: the table is full. */
export const SLOT_NONE: u32 = 0xffffffff;

let slotBase: usize = 0;
let slotBytes: usize = 0;
let slotN: u32 = 0;
let freeHead: u32 = SLOT_NONE;

/** Allocates the table (once, at init: the stub runtime never frees) with every record free. */
export function slotsInit(count: u32, recBytes: usize): void {
  slotN = count;
  slotBytes = recBytes;
  slotBase = heap.alloc(<usize>count * recBytes);
  freeHead = SLOT_NONE;
  for (let i = count; i > 0; i--) {
    const r = slotRec(i - 1);
    store<u32>(r, SLOT_FREE, 4);
    store<u32>(r, freeHead, 8);
    freeHead = i - 1;
  }
}

@inline export function slotRec(i: u32): usize {
  return slotBase + <usize>i * slotBytes;
}

/** i is a record in use (a cookie from an event may be stale or made up: check it). */
@inline export function slotLive(i: u32): bool {
  return i < slotN && load<u32>(slotRec(i), 4) != SLOT_FREE;
}

/** The records in the table. */
@inline export function slotCount(): u32 {
  return slotN;
}

/** Takes a free record for the proxy's `handle` in `state` (not SLOT_FREE); SLOT_NONE when the table is full. */
export function slotTake(handle: u32, state: u32): u32 {
  const i = freeHead;
  if (i == SLOT_NONE) return SLOT_NONE;
  const r = slotRec(i);
  freeHead = load<u32>(r, 8);
  store<u32>(r, handle);
  store<u32>(r, state, 4);
  return i;
}

/** Frees record i. */
export function slotRelease(i: u32): void {
  const r = slotRec(i);
  store<u32>(r, SLOT_FREE, 4);
  store<u32>(r, freeHead, 8);
  freeHead = i;
}
