// The multi-worker dataplane (IX: each core owns its flows, nothing shared).
// N worker threads each own one core in its own presized memory; the main
// thread is the dispatcher and the TX consumer. The dispatcher's own core
// computes Toeplitz + RETA for a batch of frames in its staging region
// (hashBatch: one WASM call per ≤ 512 frames); each frame is then copied once,
// into the mbuf its worker posted in its RX ring (the "DMA"). Per flow, frames
// reach one worker in input order, and that worker answers in order.
//
// Non-IP policy: ARP replies go to every worker (each keeps its own neighbour
// cache for the connections it opens); ARP requests and every other non-IP
// frame go to worker 0, so one answer leaves for one question.
//
// Back-pressure: when a worker's RX ring is full the dispatcher waits for it
// (no loss), counting the waits. A worker that traps is reported; with
// onTrap "restart" it comes back with a fresh memory and its flows are counted
// lost.
import {
  coreViews,
  createCore,
  createMemory,
  type Core,
  type CoreConfig,
  type CoreViews,
  SCRATCH_BASE,
  CFG_F_SYMMETRIC,
  HB_BYTES,
  HB_GROUP,
  HB_MAX,
  HB_NO_WORKER,
  HB_WORKER,
} from "../core/core.ts";
import { DESC_BYTES } from "../io/reader.ts";
import { Nic } from "./nic.ts";
import { spawnWorker, workerUrl } from "./spawn.ts";
import {
  DP_POLLS,
  DP_STOP,
  DP_TRAP,
  DP_WORDS,
  type DataplaneWorkerData,
  type DataplaneWorkerResult,
} from "./dataplane-proto.ts";
import type { Worker } from "node:worker_threads";
import { newMigrationBlock } from "./control-worker.ts";
import * as ABI from "../core/abi.gen.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const { DESC_W_CAPLEN, DESC_W_IFACE, DESC_W_LEN, DESC_W_LINKTYPE, DESC_W_NSEC, DESC_W_OFF, DESC_W_SEC } = ABI;

/**
 * The control plane's hook into dispatch (control-plane.ts): route() sees every
 * IP frame's flow group and the worker the RETA gave it, and answers the worker
 * that owns the group now, or -1 when the group is held (it has copied the frame
 * and releases it after the move). idle() says no frame is on its way to a ring.
 */
export interface Steering {
  route(group: number, worker: number, u8: Uint8Array, off: number, len: number): number;
  idle(): void;
}

export interface DataplaneOptions {
  workers: number;
  /** Config of every worker's core (worker and workers are set per worker). */
  config: Partial<CoreConfig>;
  /** Symmetric RSS key, so both directions of a flow reach the same worker (track mode). */
  symmetric?: boolean;
  debug?: boolean;
  /** The test core (its testTrap lets trapForTest work); the debug core has it too. */
  test?: boolean;
  spinRounds?: number;
  onTrap?: "abort" | "restart";
  /** Staging and descriptors of the dispatcher's core (the capture reader reads into them). */
  dispatcherConfig?: Partial<CoreConfig>;
  /** Where transmitted frames go; drained whenever the dispatcher waits, so TX rings never back up. */
  txSink?: (worker: number, mem: Uint8Array, off: number, len: number) => void;
  /**
   * Test-only: stretches each poll between taking its frames and publishing its
   * replies (every clock read of the core's stage timing waits this long), so a
   * test can tell a quiescent point from a ring that merely looks empty.
   */
  testSlowPollMs?: number;
}

export interface WorkerSlot {
  index: number;
  memory: WebAssembly.Memory;
  views: CoreViews;
  nic: Nic;
  worker: Worker;
  done: Promise<DataplaneWorkerResult>;
}

export interface DataplaneStats {
  dispatched: number[];
  ringWaits: number;
  /** Times the dispatcher found worker i's ring full (ringWaits is their sum). */
  waits: number[];
  nonIp: number;
  traps: { worker: number; message: string }[];
  restarts: number;
}

const ETHERTYPE_ARP = 0x0806;

export class Dataplane {
  readonly dispatcher: Core;
  readonly slots: WorkerSlot[] = [];
  readonly ctl = new Int32Array(new SharedArrayBuffer(DP_WORDS * 4));
  readonly clock = new Float64Array(new SharedArrayBuffer(8));
  readonly stats: DataplaneStats;
  private readonly hash: (first: number, n: number) => number;
  private readonly entry = workerUrl(import.meta.url, "dataplane-worker");
  /** Command words of the control plane (control-worker.ts); workers serve them between polls. */
  readonly mig = newMigrationBlock();
  /** Set by the control plane (control-plane.ts); null: the RETA alone steers. */
  steering: Steering | null = null;

  private constructor(readonly opts: DataplaneOptions) {
    if (!(opts.workers >= 1 && opts.workers <= 16))
      throw new Error(`workers must be 1..16, not ${opts.workers}`);
    this.dispatcher = createCore({
      stagingBytes: 4 << 20,
      descSlots: 4096,
      mbufs: 0,
      ringSlots: 0,
      flows: 0,
      ...opts.dispatcherConfig,
      workers: opts.workers,
      flags: opts.symmetric ? CFG_F_SYMMETRIC : 0,
    });
    this.hash = this.dispatcher.exports.hashBatchFrom as (first: number, n: number) => number;
    this.stats = {
      dispatched: new Array(opts.workers).fill(0),
      ringWaits: 0,
      waits: new Array(opts.workers).fill(0),
      nonIp: 0,
      traps: [],
      restarts: 0,
    };
  }

  static async start(opts: DataplaneOptions): Promise<Dataplane> {
    const dp = new Dataplane(opts);
    for (let i = 0; i < opts.workers; i++) dp.slots.push(dp.spawn(i));
    await dp.ready();
    return dp;
  }

  private workerConfig(i: number): Partial<CoreConfig> {
    return {
      ...this.opts.config,
      worker: i,
      workers: this.opts.workers,
      flags: (this.opts.config.flags ?? 0) | (this.opts.symmetric ? CFG_F_SYMMETRIC : 0),
    };
  }

  private spawn(i: number): WorkerSlot {
    const config = this.workerConfig(i);
    const memory = createMemory(config, this.opts.debug, this.opts.test);
    Atomics.store(this.ctl, DP_POLLS + i, 0);
    Atomics.store(this.ctl, DP_TRAP + i, 0);
    const data: DataplaneWorkerData = {
      index: i,
      memory,
      config,
      debug: !!this.opts.debug,
      test: !!this.opts.test,
      ctl: this.ctl,
      clock: this.clock,
      spinRounds: this.opts.spinRounds ?? 20000,
      mig: this.mig,
      testSlowPollMs: this.opts.testSlowPollMs,
    };
    const worker = spawnWorker(this.entry, data);
    const done = new Promise<DataplaneWorkerResult>((resolve, reject) => {
      worker.once("message", (r: DataplaneWorkerResult) => {
        if (r.trap) this.onTrap(i, r.trap);
        resolve(r);
      });
      worker.once("error", reject);
    });
    // The Nic needs the rings, which exist after the worker's init: made lazily in ready().
    return {
      index: i,
      memory,
      views: null as unknown as CoreViews,
      nic: null as unknown as Nic,
      worker,
      done,
    };
  }

  /** Waits until every worker has initialised its core, then opens its rings. */
  private async ready(): Promise<void> {
    const deadline = Date.now() + 30000;
    for (const s of this.slots) {
      while (Atomics.load(this.ctl, DP_POLLS + s.index) === 0) {
        if (Date.now() > deadline) throw new Error(`worker ${s.index} did not start within 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      if (!s.nic) {
        s.views = coreViews(s.memory);
        s.nic = new Nic(s.views);
      }
    }
  }

  private onTrap(i: number, message: string): void {
    this.stats.traps.push({ worker: i, message });
    if (this.opts.onTrap === "restart" && Atomics.load(this.ctl, DP_STOP) === 0) {
      this.stats.restarts++;
      const slot = this.spawn(i);
      this.slots[i] = slot;
      // Its rings open once the new core has run init(); until then put() waits for them.
      void this.ready().catch((e: Error) => this.stats.traps.push({ worker: i, message: e.message }));
    }
  }

  /** A worker has trapped and was not restarted: the run cannot go on. */
  get failed(): boolean {
    return this.stats.traps.length > this.stats.restarts;
  }

  /** The clock the cores run at: trace time at top speed, wall time when paced. */
  setTime(ns: number): void {
    this.clock[0] = ns;
  }

  /**
   * Copies descriptors 0..n-1 of the dispatcher's staging into the workers' RX
   * rings (one copy per frame; ARP replies to all). Waits while a ring is full.
   */
  async dispatch(n: number): Promise<void> {
    const u8 = this.dispatcher.u8;
    const u32 = this.dispatcher.u32;
    const desc = this.dispatcher.regions.desc.offset;
    const touched = new Uint8Array(this.slots.length);
    for (let first = 0; first < n;) {
      const k = this.hash(first, n - first);
      for (let j = 0; j < k; j++) {
        const d = (desc + (first + j) * DESC_BYTES) >>> 2;
        const off = u32[d + DESC_W_OFF];
        const len = u32[d + DESC_W_CAPLEN];
        const w = u32[(SCRATCH_BASE + j * HB_BYTES + HB_WORKER) >>> 2] & 0xffff;
        if (this.steering !== null && w !== HB_NO_WORKER) {
          // A group being moved is held; one moved since this chunk was hashed goes to its new worker.
          const to = this.steering.route(u8[SCRATCH_BASE + j * HB_BYTES + HB_GROUP], w, u8, off, len);
          if (to < 0) continue;
          if (to !== w) {
            await this.put(to, u8, off, len);
            touched[to] = 1;
            continue;
          }
        }
        if (w !== HB_NO_WORKER) {
          await this.put(w, u8, off, len);
          touched[w] = 1;
          continue;
        }
        this.stats.nonIp++;
        const arpReply =
          len >= 22 &&
          u8[off + 12] === ETHERTYPE_ARP >> 8 &&
          u8[off + 13] === (ETHERTYPE_ARP & 0xff) &&
          u8[off + 21] === 2;
        const targets = arpReply ? this.slots.map((s) => s.index) : [0];
        for (const t of targets) {
          await this.put(t, u8, off, len);
          touched[t] = 1;
        }
      }
      first += k;
    }
    this.steering?.idle();
    for (let i = 0; i < touched.length; i++) if (touched[i]) this.slots[i].nic?.rxCommit();
  }

  private async put(w: number, u8: Uint8Array, off: number, len: number): Promise<void> {
    let nic = this.slots[w].nic;
    while (!nic) {
      // A restarted worker whose core is not up yet (onTrap): its frames wait here, in order.
      if (this.failed) throw new Error(`worker ${w} trapped: ${this.stats.traps.at(-1)?.message}`);
      await new Promise((r) => setTimeout(r, 1));
      nic = this.slots[w].nic;
    }
    while (!nic.rxPut(u8, off, len)) {
      if (nic.rxTooLong && len > nic.mbufData) return; // counted by the Nic; a frame over an mbuf is not delivered
      // Ring full: publish what we have so the worker can take it, then wait for room.
      nic.rxCommit();
      this.stats.ringWaits++;
      this.stats.waits[w]++;
      if (this.opts.txSink) this.drain(this.opts.txSink);
      if (this.failed) throw new Error(`worker ${w} trapped: ${this.stats.traps.at(-1)?.message}`);
      await new Promise((r) => setImmediate(r));
    }
    this.stats.dispatched[w]++;
  }

  /** Puts one frame into worker w's RX ring (control plane: held frames after a move); publish with commit(w). */
  async putFrame(w: number, u8: Uint8Array, off: number, len: number): Promise<void> {
    await this.put(w, u8, off, len);
  }

  /** Publishes what putFrame put into worker w's ring. */
  commit(w: number): void {
    this.slots[w].nic?.rxCommit();
  }

  /** Hands every frame the workers transmitted to fn (worker index, memory, offset, length). */
  drain(fn: (worker: number, mem: Uint8Array, off: number, len: number) => void): number {
    let n = 0;
    for (const s of this.slots) if (s.nic) n += s.nic.txDrain((mem, off, len) => fn(s.index, mem, off, len));
    return n;
  }

  /**
   * Waits for a quiescent point: every worker has taken all its RX frames and
   * finished the poll that took the last of them, TX publish included.
   *
   * A worker releases RX slots at the start of a poll (rxBurst), so "ring empty"
   * alone can be seen while that poll is still processing its frames; and a
   * poll count taken before the wait says nothing once the ring needs many
   * polls to empty. So per worker: wait until the ring is seen empty, read the
   * poll counter then (C), and wait until it reaches C + 2. The poll that took
   * the last frames ends at C + 1 at the latest, with its replies published
   * (txPublish is its last step); the next one lets the app see its commands'
   * results (resultsPending) and sends what they produce. Transmitted frames
   * are drained meanwhile when a txSink is set (a full TX ring stops RX).
   */
  async settle(timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.ready(); // a worker restarting after a trap opens its rings first
    for (const s of this.slots) s.nic.rxCommit();
    for (const s of this.slots) {
      const polls = DP_POLLS + s.index;
      let target = -1;
      for (;;) {
        s.nic.rx.publish(0); // wakes a sleeping worker (a notify is sent only to a sleeper)
        if (target < 0 && s.nic.rx.count() === 0) target = Atomics.load(this.ctl, polls) + 2;
        if (target >= 0 && Atomics.load(this.ctl, polls) - target >= 0) break;
        if (this.failed) throw new Error(`worker ${s.index} trapped: ${this.stats.traps.at(-1)?.message}`);
        if (Date.now() > deadline) throw new Error(`worker ${s.index} did not settle within ${timeoutMs} ms`);
        if (this.opts.txSink) this.drain(this.opts.txSink);
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  /** Test-only: makes worker i trap at its next poll. */
  trapForTest(i: number): void {
    if (!this.opts.test && !this.opts.debug)
      throw new Error("trapForTest needs a dataplane started with { test: true }");
    Atomics.store(this.ctl, DP_TRAP + i, 1);
    this.slots[i].nic.rx.publish(0);
  }

  async stop(): Promise<DataplaneWorkerResult[]> {
    Atomics.store(this.ctl, DP_STOP, 1);
    for (const s of this.slots) s.nic?.rx.publish(0);
    const results = await Promise.all(this.slots.map((s) => s.done));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    return results;
  }
}

/** Copies frames into the dispatcher core's staging and descriptors (tests, generated input). */
export function stageFrames(core: Core, frames: Uint8Array[], linktype = 1): number {
  let pos = core.regions.staging.offset;
  const end = pos + core.regions.staging.bytes;
  const max = core.regions.desc.bytes / DESC_BYTES;
  if (frames.length > max) throw new Error(`at most ${max} frames per batch`);
  frames.forEach((f, i) => {
    if (pos + f.length > end) throw new Error("staging region full");
    core.u8.set(f, pos);
    const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
    core.u32[d + DESC_W_OFF] = pos;
    core.u32[d + DESC_W_CAPLEN] = f.length;
    core.u32[d + DESC_W_LEN] = f.length;
    core.u32[d + DESC_W_LINKTYPE] = linktype;
    core.u32[d + DESC_W_NSEC] = 0;
    core.u32[d + DESC_W_IFACE] = 0;
    core.f64[(d + DESC_W_SEC) >>> 1] = 0;
    pos += (f.length + 7) & ~7;
  });
  return frames.length;
}
