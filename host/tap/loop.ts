// One thread's share of a Linux tap: the queues it serves with its own core.
// Each round takes its queues in turn: read(2) up to 64 frames straight into
// the mbufs the core posted in its RX ring, one core poll, then write(2) every
// frame that poll transmitted on that same queue. The kernel steers a flow to
// the queue it was last written on (drivers/net/tun.c: tun_flow_update on
// write, tun_automq_select_queue on transmit, both keyed by the symmetric flow
// hash), so a reply goes back on its request's arrival queue and the flow
// stays with this thread. A service that read nothing skips the core's poll
// 15 times in 16 (IDLE_POLL_EVERY). When a round finds nothing the loop spins for
// spinUs, then blocks in poll(2) on its own queues for at most MAX_WAIT_MS, so
// the core's timers run at least that often; with poll "busy" it never blocks
// (wake.ts says what each mode costs and what the report counts).
//
// Used by the main thread (`tap --workers 0`: one core, every queue) and by
// each tap worker (host/tap/worker.ts: one core, its queues).
import type { Core, CoreConfig } from "../core/core.ts";
import type { Nic } from "../runtime/nic.ts";
import { Backoff, pollLoop, type Spin } from "../runtime/poll-loop.ts";
import { wakeBucket, WAKE_BUCKETS, type PollMode } from "./wake.ts";
import type { TapDevice } from "../io/tap.ts";
import type { ModuleReport, ServedModule } from "../apps/module-host.ts";
import { pollTimersFor, stageTiming, type StageSums } from "../report/stages.ts";
import { CORE, HOST, LoopClock } from "../report/loop-clock.ts";
import { threadCpuNs } from "../measure/lib/threadcpu.ts";
import { RX_BURST } from "../core/poll.gen.ts"; // the core's poll() takes as many at most

export { RX_BURST };
export const MAX_WAIT_MS = 5; // longest block in poll(2)
/**
 * A queue service that read nothing, after a round with no work, polls the core
 * only once in this many (a power of two): an empty poll and its two clock reads
 * cost ~250 ns of a ~1 µs empty round, and a lone frame waits half a round on
 * average before the read that takes it (docs/measurement/performance-log.md §12).
 * The core's timers are ms-grained, and 16 empty services take ~10 µs.
 */
export const IDLE_POLL_EVERY = 16;
/**
 * Without --stages, one core poll in this many of each kind (it took frames or
 * not) is timed, and core_ms is those polls' mean × the polls of that kind: a
 * clock read after every poll put ~70 ns (performance.now() here) on every
 * reply's path, before its write(2). With --stages every poll is timed (exact).
 */
export const CORE_SAMPLE = 16;

const WAKE_HIST = 14;
/** --stages words, after the wake histogram. */
const STAGE_W = WAKE_HIST + WAKE_BUCKETS;
/**
 * Loop statistics: Float64 words, in a SharedArrayBuffer when a worker runs the
 * loop, so the main thread can print a live line (plain reads: a torn value
 * there is harmless) and merge them once the worker has left (exact).
 */
export const ST = {
  rounds: 0,
  polls: 1,
  reads: 2,
  empty: 3,
  writes: 4,
  waits: 5,
  waitMs: 6,
  coreMs: 7,
  ringFull: 8,
  wallMs: 9,
  /** --check-queues: arrivals of a known flow on another queue than its last. */
  moved: 10,
  /** Frames longer than maxFrame (MTU + 14), dropped: the kernel side's MTU should never let one through. */
  overMtu: 11,
  /** Naps poll(2) ended with a readable queue (ST.waits counts every nap). */
  wokenNaps: 12,
  /** Longest poll(2) return → first reply ready to write (ms). */
  wakeMaxMs: 13,
  /** WAKE_BUCKETS words from here: the wake → reply histogram (wake.ts). */
  wakeHist: WAKE_HIST,
  // --stages (host/tap/stages.ts): polls run with the section timers on and their host ms (in coreMs too);
  // every queue service's read and write parts (ms, one clock read each included); the in-place clock
  // read measurements (one queue service in LOOP_SAMPLE) and their sum.
  timedPolls: STAGE_W,
  timedMs: STAGE_W + 1,
  readMs: STAGE_W + 2,
  writeMs: STAGE_W + 3,
  readCosts: STAGE_W + 4,
  readCostMs: STAGE_W + 5,
  /** the loop thread's CPU time since the loop started (--stages) */
  cpuMs: STAGE_W + 6,
  /** polls that took no frame and their host ms (in polls and coreMs too) */
  emptyPolls: STAGE_W + 7,
  emptyMs: STAGE_W + 8,
  /** from one queue service's end to the next one's start, ms (the naps in it) */
  gapMs: STAGE_W + 9,
  /** queue services that read nothing and left the core unpolled (IDLE_POLL_EVERY) */
  skippedPolls: STAGE_W + 10,
} as const;
const ST_FIXED = STAGE_W + 11;
/** Per-queue words, indexed by the tap's queue number (a loop fills only its own queues). */
export const QS = { rx: 0, tx: 1, misrouted: 2, readErr: 3, writeErr: 4, flows: 5 } as const;
const QS_WORDS = 6;

export const qword = (q: number, f: number): number => ST_FIXED + q * QS_WORDS + f;

export function newLoopStats(queues: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer((ST_FIXED + QS_WORDS * queues) * 8));
}

export interface TapLoopOptions {
  /** The tap's queue numbers this loop serves; local fd i of its TapDevice is queue queues[i]. */
  queues: number[];
  /** busy: never nap (spin on the fds); adaptive: spin spinUs, then nap in poll(2). */
  poll: PollMode;
  spinUs: number;
  /** Record each IPv4 TCP/UDP flow's arrival queue and count replies written elsewhere (parses headers: tests only). */
  checkQueues: boolean;
  /** Longest frame taken (MTU + 14); longer ones are counted (ST.overMtu) and dropped. Default: the mbuf data size. */
  maxFrame?: number;
  /** Time the loop's parts (every queue service: its syscalls dwarf a clock read) and poll()'s sections (one in LOOP_SAMPLE). */
  stages?: boolean;
}

export class TapLoop {
  private readonly poll: (nowNs: number) => number;
  private readonly base: number;
  private readonly u8: Uint8Array;
  /** read(2) size: a whole mbuf data area (one frame per mbuf, never chained). */
  private readonly readMax: number;
  private readonly maxFrame: number;
  /** --check-queues: peer key → last arrival queue. */
  private readonly flowQueue = new Map<number, number>();
  /** Called after each poll (an app module's wake and watchdog); a true result counts as work, so the loop spins instead of sleeping while the module has a batch. */
  afterPoll: (() => boolean) | null = null;
  private curLocal = 0;
  private curQ = 0;
  /** Per local queue: the last round read a frame from it (take a full burst), else take one. */
  private readonly warm: Uint8Array;
  /** performance.now() when poll(2) last returned a readable queue; 0 once the first reply after it is ready. */
  private wokeAt = 0;
  private readonly t0 = performance.now();
  /** --stages: picks the services whose poll runs the core's section timers, and those that measure a clock read */
  private readonly lc: LoopClock | null;
  /** --stages: when the last queue service ended (performance.now()) */
  private lastEnd = 0;
  private readonly timers: (on: boolean) => void;
  private readonly cpu0: number;
  /** --stages: a service was picked for the section timers and the next poll runs with them. */
  private coreOwed = false;
  /** Empty services since the core was last polled; 0 after any work, so the next service polls. */
  private idleServices = 0;
  /** The loop's last clock read (after a poll's writes, or before the poll with --stages and on sampled polls; at a nap; at run()): the core's time and the loop's clock for its end (no read of its own per round). */
  private now = performance.now();
  /** Without --stages (CORE_SAMPLE), per kind of poll (0: took no frame, 1: took frames): polls, timed ones, their ms. */
  private readonly kindPolls = [0, 0];
  private readonly kindTimed = [0, 0];
  private readonly kindMs = [0, 0];

  constructor(
    core: Core,
    private readonly nic: Nic,
    private readonly tap: TapDevice,
    private readonly o: TapLoopOptions,
    readonly stats: Float64Array,
  ) {
    this.poll = core.exports.poll as (nowNs: number) => number;
    this.base = tap.address(core.u8);
    this.u8 = core.u8;
    this.readMax = nic.mbufData;
    this.maxFrame = Math.min(o.maxFrame ?? nic.mbufData, nic.mbufData);
    this.lc = o.stages ? new LoopClock([]) : null; // picks the timed polls, measures a clock read
    this.timers = pollTimersFor(core);
    if (o.stages) stageTiming(core, false); // zeroed; on for one poll in LOOP_SAMPLE (serveQueue)
    this.cpu0 = o.stages ? threadCpuNs() : 0;
    this.warm = new Uint8Array(o.queues.length);
  }

  /** Key of the peer side of an IPv4 TCP/UDP frame at off (src when rx, dst when tx), or -1. */
  private peerKey(off: number, rx: boolean): number {
    const u8 = this.u8;
    if (u8[off + 12] !== 0x08 || u8[off + 13] !== 0x00) return -1;
    const ihl = (u8[off + 14] & 15) * 4;
    const proto = u8[off + 23];
    if (proto !== 6 && proto !== 17) return -1;
    const ip = off + (rx ? 26 : 30);
    const port = off + 14 + ihl + (rx ? 0 : 2);
    return (
      (((u8[ip] << 24) | (u8[ip + 1] << 16) | (u8[ip + 2] << 8) | u8[ip + 3]) >>> 0) * 65536 +
      ((u8[port] << 8) | u8[port + 1]) +
      proto * 2 ** 48
    );
  }

  private readonly sendOne = (_mem: Uint8Array, off: number, len: number): void => {
    const s = this.stats;
    if (this.wokeAt) this.noteWake(); // before write(2): it runs the kernel's receive path, and may yield to the woken client
    s[ST.writes]++;
    const q = this.curQ;
    if (!this.tap.write(this.curLocal, this.base + off, len)) {
      s[qword(q, QS.writeErr)]++;
      return;
    }
    s[qword(q, QS.tx)]++;
    if (this.o.checkQueues) {
      const k = this.peerKey(off, false);
      // A reply for a flow that never arrived here, or last arrived elsewhere, is misrouted.
      if (k >= 0 && this.flowQueue.get(k) !== q) s[qword(q, QS.misrouted)]++;
    }
  };

  /** Local queue i: reads a batch into the RX ring, runs the core once, writes its output on this queue. */
  serveQueue(i: number): number {
    const s = this.stats;
    const nic = this.nic;
    const q = this.o.queues[i];
    const lc = this.lc;
    const k = lc === null ? -1 : lc.pick();
    // A service picked for the section timers may leave the core unpolled (IDLE_POLL_EVERY):
    // the next poll is timed instead, so the timed polls keep their rate (one in LOOP_SAMPLE).
    if (k === CORE) this.coreOwed = true;
    // --stages times every service's parts, each part whole: a write(2) or a read(2)
    // costs µs, a clock read ~40 ns, and sampled parts one in LOOP_SAMPLE put the
    // accounting 13-39 % off (one write that yielded to the woken client × 64).
    if (k === HOST) lc!.measureRead();
    const r0 = lc === null ? 0 : performance.now();
    let n = 0;
    let reads = 0; // over-MTU frames do not count in n: bound the reads too
    // After a round that found this queue empty, take one frame and answer it
    // before reading on: a lone frame's reply then does not wait for the read(2)
    // that finds the queue empty (15-20 µs right after a wake-up on these VMs,
    // docs/measurement/performance-log.md). A burst is taken in full next round.
    const burst = this.warm[i] ? RX_BURST : 1;
    while (n < burst && reads++ < 2 * RX_BURST) {
      const off = nic.rxNextData();
      if (off < 0) {
        s[ST.ringFull]++;
        break;
      }
      s[ST.reads]++;
      const len = this.tap.read(i, this.base + off, this.readMax);
      if (len <= 0) {
        if (len === 0) s[ST.empty]++;
        else s[qword(q, QS.readErr)]++;
        break;
      }
      if (len > this.maxFrame) {
        s[ST.overMtu]++; // the slot stays free: the next read overwrites it
        continue;
      }
      if (this.o.checkQueues) this.noteArrival(off, q);
      nic.rxFill(len);
      n++;
    }
    this.warm[i] = n > 0 ? 1 : 0;
    if (n) nic.rxCommit();
    s[qword(q, QS.rx)] += n;
    if (n === 0 && this.idleServices++ % IDLE_POLL_EVERY !== 0) {
      // Nothing read, nothing owed from the last poll: the core has nothing to do before its timers.
      s[ST.skippedPolls]++;
      if (lc !== null) s[ST.readMs] += this.serviceEnd(r0) - r0;
      return 0;
    }
    const timed = this.coreOwed;
    if (timed) {
      this.coreOwed = false;
      this.timers(true);
    }
    // The core's time is the loop's last clock read: without --stages that read
    // comes after the previous poll's writes (below), not here between this
    // frame's read(2) and its reply's write(2) (performance.now() costs 70-85 ns
    // here). It is then as old as the reads since that poll: this service's and
    // at most IDLE_POLL_EVERY - 1 skipped services' (~10 µs busy; a nap and each
    // run() start with a read). An RTT sample may come out that much long or
    // short, against a 200 ms RTO floor and TSval in ms: no timer moves by it.
    // Timed polls (--stages, one in CORE_SAMPLE) still read it first.
    const kind = n > 0 ? 1 : 0;
    const sampled = lc === null && this.kindPolls[kind]++ % CORE_SAMPLE === 0;
    if (lc !== null || sampled) this.now = performance.now();
    const c0 = this.now;
    this.poll((c0 - this.t0) * 1e6);
    let c1 = 0;
    if (lc !== null) {
      c1 = performance.now();
      if (timed) {
        this.timers(false);
        s[ST.timedPolls]++;
        s[ST.timedMs] += c1 - c0;
      } else if (n === 0) {
        s[ST.emptyPolls]++;
        s[ST.emptyMs] += c1 - c0;
      }
      s[ST.coreMs] += c1 - c0;
    } else if (sampled) {
      this.kindTimed[kind]++;
      this.kindMs[kind] += performance.now() - c0;
      s[ST.coreMs] = this.coreMsEstimate();
    }
    s[ST.polls]++;
    this.curLocal = i;
    this.curQ = q;
    const busy = this.afterPoll?.() ? 1 : 0;
    const sent = nic.txDrain(this.sendOne);
    if (n + busy + sent > 0) this.idleServices = 0;
    if (lc === null) {
      this.now = performance.now(); // the next poll's time, read once the replies are out
    } else {
      s[ST.readMs] += c0 - r0;
      s[ST.writeMs] += this.serviceEnd(r0) - c1;
    }
    return n + busy + sent;
  }

  /**
   * --stages: the end of a queue service that started at r0 (performance.now()).
   * The services' parts and the gaps between them tile the loop's time: the gap
   * since the last service's end is counted here. Returns the end.
   */
  private serviceEnd(r0: number): number {
    const e = performance.now();
    if (this.lastEnd > 0) this.stats[ST.gapMs] += r0 - this.lastEnd;
    this.lastEnd = e;
    return e;
  }

  /** core_ms without --stages: each kind of poll's timed mean × its polls. */
  private coreMsEstimate(): number {
    let ms = 0;
    for (let k = 0; k < 2; k++)
      if (this.kindTimed[k] > 0) ms += (this.kindMs[k] / this.kindTimed[k]) * this.kindPolls[k];
    return ms;
  }

  /** The first reply after a wake-up is ready to write: how long since poll(2) returned. */
  private noteWake(): void {
    const s = this.stats;
    const ms = performance.now() - this.wokeAt;
    this.wokeAt = 0;
    s[ST.wakeHist + wakeBucket(ms)]++;
    if (ms > s[ST.wakeMaxMs]) s[ST.wakeMaxMs] = ms;
  }

  private noteArrival(off: number, q: number): void {
    const k = this.peerKey(off, true);
    if (k < 0) return;
    const last = this.flowQueue.get(k);
    if (last === q) return;
    if (last !== undefined) this.stats[ST.moved]++;
    this.stats[qword(q, QS.flows)]++;
    this.flowQueue.set(k, q);
  }

  /** Serves rounds until performance.now() reaches endMs or stop() says so; sleeps in poll(2) when idle. */
  run(endMs: number, stop: () => boolean): void {
    const s = this.stats;
    this.now = performance.now(); // after a turn of the event loop (a 20 ms slice's end): the first poll's time
    const nq = this.o.queues.length;
    // busy: an endless spin, so the nap below never runs (the report's naps stay 0).
    const spin: Spin = this.o.poll === "busy" ? { rounds: Infinity } : { us: this.o.spinUs };
    const backoff = new Backoff(spin, () => {
      // Nothing for a while: sleep until a frame comes or the timers need a turn.
      const w0 = performance.now();
      const ready = this.tap.wait(Math.max(0, Math.min(MAX_WAIT_MS, Math.floor(endMs - w0))));
      const w1 = performance.now();
      s[ST.waits]++;
      s[ST.waitMs] += w1 - w0;
      this.now = w1;
      this.idleServices = 0; // the timers may be due: the next service polls
      if (ready) {
        s[ST.wokenNaps]++;
        this.wokeAt = w1;
      } else this.wokeAt = 0;
    });
    const round = (): number => {
      let work = 0;
      for (let i = 0; i < nq; i++) work += this.serveQueue(i);
      s[ST.rounds]++;
      return work;
    };
    pollLoop(round, backoff, () => this.now < endMs && !stop());
    s[ST.wallMs] = performance.now() - this.t0;
    if (this.lc === null) s[ST.coreMs] = this.coreMsEstimate();
    const lc = this.lc;
    if (lc) {
      s[ST.readCosts] = lc.reads;
      s[ST.readCostMs] = lc.readMs;
      s[ST.cpuMs] = (threadCpuNs() - this.cpu0) / 1e6;
    }
  }

  /** --check-queues: every flow key seen arriving (to find flows that arrived at two workers). */
  flowKeys(): number[] {
    return [...this.flowQueue.keys()];
  }
}

/** What the main thread gives a tap worker (host/tap/worker.ts). */
export interface TapWorkerData {
  index: number;
  ifname: string;
  /** Queue numbers this worker serves and their fds (opened by the main thread; process-wide). */
  queues: number[];
  fds: number[];
  memory: WebAssembly.Memory;
  config: Partial<CoreConfig>;
  debug: boolean;
  poll: PollMode;
  spinUs: number;
  checkQueues: boolean;
  maxFrame?: number;
  /** Int32 words: [TW_STOP] main → workers: leave the loop. */
  ctl: Int32Array;
  stats: Float64Array;
  /** Send the gratuitous ARP at start (one worker does: one announcement). */
  announce: boolean;
  /** Time poll()'s sections (host/report/stages.ts); the sums come back in the "done" message. */
  stages?: boolean;
  /** With --app-module: the module this worker runs an instance of (its report comes back in "done"). */
  module?: ServedModule;
}

export const TW_STOP = 0;

export type TapWorkerMessage =
  | { type: "ready"; index: number }
  | {
      type: "done";
      index: number;
      error: string | null;
      flows: number[];
      stages: StageSums | null;
      module: ModuleReport | null;
    };
