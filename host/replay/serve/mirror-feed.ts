// The host's end of the mirror app's feed ring (assembly/apps/mirror.ts): the
// recorded server segments go in, in capture order, as records of a byte ring
// at the start of the core's R_APP region. Single producer (this class), single
// consumer (the app, inside poll()); head and tail are free-running u32 byte
// counts on separate cache lines, published with Atomics as assembly/mem/ring.ts
// does, so the producer could live in another thread. The producer publishes its
// head once per batch (commit(), before each poll) and re-reads the consumer's
// tail only when its cached view of the free space runs out: no atomic per record.
import type { Core } from "../../core/core.ts";
import { NO_SRC, type CopyList } from "./copy-list.ts";

// Mirrors assembly/apps/mirror.ts.
const FEED_HEAD = 0;
const FEED_TAIL = 64;
const W_STATUS = 128;
const W_KEY = 192;
const FEED_OFF = 256;
export const FEED_BYTES = 512 << 10;
const FR_WRAP = 0;
export const FR_FLOW = 1;
export const FR_DATA = 2;
export const FR_FIN = 3;
export const FR_RST = 4;
export const FR_DGRAM = 5;
/** The capture has nothing more for the flow: the app frees its slot once the connection is not open. */
export const FR_DONE = 6;
const FR_HDR = 32;
/** The mirror's stream blocks (assembly/apps/mirror.ts BLK): recorded bytes wait in them until acknowledged. */
export const BLOCK_BYTES = 2048;
const FLOW_BYTES = 192;
const FS_FREE = 5;
/** SENDV span arrays: IOV_MAX (40) spans of 8 bytes for each of MAX_DIRTY (8192) flows stepped at once. */
const IOV_BYTES = 8192 * 40 * 8;

/** Bytes of R_APP the mirror needs for `flows` flow slots and `blockBytes` of stream storage. */
export function mirrorAppBytes(flows: number, blockBytes: number): number {
  let hs = 1;
  while (hs < flows * 2) hs *= 2;
  // header + feed + flow records + hash (4) + span arrays + blocks with links and chunks
  return (
    FEED_OFF +
    FEED_BYTES +
    flows * FLOW_BYTES +
    hs * 4 +
    IOV_BYTES +
    Math.ceil(blockBytes / BLOCK_BYTES) * (BLOCK_BYTES + 4 + 32) +
    4096
  );
}

export type MirrorStatus = {
  work: number;
  cmds: number;
  accepted: number;
  unknown: number;
  chunks: number;
  dupBytes: number;
  gapBytes: number;
  closes: number;
  resets: number;
  errors: number;
  noMem: number;
  blocksFree: number;
  sentBytes: number;
  /** UDP datagrams sent, and client datagrams of no announced UDP flow. */
  udpSent: number;
  udpUnknown: number;
};

export class MirrorFeed {
  private readonly base: number;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly buf: Buffer;
  private head: number;
  /** The head the app can see (published by commit()). */
  private published: number;
  /** Free bytes as of the last tail read (only grows behind our back). */
  private room = 0;
  /** Records written since the last poll (the host kicks the app when > 0). */
  pending = 0;

  /** With a copy list, payloads from the core's own memory are queued there (flush before commit()). */
  constructor(
    core: Core,
    private readonly copies: CopyList | null = null,
  ) {
    this.base = core.regions.app.offset;
    this.i32 = core.i32;
    this.u32 = core.u32;
    this.u8 = core.u8;
    this.buf = Buffer.from(core.memory.buffer);
    this.head = Atomics.load(this.i32, (this.base + FEED_HEAD) >>> 2) >>> 0;
    this.published = this.head;
  }

  /** Makes the records put so far visible to the app (call before polling the core). */
  commit(): void {
    if (this.published === this.head) return;
    this.published = this.head;
    Atomics.store(this.i32, (this.base + FEED_HEAD) >>> 2, this.head | 0);
  }

  /** Pointer to the 40-byte key scratch (for tcpPreset). */
  keyScratch(key: Uint8Array): number {
    const p = this.base + W_KEY;
    this.u8.set(key, p);
    return p;
  }

  private space(): number {
    const tail = Atomics.load(this.i32, (this.base + FEED_TAIL) >>> 2) >>> 0;
    return FEED_BYTES - ((this.head - tail) >>> 0);
  }

  /**
   * Appends one record; false when the ring has no room (the caller polls the
   * core so the app drains it, then retries). len ≤ 64 KiB + header.
   */
  put(
    kind: number,
    flow: number,
    off: number,
    req: number,
    src: Uint8Array | null,
    srcOff: number,
    len: number,
    /** Bytes of src that were captured (a snap length cuts payloads): the rest is sent as zeros. */
    capLen = len,
  ): boolean {
    const size = (FR_HDR + len + 7) & ~7;
    let pos = this.head % FEED_BYTES;
    const wrap = pos + size > FEED_BYTES ? FEED_BYTES - pos : 0;
    if (this.room < size + wrap) {
      this.room = this.space();
      if (this.room < size + wrap) return false;
    }
    this.room -= size + wrap;
    if (wrap) {
      this.u32[(this.base + FEED_OFF + pos) >>> 2] = FR_WRAP;
      this.head = (this.head + wrap) >>> 0;
      pos = 0;
    }
    const p = this.base + FEED_OFF + pos;
    const w = p >>> 2;
    this.u32[w] = kind;
    this.u32[w + 1] = flow;
    this.u32[w + 2] = off >>> 0;
    this.u32[w + 3] = req >>> 0;
    this.u32[w + 4] = len;
    const have = src ? Math.min(capLen, len) : 0;
    // Identity first: a typed array's .buffer is a getter call (~15 ns) V8 does not inline.
    const own = have !== 0 && (src === this.u8 || src!.buffer === this.u8.buffer);
    if (this.copies && (!have || own)) {
      this.copies.add(p + FR_HDR, have ? src!.byteOffset + srcOff : NO_SRC, have);
      this.copies.add(p + FR_HDR + have, NO_SRC, len - have);
    } else if (have) {
      // Buffer.copy (memmove): TypedArray copyWithin on shared memory measured ~0.5 µs per record here.
      if (own) this.buf.copy(this.buf, p + FR_HDR, src!.byteOffset + srcOff, src!.byteOffset + srcOff + have);
      else this.u8.set(src!.subarray(srcOff, srcOff + have), p + FR_HDR);
    }
    if (!this.copies && have < len) this.u8.fill(0, p + FR_HDR + have, p + FR_HDR + len);
    this.head = (this.head + size) >>> 0;
    this.pending++;
    return true;
  }

  /** Whether flow slot f is free for another flow (the app saw FR_DONE and the connection is not open). */
  slotFree(f: number): boolean {
    return this.u32[(this.base + FEED_OFF + FEED_BYTES + f * FLOW_BYTES) >>> 2] === FS_FREE;
  }

  /** Whether the app has consumed everything produced. */
  drained(): boolean {
    return Atomics.load(this.i32, (this.base + FEED_TAIL) >>> 2) >>> 0 === this.head;
  }

  status(): MirrorStatus {
    const s = (this.base + W_STATUS) >>> 2;
    const u = this.u32;
    return {
      work: u[s],
      cmds: u[s + 1],
      accepted: u[s + 2],
      unknown: u[s + 3],
      chunks: u[s + 4],
      dupBytes: u[s + 5],
      gapBytes: u[s + 6],
      closes: u[s + 7],
      resets: u[s + 8],
      errors: u[s + 9],
      noMem: u[s + 10],
      blocksFree: u[s + 11],
      sentBytes: u[s + 12] * 4294967296 + u[s + 13],
      udpSent: u[s + 14],
      udpUnknown: u[s + 15],
    };
  }

  /** Commands the app issued in its last step. */
  cmds(): number {
    return this.u32[((this.base + W_STATUS) >>> 2) + 1];
  }

  /** Flows with something due that needs another app step (assembly/apps/mirror.ts moreDue). */
  work(): number {
    return this.u32[(this.base + W_STATUS) >>> 2];
  }

  /** Bytes of the feed the app has consumed (free-running). */
  tail(): number {
    return Atomics.load(this.i32, (this.base + FEED_TAIL) >>> 2) >>> 0;
  }

  /** The two words the poll loop needs after every poll: chunks ready and commands issued. */
  busy(): boolean {
    const s = (this.base + W_STATUS) >>> 2;
    return this.u32[s] !== 0 || this.u32[s + 1] !== 0 || !this.drained();
  }
}
