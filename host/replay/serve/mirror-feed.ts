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
import { SPAN_SIZE } from "../../core/abi.gen.ts";
import * as MIRROR from "../../core/mirror.gen.ts";

// The feed's layout (abi/table/feeds.ts) as this module's own constants: put() runs per
// recorded server segment, and V8 folds a module's constants where an imported binding
// costs a load at each use (measured on serve's descriptor loop: 1.7 against 3.1 ns).
const {
  FEED_HEAD,
  FEED_TAIL,
  FEED_OFF,
  FEED_BYTES,
  FR_WRAP,
  FR_HDR,
  FH_KIND,
  FH_FLOW,
  FH_OFF,
  FH_REQ,
  FH_LEN,
  W_WORK,
  W_CMDS,
  W_KEY,
  FLOW_BYTES,
  F_STATE,
  FS_FREE,
  BLK,
  CHUNK_BYTES,
  CHUNKS_PER_BLK,
  IOV_MAX,
  MAX_DIRTY,
} = MIRROR;
export { FR_DATA, FR_DGRAM, FR_DONE, FR_FIN, FR_FLOW, FR_RST } from "../../core/mirror.gen.ts";
/** The mirror's stream blocks: recorded bytes wait in them until acknowledged (the pre-scan counts in them). */
export const BLOCK_BYTES = BLK;

/** Bytes of R_APP the mirror needs for `flows` flow slots and `blockBytes` of stream storage. */
export function mirrorAppBytes(flows: number, blockBytes: number): number {
  let hs = 1;
  while (hs < flows * 2) hs *= 2;
  // As mirrorInit carves R_APP: header + feed + flow records + hash (u32 slots) + span arrays
  // + blocks with their u32 links and their chunks; a page to spare.
  return (
    FEED_OFF +
    FEED_BYTES +
    flows * FLOW_BYTES +
    hs * 4 +
    MAX_DIRTY * IOV_MAX * SPAN_SIZE +
    Math.ceil(blockBytes / BLK) * (BLK + 4 + CHUNKS_PER_BLK * CHUNK_BYTES) +
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
      this.u32[(this.base + FEED_OFF + pos + FH_KIND) >>> 2] = FR_WRAP;
      this.head = (this.head + wrap) >>> 0;
      pos = 0;
    }
    const p = this.base + FEED_OFF + pos;
    const u32 = this.u32;
    u32[(p + FH_KIND) >>> 2] = kind;
    u32[(p + FH_FLOW) >>> 2] = flow;
    u32[(p + FH_OFF) >>> 2] = off >>> 0;
    u32[(p + FH_REQ) >>> 2] = req >>> 0;
    u32[(p + FH_LEN) >>> 2] = len;
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
    return this.u32[(this.base + FEED_OFF + FEED_BYTES + f * FLOW_BYTES + F_STATE) >>> 2] === FS_FREE;
  }

  /** Whether the app has consumed everything produced. */
  drained(): boolean {
    return Atomics.load(this.i32, (this.base + FEED_TAIL) >>> 2) >>> 0 === this.head;
  }

  status(): MirrorStatus {
    const w = (off: number) => this.u32[(this.base + off) >>> 2];
    return {
      work: w(MIRROR.W_WORK),
      cmds: w(MIRROR.W_CMDS),
      accepted: w(MIRROR.W_ACCEPTED),
      unknown: w(MIRROR.W_UNKNOWN),
      chunks: w(MIRROR.W_CHUNKS),
      dupBytes: w(MIRROR.W_DUP_BYTES),
      gapBytes: w(MIRROR.W_GAP_BYTES),
      closes: w(MIRROR.W_CLOSES),
      resets: w(MIRROR.W_RESETS),
      errors: w(MIRROR.W_ERRORS),
      noMem: w(MIRROR.W_NO_MEM),
      blocksFree: w(MIRROR.W_BLOCKS_FREE),
      sentBytes: w(MIRROR.W_SENT_HI) * 4294967296 + w(MIRROR.W_SENT_LO),
      udpSent: w(MIRROR.W_UDP_SENT),
      udpUnknown: w(MIRROR.W_UDP_UNKNOWN),
    };
  }

  /** Commands the app issued in its last step. */
  cmds(): number {
    return this.u32[(this.base + W_CMDS) >>> 2];
  }

  /** Flows with something due that needs another app step (assembly/apps/mirror.ts moreDue). */
  work(): number {
    return this.u32[(this.base + W_WORK) >>> 2];
  }

  /** Bytes of the feed the app has consumed (free-running). */
  tail(): number {
    return Atomics.load(this.i32, (this.base + FEED_TAIL) >>> 2) >>> 0;
  }

  /** The two words the poll loop needs after every poll: chunks ready and commands issued. */
  busy(): boolean {
    return (
      this.u32[(this.base + W_WORK) >>> 2] !== 0 ||
      this.u32[(this.base + W_CMDS) >>> 2] !== 0 ||
      !this.drained()
    );
  }
}
