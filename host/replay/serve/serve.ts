// `ixwasm replay --mode serve`: the core plays the server of every flow the
// pre-scan (host/replay/serve/prescan.ts) could learn, and its output is scored
// against the capture's server (host/report/fidelity.ts).
//
// The replay pass reads the capture once more, in order:
//  - a client→server packet of a served flow goes into the core's RX ring;
//    before a TCP flow's SYN, the host presets the flow's ISN and options
//    (tcpPreset) and announces the flow to the mirror app (a FR_FLOW record);
//  - a server→client packet is the reference: its payload goes to the mirror
//    app through the feed ring (host/replay/serve/mirror-feed.ts), with the client
//    stream offset (UDP: the client datagram count) it answered, and it is scored
//    against what the core sends;
//  - packets of flows that are not served (no handshake in the capture, no
//    SYN-ACK, ICMP, fragments...) go to a second core in track mode
//    (assembly/replay/track.ts, created at the first such packet), which tracks
//    their TCP state and counts them: flows.tracked;
//  - frames the decoder cannot take are dropped with a reason.
//
// Batching (what makes serve fast): client packets pile up in the RX ring and
// the core is polled only when it must be. A client packet that acknowledges
// server bytes (or a SYN-ACK) the core has not sent yet must wait for a poll,
// since the stack would drop it with its data (RFC 9293 §3.10.7.4: SEG.ACK >
// SND.NXT). With the mirror such a packet is held back, with every
// later client packet of its flow, while other flows' packets keep coming in;
// the held packets go in, in order, after the next poll (drainDeferred), one
// poll per round of answers rather than one per answer. Polls come at the end of
// each read batch, when the RX ring is half full or the feed full, and (top
// speed) once the capture's clock is 1 ms past the last poll's (MAX_HOLD_NS),
// so answers and timers are stamped at most that late. Server packets need no
// poll: the mirror releases each recorded segment only once the client bytes it
// answered are in, whenever that poll comes. A poll then runs until the mirror
// has sent everything due (one segment per flow per poll, see settle()).
// The per-packet host work is a flow lookup in a typed-array hash
// (host/replay/serve/flow-index.ts), one frame copy (queued, done by the core), and for
// the reference a feed record and a payload hash (one core call, serveHash): no
// strings or objects. The run's state and steps are classes (why not closures:
// see ServeRun), one per concern:
//   clock.ts   the run's clock and --loop pass
//   flows.ts   the live flows' serve state, mirror slots (slots.ts), presets
//   pump.ts    the poll step: RX ring, feed, held-back packets, settle()
//   pacer.ts   paced speeds: schedule, lateness, gap error, latency
//   tx.ts      what the core sends: --out and the fidelity score
//   tracker.ts flows that are not served, through a track-mode core
//   report.ts  the report; stats.ts serve's counts in it
// This file reads the capture and sends each packet where it goes.
//
// Time: at --speed top the core's clock is the capture's timestamps (output is
// deterministic). At paced speeds the client→server packets are released on the
// schedule (scheduleMs, as raw/track), server packets are fed as read (the
// mirror holds them until due), the core's clock is the wall clock, and --out
// timestamps are the wall-clock time the frame left the core.
//
// --loop N: pass k (0-based) rewrites the client port of every served or
// tracked flow to port + k (mod 2^16, 0 skipped; checksum fixed incrementally,
// RFC 1624), as raw and track do, so each pass's conversations are new 4-tuples
// while the server side (ISN, options, payload) is the pre-scan's. The pass's
// timestamps (top) are shifted by the capture's whole seconds + 3 s, and at paced
// speeds the core's clock gains 3 s per pass: more than TIME-WAIT (2 s here,
// serveCoreConfig), so a 4-tuple an earlier pass left in TIME-WAIT is free when a
// later pass's port + k lands on it.
//
// Scale (issue 10): per-flow state lives only while the flow does. The live
// flows are in a table (host/replay/serve/live-flows.ts) that the pre-scan ran too, so
// both number the flows alike and the n-th flow to start takes the pre-scan's
// n-th record. Once a flow has closed in the capture (its last FIN or RST fed),
// the mirror gets FR_DONE, and its slot comes back to the free list once the
// connection is no longer open in the core (the host reads the slot's state
// word); nothing more is fed on it. The flow stays in the live table 2 s of
// capture time more (its last ACKs, retransmissions are still scored; fidelity
// ids are live slots), then its fidelity is settled. The core is sized from the
// pre-scan's peak of connections held at once, not from the flows in the capture
// (serveCapacity).
import { CFG_F_TX_CSUM_OFFLOAD, createCore, type Core } from "../../core/core.ts";
import { ModuleHost } from "../../apps/module-host.ts";
import { TraceError } from "../../io/errors.ts";
import { TraceReader } from "../../io/reader.ts";
import type { ReplayReport, RunStats } from "../../report/replay.ts";
import {
  POLL_SAMPLE,
  readStageSums,
  stageSamples,
  stageTiming,
  timedPollCount,
} from "../../report/stages.ts";
import { type ReplayOptions } from "../options.ts";
import { OutputSink } from "../output.ts";
import { Progress } from "../progress.ts";
import { newRunStats } from "../run-stats.ts";
import { MAX_HOLD_NS, PASS_GAP_S, RunClock } from "./clock.ts";
import { CopyList } from "./copy-list.ts";
import { acksUnsent, rewritePorts, type ServeFlow } from "./flow.ts";
import { FlowOwner, ownerConfig } from "./flow-owner.ts";
import { ServeFlows } from "./flows.ts";
import { LiveFlows } from "./live-flows.ts";
import { FR_DATA, FR_DGRAM, FR_FIN, FR_RST, MirrorFeed } from "./mirror-feed.ts";
import { PACE_HOLD_MS, PACE_POLL_MS, Pacer } from "./pacer.ts";
import { liveStep, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Prescan } from "./prescan.ts";
import { ServePump } from "./pump.ts";
import { serveAccounting, serveReport } from "./report.ts";
import { serveCapacity, serveCoreConfig, serveMaxConns, serveStreamBytes } from "./sizing.ts";
import { MirrorSlots } from "./slots.ts";
import { newServeDrops, newServeStats, type ServeDrops, type ServeStats } from "./stats.ts";
import { Tracker } from "./tracker.ts";
import { newFidelity, TxScorer } from "./tx.ts";
import type { FidelityMeter } from "../../report/fidelity.ts";
import * as ABI from "../../core/abi.gen.ts";

// Record-descriptor and decode-summary word offsets (abi/table.ts) as this module's own
// constants: V8 folds these in the per-packet loops, where an imported binding costs a
// load at each use (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
  SUM_F_IP,
  SUM_F_NOT_PACKET,
  SUM_F_PAYLOAD,
  SUM_F_TCP,
  SUM_F_TRUNC,
  SUM_F_UDP,
  SUM_F_UNKNOWN_LINK,
  SUM_S_IPVER,
  SUM_S_L4OFF,
  SUM_WORDS,
  SUM_W_ACK,
  SUM_W_FLAGS,
  SUM_W_IPVER,
  SUM_W_L4OFF,
  SUM_W_PAYLOAD,
  SUM_W_SEQ,
  SUM_W_TCPFLAGS,
} = ABI;

/** serve mode: one replay pass per --loop with the pre-scan's flows (see above). */
export function runServe(
  path: string,
  pre: Prescan,
  opts: ReplayOptions,
  /** Stop after this many read batches (the paced warm-up). */
  maxBatches = Infinity,
): ReplayReport {
  // Paced runs start with a short top-speed run of the same capture on a throw-away
  // core: V8 compiles wasm functions on their first call and tiers hot JS up, which
  // stalled the first paced packets by tens of ms (as replay()'s warmUp).
  const t0 = performance.now();
  if ((opts.speed ?? { kind: "top" }).kind !== "top" && maxBatches === Infinity)
    runServe(path, pre, { mode: "serve", app: opts.app, batch: 512, flows: 4096, owner: opts.owner }, 4);
  return new ServeRun(path, pre, opts, maxBatches, t0).run();
}

/**
 * One serve run (all its --loop passes) on one serving core. The run's state
 * is fields and its steps methods (here and in the parts it holds), not
 * closures in runServe: V8 then compiles each step on its own, once per process
 * (the methods are the same functions in every run), where one large function
 * of closures took 0.2-0.9 s of background compilation per run and was thrown
 * away at the next run's new closures: the first runs of a process went at a
 * third of the speed.
 */
class ServeRun {
  private readonly app: string;
  private readonly paced: boolean;
  private readonly loops: number;
  /** The mirror's stream memory (sizing.ts serveStreamBytes; 0: another app). */
  private readonly streamBytes: number;
  private readonly core: Core;
  /** With --app-module: the module's worker, watchdog and faults. */
  private readonly mh: ModuleHost | null;
  private readonly decode: (n: number) => number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly descW: number;
  private readonly sumW: number;
  private readonly owner: FlowOwner | null;
  private readonly clock: RunClock;
  private readonly live: LiveFlows;
  private readonly fid: FidelityMeter | null;
  private readonly tx: TxScorer;
  private readonly pump: ServePump;
  private readonly flows: ServeFlows;
  private readonly tracker: Tracker;
  private readonly pacer: Pacer | null;
  private readonly st: RunStats;
  private readonly sv: ServeStats;
  private readonly drops: ServeDrops = newServeDrops();
  private packetsIn = 0;
  private bytesIn = 0;
  /** Closed by the packet in hand: to the pump's doneQ once it is handled. */
  private closing: ServeFlow | null = null;

  constructor(
    private readonly path: string,
    private readonly pre: Prescan,
    private readonly opts: ReplayOptions,
    /** Stop after this many read batches (the paced warm-up). */
    private maxBatches: number,
    /** performance.now() when runServe was called (before the paced warm-up). */
    private readonly t0: number,
  ) {
    const s0 = performance.now();
    const app = opts.module ? "external" : (opts.app ?? "mirror");
    this.app = app;
    const mirror = app === "mirror";
    const speed = opts.speed ?? { kind: "top" };
    this.paced = speed.kind !== "top";
    this.loops = opts.loop ?? 1;
    const capacity = serveCapacity(pre, this.loops);
    // serve --workers: this worker's flows only (host/replay/serve/flow-owner.ts); the core hashes as worker i of N.
    const owner = opts.owner;
    this.streamBytes = mirror ? serveStreamBytes(pre) : 0;
    const base = serveCoreConfig(capacity, app, pre.maxAckAdvance, this.streamBytes);
    // Without --out no one reads the sent frames' checksums: the core leaves them out (as a NIC's offload).
    const config = {
      ...base,
      flags: base.flags | (opts.out ? 0 : CFG_F_TX_CSUM_OFFLOAD),
      ...(opts.module ? { appPort: opts.module.mod.port, appExtFlags: opts.module.mod.flags } : {}),
    };
    const core = createCore({ ...config, ...(owner ? ownerConfig(owner, config.flags) : {}) });
    this.owner = owner ? new FlowOwner(core, owner) : null;
    this.core = core;
    if (opts.stages) {
      stageTiming(core, true, POLL_SAMPLE); // poll()'s sections in a random 1 in 16 polls (host/report/stages.ts)
    }
    const ex = core.exports;
    this.decode = ex.decodeBatch;
    if (!mirror) ex.tcpListen(0);
    else ex.udpListen(0); // the mirror answers UDP on every port
    const copies = new CopyList(core);
    const feed = mirror ? new MirrorFeed(core, copies) : null;
    this.u8 = core.u8;
    this.u32 = core.u32;
    this.f64 = core.f64;
    this.descW = core.regions.desc.offset >>> 2;
    this.sumW = core.regions.decode.offset >>> 2;
    this.clock = new RunClock(this.paced);
    this.st = newRunStats(path, "serve", opts.workers ?? 1, speed, this.loops, pre.error, opts.out);
    this.sv = newServeStats(pre, capacity, {});
    this.pacer = this.paced ? new Pacer(speed) : null;
    const liveF: (ServeFlow | undefined)[] = [];
    this.live = new LiveFlows(
      path,
      serveMaxConns(),
      (slot) => this.flows.release(slot),
      Math.max(1024, pre.peakLive),
    ); // sized for the pre-scan's peak: no rehash on the way
    this.fid = mirror ? newFidelity(core, liveF, opts.serveObserver) : null;
    this.tx = new TxScorer(this.st, this.clock, this.live, liveF, this.fid);
    const pump = new ServePump(
      core,
      copies,
      feed,
      this.clock,
      this.st,
      this.sv,
      this.drops,
      this.pacer ? this.pacer.latency : null,
      opts.onBatch,
      this.tx.onTx,
      (f) => this.flows.done(f),
      () => this.feedFull(),
    );
    this.pump = pump;
    if (opts.stages) pump.timedPolls = timedPollCount(core); // the timed polls' extra cost: the `timers` row
    // --app-module: the module's worker; the pump waits for its answers (pump.ts doPoll)
    this.mh = opts.module ? new ModuleHost(core, opts.module.mod, opts.module) : null;
    this.mh?.start();
    pump.module = this.mh;
    const slots = new MirrorSlots(capacity, feed, () => pump.settle());
    this.flows = new ServeFlows(
      core,
      pre,
      mirror,
      capacity,
      liveF,
      this.clock,
      pump,
      slots,
      this.fid,
      this.sv,
    );
    this.sv.flows_unserved_why = this.flows.why;
    this.tracker = new Tracker(opts.flows ?? 1 << 18, core);
    const st = this.st;
    st.warmupMs = s0 - t0;
    st.prescanMs = pre.ms;
    st.setupMs = performance.now() - s0;
  }

  private feedFull(): never {
    throw new TraceError(
      this.path,
      0,
      this.packetsIn,
      "serve: the mirror app's feed is full (out of stream memory)",
    );
  }

  /** --out-merged: the capture's frames except the server segments the core replaced. */
  private input(d: number, sec: number, nsec: number): void {
    const u32 = this.u32;
    this.tx.sink!.input(
      this.u8,
      u32[d + DESC_W_OFF],
      u32[d + DESC_W_CAPLEN],
      u32[d + DESC_W_LEN],
      u32[d + DESC_W_LINKTYPE] & 0xffff,
      sec,
      nsec,
    );
  }

  /** Paced: waits for a client packet's slot (settling what is due first); returns its schedule. */
  private pace(d: number, ts: number): number {
    const pacer = this.pacer!;
    const pump = this.pump;
    const sched = pacer.slot(ts, this.u32[d + DESC_W_LEN]);
    const now = performance.now();
    if (sched > now) {
      // Poll while waiting, unless the next packet is due too soon for a poll to pay
      // (adaptive batching, as IX: a poll costs a few µs) and nothing has waited long.
      const oldest = pump.nDef ? pump.defS[0] : pump.rxQueued ? pump.schedQ[0] : Infinity;
      if (sched - now >= PACE_POLL_MS || now - oldest >= PACE_HOLD_MS) {
        pump.drainDeferred();
        if (pump.rxQueued || pump.feedDue) pump.settle();
      }
      pacer.wait(sched, this.st);
    }
    pacer.arrived(sched);
    return sched;
  }

  /** Every pass, then the report. */
  run(): ReplayReport {
    const { st, opts, paced, loops, clock, pump, flows, tx } = this;
    const progress = opts.progress ? new Progress() : null;
    const t0 = performance.now();
    let reader: TraceReader | null = null;
    try {
      for (clock.loop = 0; clock.loop < loops; clock.loop++) {
        const loop = clock.loop;
        if (paced && loop) {
          clock.clockOffNs = loop * PASS_GAP_S * 1e9;
          pump.doPoll(); // the core's clock moves on now (timers, and presets expire from it)
        }
        // Each pass numbers the flows anew; the previous pass's flows are done.
        this.live.releaseAll();
        tx.obs = loop === 0 ? (opts.serveObserver ?? null) : null;
        flows.nextOrd = 0;
        clock.shiftS = loop * clock.passShiftS;
        let firstS = NaN;
        let lastS = NaN;
        const o0 = performance.now();
        reader = new TraceReader(this.path, this.core, opts.batch ? { batch: opts.batch } : {});
        st.readMs += performance.now() - o0; // opening the file: part of reading
        if (loop === 0) {
          st.format = reader.format;
          st.linktypes = reader.linktypes;
        }
        for (;;) {
          const r0 = performance.now();
          pump.copies.flush(); // the next read overwrites the frames they come from
          const n = reader.next();
          if (n > 0) {
            this.decode(n);
            this.owner?.mark(n); // uses the scratch area: after copies.flush()
          }
          st.readMs += performance.now() - r0;
          if (n === 0 || this.maxBatches-- <= 0) break;
          if (opts.out && !tx.sink) tx.sink = new OutputSink(opts.out, !!opts.outMerged, 1);
          // The batch's capture times: first and last record (the span, the report's times).
          if (Number.isNaN(firstS)) firstS = this.tsAt(0);
          if (paced && opts.origin && Number.isNaN(this.pacer!.trace0)) {
            // serve --workers: the schedule all workers share starts at the capture's first record.
            this.pacer!.trace0 = firstS;
            this.pacer!.origin = opts.origin() - performance.timeOrigin;
          }
          lastS = this.tsAt(n - 1);
          if (Number.isNaN(clock.baseSec)) clock.baseSec = Math.floor(firstS + clock.shiftS);
          st.firstTs ??= firstS + clock.shiftS;
          st.lastTs = lastS + clock.shiftS;
          // The host's own time in the batch: the loop's, less the polls, TX drains,
          // waits and track batches it ran (each timed where it runs).
          const h0 = performance.now();
          const inner0 = st.procMs + st.outMs + st.waitMs + this.tracker.ms;
          for (let i = 0; i < n; i++) this.packet(i);
          if (this.closing) {
            pump.doneQ.push(this.closing);
            this.closing = null;
          }
          pump.drainDeferred(); // before the next read overwrites their frames
          if (pump.rxQueued || pump.feedDue) pump.settle();
          this.tracker.flush(loop);
          st.hostMs += performance.now() - h0 - (st.procMs + st.outMs + st.waitMs + this.tracker.ms - inner0);
          if (progress) progress.tick(this.packetsIn, loop, loops, reader.offset, reader.fileSize);
          opts.onProgress?.(this.packetsIn, loop, loops, reader.offset, reader.fileSize);
        }
        const c0 = performance.now();
        reader.close();
        reader = null;
        st.readMs += performance.now() - c0;
        this.settleTimed();
        if (loop === 0 && !Number.isNaN(firstS))
          clock.passShiftS = paced ? lastS - firstS : Math.floor(lastS) - Math.floor(firstS) + 1 + PASS_GAP_S;
      }
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      st.error ??= e.message;
    } finally {
      try {
        this.settleTimed();
        this.tracker.flush(clock.loop);
      } finally {
        const c0 = performance.now();
        reader?.close();
        st.readMs += performance.now() - c0;
        const o0 = performance.now();
        tx.sink?.close();
        st.outMs += performance.now() - o0; // the last --out records written
        progress?.done();
      }
    }
    st.wallMs = performance.now() - t0;
    st.trackMs = this.tracker.ms;
    const moduleReport = this.mh?.close();
    const rep = serveReport(
      {
        app: this.app,
        core: this.core,
        st,
        sv: this.sv,
        drops: this.drops,
        sizedFrom: {
          peak_held: this.pre.peakHeld,
          peak_in_flight_bytes: this.pre.peakInFlight,
          max_batch_bytes: this.pre.maxBatchBytes,
          max_ack_advance: this.pre.maxAckAdvance,
        },
        streamBytes: this.streamBytes,
        packetsIn: this.packetsIn,
        bytesIn: this.bytesIn,
        servedFlows: flows.servedFlows,
        why: flows.why,
        tracker: this.tracker,
        feed: pump.feed,
        fid: this.fid,
        pacer: this.pacer,
        outRecords: tx.sink ? tx.sink.records : null,
        stageSamples: opts.stages ? stageSamples(readStageSums(this.core)) : undefined,
      },
      opts,
    );
    if (moduleReport) rep.module = moduleReport;
    rep.accounting = serveAccounting(st, this.packetsIn, this.sv.polls, this.t0);
    return rep;
  }

  /** Capture time (s) of record i of the batch. */
  /** A settle outside the read batches: its JS (the copies into the core) counts as the host's, as inside them. */
  private settleTimed(): void {
    const st = this.st;
    const h0 = performance.now();
    const inner0 = st.procMs + st.outMs;
    this.pump.settle();
    st.hostMs += performance.now() - h0 - (st.procMs + st.outMs - inner0);
  }

  private tsAt(i: number): number {
    const d = this.descW + i * DESC_WORDS;
    return this.f64[(d + DESC_W_SEC) >>> 1] + this.u32[d + DESC_W_NSEC] / 1e9;
  }

  /** Record i of the read batch: where it goes (see the top of the file). */
  private packet(i: number): void {
    if (this.owner && !this.owner.mine(i)) return; // another worker's flow
    const { u8, u32, f64, drops, paced, clock, pump, flows } = this;
    const loop = clock.loop;
    const feed = pump.feed;
    const d = this.descW + i * DESC_WORDS;
    const w = this.sumW + i * SUM_WORDS;
    const sec = f64[(d + DESC_W_SEC) >>> 1] + clock.shiftS;
    const nsec = u32[d + DESC_W_NSEC];
    const t = (sec - clock.baseSec) * 1e9 + nsec;
    if (!paced && t - clock.polledNs > MAX_HOLD_NS && (pump.rxQueued || pump.feedDue || pump.nDef)) {
      pump.drainDeferred();
      pump.settle();
    }
    this.packetsIn++;
    // The live flows move as in the pre-scan (capture time and ports, whatever the pass).
    if (this.closing) {
      pump.doneQ.push(this.closing);
      this.closing = null;
    }
    const live = this.live;
    const liveF = flows.liveF;
    const ls = liveStep(live, u32, w, f64[(d + DESC_W_SEC) >>> 1] + nsec / 1e9, flows.nextOrd);
    if (ls !== -1 && live.closed(ls >= 0 ? ls : -2 - ls)) {
      const cf = liveF[ls >= 0 ? ls : -2 - ls];
      if (cf && !cf.done && cf.id >= 0) this.closing = cf; // after this packet (its FIN or RST) is fed
    }
    const fl = u32[w + SUM_W_FLAGS] & 0xffff;
    if (fl & SUM_F_NOT_PACKET) {
      drops.not_packet++;
      return;
    }
    this.bytesIn += u32[d + DESC_W_LEN];
    const sink = this.tx.sink;
    if (fl & SUM_F_UNKNOWN_LINK) {
      if (sink) this.input(d, sec, nsec);
      drops.unknown_link++;
      return;
    }
    if (!(fl & SUM_F_IP)) {
      if (sink) this.input(d, sec, nsec);
      if (fl & SUM_F_TRUNC) drops.ip_truncated++;
      else drops.non_ip++;
      return;
    }
    const v6 = ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6;
    const proto = fl & SUM_F_TCP ? 6 : fl & SUM_F_UDP ? 17 : 0;
    let client = false;
    let f: ServeFlow | undefined;
    if (ls !== -1) {
      const slot = ls >= 0 ? ls : -2 - ls;
      client = ls >= 0;
      f =
        live.ordOf(slot) === flows.nextOrd ? flows.newFlow(slot, flows.nextOrd++, w, v6, proto) : liveF[slot];
    }
    if (!f || f.id < 0 || (!client && (!f.started || !feed))) {
      if (f && f.id >= 0 && f.started) {
        // Server packet of a flow a real app answers: only counted.
        if (loop && proto) rewritePorts(u8, u32, w, d, false, loop);
        if (sink) this.input(d, sec, nsec);
        this.sv.reference++;
        return;
      }
      if (sink) this.input(d, sec, nsec);
      this.tracker.put(d, loop);
      return;
    }
    if (loop) rewritePorts(u8, u32, w, d, client, loop);
    if (client) {
      if (sink) this.input(d, sec, nsec);
      const sched = paced ? this.pace(d, sec + nsec / 1e9) : 0;
      if (!f.started) flows.start(f, proto, t);
      const obs = this.tx.obs;
      if (obs !== null) obs.client(f, t, paced ? clock.wallNs() : Math.max(clock.nowNs, t), u8, u32, w, d);
      if (proto === 17) {
        f.udpReq++;
      } else if (feed && (f.deferred || acksUnsent(u32, w, f))) {
        // Held back until the core has sent what it acknowledges (pump.drainDeferred).
        pump.hold(i, sched, f);
        if (!paced) clock.nowNs = Math.max(clock.nowNs, t);
        return;
      } else if (acksUnsent(u32, w, f)) {
        // It acknowledges bytes the core has not sent yet: let the core catch up first.
        if (!paced) clock.nowNs = Math.max(clock.nowNs, t);
        pump.settle();
        // A real app answers inside the core (bounded: one that never answers does not stall us).
        for (let k = 0; k < 8 && !feed && acksUnsent(u32, w, f); k++) pump.doPoll();
      }
      if (!paced) clock.nowNs = Math.max(clock.nowNs, t);
      pump.toCore(d, w, v6, sched);
      return;
    }
    // Server → client: the reference.
    this.sv.reference++;
    if (!paced) clock.nowNs = Math.max(clock.nowNs, t);
    const fid = this.fid!;
    const frame = u32[d + DESC_W_OFF];
    const l4 = frame + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
    // Payload length from the headers; the captured part may be shorter (snap length).
    const plen = u32[w + SUM_W_FLAGS] & SUM_F_PAYLOAD ? u32[w + SUM_W_PAYLOAD] : 0;
    if (proto === 17) {
      const pay = l4 + 8;
      const have = Math.max(0, Math.min(plen, frame + u32[d + DESC_W_CAPLEN] - pay));
      fid.refDatagram(f.slot, "", plen, u8, pay, have);
      if (!f.done) pump.feedPut(FR_DGRAM, f.id, 0, f.udpReq, u8, pay, plen, have);
      return;
    }
    const tflags = u32[w + SUM_W_TCPFLAGS] & 0xfff;
    const seq = u32[w + SUM_W_SEQ] | 0; // int32, as in tx.ts scoreTx
    const pay = l4 + (u8[l4 + 12] >>> 4) * 4;
    const have = Math.max(0, Math.min(plen, frame + u32[d + DESC_W_CAPLEN] - pay));
    fid.ref(f.slot, "", f.serverIsn, seq, plen, tflags, u8, pay, have, f.segMss);
    const obs = this.tx.obs;
    if (obs !== null) obs.ref(f, t, seq, plen, tflags);
    const req = tflags & TCP_ACK ? (u32[w + SUM_W_ACK] - f.clientIsn - 1) >>> 0 : 0;
    if (tflags & TCP_SYN || f.done) return; // the core answers the SYN itself
    if (plen) pump.feedPut(FR_DATA, f.id, (seq - f.serverIsn - 1) >>> 0, req, u8, pay, plen, have);
    if (tflags & TCP_FIN) pump.feedPut(FR_FIN, f.id, plen ? 1 : 0, req, null, 0, 0);
    else if (tflags & TCP_RST) pump.feedPut(FR_RST, f.id, 0, req, null, 0, 0);
  }
}
