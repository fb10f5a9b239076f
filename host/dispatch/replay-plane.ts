// Replay (raw and track modes) on worker threads: the dispatcher side.
//
// The reader frames a batch into the dispatcher core's staging and descriptors
// (as in the one-thread replay); one WASM call (replayDispatchBatch,
// assembly/replay/dispatch.ts) parses and hashes the whole batch (symmetric
// Toeplitz + RETA) and names each frame's worker; then each frame is copied
// once, into its worker's staging, with its 32-byte descriptor, and published
// on that worker's descriptor ring. Each worker (replay-worker.ts) runs the
// one-thread path's own batch function over ≤ 64 of its descriptors at a time.
// Per flow, frames reach one worker through one FIFO ring, so per-flow order is
// input order whatever the worker count.
//
// Why a descriptor ring into the worker's staging and not the Dataplane's mbuf
// RX ring with poll() (dataplane.ts): replay frames are capture records, up to
// the 262,144-byte snap length, while an mbuf holds 2,048 bytes (the mbuf route
// would drop or truncate what the one-thread path processes); each record needs
// its link type, timestamp and record flags, which the descriptor already
// carries and an mbuf does not; and the worker then calls exactly the batch
// function the one-thread path calls, so equal results follow from the same
// code rather than from a second per-frame entry point kept in step with it.
// The ring protocol (SPSC indices with Atomics, the consumer's sleeping flag,
// notify only a sleeper) is ring.ts's, as in the Dataplane.
//
// Worker staging is a circular byte area: frames are placed back to back
// (8-byte aligned) and a frame that does not fit before the end starts again at
// the beginning; the oldest frame not yet released is the oldest unreleased
// descriptor's offset, so the producer needs no other bookkeeping.
//
// Memory per worker (presized, never grown): the core's fixed part + staging
// (STAGING_BYTES) + ring slots × (32 B descriptor + 4 B verdict) + for track,
// flows × (flow-table entry + 128 B flow record) (replayCoreConfig).
//
// Back-pressure: a full ring (slots or staging) makes the dispatcher publish
// what it holds, set the worker's RW_PWAIT flag and sleep on it; the worker
// clears it and notifies after giving slots back. Nothing is dropped. A worker
// that traps ends the run with its message (its counts would be lost: a replay
// with a restarted worker would not be the replay asked for).
import { coreViews, createCore, createMemory, type Core, type CoreConfig } from "../core.ts";
import { RING, SpscRing } from "./ring.ts";
import { spawnWorker, workerUrl } from "./spawn.ts";
import {
  RW_DONE,
  RW_EXIT,
  RW_PWAIT,
  RW_READY,
  RW_STRIDE,
  type ReplayWorkerData,
  type ReplayWorkerResult,
} from "./replay-proto.ts";
import type { Worker } from "node:worker_threads";

export interface ReplayPlaneOptions {
  mode: "raw" | "track";
  workers: number;
  /** Every worker's core config (replayCoreConfig); staging and descriptor slots are set here. */
  config: Partial<CoreConfig>;
  /** The dispatcher core's config (the reader fills its staging). */
  dispatcherConfig: Partial<CoreConfig>;
  path: string;
  spinRounds?: number;
  /** Descriptor slots per worker ring (power of two). */
  ringSlots?: number;
  stagingBytes?: number;
  maxBatch?: number;
  /** Bench-only: workers give frames back unprocessed (measures the dispatcher alone). */
  discard?: boolean;
}

export interface ReplayPlaneStats {
  /** Frames and bytes copied to each worker. */
  dispatched: number[];
  bytes: number[];
  /** Times the dispatcher found worker w's ring full and slept. */
  waits: number[];
  waitMs: number;
  /** Milliseconds in the hash call and in the copy loop (waits excluded). */
  hashMs: number;
  copyMs: number;
}

const STAGING_BYTES = 4 << 20;
const RING_SLOTS = 4096;
const MAX_BATCH = 64; // IX's batch bound, as the core's poll()
const PUBLISH_EVERY = 64; // frames a worker gets per publish at most (a publish is one atomic store)
const WAIT_SLICE_MS = 5;
/** Frames in a ring from which a publish wakes a sleeping worker (see publish()). */
const WAKE_AT = 1024;
const STALL_MS = 30000;

/**
 * Frames up to this size are copied by copyFrame, longer ones by Buffer.copy
 * (memcpy, but a per-call cost that dominates for a 150-byte frame). There is
 * no WASM copy between two memories: Node 20's V8 (11.3) has no multi-memory.
 */
const COPY_WORDS_MAX = 1024;

/**
 * Copies len bytes from src[so] to dst[d], with so ≡ d (mod 8): bytes up to
 * alignment, 64-bit words, the last bytes. BigInt64Array and not Float64Array:
 * a float copy may change a NaN's bits; V8 copies BigInt64 elements without a
 * BigInt per element (measured here in context: ~45 ns for a 150-byte frame
 * against ~60 ns with 32-bit words).
 */
export function copyFrame(
  s8: Uint8Array,
  s64: BigInt64Array,
  so: number,
  d8: Uint8Array,
  d64: BigInt64Array,
  d: number,
  len: number,
): void {
  let i = 0;
  for (; i < len && ((so + i) & 7) !== 0; i++) d8[d + i] = s8[so + i];
  const ws = (so + i) >>> 3;
  const wd = (d + i) >>> 3;
  const nw = (len - i) >>> 3;
  for (let k = 0; k < nw; k++) d64[wd + k] = s64[ws + k];
  for (i += nw << 3; i < len; i++) d8[d + i] = s8[so + i];
}

type DispatchFn = (first: number, count: number, loop: number) => number;

export class ReplayPlane {
  readonly dispatcher: Core;
  readonly stats: ReplayPlaneStats;
  readonly ctl: Int32Array;
  private readonly rings: SpscRing[] = [];
  private readonly memories: WebAssembly.Memory[] = [];
  private readonly threads: Worker[] = [];
  private readonly results: Promise<ReplayWorkerResult>[] = [];
  // Producer state per worker.
  private readonly wu32: Uint32Array[] = [];
  private readonly wbuf: Buffer[] = [];
  private readonly wu8: Uint8Array[] = [];
  private readonly wi64: BigInt64Array[] = [];
  private readonly d64: BigInt64Array;
  private readonly descW: number[] = [];
  private readonly stageStart: number[] = [];
  private readonly stageEnd: number[] = [];
  private readonly wpos: number[] = [];
  private readonly pending: number[] = [];
  /** The consumer's tail as the producer last read it (room()). */
  private readonly tails: number[] = [];
  private readonly hashFn: DispatchFn;
  private readonly dbuf: Buffer;
  readonly ringSlots: number;
  private readonly wakeAt: number;

  private constructor(readonly opts: ReplayPlaneOptions) {
    const n = opts.workers;
    this.ringSlots = opts.ringSlots ?? RING_SLOTS;
    this.wakeAt = Math.min(WAKE_AT, this.ringSlots >> 2);
    this.dispatcher = createCore(opts.dispatcherConfig);
    this.hashFn = this.dispatcher.exports.replayDispatchBatch as DispatchFn;
    this.dbuf = Buffer.from(this.dispatcher.memory.buffer);
    this.d64 = new BigInt64Array(this.dispatcher.memory.buffer);
    this.ctl = new Int32Array(new SharedArrayBuffer(n * RW_STRIDE * 4));
    this.stats = {
      dispatched: new Array(n).fill(0),
      bytes: new Array(n).fill(0),
      waits: new Array(n).fill(0),
      waitMs: 0,
      hashMs: 0,
      copyMs: 0,
    };
  }

  static async start(opts: ReplayPlaneOptions): Promise<ReplayPlane> {
    const p = new ReplayPlane(opts);
    try {
      for (let i = 0; i < opts.workers; i++) p.spawn(i);
      await p.ready();
    } catch (e) {
      await p.abort();
      throw e;
    }
    return p;
  }

  private spawn(i: number): void {
    const config: Partial<CoreConfig> = {
      ...this.opts.config,
      stagingBytes: this.opts.stagingBytes ?? STAGING_BYTES,
      descSlots: this.ringSlots,
      worker: i,
      workers: this.opts.workers,
    };
    const memory = createMemory(config);
    // Only the ring's header words are used (head, tail, sleeping flag): its
    // "slots" are the worker's descriptor slots, at position & (slots - 1).
    const ringBuf = new SharedArrayBuffer(RING.headerBytes);
    this.rings.push(SpscRing.init(ringBuf, 0, this.ringSlots));
    this.memories.push(memory);
    this.pending.push(0);
    this.tails.push(0);
    const data: ReplayWorkerData = {
      index: i,
      workers: this.opts.workers,
      mode: this.opts.mode,
      memory,
      config,
      ring: ringBuf,
      ctl: this.ctl,
      spinRounds: this.opts.spinRounds ?? 2000,
      maxBatch: this.opts.maxBatch ?? MAX_BATCH,
      path: this.opts.path,
      discard: this.opts.discard,
    };
    const w = spawnWorker(workerUrl(import.meta.url, "replay-worker"), data);
    this.threads.push(w);
    this.results.push(
      new Promise<ReplayWorkerResult>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
    );
  }

  /** Waits until every worker has initialised its core, then attaches to its staging and descriptors. */
  private async ready(): Promise<void> {
    const deadline = Date.now() + 30000;
    for (let i = 0; i < this.opts.workers; i++) {
      while (Atomics.load(this.ctl, i * RW_STRIDE + RW_READY) === 0) {
        if (Atomics.load(this.ctl, i * RW_STRIDE + RW_EXIT) !== 0) {
          const r = await this.results[i];
          throw new Error(`replay worker ${i} failed to start: ${r.trap}`);
        }
        if (Date.now() > deadline) throw new Error(`replay worker ${i} did not start within 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      const buf = this.memories[i].buffer;
      const u32 = new Uint32Array(buf);
      const { regions } = coreViews(this.memories[i]);
      this.wu32.push(u32);
      this.wbuf.push(Buffer.from(buf));
      this.wu8.push(new Uint8Array(buf));
      this.wi64.push(new BigInt64Array(buf));
      this.descW.push(regions.desc.offset >>> 2);
      this.stageStart.push(regions.staging.offset);
      this.stageEnd.push(regions.staging.offset + regions.staging.bytes);
      this.wpos.push(regions.staging.offset);
    }
  }

  /**
   * Dispatches descriptors 0..n-1 of the dispatcher core (loop: the --loop
   * pass): one hash call, then one copy per frame into its worker's staging.
   * Blocks while a worker's ring is full.
   */
  dispatch(n: number, loop: number): void {
    const d = this.dispatcher;
    const t0 = performance.now();
    this.hashFn(0, n, loop);
    const t1 = performance.now();
    const wait0 = this.stats.waitMs;
    const du32 = d.u32;
    const vW = d.regions.decode.offset >>> 2;
    const dW = d.regions.desc.offset >>> 2;
    const mask = this.ringSlots - 1;
    const { dispatched, bytes } = this.stats;
    const pending = this.pending;
    const d64 = this.d64;
    for (let j = 0; j < n; j++) {
      const w = du32[vW + j] & 0xffff;
      const dd = dW + (j << 3);
      const off = du32[dd];
      const cap = du32[dd + 1];
      // Room for the frame at the same offset mod 8 as its source (word copy below).
      const foot = (cap + 7 + 7) & ~7;
      let pos = this.room(w, foot);
      if (pos < 0) {
        if (foot > this.stageEnd[w] - this.stageStart[w])
          throw new Error(
            `a ${cap}-byte record does not fit a worker's staging (${this.stageEnd[w] - this.stageStart[w]} bytes)`,
          );
        pos = this.waitRoom(w, foot);
      }
      const dst = pos + ((off - pos) & 7);
      if (cap > COPY_WORDS_MAX) this.dbuf.copy(this.wbuf[w], dst, off, off + cap);
      else copyFrame(d.u8, d64, off, this.wu8[w], this.wi64[w], dst, cap);
      const wu32 = this.wu32[w];
      const slot = this.descW[w] + (((this.rings[w].head() + pending[w]) & mask) << 3);
      wu32[slot] = dst;
      for (let k = 1; k < 8; k++) wu32[slot + k] = du32[dd + k];
      this.wpos[w] = pos + foot;
      dispatched[w]++;
      bytes[w] += cap;
      if (++pending[w] >= PUBLISH_EVERY) this.publish(w);
    }
    this.publishAll();
    this.stats.hashMs += t1 - t0;
    this.stats.copyMs += performance.now() - t1 - (this.stats.waitMs - wait0);
  }

  /**
   * Makes worker w's pending frames visible. A sleeping worker is woken only
   * when its ring holds WAKE_AT frames or more, or when wake is set (end of a
   * dispatch call, a full ring, the end): a wake-up (Atomics.notify) cost the
   * dispatcher 10-50 µs here, about 300 ns per packet when a worker faster
   * than the dispatcher went to sleep between every 64-frame publish.
   */
  private publish(w: number, wake = false): void {
    const n = this.pending[w];
    if (n === 0) return;
    const ring = this.rings[w];
    if (wake || ring.count() + n >= this.wakeAt) ring.publish(n);
    else ring.publishQuiet(n);
    this.pending[w] = 0;
  }

  private publishAll(): void {
    for (let w = 0; w < this.opts.workers; w++) this.publish(w, true);
  }

  /** Byte offset in worker w's staging for a frame of `foot` bytes, or -1 when its ring is full. */
  private room(w: number, foot: number): number {
    // The consumer's tail as last read: room it shows is there for sure (the
    // tail only moves forward); it is re-read only when that room is short.
    let pos = this.fit(w, foot);
    if (pos < 0) {
      const ring = this.rings[w];
      this.tails[w] = (ring.head() - ring.count()) >>> 0;
      pos = this.fit(w, foot);
    }
    return pos;
  }

  private fit(w: number, foot: number): number {
    const head = (this.rings[w].head() + this.pending[w]) >>> 0;
    const tail = this.tails[w];
    const used = (head - tail) >>> 0;
    if (used >= this.ringSlots) return -1;
    const s = this.stageStart[w];
    const e = this.stageEnd[w];
    if (used === 0) return s + foot <= e ? (this.wpos[w] = s) : -1; // empty: start over
    const r = this.wu32[w][this.descW[w] + ((tail & (this.ringSlots - 1)) << 3)]; // oldest frame held
    const wp = this.wpos[w];
    if (wp > r) {
      if (wp + foot <= e) return wp;
      return s + foot < r ? s : -1; // wrap; strictly below r, so wpos never equals r while frames are held
    }
    return wp + foot < r ? wp : -1;
  }

  /** Ring full: publish everything (no worker starves meanwhile) and sleep until worker w frees room. */
  private waitRoom(w: number, foot: number): number {
    this.publishAll();
    this.stats.waits[w]++;
    const t0 = performance.now();
    const flag = w * RW_STRIDE + RW_PWAIT;
    let pos = -1;
    for (;;) {
      Atomics.store(this.ctl, flag, 1);
      pos = this.room(w, foot); // re-check after raising the flag: a release in between is not missed
      if (pos >= 0) break;
      if (Atomics.load(this.ctl, w * RW_STRIDE + RW_EXIT) !== 0)
        throw new Error(`replay worker ${w} stopped (see its error)`);
      if (performance.now() - t0 > STALL_MS) throw new Error(`replay worker ${w} made no room in 30 s`);
      Atomics.wait(this.ctl, flag, 1, WAIT_SLICE_MS);
    }
    Atomics.store(this.ctl, flag, 0);
    this.stats.waitMs += performance.now() - t0;
    return pos;
  }

  /** Publishes the rest, tells every worker there is no more, and collects their results. */
  async finish(): Promise<ReplayWorkerResult[]> {
    this.publishAll();
    for (let i = 0; i < this.opts.workers; i++) {
      Atomics.store(this.ctl, i * RW_STRIDE + RW_DONE, 1);
      this.rings[i].publish(0); // wakes a sleeping worker
    }
    try {
      const results = await Promise.all(this.results);
      const trapped = results.find((r) => r.trap !== null);
      if (trapped) throw new Error(`replay worker ${trapped.index} trapped: ${trapped.trap}`);
      return results;
    } finally {
      await Promise.all(this.threads.map((t) => t.terminate()));
    }
  }

  /** Stops every worker without waiting for its frames (errors). */
  async abort(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
