// Serve mode's pre-scan: one streaming pass over the capture, before the replay,
// that learns per TCP flow whose handshake is in the capture which side is the
// server, the client's ISN, and the server's ISN and SYN options (RFC 9293
// §3.1 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK-permitted):
// the arguments of the core's tcpPreset. UDP: one flow per 4-tuple (fragments
// aside), its client the side that sent the first datagram; the mirror answers
// each client datagram with the server datagrams that followed it. Headers are decoded by the core
// (decodeBatch, the same decoder as `dump`); JS reads only the summaries and,
// once per SYN-ACK, its option bytes.
//
// Memory (issue 10): the flows live at once are kept in a table whose slots are
// reused once a flow has closed (host/replay/serve/live-flows.ts: 160-330 B per live flow),
// so the limit is the flows open at once (bounded by what one serving core can
// hold in its 4 GiB memory, serveMaxConns), not the flows in the capture. What
// the replay pass needs of every flow is one 20-byte record (below), in the order
// the flows start: 23 MB for the 1.17 M flows of a 1 M-concurrent churn capture.
// The server's payload is not kept here: the replay pass reads it again from the
// capture, in order, and feeds it to the mirror app as it goes
// (host/replay/serve/mirror-feed.ts).
import type { Core } from "../../core/core.ts";
import { createCore } from "../../core/core.ts";
import { scanCoreConfig } from "../../core/open-capture.ts";
import { TraceError } from "../../io/errors.ts";
import { TraceReader } from "../../io/reader.ts";
import { LiveFlows } from "./live-flows.ts";
import { FlowOwner, ownerConfig, type OwnerSpec } from "./flow-owner.ts";
import { serveMaxConns } from "./sizing.ts";
import { BLOCK_BYTES } from "./mirror-feed.ts";
import * as ABI from "../../core/abi.gen.ts";
import { threadCpuMs } from "../../runtime/thread-cpu.ts";

// Record-descriptor and decode-summary word offsets (abi/table.ts) as this module's own
// constants: V8 folds these in the per-packet loops, where an imported binding costs a
// load at each use (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_W_CAPLEN,
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
  SUM_W_L4OFF,
  SUM_W_SEQ,
  SUM_W_PAYLOAD,
  SUM_W_SPORT,
  SUM_W_SRC,
  SUM_W_TCPFLAGS,
} = ABI;

// The decode summary's size and SUM_F_* bits (abi/table.ts), local here as the offsets
// above, and exported for serve and liveplay.
export const {
  SUM_BYTES,
  SUM_F_IP,
  SUM_F_PORTS,
  SUM_F_TCP,
  SUM_F_PAYLOAD,
  SUM_F_FRAG,
  SUM_F_TRUNC,
  SUM_F_UNKNOWN_LINK,
  SUM_F_UDP,
  SUM_F_NOT_PACKET,
} = ABI;
export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_ACK = 16;

/** Words per flow record (REC_*). */
export const REC_WORDS = 5;
export const REC_CLIENT_ISN = 0;
export const REC_SERVER_ISN = 1;
export const REC_TSVAL = 2;
/** mss | segMss << 16 */
export const REC_MSS = 3;
/** wscale (0xff: none) | flags << 8 | client SYN's MSS << 16 */
export const REC_OPTS = 4;
export const RF_SYNACK = 1;
export const RF_SACK = 2;
export const RF_TS = 4;
export const RF_CLIENT_TS = 8;
export const RF_UDP = 16;

/** A flow's preset, from its record (host/replay/serve/serve.ts keeps one per live flow). */
export interface FlowInfo {
  /** The mirror's flow slot (index among live served flows), or -1 when the flow is not served. */
  id: number;
  /** 6 TCP, 17 UDP. */
  proto: number;
  /** Why it is not served (null when served). */
  why: string | null;
  /** The 40-byte flow key of the client's direction (assembly/flow/key.ts), for tcpPreset and the mirror. */
  key: Uint8Array;
  clientIsn: number;
  serverIsn: number;
  mss: number;
  /** 0xff: no window scale option. */
  wscale: number;
  sackOk: boolean;
  tsOk: boolean;
  tsVal: number;
  synAckSeen: boolean;
  /** Payload bytes per wire segment on the original path (for segments captured above it: offload). */
  segMss: number;
}

export interface Prescan {
  /** Flows in the order they start (TCP: the client's SYN; UDP: the first datagram). */
  flows: number;
  /** REC_WORDS words per flow. */
  rec: Uint32Array;
  /** Flows that can be served, TCP and UDP. */
  served: number;
  /** Of those, UDP. */
  servedUdp: number;
  /** TCP flows seen without their handshake, or with one the core cannot take (why). */
  unserved: number;
  unservedWhy: Record<string, number>;
  packets: number;
  /** Most flows open at once (TCP: SYN to close; UDP: first datagram to the end). */
  peakOpen: number;
  /** Most flows in the live table at once (closed ones within their 2 s hold counted). */
  peakLive: number;
  /** Most connections a serving core holds at once: open, or in its TIME-WAIT (live-flows.ts); the core is sized for it. */
  peakHeld: number;
  /** Connections held at the end of the capture (--loop: they may stay in the core across passes). */
  heldAtEnd: number;
  /** Bytes the pre-scan kept: the records plus the live table at its largest. */
  bytes: number;
  /**
   * The most bytes a TCP client acknowledged with one ACK: its server had at least that much
   * sent and unacknowledged. The serving core must have sent them all before that ACK comes,
   * so its send buffer holds at least this much (serveCoreConfig).
   */
  maxAckAdvance: number;
  /**
   * The most stream memory the capture's servers had in flight at once: over all
   * TCP flows, bytes sent and not yet acknowledged by the client, in the mirror's
   * blocks (BLOCK_BYTES, one more for a partly filled first block). The mirror
   * holds a recorded segment from its feed to its ACK, so its stream blocks are
   * sized from this (sizing.ts serveStreamBytes).
   */
  peakInFlight: number;
  /** The most capture bytes one read batch held (payload the host may feed before the core acknowledges it). */
  maxBatchBytes: number;
  /** How long the pre-scan took (ms, performance.now()): a stage of the run's accounting. */
  ms: number;
  error: string | null;
}

/** The flow's name for reports: client → server. */
export function flowName(key: Uint8Array): string {
  const v6 = key[0] === 6;
  const addr = (off: number): string => {
    if (!v6) return `${key[off]}.${key[off + 1]}.${key[off + 2]}.${key[off + 3]}`;
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((key[off + i] << 8) | key[off + i + 1]).toString(16));
    return `[${parts.join(":")}]`;
  };
  const sp = key[4] | (key[5] << 8);
  const dp = key[6] | (key[7] << 8);
  return `${addr(8)}:${sp} → ${addr(24)}:${dp}${key[1] === 17 ? " (UDP)" : ""}`;
}

/** The SYN's options: MSS, window scale, SACK-permitted, TSval (RFC 9293 §3.2 option format). */
function parseOptions(u8: Uint8Array, start: number, end: number, o: number[]): void {
  o[0] = 0; // mss
  o[1] = 0xff; // wscale
  o[2] = 0; // sack
  o[3] = 0; // ts
  o[4] = 0; // tsVal
  let p = start;
  while (p < end) {
    const kind = u8[p];
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = u8[p + 1];
    if (len < 2 || p + len > end) break;
    if (kind === 2 && len === 4) o[0] = (u8[p + 2] << 8) | u8[p + 3];
    else if (kind === 3 && len === 3) o[1] = Math.min(u8[p + 2], 14);
    else if (kind === 4 && len === 2) o[2] = 1;
    else if (kind === 8 && len === 10) {
      o[3] = 1;
      o[4] = ((u8[p + 2] << 24) | (u8[p + 3] << 16) | (u8[p + 4] << 8) | u8[p + 5]) >>> 0;
    }
    p += len;
  }
}

/** Whether record ord can be served, or why not. */
export function recWhy(rec: Uint32Array, ord: number): string | null {
  const fl = (rec[ord * REC_WORDS + REC_OPTS] >>> 8) & 0xff;
  return fl & (RF_UDP | RF_SYNACK) ? null : "no SYN-ACK";
}

/**
 * What one packet does to the live flows, the same in the pre-scan and the
 * replay pass (so both number the flows alike): returns the packet's live slot
 * as LiveFlows.lookup does, after opening a flow (onNew(slot) with the next
 * ordinal in live.ordOf) or recording a FIN/RST. w: the packet's summary word index.
 */
export function liveStep(live: LiveFlows, u32: Uint32Array, w: number, t: number, nextOrd: number): number {
  live.advance(t);
  const fl = u32[w + SUM_W_FLAGS] & 0xffff;
  if (!(fl & SUM_F_PORTS) || fl & SUM_F_FRAG) return -1;
  const v6 = ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6;
  const ports = u32[w + SUM_W_SPORT];
  if (fl & SUM_F_UDP) {
    const s = live.lookup(17, v6, ports, u32, w + SUM_W_SRC, w + SUM_W_DST);
    if (s !== -1) return s;
    return live.add(17, v6, ports, u32, w + SUM_W_SRC, w + SUM_W_DST, nextOrd, 0);
  }
  if (!(fl & SUM_F_TCP)) return -1;
  const tflags = u32[w + SUM_W_TCPFLAGS] & 0xfff;
  let s = live.lookup(6, v6, ports, u32, w + SUM_W_SRC, w + SUM_W_DST);
  if (tflags & TCP_SYN && !(tflags & TCP_ACK)) {
    // A client's SYN: a new flow unless it repeats the live one's (same ISN).
    const seq = u32[w + SUM_W_SEQ];
    if (s >= 0 && live.isnOf(s) === seq) return s;
    return live.add(6, v6, ports, u32, w + SUM_W_SRC, w + SUM_W_DST, nextOrd, seq);
  }
  if (s !== -1 && tflags & (TCP_FIN | TCP_RST)) {
    const client = s >= 0;
    live.closeEvent(client ? s : -2 - s, client, (tflags & TCP_RST) !== 0, t);
  }
  return s;
}

/**
 * One pass over the capture; a corrupt capture ends it early with `error` set (what preceded counts).
 * With `owner` (serve --workers) only that worker's flows are learned, numbered as its replay pass
 * numbers them (host/replay/serve/flow-owner.ts); `packets` counts its records only.
 */
export function prescan(path: string, core?: Core, maxLive = serveMaxConns(), owner?: OwnerSpec): Prescan {
  return scan(path, core, maxLive, owner, false)[0];
}

/** Every worker's pre-scan (pres[i] is worker i's), with the pass's wall time and thread CPU (the serve --workers report's prescan_s, prescan_cpu_ms). */
export interface WorkerPrescans {
  pres: Prescan[];
  s: number;
  /** NaN where the thread's CPU time cannot be read. */
  cpuMs: number;
}

/**
 * serve --workers: every worker's pre-scan in one pass (pres[i] is what
 * prescan(path, …, { index: i, workers, shard }) gives worker i): the records are
 * read, decoded and hashed to their owner once, not once per worker (each
 * worker's own pre-scan cost about as much as the whole capture's,
 * docs/measurement/performance-log.md §11).
 */
export function prescanWorkers(path: string, workers: number, shard?: OwnerSpec["shard"]): WorkerPrescans {
  const c0 = threadCpuMs();
  const pres = scan(path, undefined, serveMaxConns(), { index: 0, workers, shard }, true);
  return { pres, s: pres[0].ms / 1000, cpuMs: threadCpuMs() - c0 };
}

function scan(
  path: string,
  core: Core | undefined,
  maxLive: number,
  owner: OwnerSpec | undefined,
  all: boolean,
) {
  const t0 = performance.now();
  const c = core ?? createCore({ ...scanCoreConfig(), ...(owner ? ownerConfig(owner) : {}) }); // (no flags of its own)
  const own = owner ? new FlowOwner(c, owner) : null;
  const decode = c.exports.decodeBatch as (n: number) => number;
  const u8 = c.u8;
  const u32 = c.u32;
  const f64 = c.f64;
  const descW = c.regions.desc.offset >>> 2;
  const sumW = c.regions.decode.offset >>> 2;
  const states = Array.from({ length: all ? owner!.workers : 1 }, () => new OwnerScan(path, maxLive));
  const one = states[0];
  let error: string | null = null;
  let maxBatchBytes = 0;
  const reader = new TraceReader(path, c);
  try {
    for (;;) {
      const at = reader.offset;
      const n = reader.next();
      if (n === 0) break;
      maxBatchBytes = Math.max(maxBatchBytes, reader.offset - at);
      decode(n);
      own?.mark(n);
      for (let i = 0; i < n; i++) {
        const st = all ? states[own!.ownerOf(i)] : own && !own.mine(i) ? null : one;
        st?.record(u8, u32, f64, sumW + i * SUM_WORDS, descW + i * DESC_WORDS);
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    error = e.message;
  } finally {
    reader.close();
  }
  const ms = performance.now() - t0;
  return states.map((st) => st.finish(ms, maxBatchBytes, error));
}

/** One owner's pre-scan (a worker's flows, or every flow): its live flows, records and in-flight sums. */
class OwnerScan {
  private readonly res: Prescan;
  private readonly live: LiveFlows;
  private readonly opt = [0, 0, 0, 0, 0];
  private rec: Uint32Array;
  private lastAck = new Float64Array(1024); // per live slot: the client's last ACK (NaN: none yet)
  private srvEnd = new Float64Array(1024); // per live slot: past the server's highest sequence sent (NaN: none yet)
  private flight = new Int32Array(1024); // per live slot: its unacknowledged bytes, in blocks
  private flightSum = 0; // over every live slot
  private flightPeak = 0;

  constructor(path: string, maxLive: number) {
    this.rec = new Uint32Array(1024 * REC_WORDS);
    this.res = {
      flows: 0,
      rec: this.rec,
      served: 0,
      servedUdp: 0,
      unserved: 0,
      unservedWhy: {},
      packets: 0,
      peakOpen: 0,
      peakLive: 0,
      peakHeld: 0,
      heldAtEnd: 0,
      bytes: 0,
      maxAckAdvance: 0,
      peakInFlight: 0,
      maxBatchBytes: 0,
      ms: 0,
      error: null,
    };
    this.live = new LiveFlows(path, maxLive);
  }

  /** Slot's in-flight blocks after its server sent or its client acknowledged. */
  private inFlight(slot: number): void {
    const out = (this.srvEnd[slot] - this.lastAck[slot]) | 0; // modulo 2^32; NaN on either side: 0
    const b = out > 0 ? Math.ceil(out / BLOCK_BYTES) + 1 : 0;
    this.flightSum += b - this.flight[slot];
    this.flight[slot] = b;
    if (this.flightSum > this.flightPeak) this.flightPeak = this.flightSum;
  }

  /** One record of this owner's: w and d are its summary's and descriptor's word indices. */
  record(u8: Uint8Array, u32: Uint32Array, f64: Float64Array, w: number, d: number): void {
    const res = this.res;
    const opt = this.opt;
    res.packets++;
    const t = f64[(d + DESC_W_SEC) >>> 1] + u32[d + DESC_W_NSEC] / 1e9;
    const s = liveStep(this.live, u32, w, t, res.flows);
    if (s === -1) return;
    const slot = s >= 0 ? s : -2 - s;
    const ord = this.live.ordOf(slot);
    if (ord === res.flows) {
      // A new flow: its record.
      if ((res.flows + 1) * REC_WORDS > this.rec.length) {
        const r2 = new Uint32Array(this.rec.length * 2);
        r2.set(this.rec);
        this.rec = res.rec = r2;
      }
      res.flows++;
      if (slot >= this.lastAck.length) {
        const len = Math.max(slot + 1, this.lastAck.length * 2);
        const a2 = new Float64Array(len);
        a2.set(this.lastAck);
        this.lastAck = a2;
        const e2 = new Float64Array(len);
        e2.set(this.srvEnd);
        this.srvEnd = e2;
        const f2 = new Int32Array(len);
        f2.set(this.flight);
        this.flight = f2;
      }
      this.lastAck[slot] = NaN;
      this.srvEnd[slot] = NaN;
      this.inFlight(slot); // a reused slot: its earlier flow's blocks are gone
      const r = ord * REC_WORDS;
      if (u32[w + SUM_W_FLAGS] & SUM_F_UDP) {
        this.rec[r + REC_OPTS] = 0xff | (RF_UDP << 8);
        return;
      }
      const frame = u32[d + DESC_W_OFF];
      const l4 = frame + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
      const hl = (u8[l4 + 12] >>> 4) * 4;
      parseOptions(u8, l4 + 20, Math.min(l4 + hl, frame + u32[d + DESC_W_CAPLEN]), opt);
      this.rec[r + REC_CLIENT_ISN] = u32[w + SUM_W_SEQ];
      this.rec[r + REC_OPTS] = 0xff | ((opt[3] ? RF_CLIENT_TS : 0) << 8) | (opt[0] << 16);
      return;
    }
    if (!(u32[w + SUM_W_FLAGS] & SUM_F_TCP)) return;
    const tflags = u32[w + SUM_W_TCPFLAGS] & 0xfff;
    if (s >= 0) {
      if (tflags & TCP_ACK) {
        const ack = u32[w + SUM_W_ACK];
        const adv = (ack - this.lastAck[slot]) | 0; // modulo 2^32 (RFC 9293 §3.4); NaN: 0
        if (adv > res.maxAckAdvance) res.maxAckAdvance = adv;
        this.lastAck[slot] = ack;
        this.inFlight(slot);
      }
      return;
    }
    if (u32[w + SUM_W_FLAGS] & SUM_F_PAYLOAD || tflags & TCP_FIN) {
      // A server segment: what it sends stays in flight until the client acknowledges it.
      const plen = u32[w + SUM_W_FLAGS] & SUM_F_PAYLOAD ? u32[w + SUM_W_PAYLOAD] : 0;
      const end = (u32[w + SUM_W_SEQ] + plen + (tflags & TCP_FIN ? 1 : 0)) >>> 0;
      if (Number.isNaN(this.srvEnd[slot]) || ((end - this.srvEnd[slot]) | 0) > 0) this.srvEnd[slot] = end;
      this.inFlight(slot);
    }
    if ((tflags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK)) return;
    // The server's SYN-ACK: it must acknowledge the current SYN (RFC 9293 §3.5).
    const r = ord * REC_WORDS;
    let o = this.rec[r + REC_OPTS];
    if ((o >>> 8) & RF_SYNACK || u32[w + SUM_W_ACK] !== (this.rec[r + REC_CLIENT_ISN] + 1) >>> 0) return;
    const frame = u32[d + DESC_W_OFF];
    const l4 = frame + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
    const hl = (u8[l4 + 12] >>> 4) * 4;
    parseOptions(u8, l4 + 20, Math.min(l4 + hl, frame + u32[d + DESC_W_CAPLEN]), opt);
    const clientTs = ((o >>> 8) & RF_CLIENT_TS) !== 0;
    const clientMss = o >>> 16;
    o = (o & 0xffff0000) | opt[1] | ((RF_SYNACK | (opt[2] ? RF_SACK : 0) | (opt[3] ? RF_TS : 0)) << 8);
    o |= (clientTs ? RF_CLIENT_TS : 0) << 8;
    this.rec[r + REC_OPTS] = o;
    this.rec[r + REC_SERVER_ISN] = u32[w + SUM_W_SEQ];
    this.rec[r + REC_TSVAL] = opt[4];
    // What one wire segment carried on the original path (RFC 9293 §3.7.1: the
    // smaller MSS, less the timestamp option when both offered it, RFC 7323 §3.2).
    const v6 = ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6;
    const mss = Math.min(clientMss || (v6 ? 1220 : 536), opt[0] || (v6 ? 1220 : 536));
    const segMss = mss - (opt[3] && clientTs ? 12 : 0);
    this.rec[r + REC_MSS] = opt[0] | (segMss << 16);
  }

  /** The result, once the pass has ended (ms, its biggest read batch and its error are the pass's). */
  finish(ms: number, maxBatchBytes: number, error: string | null): Prescan {
    const res = this.res;
    const live = this.live;
    res.peakOpen = live.peakOpen;
    res.peakLive = live.peakLive;
    res.peakHeld = live.peakHeld;
    res.heldAtEnd = live.open + live.timeWait;
    res.peakInFlight = this.flightPeak * BLOCK_BYTES;
    res.maxBatchBytes = maxBatchBytes;
    res.ms = ms;
    res.error = error;
    res.bytes = this.rec.byteLength + live.bytes;
    for (let f = 0; f < res.flows; f++) {
      const why = recWhy(this.rec, f);
      if (why === null) {
        res.served++;
        if ((this.rec[f * REC_WORDS + REC_OPTS] >>> 8) & RF_UDP) res.servedUdp++;
      } else {
        res.unserved++;
        res.unservedWhy[why] = (res.unservedWhy[why] ?? 0) + 1;
      }
    }
    return res;
  }
}
