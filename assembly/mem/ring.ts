// Single-producer/single-consumer descriptor ring in linear memory, shared by
// the host (JS Atomics on an Int32Array over the SharedArrayBuffer, see
// host/runtime/ring.ts) and the core (wasm i32.atomic.* here). The two files
// hold the same constants; `ringLayout(i)` lets a test prove they agree.
//
// Header (RING_HEADER_BYTES = 256), one cache line per writer so the producer
// and the consumer never write the same line:
//   0  u32 head      slots published so far (free-running, wraps mod 2^32); producer writes
//  64  u32 tail      slots consumed so far (free-running); consumer writes
// 128  i32 sleep     1 while the consumer is (about to be) blocked in Atomics.wait(sleep, 1);
//                    the consumer sets it, the producer clears it (cmpxchg 1→0) and notifies
// 192  u32 slots     power of two (read-only after init)
// 196  u32 mask      slots - 1
// 200  u32 magic     RING_MAGIC once initialised
// 204  u32 refused   items a producer could not enqueue (ring full); producer writes
// 208  u32 notifies  wake-ups the producer sent; producer writes
// Slots follow at 256, 16 bytes each:
//   0  u32 buf    mbuf index, or byte offset of a frame in linear memory (RING_F_OFFSET)
//   4  u16 len    frame length in bytes
//   6  u16 flags  RING_F_*
//   8  u32 hash   RSS hash (0 if not computed)
//  12  u32 user   free word (e.g. timestamp index, flow group, command code)
//
// Protocol. count = head - tail (u32 arithmetic) is what the consumer may read;
// slots - count is what the producer may write. The producer writes slot
// contents with plain stores and then publishes with an atomic store of head;
// the consumer reads head atomically, then the slots, then stores tail. wasm
// and JS atomics are sequentially consistent, which also makes the sleep
// handshake safe: the consumer stores sleep=1 and re-reads head before
// waiting; the producer stores head and then reads sleep. At least one of them
// sees the other's store. The producer clears the flag (1→0) before notifying,
// so a consumer between its re-check and Atomics.wait(sleep, 1) returns at
// once: a wake-up can't be lost. The producer notifies only when sleep==1
// (wake-ups cost tens of µs on these VMs, DESIGN.md).
import { C_RING_FULL, bump } from "./counters";

// Header and slot layout, magic and slot flags: abi/table.ts RING, which the host's
// RING comes from too.
import { RING_HEAD, RING_TAIL, RING_SLEEP, RING_SLOTS, RING_MASK, RING_MAGIC_OFF, RING_REFUSED } from "./layout";
import { RING_NOTIFIES, RING_HEADER_BYTES, RING_SLOT_BYTES, RING_MAGIC, SLOT_BUF, SLOT_LEN, SLOT_FLAGS } from "./layout";
import { SLOT_HASH, SLOT_USER, RING_F_OFFSET, RING_F_HASHED, RING_F_NON_IP, ringLayoutValue } from "./layout";
export { RING_HEAD, RING_TAIL, RING_SLEEP, RING_SLOTS, RING_MASK, RING_MAGIC_OFF, RING_REFUSED };
export { RING_NOTIFIES, RING_HEADER_BYTES, RING_SLOT_BYTES, RING_MAGIC, SLOT_BUF, SLOT_LEN, SLOT_FLAGS };
export { SLOT_HASH, SLOT_USER, RING_F_OFFSET, RING_F_HASHED, RING_F_NON_IP };

export function ringBytes(slots: u32): usize {
  return slots == 0 ? 0 : RING_HEADER_BYTES + <usize>slots * RING_SLOT_BYTES;
}

/** Resets a ring at `ring` (64-byte aligned) with `slots` (a power of two) slots. */
export function ringInit(ring: usize, slots: u32): void {
  memory.fill(ring, 0, RING_HEADER_BYTES);
  store<u32>(ring, slots, RING_SLOTS);
  store<u32>(ring, slots - 1, RING_MASK);
  atomic.store<u32>(ring, RING_MAGIC, RING_MAGIC_OFF);
}

/** Address of the slot for free-running position pos. */
@inline export function ringSlot(ring: usize, pos: u32): usize {
  return ring + RING_HEADER_BYTES + (<usize>(pos & load<u32>(ring, RING_MASK)) << 4);
}

/** Items the consumer may take now. */
@inline export function ringCount(ring: usize): u32 {
  return atomic.load<u32>(ring, RING_HEAD) - atomic.load<u32>(ring, RING_TAIL);
}

/** Free slots the producer may fill now. */
@inline export function ringSpace(ring: usize): u32 {
  return load<u32>(ring, RING_SLOTS) - ringCount(ring);
}

// ---- producer side ---------------------------------------------------------

/** Producer: free slots. Fill ringSlot(ring, ringHead(ring) + i) for i < n, then ringPublish(ring, n). */
@inline export function ringReserve(ring: usize): u32 {
  // head is ours: a plain load is enough; tail needs the atomic (acquire) read.
  return load<u32>(ring, RING_SLOTS) - (load<u32>(ring, RING_HEAD) - atomic.load<u32>(ring, RING_TAIL));
}

@inline export function ringHead(ring: usize): u32 {
  return load<u32>(ring, RING_HEAD);
}

/** Producer: makes n filled slots visible; wakes the consumer if it sleeps.
 * Returns 1 if a wake-up was sent. */
@inline export function ringPublish(ring: usize, n: u32): i32 {
  atomic.store<u32>(ring, load<u32>(ring, RING_HEAD) + n, RING_HEAD);
  // Clear the flag before notifying: a consumer that set it but has not yet
  // entered its wait then sees 0 != 1 and returns at once (no lost wake-up).
  if (atomic.load<i32>(ring, RING_SLEEP) != 0 && atomic.cmpxchg<i32>(ring, 1, 0, RING_SLEEP) == 1) {
    store<u32>(ring, load<u32>(ring, RING_NOTIFIES) + 1, RING_NOTIFIES);
    atomic.notify(ring + RING_SLEEP, 1);
    return 1;
  }
  return 0;
}

/** Producer: counts items that did not fit (per ring and C_RING_FULL). */
@inline export function ringRefuse(ring: usize, n: u32): void {
  if (n == 0) return;
  store<u32>(ring, load<u32>(ring, RING_REFUSED) + n, RING_REFUSED);
  bump(C_RING_FULL, n);
}

/** Copies up to n 16-byte slots from src into the ring; returns how many fit.
 * Never waits. Items that did not fit are counted (ringRefuse). */
export function ringEnqueue(ring: usize, src: usize, n: u32): u32 {
  const free = ringReserve(ring);
  const k = n < free ? n : free;
  const head = load<u32>(ring, RING_HEAD);
  for (let i: u32 = 0; i < k; i++) {
    v128.store(ringSlot(ring, head + i), v128.load(src + (<usize>i << 4)));
  }
  if (k > 0) ringPublish(ring, k);
  ringRefuse(ring, n - k);
  return k;
}

/** Enqueues one item; false (and counted) when the ring is full. */
export function ringPush(ring: usize, buf: u32, len: u32, flags: u32, hash: u32, user: u32): bool {
  if (ringReserve(ring) == 0) {
    ringRefuse(ring, 1);
    return false;
  }
  const p = ringSlot(ring, load<u32>(ring, RING_HEAD));
  store<u32>(p, buf, SLOT_BUF);
  store<u32>(p, (len & 0xffff) | (flags << 16), SLOT_LEN);
  store<u32>(p, hash, SLOT_HASH);
  store<u32>(p, user, SLOT_USER);
  ringPublish(ring, 1);
  return true;
}

// ---- consumer side ---------------------------------------------------------

/** Consumer: items available. Read ringSlot(ring, ringTail(ring) + i) for i < n, then ringRelease(ring, n). */
@inline export function ringAvail(ring: usize): u32 {
  return atomic.load<u32>(ring, RING_HEAD) - load<u32>(ring, RING_TAIL);
}

@inline export function ringTail(ring: usize): u32 {
  return load<u32>(ring, RING_TAIL);
}

/** Consumer: hands n read slots back to the producer. */
@inline export function ringRelease(ring: usize, n: u32): void {
  atomic.store<u32>(ring, load<u32>(ring, RING_TAIL) + n, RING_TAIL);
}

/** Copies up to max slots out of the ring into dst; returns how many (0 if empty). Never waits. */
export function ringDequeue(ring: usize, dst: usize, max: u32): u32 {
  const avail = ringAvail(ring);
  const k = max < avail ? max : avail;
  const tail = load<u32>(ring, RING_TAIL);
  for (let i: u32 = 0; i < k; i++) {
    v128.store(dst + (<usize>i << 4), v128.load(ringSlot(ring, tail + i)));
  }
  if (k > 0) ringRelease(ring, k);
  return k;
}

/** Consumer: announces it is going to sleep. Returns the items available after
 * setting the flag: if non-zero the caller must not wait but call ringAwake
 * and consume instead. */
export function ringSleepPrepare(ring: usize): u32 {
  atomic.store<i32>(ring, 1, RING_SLEEP);
  return ringAvail(ring);
}

/** Consumer: clears the sleep flag (after waking or deciding not to wait). */
export function ringAwake(ring: usize): void {
  atomic.store<i32>(ring, 0, RING_SLEEP);
}

/** Self-description (generated from abi/table.ts RING): a test compares it with the host's RING. */
export function ringLayout(i: i32): u32 {
  return ringLayoutValue(i);
}
