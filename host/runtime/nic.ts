// The host's side of a core's "NIC" (assembly/net/netif.ts): writes received
// frames straight into the mbufs the core posted in its RX ring slots (the one
// copy, IX's DMA), and drains the TX ring.
import { MBUF_HEADER, mbufDataOf, mbufStrideFor, type CoreViews } from "../core/core.ts";
import { RING, SpscRing } from "./ring.ts";

const NO_MBUF = 0xffffffff;

export class Nic {
  readonly rx: SpscRing;
  readonly tx: SpscRing;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  /** The same memory as a Buffer: Buffer.copy moves a frame with no object per call (subarray + set made one). */
  private readonly buf: Buffer;
  private readonly sources = new WeakMap<ArrayBufferLike, Buffer>();
  private readonly pool: number;
  private readonly stride: number;
  /** Bytes of an mbuf's data area (the core's CFG_MBUF_DATA): the longest frame one RX slot takes. */
  readonly mbufData: number;
  private rxPending = 0;
  /**
   * Free RX slots as of the last read of the consumer's tail (pending ones not
   * taken off): the consumer only ever frees more behind our back, so the ring's
   * atomic tail (a builtin call out of optimized code in Node 20: 1.8 % of a
   * serve run's instructions) is read again only when this runs out.
   */
  private rxFree = 0;
  /** Frames refused because the RX ring was full (the core did not keep up). */
  rxFull = 0;
  /** Frames longer than an mbuf's data area. */
  rxTooLong = 0;

  /**
   * `local`: the core runs in this thread, between this Nic's calls (its polls
   * are this thread's calls): the rings skip the atomics (ring.ts). A Nic on a
   * core another thread polls (a dataplane worker's, a pair peer's) must not be local.
   */
  constructor(
    readonly core: CoreViews,
    local = false,
  ) {
    if (core.regions.rxRing.bytes === 0) throw new Error("core has no rings (ringSlots = 0)");
    this.rx = new SpscRing(core.memory.buffer, core.regions.rxRing.offset, local);
    this.tx = new SpscRing(core.memory.buffer, core.regions.txRing.offset, local);
    this.u8 = core.u8;
    this.u32 = core.u32;
    this.buf = Buffer.from(core.memory.buffer);
    this.pool = core.regions.mbuf.offset;
    this.mbufData = mbufDataOf(core);
    this.stride = mbufStrideFor(this.mbufData);
  }

  /** Free RX slots right now. */
  rxSpace(): number {
    this.rxFree = this.rx.reserve();
    return this.rxFree - this.rxPending;
  }

  /** Whether an RX slot is free for one more frame (the tail read again only when the cached count runs out). */
  private rxRoom(): boolean {
    if (this.rxFree - this.rxPending > 0) return true;
    this.rxFree = this.rx.reserve();
    return this.rxFree - this.rxPending > 0;
  }

  /** Copies one frame into the next RX slot's posted mbuf; publish with rxCommit(). False if the ring is full. */
  rxPut(src: Uint8Array, off: number, len: number): boolean {
    if (len > this.mbufData) {
      this.rxTooLong++;
      return false;
    }
    if (!this.rxRoom()) {
      this.rxFull++;
      return false;
    }
    const pos = this.rx.head() + this.rxPending;
    const w = this.rx.slotWord(pos);
    const idx = this.u32[w + (RING.slotBuf >>> 2)];
    if (idx === NO_MBUF) {
      this.rxFull++;
      return false;
    }
    const dst = this.pool + idx * this.stride + MBUF_HEADER;
    let from = this.sources.get(src.buffer);
    if (!from) {
      from = Buffer.from(src.buffer);
      this.sources.set(src.buffer, from);
    }
    from.copy(this.buf, dst, src.byteOffset + off, src.byteOffset + off + len);
    this.u32[w + (RING.slotLen >>> 2)] = len;
    this.rxPending++;
    return true;
  }

  /** rxPut from another core's Nic, by 32-bit words: Buffer.copy over a shared
   * memory made a Uint8Array per call and copied byte by byte (V8's
   * relaxed_memmove), and DataView word copies were still 18 % of a pair run's
   * time; typed-array words are plain loads and stores (performance-log.md). */
  private rxCopy(src: Nic, off: number, len: number): boolean {
    if (len > this.mbufData) {
      this.rxTooLong++;
      return false;
    }
    if (!this.rxRoom()) {
      this.rxFull++;
      return false;
    }
    const pos = this.rx.head() + this.rxPending;
    const w = this.rx.slotWord(pos);
    const idx = this.u32[w + (RING.slotBuf >>> 2)];
    if (idx === NO_MBUF) {
      this.rxFull++;
      return false;
    }
    const dst = this.pool + idx * this.stride + MBUF_HEADER;
    const words = len >>> 2;
    const s32 = src.u32;
    const d32 = this.u32;
    let i = 0;
    if ((dst & 3) === 0 && (off & 3) === 0) {
      for (const s = off >>> 2, d = dst >>> 2; i < words; i++) d32[d + i] = s32[s + i];
      i <<= 2;
    } else if ((dst & 3) === 0 && (off & 3) === 2) {
      // The core's frames start 2 bytes into a word (IP header aligned): each word
      // out is the high half of one word in and the low half of the next (little-endian).
      const s = (off - 2) >>> 2;
      const d = dst >>> 2;
      let lo = s32[s];
      for (; i < words; i++) {
        const hi = s32[s + i + 1];
        d32[d + i] = (lo >>> 16) | (hi << 16);
        lo = hi;
      }
      i <<= 2;
    }
    const s8 = src.u8;
    const d8 = this.u8;
    for (; i < len; i++) d8[dst + i] = s8[off + i];
    this.u32[w + (RING.slotLen >>> 2)] = len;
    this.rxPending++;
    return true;
  }

  /**
   * Moves up to max transmitted frames into `to`'s RX ring (uncommitted: call
   * to.rxCommit()), then hands the TX slots back: txDrain + rxPut for a peer
   * core with no callback and no object per frame. A frame `to` refuses is
   * dropped and counted in its rxFull / rxTooLong. Returns the frames drained.
   */
  txMoveTo(to: Nic, max: number): number {
    const n = Math.min(this.tx.available(), max);
    if (n === 0) return 0;
    const tail = this.tx.tail();
    for (let i = 0; i < n; i++) {
      const w = this.tx.slotWord(tail + i);
      to.rxCopy(this, this.u32[w + (RING.slotBuf >>> 2)], this.u32[w + (RING.slotLen >>> 2)] & 0xffff);
    }
    this.tx.release(n);
    return n;
  }

  /**
   * Zero-copy RX for a source that writes frames itself (a tap read(2)): the
   * byte offset of the data area of the next free slot's posted mbuf, or -1
   * when the ring is full or that slot has no mbuf. Claim it with rxFill(len).
   */
  rxNextData(): number {
    if (!this.rxRoom()) return -1;
    const idx = this.u32[this.rx.slotWord(this.rx.head() + this.rxPending) + (RING.slotBuf >>> 2)];
    return idx === NO_MBUF ? -1 : this.pool + idx * this.stride + MBUF_HEADER;
  }

  /** Claims the slot rxNextData() pointed at: a frame of len (≤ mbufData) bytes is now in its mbuf. */
  rxFill(len: number): void {
    this.u32[this.rx.slotWord(this.rx.head() + this.rxPending) + (RING.slotLen >>> 2)] = len;
    this.rxPending++;
  }

  /** Makes the frames put since the last commit visible to the core. */
  rxCommit(): void {
    if (this.rxPending) {
      this.rx.publish(this.rxPending);
      this.rxFree -= this.rxPending; // the head moved on by as many
      this.rxPending = 0;
    }
  }

  /** Calls fn for every frame the core has transmitted, then hands the slots back. Returns frames drained. */
  txDrain(fn: (mem: Uint8Array, off: number, len: number) => void, max = Infinity): number {
    const n = Math.min(this.tx.available(), max);
    if (n === 0) return 0;
    const tail = this.tx.tail();
    for (let i = 0; i < n; i++) {
      const w = this.tx.slotWord(tail + i);
      fn(this.u8, this.u32[w + (RING.slotBuf >>> 2)], this.u32[w + (RING.slotLen >>> 2)] & 0xffff);
    }
    this.tx.release(n);
    return n;
  }
}
