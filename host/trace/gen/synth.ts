// TCP conversation synthesis for `ixwasm gen`: turns "bursts" (a handshake, one
// request/response exchange, a close) into Ethernet/IPv4/TCP frames with correct
// checksums, written straight into one output buffer as capture records.
//
// Why bursts: a workload only decides when something starts on which connection;
// the packets of that exchange (request segments, the server's ACKs and response
// segments, the client's ACKs) follow from fixed timing rules. Concurrent bursts
// interleave through a min-heap on their next packet time, so the file is in time
// order while each connection keeps its own sequence space. Nothing is allocated
// per packet: bursts live in typed arrays (struct of arrays), headers are written
// field by field, and checksums are sums of 16-bit words kept incrementally
// (constant parts once per burst, payload from prefix sums of the value pattern).
import { TraceWriter, type WriteFormat } from "../../io/writer.ts";
import { timeToNsTicks } from "../../io/timestamp.ts";
import { fmix32 } from "./prng.ts";

export const OPEN = 1;
export const XCHG = 2;
export const CLOSE = 3;

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

/** Bytes of message head kept per burst side (memcached header lines, keys ≤ 250 B). */
export const HEAD_MAX = 320;
/** Bytes of message tail kept per burst side ("\r\nEND\r\n" and the like). */
export const TAIL_MAX = 16;
const AREA = HEAD_MAX + TAIL_MAX;

/** Value bytes repeat with this period; a value of key k starts at a key-dependent phase. */
export const PATTERN_PERIOD = 4096;
/** The pattern twice over a jumbo segment, so any segment's value bytes are contiguous. */
const PATTERN_BYTES = PATTERN_PERIOD + 65536;

const ETH_IP_TCP = 14 + 20 + 32; // every segment carries the timestamp option
/** Copies of at least this many bytes use copyWithin (see copy()). */
const NATIVE_COPY = 64;
// Records are flushed every 256 KiB. Larger buffers (8 MiB before) fall out of the
// core's L2 cache between the writes here and the kernel's copy in write(2); at
// 256 KiB both stay in cache, and alternating runs of 2 M ETC packets to a file took
// 30-40 % less CPU (sys 0.2-0.3 s instead of 0.6-1.0 s). 1 MiB measured about the same.
const OUT_BYTES = 256 << 10;
/** Records written one by one at the start (see olenMax). */
const FLUSH_WARM = 64;
/** Largest record: pcapng EPB overhead + headers with SYN options + a 9000-byte MSS. */
const RECORD_MAX = 32 + 14 + 20 + 40 + 9000 + 4;
/** Linux's SYN window, and an established window of 8192 << 7 = 1 MiB (window scale 7). */
const SYN_WINDOW = 64240;
const WINDOW = 8192;
const WSCALE = 7;

export interface SynthOptions {
  path: string;
  format: WriteFormat;
  /** MSS announced in the SYNs; segments carry mss − 12 bytes (timestamps option). */
  mss: number;
  seed: number;
  /** Capture time of t = 0, in seconds since the epoch. */
  startSec?: number;
  /** Burst slots to allocate up front (the pool doubles when needed). */
  poolHint?: number;
  /** Called every 65536 packets (progress display). */
  onProgress?: (s: Synth) => void;
}

/** A workload: decides when bursts start; the synthesiser writes their packets. */
export interface Workload {
  /** Time (ns) of the next burst the workload wants to start; Infinity when none is due yet. */
  nextStart: number;
  /** Start the burst(s) due at nextStart (must make progress: start one or move nextStart). */
  admit(s: Synth): void;
  /** Burst b wrote its last packet at time s.now. */
  done(s: Synth, b: number): void;
}

/** Value bytes: printable, no spaces or CR/LF, so protocol text never appears by chance. */
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** tn − sec·10^9 as an int32 (tn whole, sec = ⌊tn/10^9⌋). */
function nsPart(tn: number, sec: number): number {
  return (tn - sec * 1e9) | 0;
}

/**
 * Calls nsPart with times past 2^31 ns before any packet: its type feedback then says
 * "any number" from the start. Fed only the small times of the first 2.1 s of a
 * capture, the optimizer assumed 31-bit integers and deoptimized frame() (twice, a
 * recompilation each) once the capture passed them.
 */
function primeNsPart(): void {
  for (let i = 0; i < 64; i++) nsPart(5e9 + i * 1.5, 5);
}

export class Synth {
  readonly seg: number;
  packets = 0;
  frameBytes = 0;
  /** Time of the last packet written (ns since t = 0). */
  now = 0;

  // Burst slots (struct of arrays).
  private cap = 0;
  private free!: Int32Array;
  private nfree = 0;
  bKind!: Uint8Array;
  bStream!: Uint8Array;
  bT0!: Float64Array;
  bR0!: Float64Array;
  bQGap!: Float64Array;
  bRGap!: Float64Array;
  bADelay!: Float64Array;
  bCDelay!: Float64Array;
  bNext!: Float64Array;
  bNq!: Uint32Array;
  bNa!: Uint32Array;
  bNr!: Uint32Array;
  bNc!: Uint32Array;
  bQ!: Uint32Array;
  bS!: Uint32Array;
  bC!: Uint32Array;
  bCseq!: Uint32Array;
  bSseq!: Uint32Array;
  bCip!: Uint32Array;
  bSip!: Uint32Array;
  bCport!: Uint16Array;
  bSport!: Uint16Array;
  bCts!: Uint32Array;
  bSts!: Uint32Array;
  bIpSum!: Uint32Array;
  bTcpSum!: Uint32Array;
  /** The workload's own id for the burst (connection number). */
  bTag!: Float64Array;
  /** Message layout per side (0 request, 1 response): head, value, value phase, tail. */
  bHl!: Uint32Array;
  bVl!: Uint32Array;
  bVb!: Uint32Array;
  bTl!: Uint32Array;
  bFinalAck!: Uint8Array;
  /**
   * One memory for the value pattern, the message heads and tails, and the output
   * records, so every payload copy is a native copyWithin (no view objects). Burst
   * b's side k head is at areaOff + (2b + k)·AREA, its tail HEAD_MAX further.
   */
  area!: Uint8Array;
  /** A view of `area` (workloads write message heads through it). */
  dv!: DataView;
  private areaOff = PATTERN_BYTES;
  private outOff = 0;

  // Min-heap of burst ids on bNext.
  private heap!: Int32Array;
  private hlen = 0;

  private readonly writer: TraceWriter;
  private olen = 0; // bytes of records at outOff
  // Flush when olen exceeds this. 0 for the first FLUSH_WARM records, each then
  // written on its own: the flush call is reached while frame() collects type
  // feedback (when first reached ~1500 packets in, after optimization, it
  // deoptimized frame() and cost a recompilation). The file is the same.
  private olenMax = 0;
  private flushes = 0;
  private orecs = 0;
  private readonly fmt: number; // 0 pcap µs, 1 pcap ns, 2 pcapng
  private readonly startSec: number;
  private readonly baseTicks = { hi: 0, lo: 0 };
  private readonly onProgress?: (s: Synth) => void;

  // Prefix sums of the value pattern's even- and odd-indexed bytes.
  private readonly sumEven: Int32Array;
  private readonly sumOdd: Int32Array;

  constructor(private readonly o: SynthOptions) {
    this.seg = o.mss - 12;
    this.startSec = o.startSec ?? 1704067200; // 2024-01-01T00:00:00Z: fixed, so files are reproducible
    timeToNsTicks(this.startSec, 0, this.baseTicks);
    this.fmt = o.format === "pcap" ? 0 : o.format === "pcap-ns" ? 1 : 2;
    this.onProgress = o.onProgress;
    this.grow(Math.max(16, o.poolHint ?? 64));
    const n = PATTERN_BYTES;
    const pat = this.area;
    let h = 0x2545f491;
    for (let i = 0; i < PATTERN_PERIOD; i++) {
      h = fmix32((h + i) >>> 0);
      pat[i] = ALPHABET.charCodeAt(h % ALPHABET.length);
    }
    for (let i = PATTERN_PERIOD; i < n; i++) pat[i] = pat[i - PATTERN_PERIOD];
    this.sumEven = new Int32Array(n + 1);
    this.sumOdd = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.sumEven[i + 1] = this.sumEven[i] + (i & 1 ? 0 : pat[i]);
      this.sumOdd[i + 1] = this.sumOdd[i] + (i & 1 ? pat[i] : 0);
    }
    this.writer = new TraceWriter(o.path, { format: o.format, linktype: 1, snaplen: 65535 });
    this.writer.interfaceFor(1);
    primeNsPart();
  }

  /** Bytes of state per burst slot (for the memory statement). */
  static readonly BYTES_PER_BURST = 11 * 8 + 24 * 4 + 2 * 2 + 3 + 2 * AREA + 8;

  private grow(n: number): void {
    const old = this.cap;
    const f64 = (a: Float64Array | undefined): Float64Array => {
      const x = new Float64Array(n);
      if (a) x.set(a);
      return x;
    };
    const u32 = (a: Uint32Array | undefined, k = 1): Uint32Array => {
      const x = new Uint32Array(n * k);
      if (a) x.set(a);
      return x;
    };
    const u16 = (a: Uint16Array | undefined): Uint16Array => {
      const x = new Uint16Array(n);
      if (a) x.set(a);
      return x;
    };
    const u8 = (a: Uint8Array | undefined, k = 1): Uint8Array => {
      const x = new Uint8Array(n * k);
      if (a) x.set(a);
      return x;
    };
    this.bKind = u8(this.bKind);
    this.bStream = u8(this.bStream);
    this.bFinalAck = u8(this.bFinalAck);
    this.bT0 = f64(this.bT0);
    this.bR0 = f64(this.bR0);
    this.bQGap = f64(this.bQGap);
    this.bRGap = f64(this.bRGap);
    this.bADelay = f64(this.bADelay);
    this.bCDelay = f64(this.bCDelay);
    this.bNext = f64(this.bNext);
    this.bTag = f64(this.bTag);
    this.bNq = u32(this.bNq);
    this.bNa = u32(this.bNa);
    this.bNr = u32(this.bNr);
    this.bNc = u32(this.bNc);
    this.bQ = u32(this.bQ);
    this.bS = u32(this.bS);
    this.bC = u32(this.bC);
    this.bCseq = u32(this.bCseq);
    this.bSseq = u32(this.bSseq);
    this.bCip = u32(this.bCip);
    this.bSip = u32(this.bSip);
    this.bCts = u32(this.bCts);
    this.bSts = u32(this.bSts);
    this.bIpSum = u32(this.bIpSum);
    this.bTcpSum = u32(this.bTcpSum);
    this.bHl = u32(this.bHl, 2);
    this.bVl = u32(this.bVl, 2);
    this.bVb = u32(this.bVb, 2);
    this.bTl = u32(this.bTl, 2);
    this.bCport = u16(this.bCport);
    this.bSport = u16(this.bSport);
    // Pattern, areas and output move to a bigger memory together (records flushed first).
    if (this.olen) this.flush();
    const mem = new Uint8Array(PATTERN_BYTES + n * 2 * AREA + OUT_BYTES);
    if (this.area) mem.set(this.area.subarray(0, this.outOff));
    this.area = mem;
    this.outOff = PATTERN_BYTES + n * 2 * AREA;
    this.dv = new DataView(mem.buffer);
    const heap = new Int32Array(n);
    if (this.heap) heap.set(this.heap);
    this.heap = heap;
    const free = new Int32Array(n);
    if (this.free) free.set(this.free.subarray(0, this.nfree));
    for (let i = n - 1; i >= old; i--) free[this.nfree++] = i;
    this.free = free;
    this.cap = n;
  }

  /** Burst slots in use right now, and the most ever (for the memory statement). */
  active = 0;
  peakActive = 0;

  /**
   * Takes a burst slot for connection (client ip:port ↔ server ip:port) whose next
   * sequence numbers are cseq (client) and sseq (server). For OPEN they are ISN + 1.
   * Fill the message with head()/value()/tail() (XCHG), then call start().
   */
  begin(
    kind: number,
    tag: number,
    cip: number,
    cport: number,
    sip: number,
    sport: number,
    cseq: number,
    sseq: number,
  ): number {
    if (this.nfree === 0) this.grow(this.cap * 2);
    const b = this.free[--this.nfree];
    if (++this.active > this.peakActive) this.peakActive = this.active;
    this.bKind[b] = kind;
    this.bTag[b] = tag;
    this.bCip[b] = cip;
    this.bSip[b] = sip;
    this.bCport[b] = cport;
    this.bSport[b] = sport;
    this.bCseq[b] = cseq;
    this.bSseq[b] = sseq;
    // Per-host timestamp clocks start at a host-dependent value, as on real hosts.
    this.bCts[b] = fmix32(cip ^ 0x1b873593);
    this.bSts[b] = fmix32(sip ^ 0x1b873593);
    const ipw = (cip >>> 16) + (cip & 0xffff) + (sip >>> 16) + (sip & 0xffff);
    this.bIpSum[b] = 0x4500 + 0x4000 + 0x4006 + ipw;
    this.bTcpSum[b] = ipw + 6 + cport + sport;
    this.bHl[2 * b] = this.bVl[2 * b] = this.bTl[2 * b] = 0;
    this.bHl[2 * b + 1] = this.bVl[2 * b + 1] = this.bTl[2 * b + 1] = 0;
    return b;
  }

  /** Offset in `area` where side k's head of burst b goes (write ≤ HEAD_MAX bytes, then setHead). */
  headAt(b: number, k: number): number {
    return this.areaOff + (2 * b + k) * AREA;
  }

  setHead(b: number, k: number, len: number): void {
    this.bHl[2 * b + k] = len;
  }

  /** Side k carries a value of len bytes from the pattern at phase `phase`, after the head. */
  setValue(b: number, k: number, len: number, phase: number): void {
    this.bVl[2 * b + k] = len;
    this.bVb[2 * b + k] = phase % PATTERN_PERIOD;
  }

  tailAt(b: number, k: number): number {
    return this.areaOff + (2 * b + k) * AREA + HEAD_MAX;
  }

  setTail(b: number, k: number, len: number): void {
    this.bTl[2 * b + k] = len;
  }

  msgLen(b: number, k: number): number {
    const i = 2 * b + k;
    return this.bHl[i] + this.bVl[i] + this.bTl[i];
  }

  /**
   * Schedules burst b. Client packets of an exchange go at t0 + i·qGap; the server's
   * response starts rDelay after the last request segment and continues every rGap;
   * the server ACKs every second request segment after aDelay; the client ACKs every
   * second response segment (and the last one when finalAck) cDelay after it. For
   * OPEN and CLOSE: the client's SYN/FIN at t0, the server's answer rDelay later, the
   * client's ACK cDelay after that.
   */
  start(
    b: number,
    t0: number,
    qGap: number,
    rDelay: number,
    rGap: number,
    aDelay: number,
    cDelay: number,
    finalAck: boolean,
  ): void {
    const seg = this.seg;
    let nq = 1;
    let nr = 1;
    let nc = 1;
    let na = 0;
    if (this.bKind[b] === XCHG) {
      const ql = this.msgLen(b, 0);
      const rl = this.msgLen(b, 1);
      nq = ql > seg ? Math.ceil(ql / seg) : 1;
      nr = rl > seg ? Math.ceil(rl / seg) : 1; // an empty response is one pure ACK
      na = (nq - 1) >>> 1;
      nc = rl === 0 ? 0 : (nr >>> 1) + (finalAck && nr & 1 ? 1 : 0);
    }
    this.bNq[b] = nq;
    this.bNa[b] = na;
    this.bNr[b] = nr;
    this.bNc[b] = nc;
    this.bQ[b] = this.bS[b] = this.bC[b] = 0;
    this.bT0[b] = t0;
    this.bQGap[b] = qGap;
    this.bR0[b] = t0 + (nq - 1) * qGap + rDelay;
    this.bRGap[b] = rGap;
    this.bADelay[b] = aDelay;
    this.bCDelay[b] = cDelay;
    this.bFinalAck[b] = finalAck ? 1 : 0;
    this.schedule(b);
    this.push(b);
  }

  /** Sets bNext/bStream to the burst's next packet; false when it has none left. */
  private schedule(b: number): boolean {
    let best = Infinity;
    let st = 255;
    const q = this.bQ[b];
    if (q < this.bNq[b]) {
      best = this.bT0[b] + q * this.bQGap[b];
      st = 0;
    }
    const s = this.bS[b];
    const na = this.bNa[b];
    if (s < na + this.bNr[b]) {
      const t =
        s < na
          ? this.bT0[b] + (2 * s + 1) * this.bQGap[b] + this.bADelay[b]
          : this.bR0[b] + (s - na) * this.bRGap[b];
      if (t < best) {
        best = t;
        st = 1;
      }
    }
    const c = this.bC[b];
    if (c < this.bNc[b]) {
      const nr = this.bNr[b];
      const r = 2 * c + 1 < nr ? 2 * c + 1 : nr - 1;
      const t = this.bR0[b] + r * this.bRGap[b] + this.bCDelay[b];
      if (t < best) {
        best = t;
        st = 2;
      }
    }
    this.bNext[b] = best;
    this.bStream[b] = st;
    return st !== 255;
  }

  /** Runs the workload to the end and closes the file. */
  run(w: Workload): void {
    while (this.pump(w, 4096)) {}
    this.flush();
    this.writer.close();
  }

  /**
   * Runs at most n steps; false once the workload is finished. A loop that runs for
   * the whole generation in one call only gets optimized code by on-stack replacement,
   * and profiles showed it staying in baseline code; a function called again and again
   * is optimized as usual.
   */
  private pump(w: Workload, n: number): boolean {
    for (let i = 0; i < n; i++) {
      const tb = this.hlen ? this.bNext[this.heap[0]] : Infinity;
      if (w.nextStart <= tb) {
        if (w.nextStart === Infinity) return false;
        w.admit(this);
        continue;
      }
      const b = this.heap[0];
      this.step(b);
      if (this.schedule(b)) this.siftDown(0);
      else {
        this.pop();
        w.done(this, b);
        this.free[this.nfree++] = b;
        this.active--;
      }
      // onProgress first: a property load reached only every 65536 packets had no type
      // feedback when pump was first optimized, and cost a deoptimization.
      if (this.onProgress !== undefined && (this.packets & 0xffff) === 0) this.onProgress(this);
    }
    return true;
  }

  /** Bytes written to the file so far (headers included). */
  fileBytes = 0;

  // ---- packets ----

  // Sequence numbers go to frame() as offsets from the burst's own (cseq, sseq), and
  // the time is read from bNext there: uint32 seqs above 2^30 and fractional times
  // would otherwise be boxed as heap numbers on every call (V8's small integers are
  // 31-bit), which showed as garbage-collector time in profiles.
  private step(b: number): void {
    const st = this.bStream[b];
    const kind = this.bKind[b];
    this.now = this.bNext[b];
    if (kind === XCHG) {
      const seg = this.seg;
      if (st === 0) {
        const q = this.bQ[b]++;
        const ql = this.msgLen(b, 0);
        const off = q * seg;
        const len = ql - off < seg ? ql - off : seg;
        this.frame(b, true, off + len === ql ? ACK | PSH : ACK, off, 0, 0, off, len);
      } else if (st === 1) {
        const s = this.bS[b]++;
        const na = this.bNa[b];
        if (s < na) this.frame(b, false, ACK, 0, (2 * s + 2) * seg, 0, 0, 0);
        else {
          const rl = this.msgLen(b, 1);
          const off = (s - na) * seg;
          const len = rl - off < seg ? rl - off : seg;
          const flags = len > 0 && off + len === rl ? ACK | PSH : ACK;
          this.frame(b, false, flags, off, this.msgLen(b, 0), 1, off, len);
        }
      } else {
        const c = this.bC[b]++;
        const nr = this.bNr[b];
        const r = 2 * c + 1 < nr ? 2 * c + 1 : nr - 1;
        const rl = this.msgLen(b, 1);
        // The product once, outside the conditional: computed only in its taken arm it
        // had no type feedback until the first multi-segment response (deoptimization).
        const upTo = (r + 1) * seg;
        const acked = upTo < rl ? upTo : rl;
        this.frame(b, true, ACK, this.msgLen(b, 0), acked, 0, 0, 0);
      }
    } else if (kind === OPEN) {
      if (st === 0) {
        this.bQ[b]++;
        this.frame(b, true, SYN, -1, 0, 0, 0, 0); // a SYN's ACK field is zero (frame)
      } else if (st === 1) {
        this.bS[b]++;
        this.frame(b, false, SYN | ACK, -1, 0, 0, 0, 0);
      } else {
        this.bC[b]++;
        this.frame(b, true, ACK, 0, 0, 0, 0, 0);
      }
    } else {
      if (st === 0) {
        this.bQ[b]++;
        this.frame(b, true, FIN | ACK, 0, 0, 0, 0, 0);
      } else if (st === 1) {
        this.bS[b]++;
        this.frame(b, false, FIN | ACK, 0, 1, 0, 0, 0);
      } else {
        this.bC[b]++;
        this.frame(b, true, ACK, 1, 1, 0, 0, 0);
      }
    }
  }

  /**
   * Writes one record at time bNext[b]: the capture header, then Ethernet, IPv4 (DF,
   * TTL 64) and TCP with timestamps (plus MSS, SACK-permitted and window scale on
   * SYNs), then payload bytes [off, off+len) of side k's message. The sequence number
   * is the sender's next one plus seqOff, the ACK the receiver's plus ackOff (zero on
   * a SYN without ACK).
   */
  private frame(
    b: number,
    fromClient: boolean,
    flags: number,
    seqOff: number,
    ackOff: number,
    k: number,
    off: number,
    len: number,
  ): void {
    if (this.olen > this.olenMax) this.flush();
    const t = this.bNext[b];
    const dv = this.dv;
    const outOff = this.outOff;
    const syn = (flags & SYN) !== 0;
    const optLen = syn ? 20 : 12;
    const tcpLen = 20 + optLen + len;
    const frameLen = 14 + 20 + tcpLen;
    const tn = Math.floor(t);
    let p = outOff + this.olen;
    // Capture record header.
    const sec = Math.floor(tn / 1e9);
    // Below 1e9 and whole: int32 from here on, so the divisions below are integer ones.
    const nsec = nsPart(tn, sec);
    if (this.fmt === 2) {
      const padded = (frameLen + 3) & ~3;
      const total = 32 + padded;
      let lo = this.baseTicks.lo + (tn % 4294967296);
      let hi = this.baseTicks.hi + Math.floor(tn / 4294967296);
      if (lo >= 4294967296) {
        lo -= 4294967296;
        hi++;
      }
      dv.setUint32(p, 6, true);
      dv.setUint32(p + 4, total, true);
      dv.setUint32(p + 8, 0, true);
      dv.setUint32(p + 12, hi, true);
      dv.setUint32(p + 16, lo, true);
      dv.setUint32(p + 20, frameLen, true);
      dv.setUint32(p + 24, frameLen, true);
      dv.setUint32(p + 28 + padded - 4, 0, true); // padding bytes zero (before the frame overwrites its part)
      dv.setUint32(p + 28 + padded, total, true);
      p += 28;
      this.olen = p + padded + 4 - outOff;
    } else {
      // The sub-second field as a separate int32: written inline as a conditional,
      // V8 left this one store as a call to the DataView builtin.
      const sub = this.fmt === 1 ? nsec : (nsec / 1000) | 0;
      dv.setUint32(p, this.startSec + sec, true);
      dv.setUint32(p + 4, sub, true);
      dv.setUint32(p + 8, frameLen, true);
      dv.setUint32(p + 12, frameLen, true);
      p += 16;
      this.olen = p + frameLen - outOff;
    }
    this.orecs++;
    this.packets++;
    this.frameBytes += frameLen;
    const cip = this.bCip[b];
    const sip = this.bSip[b];
    const src = fromClient ? cip : sip;
    const dst = fromClient ? sip : cip;
    // Ethernet: locally administered MACs 02:00:<IPv4 address>.
    // Written as 32-bit words: 02 00 d d | d d 02 00 | s s s s | 08 00 45 00 (the last
    // two bytes start IPv4).
    dv.setUint32(p, 0x02000000 | (dst >>> 16));
    dv.setUint32(p + 4, ((dst << 16) | 0x0200) >>> 0);
    dv.setUint32(p + 8, src);
    dv.setUint32(p + 12, 0x08004500);
    // IPv4.
    const ip = p + 14;
    const totLen = 20 + tcpLen;
    dv.setUint16(ip + 2, totLen);
    dv.setUint32(ip + 4, 0x00004000);
    let s = this.bIpSum[b] + totLen;
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    dv.setUint32(ip + 8, 0x40060000 | (~s & 0xffff));
    dv.setUint32(ip + 12, src);
    dv.setUint32(ip + 16, dst);
    // TCP.
    const tcp = ip + 20;
    const sport = fromClient ? this.bCport[b] : this.bSport[b];
    const dport = fromClient ? this.bSport[b] : this.bCport[b];
    const seq = ((fromClient ? this.bCseq[b] : this.bSseq[b]) + seqOff) >>> 0;
    const ack = flags === SYN ? 0 : ((fromClient ? this.bSseq[b] : this.bCseq[b]) + ackOff) >>> 0;
    const offFlags = ((20 + optLen) << 10) | flags;
    const win = syn ? SYN_WINDOW : WINDOW;
    dv.setUint32(tcp, ((sport << 16) | dport) >>> 0);
    dv.setUint32(tcp + 4, seq);
    dv.setUint32(tcp + 8, ack);
    dv.setUint32(tcp + 12, ((offFlags << 16) | win) >>> 0);
    // Timestamps: 1 ms ticks of each host's clock; the echo is the peer's clock one
    // capture-to-peer delay earlier (the SYN-ACK echoes the SYN's value exactly).
    const myTs = fromClient ? this.bCts[b] : this.bSts[b];
    const peerTs = fromClient ? this.bSts[b] : this.bCts[b];
    // ⌊t/1e6⌋ from the whole second and nanoseconds above (t's fraction never carries).
    const tsval = (myTs + sec * 1000 + ((nsec / 1e6) | 0)) >>> 0;
    let tsecr = 0;
    if (!(flags & SYN) || flags & ACK) {
      const back = flags & SYN ? this.bT0[b] : Math.max(0, t - this.bCDelay[b]);
      tsecr = (peerTs + Math.floor(back / 1e6)) >>> 0;
    }
    let sum = this.bTcpSum[b] + tcpLen + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
    sum += offFlags + win + (tsval >>> 16) + (tsval & 0xffff) + (tsecr >>> 16) + (tsecr & 0xffff);
    const o = tcp + 20;
    if (syn) {
      const mss = this.o.mss;
      dv.setUint32(o, 0x02040000 | mss);
      dv.setUint32(o + 4, 0x0402080a);
      dv.setUint32(o + 8, tsval);
      dv.setUint32(o + 12, tsecr);
      dv.setUint32(o + 16, 0x01030300 | WSCALE);
      sum += 0x0204 + mss + 0x0402 + 0x080a + 0x0103 + (0x0300 | WSCALE);
    } else {
      dv.setUint32(o, 0x0101080a);
      dv.setUint32(o + 4, tsval);
      dv.setUint32(o + 8, tsecr);
      sum += 0x0101 + 0x080a;
    }
    if (len > 0) sum += this.payload(b, k, off, len, o + optLen);
    // sum < 2^31 (a 9000-byte payload adds < 2^29): two folds leave 16 bits.
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint32(tcp + 16, ((~sum & 0xffff) << 16) >>> 0); // checksum, urgent pointer 0
  }

  /**
   * Copies bytes [from, from+len) of side k's message (head, value, tail) to out[at]
   * and returns their 16-bit word sum (byte i of the payload is a high byte when i is
   * even: the TCP header before it has an even length).
   */
  private payload(b: number, k: number, from: number, len: number, at: number): number {
    const i = 2 * b + k;
    const hl = this.bHl[i];
    const vl = this.bVl[i];
    let sum = 0;
    let pos = 0; // payload position of the next byte
    let x = from;
    const end = from + len;
    if (x < hl) {
      const n = (end < hl ? end : hl) - x;
      sum += this.copySum(at, this.areaOff + i * AREA + x, n, 0);
      pos = n;
      x += n;
    }
    if (x < end && x < hl + vl) {
      const n = (end < hl + vl ? end : hl + vl) - x;
      const p0 = (this.bVb[i] + x - hl) % PATTERN_PERIOD;
      this.copy(at + pos, p0, n);
      const e = this.sumEven[p0 + n] - this.sumEven[p0];
      const od = this.sumOdd[p0 + n] - this.sumOdd[p0];
      sum += (p0 + pos) & 1 ? od * 256 + e : e * 256 + od;
      pos += n;
      x += n;
    }
    if (x < end)
      sum += this.copySum(at + pos, this.areaOff + i * AREA + HEAD_MAX + (x - hl - vl), end - x, pos);
    return sum;
  }

  // Copies inside `area`. TypedArray copyWithin is a call into the runtime that costs
  // more than copying a few dozen bytes, and most heads, tails and ETC values are
  // that short: below NATIVE_COPY bytes the copy is done here, 4 bytes at a time.

  /** Copies n bytes from mem[src] to mem[dst] (the ranges do not overlap). */
  private copy(dst: number, src: number, n: number): void {
    const mem = this.area;
    if (n >= NATIVE_COPY) {
      mem.copyWithin(dst, src, src + n);
      return;
    }
    const dv = this.dv;
    let j = 0;
    for (; j + 4 <= n; j += 4) dv.setUint32(dst + j, dv.getUint32(src + j, true), true);
    for (; j < n; j++) mem[dst + j] = mem[src + j];
  }

  /**
   * Copies n bytes from mem[src] to mem[dst] and returns their 16-bit word sum, the
   * first byte being payload position pos (a low byte when pos is odd).
   */
  private copySum(dst: number, src: number, n: number, pos: number): number {
    const mem = this.area;
    const dv = this.dv;
    let sum = 0;
    let j = 0;
    if (pos & 1 && n > 0) {
      sum = mem[dst] = mem[src];
      j = 1;
    }
    for (; j + 4 <= n; j += 4) {
      const w = dv.getUint32(src + j);
      dv.setUint32(dst + j, w);
      sum += (w >>> 16) + (w & 0xffff);
    }
    if (j + 2 <= n) {
      const w = dv.getUint16(src + j);
      dv.setUint16(dst + j, w);
      sum += w;
      j += 2;
    }
    if (j < n) sum += (mem[dst + j] = mem[src + j]) << 8;
    return sum;
  }

  private flush(): void {
    if (++this.flushes === FLUSH_WARM) this.olenMax = OUT_BYTES - RECORD_MAX;
    if (this.olen === 0) return;
    this.writer.writeRecords(this.area, this.outOff, this.olen, this.orecs);
    this.fileBytes += this.olen;
    this.olen = 0;
    this.orecs = 0;
  }

  // ---- heap on bNext ----

  private push(b: number): void {
    const h = this.heap;
    const key = this.bNext;
    let i = this.hlen++;
    const k = key[b];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (key[h[p]] <= k) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = b;
  }

  private pop(): void {
    const last = this.heap[--this.hlen];
    if (this.hlen > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const key = this.bNext;
    const n = this.hlen;
    const b = h[i];
    const k = key[b];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && key[h[c + 1]] < key[h[c]]) c++;
      if (key[h[c]] >= k) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = b;
  }
}
