// TCB table: CFG_TCBS fixed 256-byte records in region R_TCB, carved at init and
// never grown. Exactly 256 bytes per TCB (4 cache lines), data excluded: data
// lives in mbufs (receive) and in the app's memory (send spans). For 1,000,000
// TCBs: 256 MB of TCBs + 16 MB of timer entries (net/timer.ts).
//
// Handles are slot | (generation & 0xff) << 24: up to 16,777,216 slots, and a
// slot reused 256 times before a stale handle could alias (the generation
// moves on every free). Every command checks the handle (tcbFromHandle).
//
// Free slots form a LIFO list through TCB_LINK (O(1) alloc/free; the most
// recently freed, cache-warm TCB is reused first). Slots never used are handed
// out by a bump index, so init is O(1) whatever CFG_TCBS is.
//
// Layout: abi/tcb.ts (one table for the core and the tests, which read TCB fields
// through the test core), generated into abi/tcb.gen.ts and re-exported here.
import { CFG_TCBS, R_TCB, cfg, regionOffset } from "../../mem/layout";
import { TF_USED } from "./state";
import { TCB_BYTES, TCB_FLAGS, TCB_FLOW, TCB_GEN, TCB_LINK, TCB_STATE } from "../../abi/tcb.gen";
export * from "../../abi/tcb.gen";

export const NONE: u32 = 0xffffffff;

/** Bytes of region R_TCB for n TCBs (mem/plan.ts). */
export function tcbTableBytes(n: u32): usize {
  return <usize>n * TCB_BYTES;
}

let base: usize = 0;
let cap: u32 = 0;
let bumpNext: u32 = 0;
let freeHead: u32 = 0; // slot + 1, 0 = empty
let used: u32 = 0;

export function tcbTableInit(): void {
  base = regionOffset(R_TCB);
  cap = cfg(CFG_TCBS);
  if (cap > 0xffffff) cap = 0xffffff; // handles carry 24 slot bits
  bumpNext = 0;
  freeHead = 0;
  used = 0;
}

@inline export function tcbAt(slot: u32): usize {
  return base + <usize>slot * TCB_BYTES;
}

@inline export function tcbSlot(t: usize): u32 {
  return <u32>((t - base) / TCB_BYTES);
}

@inline export function tcbHandle(t: usize): u32 {
  return tcbSlot(t) | ((load<u32>(t, TCB_GEN) & 0xff) << 24);
}

/** A zeroed TCB (state CLOSED) or 0 when all CFG_TCBS are in use. */
export function tcbAlloc(): usize {
  let slot: u32;
  if (freeHead != 0) {
    slot = freeHead - 1;
    freeHead = load<u32>(tcbAt(slot), TCB_LINK);
  } else if (bumpNext < cap) {
    slot = bumpNext++;
    store<u32>(tcbAt(slot), 0, TCB_GEN);
  } else return 0;
  const t = tcbAt(slot);
  const gen = load<u32>(t, TCB_GEN);
  memory.fill(t, 0, TCB_BYTES);
  store<u32>(t, gen, TCB_GEN);
  store<u32>(t, 0xffffffff, TCB_FLOW);
  store<u32>(t, TF_USED, TCB_FLAGS);
  used++;
  return t;
}

/** Returns a TCB to the free list; the generation moves so old handles fail. */
export function tcbRelease(t: usize): void {
  store<u8>(t, 0, TCB_STATE);
  store<u32>(t, 0, TCB_FLAGS);
  store<u32>(t, load<u32>(t, TCB_GEN) + 1, TCB_GEN);
  store<u32>(t, freeHead, TCB_LINK);
  store<u32>(t, 0xffffffff, TCB_FLOW);
  freeHead = tcbSlot(t) + 1;
  used--;
}

/** The TCB a handle names, or 0 if the slot is out of range, free, or of another generation. */
export function tcbFromHandle(h: u32): usize {
  const slot = h & 0xffffff;
  if (slot >= bumpNext) return 0;
  const t = tcbAt(slot);
  if ((load<u32>(t, TCB_FLAGS) & TF_USED) == 0) return 0; // free
  if ((load<u32>(t, TCB_GEN) & 0xff) != h >> 24) return 0;
  return t;
}

export function tcbUsed(): u32 {
  return used;
}

export function tcbCapacity(): u32 {
  return cap;
}

/** Slots handed out so far (every used TCB is below it): what a scan over all TCBs walks (net/tcp/migrate.ts). */
export function tcbHighWater(): u32 {
  return bumpNext;
}
