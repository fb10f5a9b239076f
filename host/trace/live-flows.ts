// The flows of a capture that are live at a point of its replay, for serve
// mode's pre-scan and replay pass (issue 10: 1 M concurrent connections). Both
// passes run this same table over the same packets, so they agree on which
// packets open a new flow and number the flows alike (the flow ordinal, an
// index into the pre-scan's records, host/trace/prescan.ts).
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
// Memory per live flow: an index entry (44 B, at a load of 1/4 to 1/2: 88-176
// B), the key copy for release (40 B), ordinal, ISN, generation, free-list entry
// (16 B), proto and state (2 B), a close-queue entry while closing (16 B); the
// arrays grow by doubling: 160-330 B per live flow (bytes() says).
import { TraceError } from "../io/errors.ts";
import { FlowIndex } from "./flow-index.ts";

/** Capture seconds a closed TCP flow stays in the table (as the serving core's TIME-WAIT, 2 × MSL of 1 s). */
export const CLOSE_HOLD_S = 2;

const KW = 10; // key words: tag (proto << 8 | v6), ports, src[4], dst[4]
const ST_FIN_C = 1;
const ST_FIN_S = 2;
const ST_CLOSED = 4;
const ST_TW = 8; // closed by the server first: in the core's TIME-WAIT during the hold

/** lookup(): not found. Found in the client's direction: the slot; in the server's: -2 - slot. */
export const NO_FLOW = -1;

export class LiveFlows {
  private readonly index: FlowIndex;
  private keys: Uint32Array;
  /** Per slot: the flow's ordinal, client ISN (TCP), generation, proto, state. */
  ord: Int32Array;
  isn: Uint32Array;
  private gen: Uint32Array;
  private proto: Uint8Array;
  private state: Uint8Array;
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
    this.keys = new Uint32Array(capacity * KW);
    this.ord = new Int32Array(capacity);
    this.isn = new Uint32Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.free = new Int32Array(capacity);
    this.cqSlot = new Int32Array(capacity);
    this.cqGen = new Uint32Array(capacity);
    this.cqAt = new Float64Array(capacity);
  }

  /** Bytes of its arrays (they only grow: the most it held). */
  get bytes(): number {
    const a = [this.keys, this.ord, this.isn, this.gen, this.proto, this.state, this.free];
    return (
      this.index.bytes +
      a.reduce((n, x) => n + x.byteLength, 0) +
      this.cqSlot.byteLength +
      this.cqGen.byteLength +
      this.cqAt.byteLength
    );
  }

  /** Slot arrays' capacity (grows by doubling). */
  get capacity(): number {
    return this.ord.length;
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
    const old = this.index.find(proto, v6, ports, a, sa, da);
    if (old >= 0) this.release(old);
    if (this.live >= this.maxLive)
      throw new TraceError(
        this.path,
        0,
        0,
        `more than ${this.maxLive} flows live at once: more than serve mode can hold in one core's memory (use --mode track)`,
      );
    const s = this.nFree ? this.free[--this.nFree] : this.top++;
    if (s >= this.ord.length) this.grow();
    const k = this.keys;
    const p = s * KW;
    k[p] = (proto << 8) | (v6 ? 6 : 4);
    k[p + 1] = ports >>> 0;
    for (let j = 0; j < 4; j++) {
      k[p + 2 + j] = v6 || j === 0 ? a[sa + j] : 0;
      k[p + 6 + j] = v6 || j === 0 ? a[da + j] : 0;
    }
    this.index.set(proto, v6, ports, a, sa, da, s);
    this.ord[s] = ord;
    this.isn[s] = isn >>> 0;
    this.proto[s] = proto;
    this.state[s] = 0;
    this.live++;
    this.open++;
    if (this.live > this.peakLive) this.peakLive = this.live;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    if (this.open + this.timeWait > this.peakHeld) this.peakHeld = this.open + this.timeWait;
    return s;
  }

  /** A FIN (fromClient: client→server) or RST on a live TCP flow at capture time t (s). */
  closeEvent(slot: number, fromClient: boolean, rst: boolean, t: number): void {
    let st = this.state[slot];
    if (st & ST_CLOSED) return;
    st |= rst ? ST_CLOSED : fromClient ? ST_FIN_C : ST_FIN_S;
    if ((st & (ST_FIN_C | ST_FIN_S)) === (ST_FIN_C | ST_FIN_S)) {
      st |= ST_CLOSED;
      if (fromClient && !rst) st |= ST_TW; // the server's FIN came first
    }
    this.state[slot] = st;
    if (!(st & ST_CLOSED)) return;
    this.open--;
    if (st & ST_TW) this.timeWait++;
    if (this.cqLen === this.cqSlot.length) this.growQueue();
    const q = (this.cqHead + this.cqLen++) % this.cqSlot.length;
    this.cqSlot[q] = slot;
    this.cqGen[q] = this.gen[slot];
    this.cqAt[q] = Math.max(t, this.clock) + CLOSE_HOLD_S;
  }

  /** Whether the flow in this slot has closed (RST, or a FIN each way). */
  closed(slot: number): boolean {
    return (this.state[slot] & ST_CLOSED) !== 0;
  }

  /** Moves the clock to capture time t (s): flows closed CLOSE_HOLD_S before are released. */
  advance(t: number): void {
    if (t <= this.clock) return;
    this.clock = t;
    const n = this.cqSlot.length;
    while (this.cqLen && this.cqAt[this.cqHead] <= t) {
      const s = this.cqSlot[this.cqHead];
      if (this.cqGen[this.cqHead] === this.gen[s]) this.release(s);
      this.cqHead = (this.cqHead + 1) % n;
      this.cqLen--;
    }
  }

  /** Releases every live flow (the end of a pass), in slot order. */
  releaseAll(): void {
    for (let s = 0; s < this.top; s++) if (this.proto[s]) this.release(s);
    this.cqHead = this.cqLen = 0;
    this.clock = -Infinity;
  }

  /** Forgets the peaks and the numbering state for another pass over the capture. */
  resetPeaks(): void {
    this.peakLive = this.live;
    this.peakOpen = this.open;
    this.peakHeld = this.open + this.timeWait;
  }

  private release(s: number): void {
    const k = this.keys;
    const p = s * KW;
    const t = k[p];
    this.onRelease?.(s);
    this.index.delete(t >>> 8, (t & 0xff) === 6, k[p + 1], k, p + 2, p + 6);
    if (!(this.state[s] & ST_CLOSED)) this.open--;
    if (this.state[s] & ST_TW) this.timeWait--;
    this.proto[s] = 0;
    this.state[s] = 0;
    this.gen[s]++;
    this.free[this.nFree++] = s;
    this.live--;
  }

  private grow(): void {
    const n = this.ord.length * 2;
    const g = <T extends Int32Array | Uint32Array | Uint8Array>(a: T, m = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(n * m);
      b.set(a);
      return b;
    };
    this.keys = g(this.keys, KW);
    this.ord = g(this.ord);
    this.isn = g(this.isn);
    this.gen = g(this.gen);
    this.proto = g(this.proto);
    this.state = g(this.state);
    this.free = g(this.free);
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
