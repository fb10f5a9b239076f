// Replay (raw and track modes) on worker threads: the dispatcher side.
//
// The reader frames a batch into the dispatcher core's staging and descriptors
// (as in the one-thread replay). One WASM call per batch (replayGatherBatch,
// assembly/replay/dispatch.ts) parses and hashes every frame (symmetric
// Toeplitz + RETA), copies it (memory.copy) into its worker's outbox in this
// core's shared memory and writes its 32-byte descriptor there; this thread
// then publishes each worker's new descriptors on its SPSC ring (one atomic
// store per worker per batch). The outbox mirrors the worker's staging and
// descriptor regions: the worker (replay-worker.ts) copies what it takes in
// bulk (two or three Buffer.copy calls per take, whatever the frame count) to
// the same positions in its own memory, gives the ring slots back at once, and
// runs the one-thread path's own batch function over ≤ 64 descriptors at a
// time. So this thread runs no JS per packet, and per flow, frames reach one
// worker through one FIFO ring: per-flow order is input order whatever the
// worker count.
//
// Why this split, measured on this 2-vCPU VM (CPU ns per packet of the 2 M
// packet `gen etc` capture, 146 B per frame; docs/figures.md, "Workers"):
//   - The earlier design copied each frame in JS on this thread (a 64-bit word
//     loop: no WASM instance reaches two memories, Node 20's V8 has no
//     multi-memory) and wrote the descriptor and ring words in JS: ~175 ns per
//     packet, more than the whole one-thread raw replay (~65 ns).
//   - Descriptors only (pointing into the shared capture bytes), each worker
//     copying its own frames: a JS copy per frame costs the worker ~45 ns (its
//     core needs 13 raw, 40-110 track), and the reader could not reuse its
//     staging until every worker had copied, which locks the threads together.
//     Copying the whole batch span instead costs each worker ~10 ns per input
//     packet, N times the bytes it needs.
//   - "RSS at the source", every worker reading the capture and keeping its own
//     flows: the read (a kernel copy from the page cache, ~40 ns per packet
//     here) and the parse/hash (~12 ns) would be paid by every worker for every
//     packet, more than the raw core's whole work.
//   - Gather here + bulk copy there: the memory.copy costs this thread a few ns
//     per packet on bytes the reader has just put in cache, the worker's copy
//     is a memcpy of exactly its own bytes, and the outbox is free again as soon
//     as the worker has copied, so the threads run decoupled.
// Two copies rather than the one (hardware DMA writes the mbuf
// directly); no copy at all would need multi-memory or one memory shared by all
// instances, which this core's fixed layout does not allow.
//
// Memory (presized, never grown): each worker: the core's fixed part + staging
// S (stagingBytes) + slots × (32 B descriptor + 4 B verdict) + for track,
// flows × (flow-table entry + 128 B flow record) (replayCoreConfig). The
// dispatcher: its reader staging + N × (S + slots × 32) of outboxes + 64 + 16 N
// bytes of control words (its app region).
//
// Back-pressure: an outbox without room (slots, or bytes the worker still
// holds) stops the gather call; this thread publishes what it has, sets the
// worker's RW_PWAIT flag and sleeps on it; the worker clears it and notifies
// after giving slots back. Nothing is dropped. A worker that traps ends the run
// with its message (its counts would be lost: a replay with a restarted worker
// would not be the replay asked for).
import { coreViews, createCore, createMemory, type Core, type CoreConfig } from "../core/core.ts";
import { RING, SpscRing } from "../runtime/ring.ts";
import { spawnWorker, workerUrl } from "../runtime/spawn.ts";
import {
  RW_DONE,
  RW_EXIT,
  RW_PWAIT,
  RW_READY,
  RW_STRIDE,
  type ReplayWorkerData,
  type ReplayWorkerResult,
} from "./proto.ts";
import type { Worker } from "node:worker_threads";
import { DESC_BYTES } from "../core/abi.gen.ts";
// Control block of replayGatherBatch (abi/table.ts GATHER_CONTROL).
import {
  GC_BLOCKED,
  GC_BYTES,
  GC_HEAD,
  GC_HEADER,
  GC_OUTBOX,
  GC_PARSED,
  GC_PER_WORKER,
} from "../core/abi.gen.ts";
import { GC_SLOTS, GC_STRIDE, GC_TAIL, GC_WORKERS, GC_WSTAGE } from "../core/abi.gen.ts";

export interface ReplayPlaneOptions {
  mode: "raw" | "track";
  workers: number;
  /** Every worker's core config (replayCoreConfig); staging and descriptor slots are set here. */
  config: Partial<CoreConfig>;
  /** The dispatcher core's config (the reader fills its staging); its app region is set here (outboxes). */
  dispatcherConfig: Partial<CoreConfig>;
  path: string;
  spinRounds?: number;
  /** Descriptor slots per worker ring (power of two). */
  ringSlots?: number;
  /** Bytes of each worker's staging and of its outbox (S). */
  stagingBytes?: number;
  maxBatch?: number;
  /** Bench-only: workers give frames back uncopied and unprocessed (measures the dispatcher alone). */
  discard?: boolean;
  /** Paced speeds: descriptors carry due times (replay-proto.ts); flows sizes the workers' warm-up cores. */
  paced?: boolean;
  flows?: number;
  /** Paced --out: worker i's part file (parts[i]), and whether it holds the input too. */
  parts?: string[];
  outMerged?: boolean;
}

export interface ReplayPlaneStats {
  /** Frames given to each worker. */
  dispatched: number[];
  /** Times the dispatcher found worker w's outbox full and slept. */
  waits: number[];
  waitMs: number;
  /** Milliseconds in the gather calls (parse, hash, copy into the outboxes) and in the JS around them (ring words, waits excluded). */
  gatherMs: number;
  ringMs: number;
}

// Outbox (and worker staging) 512 kB with 2048 slots (~300 kB of 146-byte
// frames): small enough that the gather's writes and the worker's copy stay in
// cache (this EPYC has 1 MB of L2 per core); 4 MB outboxes measured 1.5-2x the
// dispatcher's and the workers' copy cost, 128 kB ones woke sleeping threads
// 3x as often.
const STAGING_BYTES = 512 << 10;
const RING_SLOTS = 2048;
const MAX_BATCH = 64; // IX's batch bound, as the core's poll()
const WAIT_SLICE_MS = 5;
/** Frames in a ring from which a publish wakes a sleeping worker (see publish()). */
const WAKE_AT = 1024;
const STALL_MS = 30000;

/** Bytes of the dispatcher's app region for n outboxes of S bytes and `slots` descriptors. */
export function outboxBytes(n: number, S: number, slots: number): number {
  return ((GC_HEADER + n * GC_PER_WORKER + 63) & ~63) + n * (S + slots * DESC_BYTES);
}

type GatherFn = (first: number, count: number, loop: number, ctl: number) => number;

export class ReplayPlane {
  readonly dispatcher: Core;
  readonly stats: ReplayPlaneStats;
  readonly ctl: Int32Array;
  private readonly rings: SpscRing[] = [];
  private readonly memories: WebAssembly.Memory[] = [];
  private readonly threads: Worker[] = [];
  private readonly results: Promise<ReplayWorkerResult>[] = [];
  private readonly gatherFn: GatherFn;
  /** Byte address of the gather control block and of outbox 0 in the dispatcher's memory; outbox stride. */
  private readonly gc: number;
  private readonly outbox0: number;
  private readonly stride: number;
  readonly ringSlots: number;
  readonly stagingBytes: number;
  private readonly wakeAt: number;

  private constructor(readonly opts: ReplayPlaneOptions) {
    const n = opts.workers;
    this.ringSlots = opts.ringSlots ?? RING_SLOTS;
    this.stagingBytes = (opts.stagingBytes ?? STAGING_BYTES) & ~7;
    this.wakeAt = Math.min(WAKE_AT, this.ringSlots >> 2);
    this.dispatcher = createCore({
      ...opts.dispatcherConfig,
      appBytes: outboxBytes(n, this.stagingBytes, this.ringSlots),
    });
    this.gatherFn = this.dispatcher.exports.replayGatherBatch as GatherFn;
    this.gc = this.dispatcher.regions.app.offset;
    this.outbox0 = this.gc + ((GC_HEADER + n * GC_PER_WORKER + 63) & ~63);
    this.stride = this.stagingBytes + this.ringSlots * DESC_BYTES;
    this.ctl = new Int32Array(new SharedArrayBuffer(n * RW_STRIDE * 4));
    this.stats = {
      dispatched: new Array(n).fill(0),
      waits: new Array(n).fill(0),
      waitMs: 0,
      gatherMs: 0,
      ringMs: 0,
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
      stagingBytes: this.stagingBytes,
      descSlots: this.ringSlots,
      worker: i,
      workers: this.opts.workers,
    };
    const memory = createMemory(config);
    // Only the ring's header words are used (head, tail, sleeping flag): its
    // "slots" are the outbox's descriptor slots, at position & (slots - 1).
    const ringBuf = new SharedArrayBuffer(RING.headerBytes);
    this.rings.push(SpscRing.init(ringBuf, 0, this.ringSlots));
    this.memories.push(memory);
    const data: ReplayWorkerData = {
      index: i,
      workers: this.opts.workers,
      mode: this.opts.mode,
      memory,
      config,
      ring: ringBuf,
      ctl: this.ctl,
      outbox: this.dispatcher.memory,
      outboxAt: this.outbox0 + i * this.stride,
      outboxBytes: this.stagingBytes,
      spinRounds: this.opts.spinRounds ?? 2000,
      maxBatch: this.opts.maxBatch ?? MAX_BATCH,
      path: this.opts.path,
      discard: this.opts.discard,
      paced: this.opts.paced,
      flows: this.opts.flows,
      out: this.opts.parts?.[i],
      outMerged: this.opts.outMerged,
    };
    const w = spawnWorker(workerUrl(import.meta.url, "worker"), data);
    this.threads.push(w);
    this.results.push(
      new Promise<ReplayWorkerResult>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
    );
  }

  /** Waits until every worker has initialised its core, then writes the gather control block. */
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
    }
    // Every worker has the same config, so the same staging address.
    const { staging, desc } = coreViews(this.memories[0]).regions;
    if (staging.bytes < this.stagingBytes || desc.bytes < this.ringSlots * DESC_BYTES)
      throw new Error("worker staging or descriptor region smaller than its outbox");
    const u32 = this.dispatcher.u32;
    const g = this.gc >>> 2;
    u32.fill(0, g, (this.outbox0 - this.gc) >>> 2);
    u32[g + GC_WORKERS / 4] = this.opts.workers;
    u32[g + GC_BYTES / 4] = this.stagingBytes;
    u32[g + GC_SLOTS / 4] = this.ringSlots;
    u32[g + GC_WSTAGE / 4] = staging.offset;
    u32[g + GC_OUTBOX / 4] = this.outbox0;
    u32[g + GC_STRIDE / 4] = this.stride;
  }

  /**
   * Dispatches descriptors 0..n-1 of the dispatcher core (loop: the --loop
   * pass): gather calls until all are in outboxes, each followed by one
   * publish per worker. Blocks while an outbox is full.
   */
  dispatch(n: number, loop: number): void {
    const u32 = this.dispatcher.u32;
    const g = this.gc >>> 2;
    const nw = this.opts.workers;
    const st = this.stats;
    u32[g + GC_PARSED / 4] = 0; // a new batch: nothing of it parsed (rewritten) yet
    let done = 0;
    while (done < n) {
      const t0 = performance.now();
      for (let w = 0; w < nw; w++) u32[g + (GC_HEADER + w * GC_PER_WORKER + GC_TAIL) / 4] = this.tailOf(w);
      const t1 = performance.now();
      const k = this.gatherFn(done, n - done, loop, this.gc) >>> 0;
      const t2 = performance.now();
      done += k;
      const full = done < n;
      for (let w = 0; w < nw; w++) this.publish(w, full);
      st.gatherMs += t2 - t1;
      st.ringMs += performance.now() - t2 + (t1 - t0);
      if (full) this.waitRoom(u32[g + GC_BLOCKED / 4]);
    }
  }

  /** Worker w's descriptors written by the gather calls and not yet published. */
  private pendingOf(w: number): number {
    return (this.headOf(w) - this.rings[w].head()) >>> 0;
  }

  /**
   * Makes worker w's new descriptors visible. A sleeping worker is woken only
   * when its ring holds WAKE_AT frames or more, or when wake is set (a full
   * outbox, the end): a wake-up (Atomics.notify) cost the dispatcher 10-50 µs
   * here; a worker that sleeps meanwhile wakes by itself within 1 ms.
   */
  private publish(w: number, wake = false): void {
    const n = this.pendingOf(w);
    if (n === 0) return;
    const ring = this.rings[w];
    const st = this.stats;
    st.dispatched[w] += n;
    if (wake || ring.count() + n >= this.wakeAt) ring.publish(n);
    else ring.publishQuiet(n);
  }

  /** Outbox of worker w full: sleep until it gives slots back (its bytes go with them). */
  private waitRoom(w: number): void {
    const ring = this.rings[w];
    // Nothing held and still refused: the frame is larger than the whole outbox.
    if (this.headOf(w) === this.tailSeen(w))
      throw new Error(`a record does not fit a worker's staging (${this.stagingBytes} bytes)`);
    this.stats.waits[w]++;
    const t0 = performance.now();
    const flag = w * RW_STRIDE + RW_PWAIT;
    const seen = this.tailSeen(w);
    for (;;) {
      Atomics.store(this.ctl, flag, 1);
      if (this.tailOf(w) !== seen) break; // re-check after raising the flag: a release in between is not missed
      if (Atomics.load(this.ctl, w * RW_STRIDE + RW_EXIT) !== 0)
        throw new Error(`replay worker ${w} stopped (see its error)`);
      if (performance.now() - t0 > STALL_MS) throw new Error(`replay worker ${w} made no room in 30 s`);
      Atomics.wait(this.ctl, flag, 1, WAIT_SLICE_MS);
    }
    Atomics.store(this.ctl, flag, 0);
    this.stats.waitMs += performance.now() - t0;
  }

  /** The consumer's tail now (Atomics): slots it has given back. */
  private tailOf(w: number): number {
    const ring = this.rings[w];
    return (ring.head() - ring.count()) >>> 0;
  }

  /** Descriptors the gather calls wrote for worker w so far (published or not). */
  private headOf(w: number): number {
    return this.dispatcher.u32[(this.gc + GC_HEADER + w * GC_PER_WORKER + GC_HEAD) >>> 2];
  }

  /** The worker's tail as the last gather call saw it. */
  private tailSeen(w: number): number {
    return this.dispatcher.u32[(this.gc + GC_HEADER + w * GC_PER_WORKER + GC_TAIL) >>> 2];
  }

  /** Publishes the rest, tells every worker there is no more, and collects their results. */
  async finish(): Promise<ReplayWorkerResult[]> {
    for (let i = 0; i < this.opts.workers; i++) this.publish(i, true);
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
