// JS side of the SPSC descriptor ring (assembly/mem/ring.ts holds the protocol;
// the layout, RING, comes from abi/table.ts for both sides, and a test asks the
// built core's ringLayout() for it).
//
// One SpscRing object is used by exactly one side (producer or consumer) of a
// ring. It works on any ring in any shared buffer: the dispatcher produces into
// a worker's RX ring, a worker's JS loop can consume the TX ring, and either
// side can be a WASM core instead. Only Atomics.load/store/wait/notify touch
// head, tail and the sleep word; slot contents are plain typed-array accesses
// ordered by those atomics.
//
// A ring whose two sides run in one thread (`local`: a core and the JS loop that
// feeds it, as in the tap, serve, liveplay and one-thread pair) needs no
// ordering between threads: its head and tail are plain reads and writes, and
// nobody sleeps on it. Each Atomics call is a builtin call out of optimized
// code in Node 20 (~12 ns here), and a frame's trip through a local ring took
// four of them (performance-log §13).

import * as ABI from "../core/abi.gen.ts";
// A module-local binding, as the literal it replaces was: the slot loops read RING's fields.
export const RING = ABI.RING;
export const RING_LAYOUT_ORDER = ABI.RING_LAYOUT_ORDER;

export function ringBytes(slots: number): number {
  return slots === 0 ? 0 : RING.headerBytes + slots * RING.slotBytes;
}

/** One decoded slot (for tests and slow paths; the fast path uses slotWord()). */
export interface RingItem {
  buf: number;
  len: number;
  flags: number;
  hash: number;
  user: number;
}

export class SpscRing {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  /** u32 index of the header and of slot 0. */
  readonly base32: number;
  readonly slots0: number;
  readonly slots: number;
  readonly mask: number;
  private readonly headIx: number;
  private readonly tailIx: number;
  private readonly sleepIx: number;

  /**
   * Attaches to an initialised ring at byte offset `base` of `buffer`. `local`:
   * the other side of the ring runs in this thread, always (plain head and tail
   * accesses; sleep() refuses).
   */
  constructor(
    buffer: ArrayBufferLike,
    base: number,
    readonly local = false,
  ) {
    if (base % 64 !== 0) throw new Error(`ring at ${base}: not 64-byte aligned`);
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.base32 = base >>> 2;
    this.slots0 = (base + RING.headerBytes) >>> 2;
    this.headIx = this.base32 + (RING.head >>> 2);
    this.tailIx = this.base32 + (RING.tail >>> 2);
    this.sleepIx = this.base32 + (RING.sleep >>> 2);
    if (Atomics.load(this.i32, this.base32 + (RING.magicOff >>> 2)) >>> 0 !== RING.magic)
      throw new Error(`no initialised ring at ${base} (magic missing)`);
    this.slots = this.u32[this.base32 + (RING.slots >>> 2)];
    this.mask = this.slots - 1;
  }

  /** Initialises a ring (same effect as the core's ringInit) and attaches to it. */
  static init(buffer: ArrayBufferLike, base: number, slots: number): SpscRing {
    if (slots <= 0 || (slots & (slots - 1)) !== 0)
      throw new Error(`ring slots ${slots}: need a power of two`);
    const u32 = new Uint32Array(buffer, base, RING.headerBytes >>> 2);
    u32.fill(0);
    u32[RING.slots >>> 2] = slots;
    u32[RING.mask >>> 2] = slots - 1;
    Atomics.store(new Int32Array(buffer), (base + RING.magicOff) >>> 2, RING.magic | 0);
    return new SpscRing(buffer, base);
  }

  /** Items the consumer may take now. */
  count(): number {
    if (this.local) return (this.u32[this.headIx] - this.u32[this.tailIx]) >>> 0;
    return (Atomics.load(this.i32, this.headIx) - Atomics.load(this.i32, this.tailIx)) >>> 0;
  }

  /** Free slots the producer may fill now. */
  space(): number {
    return this.slots - this.count();
  }

  /** u32 index (into this.u32) of the first word of the slot at free-running position pos. */
  slotWord(pos: number): number {
    return this.slots0 + ((pos & this.mask) << 2);
  }

  // ---- producer ----------------------------------------------------------

  /** Producer: position of the next slot to fill (fill slotWord(head() + i) for i < reserve()). */
  head(): number {
    return this.u32[this.headIx];
  }

  /** Producer: free slots (never waits). */
  reserve(): number {
    const tail = this.local ? this.u32[this.tailIx] : Atomics.load(this.i32, this.tailIx);
    return this.slots - ((this.u32[this.headIx] - tail) >>> 0);
  }

  /** Producer: publishes n filled slots; wakes the consumer only if it sleeps. Returns true if it notified. */
  publish(n: number): boolean {
    this.publishQuiet(n);
    if (this.local) return false; // nobody sleeps on a local ring
    // Clear the flag before notifying: a consumer that has set it but not yet
    // entered Atomics.wait then sees 0 != 1 and returns at once (no lost wake-up).
    if (
      Atomics.load(this.i32, this.sleepIx) !== 0 &&
      Atomics.compareExchange(this.i32, this.sleepIx, 1, 0) === 1
    ) {
      this.u32[this.base32 + (RING.notifies >>> 2)]++;
      Atomics.notify(this.i32, this.sleepIx, 1);
      return true;
    }
    return false;
  }

  /**
   * Producer: publishes n filled slots without waking a sleeping consumer
   * (interrupt moderation: a later publish() wakes it; it also wakes by itself
   * at the end of its bounded sleep).
   */
  publishQuiet(n: number): void {
    // A local ring's head: no other thread reads it.
    if (this.local) this.u32[this.headIx] += n;
    else Atomics.store(this.i32, this.headIx, (this.u32[this.headIx] + n) | 0);
  }

  /** Producer: counts items that did not fit (the ring's `refused` word). */
  refuse(n: number): void {
    if (n > 0) this.u32[this.base32 + (RING.refused >>> 2)] += n;
  }

  /** Producer: one item; false (and counted) when full. Publishes immediately: prefer batches. */
  push(buf: number, len: number, flags = 0, hash = 0, user = 0): boolean {
    if (this.reserve() === 0) {
      this.refuse(1);
      return false;
    }
    const w = this.slotWord(this.u32[this.headIx]);
    const u = this.u32;
    u[w] = buf;
    u[w + 1] = (len & 0xffff) | ((flags & 0xffff) << 16);
    u[w + 2] = hash;
    u[w + 3] = user;
    this.publish(1);
    return true;
  }

  /** Producer: copies up to n items (4 u32 words each, slot layout) from src; returns how many fit. */
  enqueue(src: Uint32Array, n = src.length >>> 2): number {
    const free = this.reserve();
    const k = n < free ? n : free;
    const head = this.u32[this.headIx];
    const u = this.u32;
    for (let i = 0; i < k; i++) {
      const w = this.slotWord(head + i);
      const s = i << 2;
      u[w] = src[s];
      u[w + 1] = src[s + 1];
      u[w + 2] = src[s + 2];
      u[w + 3] = src[s + 3];
    }
    if (k > 0) this.publish(k);
    this.refuse(n - k);
    return k;
  }

  // ---- consumer ----------------------------------------------------------

  /** Consumer: position of the next slot to read (read slotWord(tail() + i) for i < available()). */
  tail(): number {
    return this.u32[this.tailIx];
  }

  /** Consumer: items available (never waits). */
  available(): number {
    const head = this.local ? this.u32[this.headIx] : Atomics.load(this.i32, this.headIx);
    return (head - this.u32[this.tailIx]) >>> 0;
  }

  /** Consumer: gives n read slots back to the producer. */
  release(n: number): void {
    if (this.local) this.u32[this.tailIx] += n;
    else Atomics.store(this.i32, this.tailIx, (this.u32[this.tailIx] + n) | 0);
  }

  /** Consumer: copies up to max items (4 words each) into dst; returns how many. */
  dequeue(dst: Uint32Array, max = dst.length >>> 2): number {
    const avail = this.available();
    const k = max < avail ? max : avail;
    const tail = this.u32[this.tailIx];
    const u = this.u32;
    for (let i = 0; i < k; i++) {
      const w = this.slotWord(tail + i);
      const d = i << 2;
      dst[d] = u[w];
      dst[d + 1] = u[w + 1];
      dst[d + 2] = u[w + 2];
      dst[d + 3] = u[w + 3];
    }
    if (k > 0) this.release(k);
    return k;
  }

  /** Consumer: one item or null when empty. */
  pop(): RingItem | null {
    if (this.available() === 0) return null;
    const w = this.slotWord(this.u32[this.tailIx]);
    const u = this.u32;
    const item = {
      buf: u[w],
      len: u[w + 1] & 0xffff,
      flags: u[w + 1] >>> 16,
      hash: u[w + 2],
      user: u[w + 3],
    };
    this.release(1);
    return item;
  }

  /**
   * Consumer: blocks until the ring has items or timeoutMs passes (Atomics.wait;
   * worker threads, or the main thread in Node). Sets the sleep flag first and
   * re-checks, so a producer that published in between is never missed.
   * Returns the items available on return.
   */
  sleep(timeoutMs: number): number {
    if (this.local)
      throw new Error("sleep() on a local ring: its producer runs in this thread and would never wake it");
    Atomics.store(this.i32, this.sleepIx, 1);
    let n = this.available();
    if (n === 0) {
      Atomics.wait(this.i32, this.sleepIx, 1, timeoutMs);
      n = this.available();
    }
    Atomics.store(this.i32, this.sleepIx, 0);
    return n;
  }

  /** Items a producer could not enqueue so far (ring full). */
  refused(): number {
    return this.u32[this.base32 + (RING.refused >>> 2)];
  }

  /** Wake-ups producers sent so far. */
  notifies(): number {
    return this.u32[this.base32 + (RING.notifies >>> 2)];
  }
}
