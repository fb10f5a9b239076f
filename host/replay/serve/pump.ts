// Serve's poll step: what goes into the core and when it is polled. Client
// frames go into the RX ring (their copies queued for the core, CopyList);
// recorded server payloads into the mirror's feed (MirrorFeed); a client packet
// that acknowledges bytes the core has not sent yet is held back, with its
// flow's later packets, and let in after the next poll (drainDeferred: one poll
// per round of answers across flows rather than one per answer). settle() polls
// until the RX frames are in and the mirror has nothing due; every poll drains
// the TX ring through onTx (fidelity and --out, tx.ts).
import type { ModuleHost } from "../../apps/module-host.ts";
import type { Core } from "../../core/core.ts";
import type { RunStats } from "../../report/replay.ts";
import { Nic } from "../../runtime/nic.ts";
import type { ReplayOptions } from "../options.ts";
import type { PacingSamples } from "../pacing.ts";
import { bucket } from "../run-stats.ts";
import type { RunClock } from "./clock.ts";
import type { CopyList } from "./copy-list.ts";
import { acksUnsent, type ServeFlow } from "./flow.ts";
import type { MirrorFeed } from "./mirror-feed.ts";
import type { ServeDrops, ServeStats } from "./stats.ts";
import * as ABI from "../../core/abi.gen.ts";

// Descriptor and decode-summary word offsets as this module's own constants: V8
// folds these in the per-packet code, where an imported binding costs a load at each use.
const {
  DESC_WORDS,
  DESC_W_CAPLEN,
  DESC_W_LINKTYPE,
  DESC_W_OFF,
  SUM_S_IPVER,
  SUM_WORDS,
  SUM_W_IPVER,
  SUM_W_L3OFF,
} = ABI;

const KICK_COOKIE = 0xffffffff;
/** dst 02:00:00:00:00:02 (the server), src 02:00:00:00:00:01 (the client): locally administered. */
const FAKE_MACS = new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);

export class ServePump {
  readonly nic: Nic;
  /** Client frames in the RX ring since the last settle, and their schedules (paced: latency). */
  rxQueued = 0;
  readonly schedQ = new Float64Array(8192);
  /** Feed records put since the last settle. */
  feedDue = false;
  // Held-back client packets (indices in the read batch) and their flows, in capture order.
  readonly defI = new Int32Array(8192);
  readonly defS = new Float64Array(8192); // paced: their schedule (latency)
  readonly defF: ServeFlow[] = [];
  nDef = 0;
  private round = 0;
  /**
   * Flows closed in the capture whose client packets are all handled: FR_DONE
   * goes once those packets are in the core (after the RX poll of a settle()), so
   * the app never frees a slot whose connection has yet to open or finish.
   */
  doneQ: ServeFlow[] = [];
  private readonly poll: (nowNs: number) => number;
  private readonly wake: (cookie: number) => number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly descW: number;
  private readonly sumW: number;

  constructor(
    private readonly core: Core,
    readonly copies: CopyList,
    readonly feed: MirrorFeed | null,
    private readonly clock: RunClock,
    private readonly st: RunStats,
    private readonly sv: ServeStats,
    private readonly drops: ServeDrops,
    private readonly latency: PacingSamples | null,
    private readonly onBatch: ReplayOptions["onBatch"],
    /** Each transmitted frame (fidelity, --out: tx.ts). */
    private readonly onTx: (mem: Uint8Array, off: number, len: number) => void,
    /** FR_DONE for a closed flow whose packets are all in (flows.ts). */
    private readonly onDone: (f: ServeFlow) => void,
    /** The feed stays full after a settle: the run cannot go on. */
    private readonly feedFull: () => never,
  ) {
    const ex = core.exports;
    this.poll = ex.poll;
    this.wake = ex.serveWake;
    this.nic = new Nic(core, true); // this pump polls the core: local rings
    this.u8 = core.u8;
    this.u32 = core.u32;
    this.descW = core.regions.desc.offset >>> 2;
    this.sumW = core.regions.decode.offset >>> 2;
  }

  /** --stages (serve.ts sets it): the core's count of the polls it timed. */
  timedPolls: (() => number) | null = null;

  /** With --app-module (serve.ts sets it): the module host whose answers doPoll waits for. */
  module: ModuleHost | null = null;

  /**
   * One poll, and with an app module the polls that take its answers: while it holds
   * a batch the core waits for it (bounded by its watchdog), so the capture's next
   * packets meet the module's answers as they would a built-in app's.
   */
  doPoll(): number {
    let n = this.pollOnce();
    const mh = this.module;
    if (mh === null) return n;
    while (mh.service()) {
      mh.waitAnswer(1);
      n += this.pollOnce();
    }
    return n;
  }

  /** One poll of the core at the run's clock, then its TX ring drained. */
  private pollOnce(): number {
    const { st, clock } = this;
    if (clock.paced) clock.nowNs = clock.wallNs();
    clock.polledNs = clock.nowNs;
    this.copies.flush(); // frames into their mbufs, payloads into the feed (the host's time)
    this.feed?.commit();
    const timed = this.timedPolls;
    const k0 = timed === null ? 0 : timed();
    const p0 = performance.now();
    const n = this.poll(clock.nowNs + clock.clockOffNs);
    const p1 = performance.now();
    st.procMs += p1 - p0;
    if (timed !== null && timed() !== k0) {
      st.timedPolls++;
      st.timedPollMs += p1 - p0;
    }
    this.sv.polls++;
    this.onBatch?.(this.core, n, p1 - p0, p1); // stage cost: service times, timeline (host/measure/cost.ts)
    bucket(st.batches, Math.max(1, n));
    this.nic.txDrain(this.onTx);
    st.outMs += performance.now() - p1;
    return n;
  }

  /** Polls until the RX frames are in and the mirror has nothing ready (bounded). */
  settle(): void {
    this.nic.rxCommit();
    const ready = this.doneQ.length; // their client packets are in the RX ring now (or held back)
    let taken = 0;
    let idle = 0;
    while (taken < this.rxQueued) {
      const n = this.doPoll();
      taken += n;
      if (n === 0 && ++idle > 4) break; // the core refuses frames (no mbufs): the counters say why
    }
    if (this.latency && this.rxQueued) {
      const t = performance.now();
      for (let j = 0; j < this.rxQueued && j < this.schedQ.length; j++)
        this.latency.add((t - this.schedQ[j]) * 1000);
    }
    this.rxQueued = 0;
    if (ready) this.flushDone(ready);
    const feed = this.feed;
    if (!feed) return;
    this.feedDue = false;
    // Until nothing due is left: the app has read the whole feed and no flow has
    // a segment ready (bounded; a feed the app cannot take, out of stream memory,
    // stops it once a poll has made no progress).
    for (let i = 0; i < 4096; i++) {
      const undrained = !feed.drained();
      if (feed.work() === 0 && !undrained) break;
      const tail = feed.tail();
      if (feed.cmds() === 0) this.wake(KICK_COOKIE); // an EV_TIMER: makes the app run
      this.doPoll();
      if (undrained && feed.work() === 0 && feed.tail() === tail) break;
    }
  }

  /** FR_DONE for the first n closed flows, unless packets of theirs are still held back. */
  private flushDone(n: number): void {
    const take = this.doneQ.slice(0, n);
    this.doneQ = this.doneQ.slice(n);
    for (const f of take)
      if (f.deferred) this.doneQ.push(f);
      else this.onDone(f);
  }

  /** One record into the mirror's feed (settling first when it is full). */
  feedPut(
    kind: number,
    flow: number,
    off: number,
    req: number,
    src: Uint8Array | null,
    so: number,
    len: number,
    have = len,
  ): void {
    this.feedDue = true;
    if (this.feed!.put(kind, flow, off, req, src, so, len, have)) return;
    this.settle();
    this.feedDue = true;
    if (!this.feed!.put(kind, flow, off, req, src, so, len, have)) this.feedFull();
  }

  /**
   * One client frame into the next RX mbuf. The stack takes Ethernet: frames of
   * other link types (raw IP, BSD loopback, Linux cooked) get a made-up
   * Ethernet header in front of their IP packet (the core accepts any address).
   */
  private deliver(d: number, w: number, v6: boolean): boolean {
    const { u8, u32 } = this;
    const frame = u32[d + DESC_W_OFF];
    const caplen = u32[d + DESC_W_CAPLEN];
    const eth = (u32[d + DESC_W_LINKTYPE] & 0xffff) === 1;
    const l3 = eth ? 0 : u32[w + SUM_W_L3OFF] & 0xffff;
    const len = caplen - l3 + (eth ? 0 : 14);
    if (len > 2048) return false;
    const p = this.nic.rxNextData();
    if (p < 0) return false;
    if (eth) this.copies.add(p, frame, caplen);
    else {
      for (let j = 0; j < 12; j++) u8[p + j] = FAKE_MACS[j];
      u8[p + 12] = v6 ? 0x86 : 0x08;
      u8[p + 13] = v6 ? 0xdd : 0x00;
      this.copies.add(p + 14, frame + l3, caplen - l3);
    }
    this.nic.rxFill(len);
    return true;
  }

  /** Into the RX ring (settling first when it is full); false if the frame cannot fit an mbuf. */
  toCore(d: number, w: number, v6: boolean, sched: number): boolean {
    if (!this.deliver(d, w, v6)) {
      this.settle();
      if (!this.deliver(d, w, v6)) {
        this.drops.non_ip++; // longer than an mbuf: the stack cannot take it
        return false;
      }
    }
    if (this.rxQueued < this.schedQ.length) this.schedQ[this.rxQueued] = sched;
    this.rxQueued++;
    if (this.rxQueued >= 512) this.settle(); // half the RX ring: keep the stack's batches bounded
    this.sv.delivered++;
    return true;
  }

  /** Holds back client packet i of the read batch (flow f, schedule sched) until drainDeferred. */
  hold(i: number, sched: number, f: ServeFlow): void {
    if (this.nDef === this.defI.length) this.drainDeferred();
    this.defI[this.nDef] = i;
    this.defS[this.nDef] = sched;
    this.defF[this.nDef++] = f;
    f.deferred++;
  }

  /**
   * Polls, then lets in, in order, each held packet whose acknowledged bytes the
   * core has now sent (a flow's later packets wait behind its first blocked one);
   * again until none is left. A round in which nothing could go in lets them all
   * in: the core cannot send what they acknowledge (the capture lost it).
   */
  drainDeferred(): void {
    const { defI, defS, defF, u32 } = this;
    const descW = this.descW;
    const sumW = this.sumW;
    while (this.nDef > 0) {
      this.settle();
      const round = ++this.round;
      const nDef = this.nDef;
      let kept = 0;
      for (let j = 0; j < nDef; j++) {
        const f = defF[j];
        const i = defI[j];
        const w = sumW + i * SUM_WORDS;
        if (f.blocked === round || acksUnsent(u32, w, f)) {
          f.blocked = round;
          defI[kept] = i;
          defS[kept] = defS[j];
          defF[kept++] = f;
          continue;
        }
        f.deferred--;
        this.toCore(
          descW + i * DESC_WORDS,
          w,
          ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6,
          defS[j],
        );
      }
      if (kept === nDef) {
        for (let j = 0; j < kept; j++) {
          const i = defI[j];
          const w = sumW + i * SUM_WORDS;
          defF[j].deferred--;
          this.toCore(
            descW + i * DESC_WORDS,
            w,
            ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6,
            defS[j],
          );
        }
        kept = 0;
      }
      this.nDef = kept;
    }
  }

  /** Work waiting for a poll: client frames in the ring, feed records, held packets. */
  pending(): boolean {
    return this.rxQueued !== 0 || this.feedDue || this.nDef !== 0;
  }
}
