// Serve's flow state: the live flows' serve records (ServeFlow, by live slot),
// a new flow from its pre-scan record, its mirror slot, its announcement and
// preset (the captured server's ISN and options), and its end (FR_DONE, the
// fidelity settled) when the live table lets it go.
import { SCRATCH_BASE, type Core } from "../../core/core.ts";
import type { FidelityMeter } from "../../report/fidelity.ts";
import { MAX_HOLD_NS, type RunClock } from "./clock.ts";
import { FLOW_KEY_BYTES, FlowKeys, passPort, ServeFlow } from "./flow.ts";
import { FR_DONE, FR_FLOW, type MirrorFeed } from "./mirror-feed.ts";
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
  recWhy,
  type Prescan,
} from "./prescan.ts";
import type { ServePump } from "./pump.ts";
import type { MirrorSlots } from "./slots.ts";
import type { ServeStats } from "./stats.ts";
import * as ABI from "../../core/abi.gen.ts";

// Decode-summary word offsets as this module's own constants (V8 folds them; see serve.ts).
const { SUM_W_DST, SUM_W_SPORT, SUM_W_SRC } = ABI;

export class ServeFlows {
  /** The live flows (as the pre-scan saw them) and their serve state, by live slot. */
  readonly liveF: (ServeFlow | undefined)[];
  /** The ordinal the next flow to start takes (its pre-scan record). */
  nextOrd = 0;
  /** Flows given a mirror slot (or served by another app), every pass. */
  servedFlows = 0;
  /** Why flows are not served: count by reason. */
  readonly why: Record<string, number> = {};
  private readonly keyBuf = new Uint8Array(FLOW_KEY_BYTES);
  /** The live flows' keys by slot (no typed array per flow). */
  private readonly keys = new FlowKeys();
  private readonly rec: Uint32Array;
  private readonly preset: (...a: number[]) => number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly feed: MirrorFeed | null;

  constructor(
    core: Core,
    private readonly pre: Prescan,
    private readonly mirror: boolean,
    private readonly capacity: number,
    liveF: (ServeFlow | undefined)[],
    private readonly clock: RunClock,
    private readonly pump: ServePump,
    private readonly slots: MirrorSlots,
    private readonly fid: FidelityMeter | null,
    private readonly sv: ServeStats,
  ) {
    this.liveF = liveF;
    this.rec = pre.rec;
    this.preset = core.exports.tcpPreset;
    this.u8 = core.u8;
    this.u32 = core.u32;
    this.feed = pump.feed;
  }

  /** The live table releases a slot: its client packets go in first, then FR_DONE, and its fidelity is settled. */
  release(slot: number): void {
    const f = this.liveF[slot];
    if (!f) return;
    const pump = this.pump;
    if (f.id >= 0 && !f.done && (pump.nDef || pump.rxQueued)) {
      // Its client packets go into the core before the app hears FR_DONE.
      pump.drainDeferred();
      pump.settle();
    }
    this.done(f);
    this.fid?.finishFlow(slot);
    this.liveF[slot] = undefined;
  }

  /** The capture has nothing more for the flow's mirror slot: FR_DONE (the app frees it once the connection is gone). */
  done(f: ServeFlow): void {
    if (f.done || f.id < 0) return;
    f.done = true;
    if (!this.feed) return;
    this.pump.feedPut(FR_DONE, f.id, 0, 0, null, 0, 0);
    this.slots.released(f.id);
  }

  /** tcpPreset's key (pass k's client port) through the mirror's scratch, or the host-owned scratch. */
  private passKey(f: ServeFlow, k: number): Uint8Array {
    const keyBuf = this.keyBuf;
    const kb = this.keys.bytes;
    const o = f.slot * FLOW_KEY_BYTES;
    for (let j = 0; j < FLOW_KEY_BYTES; j++) keyBuf[j] = kb[o + j];
    const sp = passPort(keyBuf[4] | (keyBuf[5] << 8), k);
    keyBuf[4] = sp & 0xff;
    keyBuf[5] = sp >>> 8;
    return keyBuf;
  }

  private keyScratch(key: Uint8Array): number {
    if (this.feed) return this.feed.keyScratch(key);
    this.u8.set(key, SCRATCH_BASE);
    return SCRATCH_BASE;
  }

  /** The flow a client packet (summary w) opens: the pre-scan's record `ord`, a mirror slot if served. */
  newFlow(slot: number, ord: number, w: number, v6: boolean, proto: number): ServeFlow {
    const { rec, u8, u32 } = this;
    const r = ord * REC_WORDS;
    const known = ord < this.pre.flows;
    const o = known ? rec[r + REC_OPTS] : 0;
    let fwhy = known ? recWhy(rec, ord) : "not in the pre-scan";
    if (!this.mirror) {
      if (fwhy === "no SYN-ACK") fwhy = null;
      if (proto === 17) fwhy = "UDP (answered by --app mirror only)";
    }
    this.keys.put(slot, v6, proto, u32[w + SUM_W_SPORT], u8, (w + SUM_W_SRC) << 2, (w + SUM_W_DST) << 2);
    let id = -1;
    if (fwhy === null) {
      id = this.mirror ? this.slots.alloc() : 0;
      if (id < 0) fwhy = `more than ${this.capacity} flows served at once`;
    }
    if (fwhy !== null && (this.clock.loop === 0 || id < 0)) this.why[fwhy] = (this.why[fwhy] ?? 0) + 1;
    if (id >= 0) this.servedFlows++;
    const f = new ServeFlow(
      ord,
      slot,
      id,
      proto,
      fwhy,
      this.keys,
      rec[r + REC_CLIENT_ISN] | 0, // ISNs as int32 (all their uses are mod 2^32): see tx.ts scoreTx
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

  /** A flow's first client packet in this pass (t: its capture time, ns since baseSec): announce and preset it. */
  start(f: ServeFlow, proto: number, t: number): void {
    const clock = this.clock;
    const paced = clock.paced;
    const pump = this.pump;
    f.started = true;
    const key = this.passKey(f, clock.loop);
    if (this.feed) pump.feedPut(FR_FLOW, f.id, 0, 0, key, 0, 40);
    // The captured server's ISN and options, for the mirror and for a real app alike:
    // with any other ISN the capture's client ACKs would not acknowledge our data
    // and the connection would be reset (RFC 9293 §3.10.7.3).
    if (proto === 6 && f.synAckSeen) {
      // A preset expires 2·MSL after the core's clock at the call: bring that
      // clock to this packet's time first (it may have stood still in a gap).
      if (!paced) clock.nowNs = Math.max(clock.nowNs, t);
      if ((paced ? clock.wallNs() : clock.nowNs) - clock.polledNs > MAX_HOLD_NS) {
        pump.settle();
        pump.doPoll();
      }
      const rc = this.preset(this.keyScratch(key), f.serverIsn, f.mss, f.wscale, +f.sackOk, +f.tsOk, f.tsVal);
      if (rc !== 0) this.sv.presets_failed++;
      f.sentEnd = f.serverIsn; // nothing sent yet: the client's first ACK waits for our SYN-ACK
    }
  }
}
