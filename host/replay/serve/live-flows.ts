// The flows of a capture that are live at a point of its replay, for serve
// mode's pre-scan and replay pass (issue 10: 1 M concurrent connections). Both
// passes run this same table over the same packets, so they agree on which
// packets open a new flow and number the flows alike (the flow ordinal, an
// index into the pre-scan's records, host/replay/serve/prescan.ts).
//
// A TCP flow starts at a client SYN whose 4-tuple has no live flow, or whose
// live flow has another client ISN (a 4-tuple reused: a new flow, RFC 9293
// §3.4.1); a retransmitted SYN (same ISN) is the same flow. A UDP flow starts at
// the first datagram of a 4-tuple in either direction and lives to the end. A
// TCP flow closes at an RST or once both sides sent a FIN; it then stays for
// CLOSE_HOLD_S of capture time (the last ACK, retransmitted FINs) and is then
// released: its slot and index entry are reused, so memory follows the flows
// open at once, not the flows in the capture.
//
// What a serving core holds at once (`held`, its peak sizes the core): the open
// flows, plus the closed ones whose server sent the first FIN, for the hold: the
// core, as that server, keeps those in TIME-WAIT (RFC 9293 §3.6) for 2 s here;
// a connection the client closed first ends at the last ACK (LAST-ACK), and
// one reset ends at once.
//
// Memory per live flow: an index entry (44 B with its value, at a load of 1/4 to
// 1/2: 88-176 B), a 56-byte slot record (ordinal, ISN, generation, proto and
// state, the key for release), a free-list entry (4 B), a close-queue entry
// while closing (16 B); the arrays grow by doubling: 150-300 B per live flow
// (bytes() says).
import { TraceError } from "../../io/errors.ts";
import { FlowIndex } from "./flow-index.ts";

/** Capture seconds a closed TCP flow stays in the table (as the serving core's TIME-WAIT, 2 × MSL of 1 s). */
export const CLOSE_HOLD_S = 2;

// Per slot, one record of RW words (one or two cache lines: at 1 M live flows
// every array touched per packet is a cache miss): ordinal, client ISN,
// generation, proto | state << 8, the key (10 words, for release).
const RW = 14;
const R_ORD = 0;
const R_ISN = 1;
const R_GEN = 2;
const R_PS = 3;
const R_KEY = 4;
const ST_FIN_C = 1;
const ST_FIN_S = 2;
const ST_CLOSED = 4;
const ST_TW = 8; // closed by the server first: in the core's TIME-WAIT during the hold

/** lookup(): not found. Found in the client's direction: the slot; in the server's: -2 - slot. */
export const NO_FLOW = -1;

export class LiveFlows {
  private readonly index: FlowIndex;
  private rec: Uint32Array;
  private free: Int32Array;
  private nFree = 0;
  private top = 0; // slots ever used
  /** Closing flows: slot, its generation and release time, in close order (a ring). */
  private cqSlot: Int32Array;
  private cqGen: Uint32Array;
  private cqAt: Float64Array;
  private cqHead = 0;
  private cqLen = 0;
  private clock = -Infinity;
  /** Flows in the table now, and of them those not closed; their peaks. */
  live = 0;
  open = 0;
  peakLive = 0;
  peakOpen = 0;
  /** Closed flows in TIME-WAIT at the core; the peak of open + those (what the core holds). */
  timeWait = 0;
  peakHeld = 0;

  constructor(
    private readonly path: string,
    /** The most flows live at once (the memory bound); more is a clear error. */
    private readonly maxLive: number,
    /** Called with a slot as it is released (before it can be reused). */
    private readonly onRelease: ((slot: number) => void) | null = null,
    capacity = 1024,
  ) {
    this.index = new FlowIndex(capacity);
    this.rec = new Uint32Array(capacity * RW);
    this.free = new Int32Array(capacity);
    const q = Math.min(capacity, 1 << 16);
    this.cqSlot = new Int32Array(q);
    this.cqGen = new Uint32Array(q);
    this.cqAt = new Float64Array(q);
  }

  /** Bytes of its arrays (they only grow: the most it held). */
  get bytes(): number {
    return (
      this.index.bytes +
      this.rec.byteLength +
      this.free.byteLength +
      this.cqSlot.byteLength +
      this.cqGen.byteLength +
      this.cqAt.byteLength
    );
  }

  /** The flow ordinal (the pre-scan's record index) of a live slot. */
  ordOf(slot: number): number {
    return this.rec[slot * RW + R_ORD];
  }

  /** The client's ISN of a live TCP flow. */
  isnOf(slot: number): number {
    return this.rec[slot * RW + R_ISN];
  }

  /** Live flow of a packet: its slot (client→server), -2 - slot (server→client), or NO_FLOW. */
  lookup(proto: number, v6: boolean, ports: number, a: Uint32Array, sa: number, da: number): number {
    return this.index.findEither(proto, v6, ports, a, sa, da);
  }

  /** A new flow (client → server key as given); a live flow on the same key is released first. */
  add(
    proto: number,
    v6: boolean,
    ports: number,
    a: Uint32Array,
    sa: number,
    da: number,
    ord: number,
    isn: number,
  ): number {
    const s = this.nFree ? this.free[--this.nFree] : this.top++;
    if ((s + 1) * RW > this.rec.length) this.grow();
    const r = this.rec;
    const p = s * RW;
    r[p + R_ORD] = ord;
    r[p + R_ISN] = isn >>> 0;
    r[p + R_PS] = proto;
    const k = p + R_KEY;
    r[k] = (proto << 8) | (v6 ? 6 : 4);
    r[k + 1] = ports >>> 0;
    for (let j = 0; j < 4; j++) {
      r[k + 2 + j] = v6 || j === 0 ? a[sa + j] : 0;
      r[k + 6 + j] = v6 || j === 0 ? a[da + j] : 0;
    }
    this.live++;
    this.open++;
    // One probe: the key's entry now names s; a flow it named (a 4-tuple reused) is released.
    const old = this.index.set(proto, v6, ports, a, sa, da, s);
    if (old >= 0) this.release(old, false);
    if (this.live > this.maxLive)
      throw new TraceError(
        this.path,
        0,
        0,
        `more than ${this.maxLive} flows live at once: more than serve mode can hold in one core's memory (use --mode track)`,
      );
    if (this.live > this.peakLive) this.peakLive = this.live;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    if (this.open + this.timeWait > this.peakHeld) this.peakHeld = this.open + this.timeWait;
    return s;
  }

  /** A FIN (fromClient: client→server) or RST on a live TCP flow at capture time t (s). */
  closeEvent(slot: number, fromClient: boolean, rst: boolean, t: number): void {
    const p = slot * RW + R_PS;
    const ps = this.rec[p];
    let st = ps >>> 8;
    if (st & ST_CLOSED) return;
    st |= rst ? ST_CLOSED : fromClient ? ST_FIN_C : ST_FIN_S;
    if ((st & (ST_FIN_C | ST_FIN_S)) === (ST_FIN_C | ST_FIN_S)) {
      st |= ST_CLOSED;
      if (fromClient && !rst) st |= ST_TW; // the server's FIN came first
    }
    this.rec[p] = (ps & 0xff) | (st << 8);
    if (!(st & ST_CLOSED)) return;
    this.open--;
    if (st & ST_TW) this.timeWait++;
    if (this.cqLen === this.cqSlot.length) this.growQueue();
    const q = (this.cqHead + this.cqLen++) % this.cqSlot.length;
    this.cqSlot[q] = slot;
    this.cqGen[q] = this.rec[slot * RW + R_GEN];
    this.cqAt[q] = Math.max(t, this.clock) + CLOSE_HOLD_S;
  }

  /** Whether the flow in this slot has closed (RST, or a FIN each way). */
  closed(slot: number): boolean {
    return ((this.rec[slot * RW + R_PS] >>> 8) & ST_CLOSED) !== 0;
  }

  /** Moves the clock to capture time t (s): flows closed CLOSE_HOLD_S before are released. */
  advance(t: number): void {
    if (t <= this.clock) return;
    this.clock = t;
    const n = this.cqSlot.length;
    while (this.cqLen && this.cqAt[this.cqHead] <= t) {
      const s = this.cqSlot[this.cqHead];
      if (this.cqGen[this.cqHead] === this.rec[s * RW + R_GEN]) this.release(s, true);
      this.cqHead = (this.cqHead + 1) % n;
      this.cqLen--;
    }
  }

  /** Releases every live flow (the end of a pass), in slot order. */
  releaseAll(): void {
    for (let s = 0; s < this.top; s++) if (this.rec[s * RW + R_PS] & 0xff) this.release(s, true);
    this.cqHead = this.cqLen = 0;
    this.clock = -Infinity;
  }

  /** Forgets the peaks and the numbering state for another pass over the capture. */
  resetPeaks(): void {
    this.peakLive = this.live;
    this.peakOpen = this.open;
    this.peakHeld = this.open + this.timeWait;
  }

  /** Frees a slot (and its index entry, unless a new flow on its key took that over). */
  private release(s: number, unindex: boolean): void {
    const r = this.rec;
    const p = s * RW;
    this.onRelease?.(s);
    if (unindex) {
      const k = p + R_KEY;
      const t = r[k];
      this.index.delete(t >>> 8, (t & 0xff) === 6, r[k + 1], r, k + 2, k + 6);
    }
    const st = r[p + R_PS] >>> 8;
    if (!(st & ST_CLOSED)) this.open--;
    if (st & ST_TW) this.timeWait--;
    r[p + R_PS] = 0;
    r[p + R_GEN]++;
    this.free[this.nFree++] = s;
    this.live--;
  }

  private grow(): void {
    const r = new Uint32Array(this.rec.length * 2);
    r.set(this.rec);
    this.rec = r;
    const f = new Int32Array(this.free.length * 2);
    f.set(this.free);
    this.free = f;
  }

  private growQueue(): void {
    const n = this.cqSlot.length;
    const slot = new Int32Array(n * 2);
    const gen = new Uint32Array(n * 2);
    const at = new Float64Array(n * 2);
    for (let i = 0; i < this.cqLen; i++) {
      const q = (this.cqHead + i) % n;
      slot[i] = this.cqSlot[q];
      gen[i] = this.cqGen[q];
      at[i] = this.cqAt[q];
    }
    this.cqSlot = slot;
    this.cqGen = gen;
    this.cqAt = at;
    this.cqHead = 0;
  }
}
