// Flow table: fixed capacity (CFG_FLOWS entries), open addressing, no
// allocation after init. Two arrays in region R_FLOW:
//
//   slots    2^k x 8 bytes: u32 hash, u32 entry+1 (0 = empty slot)
//   entries  capacity x 48 bytes: key (40, see key.ts), u32 value, u32 hash
//
// Why an index array in front of the entries: lookups probe 8-byte slots (8
// per cache line) and compare the stored 32-bit hash before touching a 40-byte
// key, and entry indices stay stable while slots move. That matters because
// deletion is by backward shift (linear probing, no tombstones): a delete moves
// later slots of the cluster back, and if the returned index were a slot index,
// every TCB holding it would dangle. Tombstones were rejected because a table
// with constant churn (flows open and close all day) fills with them and
// lookups degrade until a rehash, which this fixed-memory design can't afford.
//
// Load factor: slots = next power of two >= capacity / 0.75 (at least 16), so
// the table is at most 75% full when every entry is used (expected probes for a
// miss at 0.75 ≈ 8.5, at the typical 0.375–0.75 far fewer). Full means all
// `capacity` entries are taken; probing always terminates because slots > capacity.
//
// Bytes per flow: 48 (entry) + 8 x slots/capacity, i.e. 58.7–69.3 B; for
// 1,000,000 flows: 2^21 slots (16 MiB) + 48 MB = 64.8 MB, 64.8 B/flow.
// Free entries are chained through their value word (no separate free stack);
// entries never used are handed out by a bump counter, so init touches only
// the slot array.
//
// The home slot is the Fibonacci hash of the caller's 32-bit hash (top bits of
// hash * 2^32/φ): the RSS hash's low 7 bits pick the worker, so within one
// worker those bits are nearly constant and must not choose the slot.
//
// Hash contract: the caller passes a hash that is a function of the key (the
// same key must always come with the same hash), e.g. flowKeyHash(key) of the
// canonical key, or the symmetric RSS hash the dispatcher put in the ring slot.
import { CFG_FLOWS, cfg, regionOffset, R_FLOW, memoryIsFresh } from "../mem/layout";
import { C_FLOW_TABLE_FULL, bump } from "../mem/counters";
import { FLOW_KEY_BYTES, FK_FAMILY, flowKeyCopy, flowKeyEqual } from "./key";

export const FLOW_ENTRY_BYTES: usize = 48;
export const FLOW_SLOT_BYTES: usize = 8;
export const FE_VALUE: usize = 40;
export const FE_HASH: usize = 44;
const NONE: u32 = 0xffffffff;
const FIB: u32 = 0x9e3779b1;

/** Slot count for a capacity: next power of two >= ceil(capacity * 4 / 3), min 16. */
export function flowSlotsFor(capacity: u32): u64 {
  const want = (<u64>capacity * 4 + 2) / 3;
  let s: u64 = 16;
  while (s < want) s <<= 1;
  return s;
}

export function flowTableBytes(capacity: u32): usize {
  if (capacity == 0) return 0;
  const b = flowSlotsFor(capacity) * FLOW_SLOT_BYTES + <u64>capacity * FLOW_ENTRY_BYTES;
  return b > 0xffffffff ? <usize>0xffffffff : <usize>b; // plan() rejects what can't fit
}

let slotBase: usize = 0;
let entryBase: usize = 0;
let mask: u32 = 0;
let shift: u32 = 32;
let capacity: u32 = 0;
let count: u32 = 0;
let bumpNext: u32 = 0; // entries [bumpNext, capacity) were never used
let freeHead: u32 = NONE; // chain of deleted entries through their value word

export function flowTableInit(): void {
  capacity = cfg(CFG_FLOWS);
  count = 0;
  bumpNext = 0;
  freeHead = NONE;
  if (capacity == 0) return;
  const slots = <u32>flowSlotsFor(capacity);
  mask = slots - 1;
  shift = 32 - ctz(slots);
  slotBase = regionOffset(R_FLOW);
  entryBase = slotBase + <usize>slots * FLOW_SLOT_BYTES;
  if (!memoryIsFresh()) memory.fill(slotBase, 0, <usize>slots * FLOW_SLOT_BYTES);
}

@inline function home(hash: u32): u32 {
  return (hash * FIB) >> shift;
}

@inline function entryAt(index: u32): usize {
  return entryBase + <usize>index * FLOW_ENTRY_BYTES;
}

@inline function slotAt(i: u32): usize {
  return slotBase + (<usize>i << 3);
}

/** Entry index of key, or -1. */
export function flowFind(key: usize, hash: u32): i32 {
  if (count == 0) return -1;
  let i = home(hash);
  while (true) {
    const s = slotAt(i);
    const e = load<u32>(s, 4);
    if (e == 0) return -1;
    if (load<u32>(s) == hash && flowKeyEqual(entryAt(e - 1), key)) return <i32>(e - 1);
    i = (i + 1) & mask;
  }
  return -1;
}

/** Index of key's entry, inserting it (value word 0) if absent. -1 and
 * C_FLOW_TABLE_FULL when all entries are in use. */
export function flowInsert(key: usize, hash: u32): i32 {
  if (load<u8>(key, FK_FAMILY) == 0) return -1; // not a key (family 0 marks free entries)
  if (capacity == 0) {
    bump(C_FLOW_TABLE_FULL);
    return -1;
  }
  let i = home(hash);
  while (true) {
    const s = slotAt(i);
    const e = load<u32>(s, 4);
    if (e == 0) break;
    if (load<u32>(s) == hash && flowKeyEqual(entryAt(e - 1), key)) return <i32>(e - 1);
    i = (i + 1) & mask;
  }
  let idx: u32;
  if (freeHead != NONE) {
    idx = freeHead;
    freeHead = load<u32>(entryAt(idx), FE_VALUE);
  } else if (bumpNext < capacity) {
    idx = bumpNext++;
  } else {
    bump(C_FLOW_TABLE_FULL);
    return -1;
  }
  const p = entryAt(idx);
  flowKeyCopy(p, key);
  store<u32>(p, 0, FE_VALUE);
  store<u32>(p, hash, FE_HASH);
  const s = slotAt(i);
  store<u32>(s, hash);
  store<u32>(s, idx + 1, 4);
  count++;
  return <i32>idx;
}

/** Removes entry `index` (from flowFind/flowInsert). An index out of range or
 * already free is ignored. Other entries keep their indices. */
export function flowDelete(index: i32): void {
  const idx = <u32>index;
  if (idx >= bumpNext) return;
  const p = entryAt(idx);
  if (load<u8>(p, FK_FAMILY) == 0) return; // already free
  // Find the slot that points at this entry.
  let i = home(load<u32>(p, FE_HASH));
  while (load<u32>(slotAt(i), 4) != idx + 1) i = (i + 1) & mask;
  // Backward shift: pull later members of the cluster into the hole when their
  // home is not in (hole, j], so every key stays reachable from its home.
  let hole = i;
  let j = i;
  while (true) {
    j = (j + 1) & mask;
    const s = slotAt(j);
    if (load<u32>(s, 4) == 0) break;
    const h = home(load<u32>(s));
    if (((j - h) & mask) >= ((j - hole) & mask)) {
      store<u64>(slotAt(hole), load<u64>(s));
      hole = j;
    }
  }
  store<u64>(slotAt(hole), 0);
  // Mark free (family 0 never matches a valid key) and chain it.
  memory.fill(p, 0, FLOW_KEY_BYTES);
  store<u32>(p, freeHead, FE_VALUE);
  freeHead = idx;
  count--;
}

export function flowCount(): u32 {
  return count;
}

export function flowCapacity(): u32 {
  return capacity;
}

/** Pointer to entry index's u32 user word (e.g. TCB index); 0 when the index is out of range. */
export function flowValue(index: i32): usize {
  return <u32>index < capacity ? entryAt(<u32>index) + FE_VALUE : 0;
}

/** Pointer to entry index's stored 40-byte key; 0 when out of range. */
export function flowKeyAt(index: i32): usize {
  return <u32>index < capacity ? entryAt(<u32>index) : 0;
}

/** Number of slots (for reports: load factor = flowCount() / flowSlots()). */
export function flowSlots(): u32 {
  return capacity == 0 ? 0 : mask + 1;
}

/** Probe distance of entry index from its home slot (diagnostics, tests), -1 if free. */
export function flowProbeLength(index: i32): i32 {
  const idx = <u32>index;
  if (idx >= bumpNext) return -1;
  const p = entryAt(idx);
  if (load<u8>(p, FK_FAMILY) == 0) return -1;
  const h = home(load<u32>(p, FE_HASH));
  let i = h;
  while (load<u32>(slotAt(i), 4) != idx + 1) i = (i + 1) & mask;
  return <i32>((i - h) & mask);
}
