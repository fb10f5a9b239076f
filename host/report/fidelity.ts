// Serve mode's fidelity score: the core's transmitted segments against the
// capture's server segments, per flow, by sequence offset from the server's ISN
// (the core took the same ISN, so offsets line up with no translation).
//
// Compared: every first transmission of a segment that occupies sequence space
// (payload, SYN or FIN) and every RST, in the capture's server direction. Two
// segments match when they start at the same offset with the same payload
// length, the same SYN/FIN/RST flags and equal payload bytes (a 32-bit hash of each;
// of the captured part when the capture's snap length cut the payload).
// Excluded, because they follow the local stack's timing and policy rather than
// the conversation: pure ACKs (delayed-ACK timing, RFC 9293 §3.8.6.3), window
// values, TCP timestamp values, ACK/PSH/ECE/CWR bits, IP ID/TTL, and
// retransmissions on either side (they depend on the loss and timers of each
// run; counted apart). A capture segment the core never sent is "missing"; a
// core segment at an offset the capture never used is "extra" (not compared).
//
// UDP flows: the n-th datagram the core sent on a flow is compared with the
// n-th datagram the capture's server sent on it (same length, same payload hash).
//
// Flows are the caller's small integer ids (array-indexed); payloads are read in
// place (memory, offset, length) and hashed by the caller's hash function (serve:
// the core's serveHash, assembly/replay/serve.ts; by default payloadHash in JS):
// no object, string or native call per packet except the pending-segment map entries.

/**
 * 32-bit hash of mem[off, off+len) for the comparison (not a checksum of any
 * protocol): four bytes per step through a DataView (unaligned reads of the
 * core's shared memory), multiply-xorshift mixing, the length mixed in. Measured
 * 1.1 ns/byte here against 2.5 for a sliced table CRC-32, which payload-heavy
 * captures felt (a third of serve's time on gen incast).
 */
let dvBuf: ArrayBufferLike | null = null;
let dv: DataView = new DataView(new ArrayBuffer(4));
export function payloadHash(mem: Uint8Array, off: number, len: number): number {
  if (mem.buffer !== dvBuf) {
    dvBuf = mem.buffer;
    dv = new DataView(mem.buffer);
  }
  const base = mem.byteOffset;
  let h = (len ^ 0x811c9dc5) | 0;
  let i = base + off;
  const end = i + len;
  for (const end4 = end - 3; i < end4; i += 4) {
    h = Math.imul(h ^ dv.getUint32(i, true), 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ mem[i - base], 0x01000193);
  h ^= h >>> 13;
  return h >>> 0;
}

export interface FidelityReport {
  segments_compared: number;
  segments_matching: number;
  bytes_compared: number;
  bytes_matching: number;
  /** segments_matching / segments_compared, in percent (100 when nothing was compared). */
  segments_pct: number;
  segments_missing: number;
  segments_extra: number;
  retransmissions_capture: number;
  retransmissions_core: number;
  /** UDP: datagrams of the capture's servers compared (n-th sent against n-th recorded, per flow). */
  datagrams_compared: number;
  datagrams_matching: number;
  datagrams_missing: number;
  datagrams_extra: number;
  first_mismatches: { flow: string; offset: number; what: string }[];
  excluded: string;
}

export const FIDELITY_EXCLUDED =
  "pure ACKs, window values, TCP timestamp values, ACK/PSH/ECE/CWR bits, IP ID/TTL, retransmissions (counted apart)";

const F_FIN = 1;
const F_SYN = 2;
const F_RST = 4;

/**
 * Segments waiting for their counterpart, in a pool of typed columns (index →
 * payload length, SYN/FIN/RST flags, hash and the bytes the hash covers, which a
 * capture's snap length may cut): no object per segment.
 */
class SegPool {
  len = new Int32Array(1024);
  flags = new Int32Array(1024);
  hash = new Int32Array(1024);
  hashLen = new Int32Array(1024);
  private readonly free: number[] = [];
  private next = 0;
  add(len: number, flags: number, hash: number, hashLen: number): number {
    let i = this.free.pop();
    if (i === undefined) {
      if (this.next === this.len.length) this.grow();
      i = this.next++;
    }
    this.len[i] = len;
    this.flags[i] = flags;
    this.hash[i] = hash;
    this.hashLen[i] = hashLen;
    return i;
  }
  drop(i: number): void {
    this.free.push(i);
  }
  private grow(): void {
    const n = this.len.length * 2;
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.len = g(this.len);
    this.flags = g(this.flags);
    this.hash = g(this.hash);
    this.hashLen = g(this.hashLen);
  }
}

/** Entries a flow's Pending keeps in its arrays before a Map: 8 held >99.8 % of gen etc's sets. */
const SPILL = 8;

/**
 * Segments of one flow waiting for their counterpart, offset key → SegPool
 * index: one entry inline (most flows have one segment pending at a time), then
 * up to SPILL in two small arrays made at the flow record's first need (and kept
 * with the record, which is reused), a Map only beyond that. No allocation per
 * flow at 1 M flows (issue 10), and none per segment: a Map that filled and
 * emptied a few entries at a time reallocated its table (most of serve's
 * garbage). drain() order is the order a single Map would have: the inline entry,
 * then the rest by insertion (the arrays take entries only while the Map is empty,
 * so theirs are the older ones).
 */
class Pending {
  private k = 0;
  private i = -1;
  private ks: Float64Array | null = null;
  private vs: Int32Array | null = null;
  private n = 0;
  private m: Map<number, number> | null = null;
  get size(): number {
    return (this.i >= 0 ? 1 : 0) + this.n + (this.m ? this.m.size : 0);
  }
  private at(k: number): number {
    const ks = this.ks;
    for (let j = 0; j < this.n; j++) if (ks![j] === k) return j;
    return -1;
  }
  /** The index stored for k, or -1. */
  get(k: number): number {
    if (this.i >= 0 && this.k === k) return this.i;
    if (this.n) {
      const j = this.at(k);
      if (j >= 0) return this.vs![j];
    }
    if (!this.m || !this.m.size) return -1;
    const v = this.m.get(k);
    return v === undefined ? -1 : v;
  }
  /** Removes k; returns its index, or -1. */
  take(k: number): number {
    if (this.i >= 0 && this.k === k) {
      const v = this.i;
      this.i = -1;
      return v;
    }
    if (this.n) {
      const j = this.at(k);
      if (j >= 0) {
        const ks = this.ks!;
        const vs = this.vs!;
        const v = vs[j];
        this.n--;
        for (let x = j; x < this.n; x++) {
          ks[x] = ks[x + 1];
          vs[x] = vs[x + 1];
        }
        return v;
      }
    }
    if (!this.m || !this.m.size) return -1;
    const v = this.m.get(k);
    if (v === undefined) return -1;
    this.m.delete(k);
    return v;
  }
  set(k: number, v: number): void {
    if (this.i < 0 || this.k === k) {
      this.k = k;
      this.i = v;
      return;
    }
    const j = this.n ? this.at(k) : -1;
    if (j >= 0) this.vs![j] = v;
    else if (this.n < SPILL && (!this.m || !this.m.size || !this.m.has(k))) {
      if (this.m && this.m.size)
        this.m.set(k, v); // keep insertion order: after the Map's
      else {
        this.ks ??= new Float64Array(SPILL);
        this.vs ??= new Int32Array(SPILL);
        this.ks[this.n] = k;
        this.vs[this.n++] = v;
      }
    } else (this.m ??= new Map()).set(k, v);
  }
  /** Every entry, then empty. */
  drain(f: (k: number, v: number) => void): void {
    if (this.i >= 0) f(this.k, this.i);
    this.i = -1;
    for (let j = 0; j < this.n; j++) f(this.ks![j], this.vs![j]);
    this.n = 0;
    if (this.m && this.m.size) {
      for (const [k, v] of this.m) f(k, v);
      this.m.clear();
    }
  }
}

interface FlowSide {
  id: number;
  name: string;
  isn: number;
  /** Offset key (RST: -1 - offset) → SegPool index. */
  refs: Pending;
  outs: Pending;
  refMax: number;
  outMax: number;
  /** UDP: recorded and sent datagrams not yet paired (len, hash pairs), and how many of each so far. */
  dRef: number[];
  dOut: number[];
  nRef: number;
  nOut: number;
  /** This flow's share of the counts (segments and datagrams alike), for a listener. */
  cmp: number;
  ok: number;
  miss: number;
  ext: number;
}

/** Mismatch kinds a FidelityListener hears. */
export const MIS_DIFFERS = 0;
export const MIS_MISSING = 1;
export const MIS_EXTRA = 2;

/**
 * Per-flow detail for a report that wants it (the HTML report's worst flows and
 * time-sequence marks, host/report/timeseq.ts); the plain run has none.
 */
export interface FidelityListener {
  /** A TCP segment that did not match: its offset from the ISN (the SYN's is 0) and MIS_*. */
  mismatch(flow: number, off: number, kind: number): void;
  /** The flow's counts when it is settled (the id may name another flow afterwards). */
  settled(flow: number, compared: number, matching: number, missing: number, extra: number): void;
}

export class FidelityMeter {
  private readonly flows: (FlowSide | undefined)[] = [];
  private readonly pool = new SegPool();
  private dCompared = 0;
  private dMatching = 0;
  private dExtra = 0;
  private compared = 0;
  private matching = 0;
  private bytesCompared = 0;
  private bytesMatching = 0;
  private missing = 0;
  private extra = 0;
  private retxCapture = 0;
  private retxCore = 0;
  private readonly mismatches: FidelityReport["first_mismatches"] = [];
  listener: FidelityListener | null = null;

  constructor(
    private readonly maxMismatches = 10,
    /** The name of flow id for a mismatch, when the caller passed "" (names built only when needed). */
    private readonly nameOf: ((flow: number) => string) | null = null,
    /** The payload hash: any 32-bit hash of mem[off, off+len), the same for both sides of a comparison. */
    private readonly hash: (mem: Uint8Array, off: number, len: number) => number = payloadHash,
  ) {}

  /** Settled flows' records, reused (no allocation per flow once warm). */
  private readonly spare: FlowSide[] = [];

  private side(flow: number, name: string, isn: number): FlowSide {
    let s = this.flows[flow];
    if (!s) {
      s = this.spare.pop();
      if (s) {
        s.id = flow;
        s.name = name;
        s.isn = isn;
        s.refMax = s.outMax = s.nRef = s.nOut = 0;
        s.cmp = s.ok = s.miss = s.ext = 0;
      } else
        s = {
          id: flow,
          name,
          isn,
          refs: new Pending(),
          outs: new Pending(),
          refMax: 0,
          outMax: 0,
          dRef: [],
          dOut: [],
          nRef: 0,
          nOut: 0,
          cmp: 0,
          ok: 0,
          miss: 0,
          ext: 0,
        };
      this.flows[flow] = s;
    }
    return s;
  }

  private note(s: FlowSide, off: number, what: string): void {
    if (this.mismatches.length < this.maxMismatches)
      this.mismatches.push({ flow: s.name || this.nameOf?.(s.id) || `flow ${s.id}`, offset: off - 1, what });
  }

  /**
   * A capture server segment: seq, payload length (from the headers), TCP flags
   * and the captured payload bytes mem[off, off+have) (have may be below len). A segment longer
   * than segMss (segmentation offload on the capture host: the wire carried
   * MSS-sized segments) is compared as the segments the wire carried.
   */
  ref(
    flow: number,
    name: string,
    isn: number,
    seq: number,
    len: number,
    flags: number,
    mem: Uint8Array,
    off0: number,
    have0: number,
    segMss: number,
  ): void {
    if (segMss > 0 && len > segMss) {
      for (let at = 0; at < len; at += segMss) {
        const n = Math.min(segMss, len - at);
        const last = at + n >= len;
        const h = Math.max(0, Math.min(n, have0 - at));
        this.ref(
          flow,
          name,
          isn,
          (seq + at) >>> 0,
          n,
          last ? flags : flags & ~F_FIN & ~F_RST,
          mem,
          off0 + at,
          h,
          0,
        );
      }
      return;
    }
    const s = this.side(flow, name, isn);
    const off = (seq - isn) >>> 0;
    flags &= F_FIN | F_SYN | F_RST;
    const ext = len + (flags & F_SYN ? 1 : 0) + (flags & F_FIN ? 1 : 0);
    if (ext === 0 && !(flags & F_RST)) return; // pure ACK
    if (ext > 0 && off + ext <= s.refMax) {
      this.retxCapture++;
      return;
    }
    s.refMax = Math.max(s.refMax, off + ext);
    const key = flags & F_RST ? -1 - off : off;
    if (ext === 0 && s.refs.get(key) >= 0) return; // a repeated RST
    const have = Math.min(have0, len);
    const hash = have ? this.hash(mem, off0, have) : 0;
    this.compared++;
    s.cmp++;
    this.bytesCompared += len;
    const o = s.outs.take(key);
    if (o >= 0) {
      this.pair(
        s,
        off,
        len,
        flags,
        hash,
        have,
        this.pool.len[o],
        this.pool.flags[o],
        this.pool.hash[o] >>> 0,
        this.pool.hashLen[o],
      );
      this.pool.drop(o);
    } else s.refs.set(key, this.pool.add(len, flags, hash, have));
  }

  /** A segment the core transmitted on that flow (its payload: mem[pay, pay+len), read during the call). */
  out(
    flow: number,
    name: string,
    isn: number,
    seq: number,
    flags: number,
    mem: Uint8Array,
    pay: number,
    len: number,
  ): void {
    const s = this.side(flow, name, isn);
    const off = (seq - isn) >>> 0;
    flags &= F_FIN | F_SYN | F_RST;
    const ext = len + (flags & F_SYN ? 1 : 0) + (flags & F_FIN ? 1 : 0);
    if (ext === 0 && !(flags & F_RST)) return;
    if (ext > 0 && off + ext <= s.outMax) {
      this.retxCore++;
      return;
    }
    s.outMax = Math.max(s.outMax, off + ext);
    const key = flags & F_RST ? -1 - off : off;
    const r = s.refs.take(key);
    const p = this.pool;
    if (r >= 0) {
      const n = Math.min(p.hashLen[r], len);
      this.pair(
        s,
        off,
        p.len[r],
        p.flags[r],
        p.hash[r] >>> 0,
        p.hashLen[r],
        len,
        flags,
        n ? this.hash(mem, pay, n) : 0,
        n,
      );
      p.drop(r);
    } else s.outs.set(key, p.add(len, flags, len ? this.hash(mem, pay, len) : 0, len));
  }

  /** UDP: a datagram the capture's server sent on the flow (payload mem[off, off+have), len from the header). */
  refDatagram(flow: number, name: string, len: number, mem: Uint8Array, off: number, have: number): void {
    const s = this.side(flow, name, 0);
    const hash = this.hash(mem, off, Math.min(have, len));
    if (s.dOut.length) {
      this.pairDatagram(s, s.nRef, len, hash, s.dOut.shift()!, s.dOut.shift()!);
    } else s.dRef.push(len, hash);
    s.nRef++;
  }

  /** UDP: a datagram the core sent on the flow. */
  outDatagram(flow: number, name: string, mem: Uint8Array, off: number, len: number): void {
    const s = this.side(flow, name, 0);
    const hash = this.hash(mem, off, len);
    if (s.dRef.length) {
      this.pairDatagram(s, s.nOut, s.dRef.shift()!, s.dRef.shift()!, len, hash);
    } else s.dOut.push(len, hash);
    s.nOut++;
  }

  private pairDatagram(
    s: FlowSide,
    n: number,
    rLen: number,
    rHash: number,
    oLen: number,
    oHash: number,
  ): void {
    this.dCompared++;
    s.cmp++;
    if (rLen !== oLen) this.note(s, n + 1, `datagram ${n}: length ${oLen}, capture ${rLen}`);
    else if (rHash !== oHash) this.note(s, n + 1, `datagram ${n}: payload bytes differ`);
    else {
      this.dMatching++;
      s.ok++;
    }
  }

  /** A capture segment (r*) against the core's (o*) at the same offset. */
  private pair(
    s: FlowSide,
    off: number,
    rLen: number,
    rFlags: number,
    rHash: number,
    rHashLen: number,
    oLen: number,
    oFlags: number,
    oHash: number,
    oHashLen: number,
  ): void {
    if (rLen !== oLen) this.note(s, off, `length ${oLen}, capture ${rLen}`);
    else if (rFlags !== oFlags) this.note(s, off, `flags ${flagText(oFlags)}, capture ${flagText(rFlags)}`);
    else if (rHashLen === oHashLen && rHash !== oHash) this.note(s, off, "payload bytes differ");
    else {
      this.matching++;
      s.ok++;
      this.bytesMatching += rLen;
      return;
    }
    this.listener?.mismatch(s.id, off, MIS_DIFFERS);
  }

  /**
   * Settles flow id now (its segments still unpaired count as missing or extra)
   * and forgets it, so the id can name another flow: memory follows the flows
   * live at once (issue 10).
   */
  finishFlow(flow: number): void {
    const s = this.flows[flow];
    if (!s) return;
    this.settle(s);
    this.flows[flow] = undefined;
    this.spare.push(s);
  }

  private dMissing = 0;

  private settle(s: FlowSide): void {
    this.dMissing += s.dRef.length / 2;
    this.dCompared += s.dRef.length / 2;
    this.dExtra += s.dOut.length / 2;
    s.cmp += s.dRef.length / 2;
    s.miss += s.dRef.length / 2;
    s.ext += s.dOut.length / 2;
    const l = this.listener;
    if (s.dRef.length) this.note(s, s.nOut + 1, `datagram ${s.nOut}: not sent`);
    s.dRef.length = 0;
    s.dOut.length = 0;
    const p = this.pool;
    if (s.refs.size)
      s.refs.drain((k, r) => {
        this.missing++;
        s.miss++;
        this.note(s, k < 0 ? -1 - k : k, `not sent (capture: ${p.len[r]} bytes ${flagText(p.flags[r])})`);
        l?.mismatch(s.id, k < 0 ? -1 - k : k, MIS_MISSING);
        p.drop(r);
      });
    if (s.outs.size)
      s.outs.drain((k, o) => {
        this.extra++;
        s.ext++;
        this.note(s, k < 0 ? -1 - k : k, `extra segment (${p.len[o]} bytes ${flagText(p.flags[o])})`);
        l?.mismatch(s.id, k < 0 ? -1 - k : k, MIS_EXTRA);
        p.drop(o);
      });
    l?.settled(s.id, s.cmp, s.ok, s.miss, s.ext);
  }

  finish(): FidelityReport {
    for (const s of this.flows) if (s) this.settle(s);
    const dMissing = this.dMissing;
    return {
      segments_compared: this.compared,
      segments_matching: this.matching,
      bytes_compared: this.bytesCompared,
      bytes_matching: this.bytesMatching,
      segments_pct: this.compared ? Math.round((this.matching / this.compared) * 10000) / 100 : 100,
      segments_missing: this.missing,
      segments_extra: this.extra,
      retransmissions_capture: this.retxCapture,
      retransmissions_core: this.retxCore,
      datagrams_compared: this.dCompared,
      datagrams_matching: this.dMatching,
      datagrams_missing: dMissing,
      datagrams_extra: this.dExtra,
      first_mismatches: this.mismatches,
      excluded: FIDELITY_EXCLUDED,
    };
  }
}

function flagText(f: number): string {
  const t = [f & F_SYN ? "SYN" : "", f & F_FIN ? "FIN" : "", f & F_RST ? "RST" : ""].filter(Boolean);
  return t.length ? `[${t.join(",")}]` : "[data]";
}

/** Table rows for the terminal report. */
export function fidelityRows(f: FidelityReport): [string, string][] {
  const rows: [string, string][] = [
    [
      "fidelity",
      `${f.segments_matching}/${f.segments_compared} segments (${f.segments_pct} %), ${f.bytes_matching}/${f.bytes_compared} payload bytes; missing ${f.segments_missing}, extra ${f.segments_extra}; retransmissions: capture ${f.retransmissions_capture}, core ${f.retransmissions_core}`,
    ],
  ];
  if (f.datagrams_compared || f.datagrams_extra)
    rows.push([
      "  UDP",
      `${f.datagrams_matching}/${f.datagrams_compared} datagrams; missing ${f.datagrams_missing}, extra ${f.datagrams_extra}`,
    ]);
  for (const m of f.first_mismatches.slice(0, 5))
    rows.push(["  mismatch", `${m.flow} offset ${m.offset}: ${m.what}`]);
  rows.push(["  excluded", f.excluded]);
  return rows;
}
