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
// strings or objects. The run's state and steps are a class, ServeRun (why not
// closures: see there).
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
import { ModuleHost } from "../../apps/module-host.ts";
import { cpus } from "node:os";
import { EV_TIMER } from "../../core/abi.gen.ts";
import { FlowOwner, ownerConfig } from "./flow-owner.ts";
import { serveCapacity, serveCoreConfig, serveMaxConns } from "./sizing.ts";
import { createCore, SCRATCH_BASE, type Core } from "../../core/core.ts";
import { CFG_F_TX_CSUM_OFFLOAD } from "../../core/core.ts";
import { TraceError } from "../../io/errors.ts";
import { DESC_BYTES, TraceReader } from "../../io/reader.ts";
import { readCounters } from "../../report/counters.ts";
import { buildReport, type ReplayReport } from "../../report/replay.ts";
import { stageTiming } from "../../report/stages.ts";
import { Nic } from "../../runtime/nic.ts";
import { FidelityMeter, payloadHash } from "../../report/fidelity.ts";
import { CopyList } from "./copy-list.ts";
import { LiveFlows } from "./live-flows.ts";
import type { ServeObserver } from "../../report/timeseq.ts";
import {
  MirrorFeed,
  FR_DONE,
  FR_DATA,
  FR_DGRAM,
  FR_FIN,
  FR_FLOW,
  FR_RST,
  type MirrorStatus,
} from "./mirror-feed.ts";
import {
  REC_CLIENT_ISN,
  REC_MSS,
  REC_OPTS,
  REC_SERVER_ISN,
  REC_TSVAL,
  REC_WORDS,
  RF_SACK,
  RF_SYNACK,
  RF_TS,
  RF_UDP,
  flowName,
  liveStep,
  recWhy,
  SUM_F_PAYLOAD,
  SUM_F_IP,
  SUM_F_NOT_PACKET,
  SUM_F_TCP,
  SUM_F_TRUNC,
  SUM_F_UDP,
  SUM_F_UNKNOWN_LINK,
  TCP_ACK,
  TCP_SYN,
  TCP_FIN,
  TCP_RST,
  type FlowInfo,
  type Prescan,
} from "./prescan.ts";
import { replayCoreConfig, type ReplayOptions } from "../options.ts";
import { OutputSink } from "../output.ts";
import { PacingSamples, scheduleMs, sleepUntil } from "../pacing.ts";
import { Progress } from "../progress.ts";
import { bucket, newRunStats } from "../run-stats.ts";
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
  SUM_S_IPVER,
  SUM_S_L4OFF,
  SUM_WORDS,
  SUM_W_ACK,
  SUM_W_DST,
  SUM_W_FLAGS,
  SUM_W_IPVER,
  SUM_W_L3OFF,
  SUM_W_L4OFF,
  SUM_W_PAYLOAD,
  SUM_W_SEQ,
  SUM_W_SPORT,
  SUM_W_SRC,
  SUM_W_TCPFLAGS,
} = ABI;

const KICK_COOKIE = 0xffffffff;
/** dst 02:00:00:00:00:02 (the server), src 02:00:00:00:00:01 (the client): locally administered. */
const FAKE_MACS = new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
const SERVE_DROPS = ["not_packet", "unknown_link", "non_ip", "ip_truncated"] as const;
const TRACK_DROPS = ["flow_table_full", "tcp_malformed", "tcp_bad_flags", "tcp_rst_invalid"] as const;
/** Added per --loop pass: more than the serving core's TIME-WAIT (2 × mslMs). */
const PASS_GAP_S = 3;
/** Paced: poll before a wait of at least this long (ms), or once a packet has waited this long. */
const PACE_POLL_MS = 0.05;
const PACE_HOLD_MS = 0.5;
/** Top speed: queued work is polled once the capture's clock is this far past the last poll (ns). */
const MAX_HOLD_NS = 1e6;

export interface ServeStats {
  delivered: number;
  reference: number;
  /** Packets the track core processed (flows not served). */
  tracked: number;
  presets_failed: number;
  polls: number;
  flows_unserved_why: Record<string, number>;
  mirror: MirrorStatus | null;
  /** Flows open at once at most (pre-scan: SYN to close), and live (closed within their 2 s hold counted). */
  peak_concurrent: number;
  peak_held: number;
  /** Connections the core was sized for (TCBs; mirror flow slots alike). */
  capacity: number;
  /** The serving core's memory, and that divided by peak_concurrent (issue 10). */
  core_bytes: number;
  bytes_per_connection: number;
  /** Bytes the pre-scan kept (its records and live table). */
  prescan_bytes: number;
  /** The serving core's non-zero counters (drops by reason, TCP events). */
  counters?: Record<string, number>;
}

/**
 * A live flow's serve state. A class with every field set in the constructor:
 * one object shape for all flows, and sentEnd a number from the start (NaN
 * until the core sends), so the per-packet code that reads them stays
 * monomorphic.
 */
class ServeFlow implements FlowInfo {
  /** FR_DONE sent: its mirror slot may carry another flow now. */
  done = false;
  /** This pass has announced the flow (TCP: its SYN went in; UDP: its first datagram). */
  started = false;
  /** Sequence number just past the last byte (or SYN/FIN) the core has sent on this flow; NaN: nothing yet. */
  sentEnd = NaN;
  /** UDP: client datagrams delivered in this pass. */
  udpReq = 0;
  /** Client packets of this flow held back (mirror: see drainDeferred). */
  deferred = 0;
  /** The drain round in which this flow's first held packet still waited. */
  blocked = -1;
  constructor(
    /** The flow's ordinal (its pre-scan record), its live slot (its fidelity id). */
    readonly ord: number,
    readonly slot: number,
    readonly id: number,
    readonly proto: number,
    readonly why: string | null,
    readonly key: Uint8Array,
    readonly clientIsn: number,
    readonly serverIsn: number,
    readonly mss: number,
    readonly wscale: number,
    readonly sackOk: boolean,
    readonly tsOk: boolean,
    readonly tsVal: number,
    readonly synAckSeen: boolean,
    readonly segMss: number,
  ) {}
}

/**
 * The fidelity meter's payload hash for a serving core: its serveHash
 * (assembly/replay/serve.ts; 4-7x the JS hash, call included), in place, as both
 * sides of a comparison are in its memory (the capture's frames in staging, the
 * transmitted ones in TX mbufs). A core built before serveHash: the JS hash.
 */
export function fidelityHash(core: Core): (mem: Uint8Array, off: number, len: number) => number {
  const at = core.exports.serveHash as ((p: number, len: number) => number) | undefined;
  if (!at) return payloadHash;
  const u8 = core.u8;
  const buf = u8.buffer;
  return (mem, off, len) => {
    // Identity first: .buffer is a getter call (~15 ns) V8 does not inline.
    if (mem !== u8 && mem.buffer !== buf) throw new Error("fidelityHash: not the core's memory");
    return at(mem.byteOffset + off, len) >>> 0; // a u32, which wasm returns signed
  };
}

/** Pass k's client port: port + k (mod 2^16, 0 skipped), as raw and track rewrite it. */
function passPort(port: number, k: number): number {
  return k === 0 || port === 0 ? port : ((port - 1 + k) % 65535) + 1;
}
/** The inverse: the capture's client port of a port seen in pass k. */
function capturePort(port: number, k: number): number {
  return k === 0 || port === 0 ? port : ((((port - 1 - k) % 65535) + 65535) % 65535) + 1;
}

/** Rewrites the 16-bit field at p to v and fixes the checksum at c incrementally (RFC 1624 eqn. 3); c < 0: none. */
function rewrite16(m: Uint8Array, p: number, v: number, c: number): void {
  const old = (m[p] << 8) | m[p + 1];
  m[p] = v >>> 8;
  m[p + 1] = v & 0xff;
  if (c < 0) return;
  const hc = (m[c] << 8) | m[c + 1];
  let s = (~hc & 0xffff) + (~old & 0xffff) + v;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  m[c] = (~s >>> 8) & 0xff;
  m[c + 1] = ~s & 0xff;
}

/**
 * Flows that are not served, through a track-mode core: their frames and
 * descriptors are copied into its staging area and processed in one call per
 * serve batch (replayTrackBatch), created at the first such packet.
 */
class Tracker {
  core: Core | null = null;
  private n = 0;
  private used = 0;
  private buf: Buffer | null = null;
  private batch: ((first: number, count: number, loop: number) => number) | null = null;
  private readonly srcBuf: Buffer;
  constructor(
    private readonly flows: number,
    private readonly src: Core,
  ) {
    this.srcBuf = Buffer.from(src.memory.buffer);
  }

  put(d: number, loop: number): void {
    const s32 = this.src.u32;
    const caplen = s32[d + DESC_W_CAPLEN];
    if (!this.core) {
      this.core = createCore(replayCoreConfig("track", 1, this.flows));
      this.buf = Buffer.from(this.core.memory.buffer);
      this.batch = this.core.exports.replayTrackBatch as (
        first: number,
        count: number,
        loop: number,
      ) => number;
    }
    const c = this.core;
    const st = c.regions.staging;
    if (this.n === c.regions.desc.bytes / DESC_BYTES || this.used + caplen > st.bytes) this.flush(loop);
    const at = st.offset + this.used;
    this.srcBuf.copy(this.buf!, at, s32[d + DESC_W_OFF], s32[d + DESC_W_OFF] + caplen);
    const t = (c.regions.desc.offset >>> 2) + this.n * DESC_WORDS;
    const u = c.u32;
    // The whole descriptor, then its frame's new place in this core's staging.
    for (let j = 0; j < DESC_WORDS; j++) u[t + j] = s32[d + j];
    u[t + DESC_W_OFF] = at;
    this.used += (caplen + 7) & ~7;
    this.n++;
  }

  flush(loop: number): void {
    if (this.n) this.batch!(0, this.n, loop);
    this.n = 0;
    this.used = 0;
  }
}

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
  if ((opts.speed ?? { kind: "top" }).kind !== "top" && maxBatches === Infinity)
    runServe(path, pre, { mode: "serve", app: opts.app, batch: 512, flows: 4096 }, 4);
  return new ServeRun(path, pre, opts, maxBatches).run();
}

/**
 * One serve run (all its --loop passes) on one serving core. The run's state
 * is fields and its steps methods, not closures in runServe: V8 then compiles
 * each step on its own, once per process (the methods are the same functions
 * in every run), where one large function of closures took 0.2-0.9 s of
 * background compilation per run and was thrown away at the next run's new
 * closures: the first runs of a process went at a third of the speed.
 */
class ServeRun {
  private readonly app: string;
  private readonly mirror: boolean;
  private readonly speed: NonNullable<ReplayOptions["speed"]>;
  private readonly paced: boolean;
  private readonly loops: number;
  /** Why flows are not served: count by reason. */
  private readonly why: Record<string, number> = {};
  private readonly capacity: number;
  private readonly core: Core;
  private readonly poll: (nowNs: number) => number;
  /** With --app-module: the module's worker, watchdog and faults. */
  private readonly mh: ModuleHost | null;
  private readonly decode: (n: number) => number;
  private readonly preset: (...a: number[]) => number;
  private readonly kick: (...a: number[]) => number;
  private readonly nic: Nic;
  private readonly copies: CopyList;
  private readonly feed: MirrorFeed | null;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly descW: number;
  private readonly sumW: number;
  private readonly keyBuf = new Uint8Array(40);
  // Mirror flow slots: free, and released by the host (FR_DONE sent) until the app frees them.
  private readonly freeIds: Int32Array;
  private nFree = 0;
  private pendingIds: number[] = [];
  private readonly fid: FidelityMeter | null;
  private readonly tracker: Tracker;
  private readonly rec: Uint32Array;
  /** The live flows (as the pre-scan saw them) and their serve state, by live slot. */
  private readonly liveF: (ServeFlow | undefined)[] = [];
  private nextOrd = 0;
  private servedFlows = 0;
  private readonly live: LiveFlows;
  private closing: ServeFlow | null = null; // closed by the packet in hand: to doneQ once it is handled
  /**
   * Flows closed in the capture whose client packets are all handled: FR_DONE
   * goes once those packets are in the core (after the RX poll of a settle()), so
   * the app never frees a slot whose connection has yet to open or finish.
   */
  private doneQ: ServeFlow[] = [];
  private readonly st: ReturnType<typeof newRunStats>;
  private readonly sv: ServeStats;
  private readonly drops: Record<string, number> = Object.fromEntries(SERVE_DROPS.map((r) => [r, 0]));
  private packetsIn = 0;
  private readonly owner: FlowOwner | null;
  private bytesIn = 0;
  private sink: OutputSink | null = null;
  private baseSec = NaN;
  // Fields that take fractional or large values start as -0, a double (0 would
  // make them small-integer fields, and their first double would change the
  // object's shape and throw away every optimized method that reads them).
  private nowNs = -0; // ns since baseSec: capture time (top) or wall time (paced)
  private clockOffNs = -0; // paced: PASS_GAP_S per pass, for the core only
  private rxQueued = 0;
  private feedDue = false;
  private polledNs = -0; // nowNs at the last poll
  private loop = 0;
  /** This pass's timestamp shift (top: loop × passShiftS). */
  private shiftS = -0;
  // Pacing (as replay()'s paced path): schedule origin, lateness and gap errors, latency.
  private readonly lateness: PacingSamples | null;
  private readonly gapErr: PacingSamples | null;
  private readonly latency: PacingSamples | null;
  private readonly schedQ = new Float64Array(8192);
  private readonly wallEpochS = performance.timeOrigin / 1000; // one clock in every thread (serve --workers)
  private origin = 0;
  private trace0 = NaN;
  private pktIndex = 0;
  private bitsSoFar = 0;
  private prevSched = NaN;
  private prevActual = NaN;
  private passShiftS = -0; // top: timestamps of pass k move by k × this; paced: the schedule's
  private readonly words = new Uint32Array(8); // a transmitted frame's addresses, as summary words
  // Held-back client packets (indices in the read batch) and their flows, in capture order.
  private readonly defI = new Int32Array(8192);
  private readonly defS = new Float64Array(8192); // paced: their schedule (latency)
  private readonly defF: ServeFlow[] = [];
  private nDef = 0;
  private round = 0;
  /** The HTML report's flow detail (host/report/timeseq.ts), in the first pass; null otherwise. */
  private obs: ServeObserver | null = null;

  constructor(
    private readonly path: string,
    private readonly pre: Prescan,
    private readonly opts: ReplayOptions,
    /** Stop after this many read batches (the paced warm-up). */
    private maxBatches: number,
  ) {
    const app = opts.module ? "external" : (opts.app ?? "mirror");
    this.app = app;
    this.mirror = app === "mirror";
    this.speed = opts.speed ?? { kind: "top" };
    this.paced = this.speed.kind !== "top";
    this.loops = opts.loop ?? 1;
    this.capacity = serveCapacity(pre, this.loops);
    // serve --workers: this worker's flows only (host/replay/serve/flow-owner.ts); the core hashes as worker i of N.
    const owner = opts.owner;
    const base = serveCoreConfig(this.capacity, app, pre.maxAckAdvance);
    // Without --out no one reads the sent frames' checksums: the core leaves them out (as a NIC's offload).
    const config = {
      ...base,
      flags: base.flags | (opts.out ? 0 : CFG_F_TX_CSUM_OFFLOAD),
      ...(opts.module ? { appPort: opts.module.mod.port, appExtFlags: opts.module.mod.flags } : {}),
    };
    const core = createCore({ ...config, ...(owner ? ownerConfig(owner, config.flags) : {}) });
    this.owner = owner ? new FlowOwner(core, owner) : null;
    this.core = core;
    if (opts.stages) stageTiming(core, true); // stage cost: poll()'s sections (host/report/stages.ts)
    this.mh = opts.module ? new ModuleHost(core, opts.module.mod, opts.module) : null;
    this.mh?.start();
    const ex = core.exports;
    this.poll = ex.poll;
    this.decode = ex.decodeBatch;
    this.preset = ex.tcpPreset;
    this.kick = ex.appTestEvent;
    if (!this.mirror) ex.tcpListen(0);
    else ex.udpListen(0); // the mirror answers UDP on every port
    this.nic = new Nic(core);
    this.copies = new CopyList(core);
    this.feed = this.mirror ? new MirrorFeed(core, this.copies) : null;
    this.u8 = core.u8;
    this.u32 = core.u32;
    this.f64 = core.f64;
    this.descW = core.regions.desc.offset >>> 2;
    this.sumW = core.regions.decode.offset >>> 2;
    this.freeIds = new Int32Array(this.capacity);
    for (let id = this.capacity - 1; id >= 0; id--) this.freeIds[this.nFree++] = id;
    this.fid = this.mirror
      ? new FidelityMeter(
          10,
          (slot) => {
            const f = this.liveF[slot];
            return f ? flowName(f.key) : `flow ${slot}`;
          },
          fidelityHash(core),
        )
      : null;
    if (this.fid && opts.serveObserver) this.fid.listener = opts.serveObserver.listener;
    this.tracker = new Tracker(opts.flows ?? 1 << 18, core);
    this.rec = pre.rec;
    this.live = new LiveFlows(
      path,
      serveMaxConns(),
      (slot) => this.release(slot),
      Math.max(1024, pre.peakLive),
    ); // sized for the pre-scan's peak: no rehash on the way
    this.st = newRunStats(path, "serve", opts.workers ?? 1, this.speed, this.loops, pre.error, opts.out);
    this.sv = {
      delivered: 0,
      reference: 0,
      tracked: 0,
      presets_failed: 0,
      polls: 0,
      flows_unserved_why: this.why,
      mirror: null,
      peak_concurrent: pre.peakOpen,
      peak_held: pre.peakHeld,
      capacity: this.capacity,
      core_bytes: 0,
      bytes_per_connection: 0,
      prescan_bytes: pre.bytes,
    };
    this.lateness = this.paced ? new PacingSamples() : null;
    this.gapErr = this.paced ? new PacingSamples() : null;
    this.latency = this.paced ? new PacingSamples() : null;
    if (this.paced) this.baseSec = Math.floor(this.wallEpochS + performance.now() / 1000);
  }

  /** The live table releases a slot: its client packets go in first, then FR_DONE, and its fidelity is settled. */
  private release(slot: number): void {
    const f = this.liveF[slot];
    if (!f) return;
    if (f.id >= 0 && !f.done && (this.nDef || this.rxQueued)) {
      // Its client packets go into the core before the app hears FR_DONE.
      this.drainDeferred();
      this.settle();
    }
    this.done(f);
    this.fid?.finishFlow(slot);
    this.liveF[slot] = undefined;
  }

  /** tcpPreset's key (pass k's client port) through the mirror's scratch, or the host-owned scratch. */
  private passKey(f: FlowInfo, k: number): Uint8Array {
    const keyBuf = this.keyBuf;
    keyBuf.set(f.key);
    const sp = passPort(f.key[4] | (f.key[5] << 8), k);
    keyBuf[4] = sp & 0xff;
    keyBuf[5] = sp >>> 8;
    return keyBuf;
  }

  private keyScratch(key: Uint8Array): number {
    if (this.feed) return this.feed.keyScratch(key);
    this.u8.set(key, SCRATCH_BASE);
    return SCRATCH_BASE;
  }

  /** The capture has nothing more for the flow's mirror slot: FR_DONE (the app frees it once the connection is gone). */
  private done(f: ServeFlow): void {
    if (f.done || f.id < 0) return;
    f.done = true;
    if (!this.feed) return;
    this.feedPut(FR_DONE, f.id, 0, 0, null, 0, 0);
    this.pendingIds.push(f.id);
  }

  private flushDone(n: number): void {
    const take = this.doneQ.slice(0, n);
    this.doneQ = this.doneQ.slice(n);
    for (const f of take)
      if (f.deferred) this.doneQ.push(f);
      else this.done(f);
  }

  /** A mirror slot for a new flow: a free one, or one the app has freed since (-1: none). */
  private allocId(): number {
    if (this.nFree) return this.freeIds[--this.nFree];
    for (let tries = 0; tries < 2 && !this.nFree && this.pendingIds.length; tries++) {
      if (tries) this.settle(); // the app frees slots when it reads their FR_DONE
      const keep: number[] = [];
      for (const id of this.pendingIds)
        if (this.feed!.slotFree(id)) this.freeIds[this.nFree++] = id;
        else keep.push(id);
      this.pendingIds = keep;
    }
    return this.nFree ? this.freeIds[--this.nFree] : -1;
  }

  /** The flow a client packet (summary w) opens: the pre-scan's record `ord`, a mirror slot if served. */
  private newFlow(slot: number, ord: number, w: number, v6: boolean, proto: number): ServeFlow {
    const { rec, u8, u32 } = this;
    const r = ord * REC_WORDS;
    const known = ord < this.pre.flows;
    const o = known ? rec[r + REC_OPTS] : 0;
    let fwhy = known ? recWhy(rec, ord) : "not in the pre-scan";
    if (!this.mirror) {
      if (fwhy === "no SYN-ACK") fwhy = null;
      if (proto === 17) fwhy = "UDP (answered by --app mirror only)";
    }
    const key = new Uint8Array(40);
    key[0] = v6 ? 6 : 4;
    key[1] = proto;
    const ports = u32[w + SUM_W_SPORT];
    key[4] = ports & 0xff;
    key[5] = (ports >>> 8) & 0xff;
    key[6] = (ports >>> 16) & 0xff;
    key[7] = ports >>> 24;
    const sb = (w + SUM_W_SRC) << 2;
    const db = (w + SUM_W_DST) << 2;
    key.set(u8.subarray(sb, sb + (v6 ? 16 : 4)), 8);
    key.set(u8.subarray(db, db + (v6 ? 16 : 4)), 24);
    let id = -1;
    if (fwhy === null) {
      id = this.mirror ? this.allocId() : 0;
      if (id < 0) fwhy = `more than ${this.capacity} flows served at once`;
    }
    if (fwhy !== null && (this.loop === 0 || id < 0)) this.why[fwhy] = (this.why[fwhy] ?? 0) + 1;
    if (id >= 0) this.servedFlows++;
    const f = new ServeFlow(
      ord,
      slot,
      id,
      proto,
      fwhy,
      key,
      rec[r + REC_CLIENT_ISN] | 0, // ISNs as int32 (all their uses are mod 2^32): see scoreTx
      rec[r + REC_SERVER_ISN] | 0,
      rec[r + REC_MSS] & 0xffff,
      o & 0xff,
      ((o >>> 8) & RF_SACK) !== 0,
      ((o >>> 8) & RF_TS) !== 0,
      rec[r + REC_TSVAL],
      ((o >>> 8) & RF_SYNACK) !== 0 && !((o >>> 8) & RF_UDP),
      rec[r + REC_MSS] >>> 16,
    );
    this.liveF[slot] = f;
    return f;
  }

  // Transmitted frames: scored against the capture (mirror) and written (--out).
  private readonly onTx = (mem: Uint8Array, off: number, len: number): void => {
    const st = this.st;
    st.packetsOut++;
    st.bytesOut += len;
    if (this.sink) {
      const sec = this.baseSec + Math.floor(this.nowNs / 1e9);
      this.sink.output(mem, off, len, len, 1, sec, Math.floor(this.nowNs % 1e9));
    }
    this.scoreTx(mem, off, len); // fidelity (mirror) and each flow's sentEnd (every app)
  };

  private scoreTx(m: Uint8Array, o: number, len: number): void {
    const words = this.words;
    let et = (m[o + 12] << 8) | m[o + 13];
    let l3 = o + 14;
    if (et === 0x8100) {
      et = (m[o + 16] << 8) | m[o + 17];
      l3 += 4;
    }
    let l4: number, end: number, proto: number, v6: boolean;
    if (et === 0x0800) {
      v6 = false;
      proto = m[l3 + 9];
      l4 = l3 + (m[l3] & 15) * 4;
      end = l3 + ((m[l3 + 2] << 8) | m[l3 + 3]);
      words[0] = rd32(m, l3 + 12);
      words[4] = rd32(m, l3 + 16);
    } else if (et === 0x86dd) {
      v6 = true;
      proto = m[l3 + 6];
      l4 = l3 + 40;
      end = l4 + ((m[l3 + 4] << 8) | m[l3 + 5]);
      for (let j = 0; j < 4; j++) {
        words[j] = rd32(m, l3 + 8 + 4 * j);
        words[4 + j] = rd32(m, l3 + 24 + 4 * j);
      }
    } else return;
    if (proto !== 6 && proto !== 17) return;
    end = Math.min(end, o + len);
    const sp = (m[l4] << 8) | m[l4 + 1];
    const dp = capturePort((m[l4 + 2] << 8) | m[l4 + 3], this.loop);
    const ls = this.live.lookup(proto, v6, sp | (dp << 16), words, 0, 4);
    if (ls >= -1) return; // frames the core sends go server → client
    const f = this.liveF[-2 - ls];
    if (!f || f.id < 0) return;
    const fid = this.fid;
    if (proto === 17) {
      if (fid) fid.outDatagram(f.slot, "", m, l4 + 8, Math.max(0, end - l4 - 8));
      return;
    }
    // Sequence numbers and port words as int32 where they are passed on: a uint32
    // above 2^31 is a heap number, allocated at each call that is not inlined
    // (the callees take offsets mod 2^32, and the flow index its words as int32).
    const seq = (m[l4 + 4] << 24) | (m[l4 + 5] << 16) | (m[l4 + 6] << 8) | m[l4 + 7];
    const pay = Math.min(l4 + (m[l4 + 12] >>> 4) * 4, end);
    const tf = m[l4 + 13];
    const segEnd = (seq + (end - pay) + (tf & 2 ? 1 : 0) + (tf & 1 ? 1 : 0)) >>> 0;
    if (Number.isNaN(f.sentEnd) || ((segEnd - f.sentEnd) | 0) > 0) f.sentEnd = segEnd;
    if (fid) fid.out(f.slot, "", f.serverIsn, seq, tf, m, pay, end - pay);
    if (this.obs !== null) this.obs.out(f, this.nowNs, seq, end - pay, tf);
  }

  private wallNs(): number {
    return (this.wallEpochS - this.baseSec) * 1e9 + performance.now() * 1e6;
  }

  /**
   * One poll, and with an app module, the polls that take its answers: while it holds
   * a batch the core waits for it (bounded by its watchdog), so the capture's next
   * packets meet the module's answers as they would a built-in app's.
   */
  private doPoll(): number {
    let n = this.pollOnce();
    while (this.mh?.service()) {
      this.mh.waitAnswer(1);
      n += this.pollOnce();
    }
    return n;
  }

  private pollOnce(): number {
    const { st, opts } = this;
    if (this.paced) this.nowNs = this.wallNs();
    const p0 = performance.now();
    this.polledNs = this.nowNs;
    this.copies.flush(); // frames into their mbufs, payloads into the feed
    this.feed?.commit();
    const n = this.poll(this.nowNs + this.clockOffNs);
    const p1 = performance.now();
    st.procMs += p1 - p0;
    this.sv.polls++;
    opts.onBatch?.(this.core, n, p1 - p0, p1); // stage cost: service times, timeline (host/report/cost.ts)
    bucket(st.batches, Math.max(1, n));
    this.nic.txDrain(this.onTx);
    st.outMs += performance.now() - p1;
    return n;
  }

  /** Polls until the RX frames are in and the mirror has nothing ready (bounded). */
  private settle(): void {
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
      if (feed.cmds() === 0) this.kick(EV_TIMER, 0, KICK_COOKIE, 0, 0, 0, 0); // makes the app run
      this.doPoll();
      if (undrained && feed.work() === 0 && feed.tail() === tail) break;
    }
  }

  private feedPut(
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
    if (!this.feed!.put(kind, flow, off, req, src, so, len, have))
      throw new TraceError(
        this.path,
        0,
        this.packetsIn,
        "serve: the mirror app's feed is full (out of stream memory)",
      );
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
  private toCore(d: number, w: number, v6: boolean, sched: number): boolean {
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

  private acksUnsent(w: number, f: ServeFlow): boolean {
    // NaN sentEnd (nothing sent, no preset) compares as 0: not waiting.
    return (this.u32[w + SUM_W_TCPFLAGS] & TCP_ACK) !== 0 && ((this.u32[w + SUM_W_ACK] - f.sentEnd) | 0) > 0;
  }

  /**
   * Polls, then lets in, in order, each held packet whose acknowledged bytes the
   * core has now sent (a flow's later packets wait behind its first blocked one);
   * again until none is left. A round in which nothing could go in lets them all
   * in: the core cannot send what they acknowledge (the capture lost it).
   */
  private drainDeferred(): void {
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
        if (f.blocked === round || this.acksUnsent(w, f)) {
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

  /** --out-merged: the capture's frames except the server segments the core replaced. */
  private input(d: number, sec: number, nsec: number): void {
    const u32 = this.u32;
    this.sink!.input(
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
    if (Number.isNaN(this.trace0)) {
      this.trace0 = ts;
      this.origin = performance.now();
    }
    const sched = this.origin + scheduleMs(this.speed, ts - this.trace0, this.pktIndex, this.bitsSoFar);
    this.bitsSoFar += this.u32[d + DESC_W_LEN] * 8;
    this.pktIndex++;
    const now = performance.now();
    if (sched > now) {
      // Poll while waiting, unless the next packet is due too soon for a poll to pay
      // (adaptive batching, as IX: a poll costs a few µs) and nothing has waited long.
      const oldest = this.nDef ? this.defS[0] : this.rxQueued ? this.schedQ[0] : Infinity;
      if (sched - now >= PACE_POLL_MS || now - oldest >= PACE_HOLD_MS) {
        this.drainDeferred();
        if (this.rxQueued || this.feedDue) this.settle();
      }
      const w0 = performance.now();
      sleepUntil(sched);
      this.st.waitMs += performance.now() - w0;
    }
    const actual = performance.now();
    this.lateness!.add((actual - sched) * 1000);
    if (!Number.isNaN(this.prevSched))
      this.gapErr!.add(Math.abs(actual - this.prevActual - (sched - this.prevSched)) * 1000);
    this.prevSched = sched;
    this.prevActual = actual;
    return sched;
  }

  /** Every pass, then the report. */
  run(): ReplayReport {
    const { st, opts, paced, loops } = this;
    const progress = opts.progress ? new Progress() : null;
    const t0 = performance.now();
    let reader: TraceReader | null = null;
    try {
      for (this.loop = 0; this.loop < loops; this.loop++) {
        const loop = this.loop;
        if (paced && loop) {
          this.clockOffNs = loop * PASS_GAP_S * 1e9;
          this.doPoll(); // the core's clock moves on now (timers, and presets expire from it)
        }
        // Each pass numbers the flows anew; the previous pass's flows are done.
        this.live.releaseAll();
        this.obs = loop === 0 ? (opts.serveObserver ?? null) : null;
        this.nextOrd = 0;
        this.shiftS = loop * this.passShiftS;
        let firstS = NaN;
        let lastS = NaN;
        reader = new TraceReader(this.path, this.core, opts.batch ? { batch: opts.batch } : {});
        if (loop === 0) {
          st.format = reader.format;
          st.linktypes = reader.linktypes;
        }
        for (;;) {
          this.copies.flush(); // the next read overwrites the frames they come from
          const r0 = performance.now();
          const n = reader.next();
          if (n > 0) {
            this.decode(n);
            this.owner?.mark(n); // uses the scratch area: after copies.flush()
          }
          st.readMs += performance.now() - r0;
          if (n === 0 || this.maxBatches-- <= 0) break;
          if (opts.out && !this.sink) this.sink = new OutputSink(opts.out, !!opts.outMerged, 1);
          // The batch's capture times: first and last record (the span, the report's times).
          if (Number.isNaN(firstS)) firstS = this.tsAt(0);
          if (paced && opts.origin && Number.isNaN(this.trace0)) {
            // serve --workers: the schedule all workers share starts at the capture's first record.
            this.trace0 = firstS;
            this.origin = opts.origin() - performance.timeOrigin;
          }
          lastS = this.tsAt(n - 1);
          if (Number.isNaN(this.baseSec)) this.baseSec = Math.floor(firstS + this.shiftS);
          st.firstTs ??= firstS + this.shiftS;
          st.lastTs = lastS + this.shiftS;
          for (let i = 0; i < n; i++) this.packet(i);
          if (this.closing) {
            this.doneQ.push(this.closing);
            this.closing = null;
          }
          this.drainDeferred(); // before the next read overwrites their frames
          if (this.rxQueued || this.feedDue) this.settle();
          this.tracker.flush(loop);
          if (progress) progress.tick(this.packetsIn, loop, loops, reader.offset, reader.fileSize);
          opts.onProgress?.(this.packetsIn, loop, loops, reader.offset, reader.fileSize);
        }
        reader.close();
        reader = null;
        this.settle();
        if (loop === 0 && !Number.isNaN(firstS))
          this.passShiftS = paced ? lastS - firstS : Math.floor(lastS) - Math.floor(firstS) + 1 + PASS_GAP_S;
      }
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      st.error ??= e.message;
    } finally {
      try {
        this.settle();
        this.tracker.flush(this.loop);
      } finally {
        reader?.close();
        this.sink?.close();
        progress?.done();
      }
    }
    st.wallMs = performance.now() - t0;
    const r = this.report();
    if (this.mh) r.module = this.mh.close();
    return r;
  }

  /** Capture time (s) of record i of the batch. */
  private tsAt(i: number): number {
    const d = this.descW + i * DESC_WORDS;
    return this.f64[(d + DESC_W_SEC) >>> 1] + this.u32[d + DESC_W_NSEC] / 1e9;
  }

  /** Record i of the read batch: where it goes (see the top of the file). */
  private packet(i: number): void {
    if (this.owner && !this.owner.mine(i)) return; // another worker's flow
    const { u8, u32, f64, drops, paced, loop, feed } = this;
    const d = this.descW + i * DESC_WORDS;
    const w = this.sumW + i * SUM_WORDS;
    const sec = f64[(d + DESC_W_SEC) >>> 1] + this.shiftS;
    const nsec = u32[d + DESC_W_NSEC];
    const t = (sec - this.baseSec) * 1e9 + nsec;
    if (!paced && t - this.polledNs > MAX_HOLD_NS && (this.rxQueued || this.feedDue || this.nDef)) {
      this.drainDeferred();
      this.settle();
    }
    this.packetsIn++;
    // The live flows move as in the pre-scan (capture time and ports, whatever the pass).
    if (this.closing) {
      this.doneQ.push(this.closing);
      this.closing = null;
    }
    const live = this.live;
    const ls = liveStep(live, u32, w, f64[(d + DESC_W_SEC) >>> 1] + nsec / 1e9, this.nextOrd);
    if (ls !== -1 && live.closed(ls >= 0 ? ls : -2 - ls)) {
      const cf = this.liveF[ls >= 0 ? ls : -2 - ls];
      if (cf && !cf.done && cf.id >= 0) this.closing = cf; // after this packet (its FIN or RST) is fed
    }
    const fl = u32[w + SUM_W_FLAGS] & 0xffff;
    if (fl & SUM_F_NOT_PACKET) {
      drops.not_packet++;
      return;
    }
    this.bytesIn += u32[d + DESC_W_LEN];
    const sink = this.sink;
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
        live.ordOf(slot) === this.nextOrd
          ? this.newFlow(slot, this.nextOrd++, w, v6, proto)
          : this.liveF[slot];
    }
    if (!f || f.id < 0 || (!client && (!f.started || !feed))) {
      if (f && f.id >= 0 && f.started) {
        // Server packet of a flow a real app answers: only counted.
        if (loop && proto) this.rewritePorts(w, d, false);
        if (sink) this.input(d, sec, nsec);
        this.sv.reference++;
        return;
      }
      if (sink) this.input(d, sec, nsec);
      this.tracker.put(d, loop);
      return;
    }
    if (loop) this.rewritePorts(w, d, client);
    if (client) {
      if (sink) this.input(d, sec, nsec);
      const sched = paced ? this.pace(d, sec + nsec / 1e9) : 0;
      if (!f.started) this.start(f, proto, t);
      if (this.obs !== null)
        this.obs.client(f, t, paced ? this.wallNs() : Math.max(this.nowNs, t), u8, u32, w, d);
      if (proto === 17) {
        f.udpReq++;
      } else if (feed && (f.deferred || this.acksUnsent(w, f))) {
        // Held back until the core has sent what it acknowledges (drainDeferred).
        if (this.nDef === this.defI.length) this.drainDeferred();
        this.defI[this.nDef] = i;
        this.defS[this.nDef] = sched;
        this.defF[this.nDef++] = f;
        f.deferred++;
        if (!paced) this.nowNs = Math.max(this.nowNs, t);
        return;
      } else if (this.acksUnsent(w, f)) {
        // It acknowledges bytes the core has not sent yet: let the core catch up first.
        if (!paced) this.nowNs = Math.max(this.nowNs, t);
        this.settle();
        // A real app answers inside the core (bounded: one that never answers does not stall us).
        for (let k = 0; k < 8 && !feed && this.acksUnsent(w, f); k++) this.doPoll();
      }
      if (!paced) this.nowNs = Math.max(this.nowNs, t);
      this.toCore(d, w, v6, sched);
      return;
    }
    // Server → client: the reference.
    this.sv.reference++;
    if (!paced) this.nowNs = Math.max(this.nowNs, t);
    const frame = u32[d + DESC_W_OFF];
    const l4 = frame + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
    // Payload length from the headers; the captured part may be shorter (snap length).
    const plen = u32[w + SUM_W_FLAGS] & SUM_F_PAYLOAD ? u32[w + SUM_W_PAYLOAD] : 0;
    if (proto === 17) {
      const pay = l4 + 8;
      const have = Math.max(0, Math.min(plen, frame + u32[d + DESC_W_CAPLEN] - pay));
      this.fid!.refDatagram(f.slot, "", plen, u8, pay, have);
      if (!f.done) this.feedPut(FR_DGRAM, f.id, 0, f.udpReq, u8, pay, plen, have);
      return;
    }
    const tflags = u32[w + SUM_W_TCPFLAGS] & 0xfff;
    const seq = u32[w + SUM_W_SEQ] | 0; // int32, as in scoreTx
    const pay = l4 + (u8[l4 + 12] >>> 4) * 4;
    const have = Math.max(0, Math.min(plen, frame + u32[d + DESC_W_CAPLEN] - pay));
    this.fid!.ref(f.slot, "", f.serverIsn, seq, plen, tflags, u8, pay, have, f.segMss);
    if (this.obs !== null) this.obs.ref(f, t, seq, plen, tflags);
    const req = tflags & TCP_ACK ? (u32[w + SUM_W_ACK] - f.clientIsn - 1) >>> 0 : 0;
    if (tflags & TCP_SYN || f.done) return; // the core answers the SYN itself
    if (plen) this.feedPut(FR_DATA, f.id, (seq - f.serverIsn - 1) >>> 0, req, u8, pay, plen, have);
    if (tflags & TCP_FIN) this.feedPut(FR_FIN, f.id, plen ? 1 : 0, req, null, 0, 0);
    else if (tflags & TCP_RST) this.feedPut(FR_RST, f.id, 0, req, null, 0, 0);
  }

  /** A flow's first client packet in this pass (t: its capture time, ns since baseSec): announce and preset it. */
  private start(f: ServeFlow, proto: number, t: number): void {
    const paced = this.paced;
    f.started = true;
    const key = this.passKey(f, this.loop);
    if (this.feed) this.feedPut(FR_FLOW, f.id, 0, 0, key, 0, 40);
    // The captured server's ISN and options, for the mirror and for a real app alike:
    // with any other ISN the capture's client ACKs would not acknowledge our data
    // and the connection would be reset (RFC 9293 §3.10.7.3).
    if (proto === 6 && f.synAckSeen) {
      // A preset expires 2·MSL after the core's clock at the call: bring that
      // clock to this packet's time first (it may have stood still in a gap).
      if (!paced) this.nowNs = Math.max(this.nowNs, t);
      if ((paced ? this.wallNs() : this.nowNs) - this.polledNs > MAX_HOLD_NS) {
        this.settle();
        this.doPoll();
      }
      const rc = this.preset(this.keyScratch(key), f.serverIsn, f.mss, f.wscale, +f.sackOk, +f.tsOk, f.tsVal);
      if (rc !== 0) this.sv.presets_failed++;
      f.sentEnd = f.serverIsn; // nothing sent yet: the client's first ACK waits for our SYN-ACK
    }
  }

  /** The report of the finished run. */
  private report(): ReplayReport {
    const { st, sv, core, pre, opts, drops, packetsIn, bytesIn, tracker, feed, fid } = this;
    const paced = this.paced;
    if (paced) {
      const [l50, l99] = this.lateness!.quantiles([0.5, 0.99]) ?? [0, 0];
      const [g50, g99] = this.gapErr!.quantiles([0.5, 0.99]) ?? [0, 0];
      st.pacing = { lateness_p50: l50, lateness_p99: l99, gap_p50: g50, gap_p99: g99 };
      const q = this.latency!.quantiles([0.5, 0.99, 0.999]);
      st.latency = q ? { p50: q[0], p99: q[1], p999: q[2] } : null;
      opts.onSamples?.({
        lateness: this.lateness!.values(),
        gap: this.gapErr!.values(),
        latency: this.latency!.values(),
      });
    }
    if (feed) sv.mirror = feed.status();
    sv.counters = Object.fromEntries(Object.entries(readCounters(core)).filter(([, v]) => v !== 0));
    const tc = tracker.core ? readCounters(tracker.core) : null;
    sv.tracked = tc ? tc.rp_processed : 0;
    // The track core's own drops (it parses for itself: a tunnel the decoder looked through may stop it).
    if (tc)
      for (const r of [...SERVE_DROPS, ...TRACK_DROPS])
        if (tc[`rp_drop_${r}`]) drops[r] = (drops[r] ?? 0) + tc[`rp_drop_${r}`];
    const fidelity = fid ? fid.finish() : null;
    opts.onEnd?.(core); // stage cost: read the core's stage timers
    const base = buildReport(core, st, cpus());
    const sec = st.wallMs / 1000;
    const processed = sv.delivered + sv.reference + sv.tracked;
    const stages: Record<string, number> = {
      read: packetsIn ? Math.round((st.readMs * 1e8) / packetsIn) / 100 : 0,
      serve: packetsIn ? Math.round((st.procMs * 1e8) / packetsIn) / 100 : 0,
      output: packetsIn ? Math.round((st.outMs * 1e8) / packetsIn) / 100 : 0,
    };
    const served = this.servedFlows;
    sv.flows_unserved_why = this.why;
    sv.core_bytes = core.totalBytes;
    sv.bytes_per_connection = Math.round(core.totalBytes / Math.max(1, pre.peakOpen));
    const tracked = tc ? tc.rp_flows : 0;
    const pps = sec > 0 ? Math.round(packetsIn / sec) : 0;
    const mbps = sec > 0 ? Math.round(((bytesIn * 8) / sec / 1e6) * 100) / 100 : 0;
    return {
      ...base,
      app: this.app,
      packets_in: packetsIn,
      packets_out: st.packetsOut,
      bytes_in: bytesIn,
      bytes_out: st.bytesOut,
      packets_processed: processed,
      flows: { total: served + tracked, served, tracked, midstream: tc ? tc.rp_flows_midstream : 0 },
      pps,
      mbps,
      // buildReport's rates count the core's received frames: here every input packet counts.
      pacing: base.pacing && { ...base.pacing, achieved_pps: pps, achieved_mbps: mbps },
      drops: drops as ReplayReport["drops"],
      fidelity,
      stages,
      stages_cycles_est: null,
      worker_packets: [packetsIn],
      tcp: null,
      serve: sv,
      out: st.outFile ? { file: st.outFile, records: this.sink?.records ?? 0 } : null,
    };
  }

  /** Pass k > 0: the client port (source of a client packet, destination of a server one) → port + k. */
  private rewritePorts(w: number, d: number, fromClient: boolean): void {
    const { u8, u32 } = this;
    const l4 = u32[d + DESC_W_OFF] + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
    const p = fromClient ? l4 : l4 + 2;
    if (p + 2 > u32[d + DESC_W_OFF] + u32[d + DESC_W_CAPLEN]) return;
    const port = passPort((u8[p] << 8) | u8[p + 1], this.loop);
    const tcp = u32[w + SUM_W_FLAGS] & SUM_F_TCP;
    const c = tcp ? l4 + 16 : l4 + 6;
    const cOk = c + 2 <= u32[d + DESC_W_OFF] + u32[d + DESC_W_CAPLEN];
    if (!tcp && cOk && u8[c] === 0 && u8[c + 1] === 0) {
      // UDP without a checksum (IPv4 only): leave it without one.
      u8[p] = port >>> 8;
      u8[p + 1] = port & 0xff;
      return;
    }
    rewrite16(u8, p, port, cOk ? c : -1);
  }
}

/** A little-endian u32 of m at p (a transmitted frame's address words, as the decode summary holds them). */
function rd32(m: Uint8Array, p: number): number {
  return (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
}
