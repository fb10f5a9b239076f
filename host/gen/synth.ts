// TCP conversation synthesis for `ixwasm gen`: turns "bursts" (a handshake, one
// request/response exchange, a close) into Ethernet/IPv4/TCP frames with correct
// checksums, written straight into one output buffer as capture records.
//
// Why bursts: a workload only decides when something starts on which connection;
// the packets of that exchange (request segments, the server's ACKs and response
// segments, the client's ACKs) follow from fixed timing rules. Concurrent bursts
// interleave through a min-heap on their next packet time, so the file is in time
// order while each connection keeps its own sequence space. Nothing is allocated
// per packet: bursts live in typed arrays (struct of arrays), and checksums are sums
// of 16-bit words kept incrementally (constant parts once per burst, payload from
// prefix sums of the value pattern).
//
// The records themselves are written by a small WASM module (assembly/gen/frame.ts,
// build/gen.wasm) in batches: step() leaves a descriptor (GD_*) per packet, and
// one call writes up to BATCH records with their headers, checksums and payload
// into the output buffer in the module's memory. The burst fields it reads, the
// message areas and the value pattern live in that memory too. A burst slot freed
// while its descriptors wait is not reused before the batch is written (pend).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TraceWriter, type WriteFormat } from "../io/writer.ts";
import { timeToNsTicks } from "../io/timestamp.ts";
import { fmix32 } from "../io/prng.ts";
import * as GEN from "../core/genframe.gen.ts";

export const OPEN = 1;
export const XCHG = 2;
export const CLOSE = 3;

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

// gen.wasm's descriptor, options and areas (abi/table/gen.ts) as this module's own
// constants: frame() runs per packet, and V8 folds a module's constants where an
// imported binding costs a load at each use.
const {
  AREA,
  DESC_BYTES,
  GD_W_TIME,
  GD_W_BURST,
  GD_W_FLAGS,
  GD_W_SEQ_OFF,
  GD_W_ACK_OFF,
  GD_W_OFF,
  GD_W_LEN,
  GD_F_CLIENT,
  GD_SIDE_SHIFT,
  HEAD_MAX,
  OPT_BYTES,
  PATTERN_PERIOD,
  SYN_OPT_BYTES,
} = GEN;
/** i32 words of a descriptor (the step of its Int32Array index). */
const DESC_WORDS = DESC_BYTES >>> 2;
/** The pattern twice over a jumbo segment, so any segment's value bytes are contiguous. */
const PATTERN_BYTES = PATTERN_PERIOD + 65536;

/** Descriptors per WASM call (8 KiB, in L1): the call (~4 ns) is spread over 256 packets. */
const BATCH = 256;
/** The module's own data and stack stay below this address. */
const LAYOUT_BASE = 65536;
// Records are flushed every 256 KiB. Larger buffers (8 MiB before) fall out of the
// core's L2 cache between the writes here and the kernel's copy in write(2); at
// 256 KiB both stay in cache, and alternating runs of 2 M ETC packets to a file took
// 30-40 % less CPU (sys 0.2-0.3 s instead of 0.6-1.0 s). 1 MiB measured about the same.
const OUT_BYTES = 256 << 10;
/** Records flushed one by one at the start (see olenMax). */
const FLUSH_WARM = 64;
/** Largest record: pcapng EPB overhead + headers with SYN options + a 9000-byte MSS. */
const RECORD_MAX = 32 + 14 + 20 + 40 + 9000 + 4;

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

interface FrameExports {
  memory: WebAssembly.Memory;
  setup(
    pattern: number,
    sumEven: number,
    sumOdd: number,
    desc: number,
    out: number,
    fmt: number,
    startSec: number,
    baseHi: number,
    baseLo: number,
    mss: number,
  ): void;
  setLayout(...addresses: number[]): void;
  frames(n: number, olen: number): number;
  DESC_BYTES: WebAssembly.Global;
}

let frameModule: WebAssembly.Module | undefined;

/** build/gen.wasm (package.json "imports"), or $IXWASM_CORE_DIR/gen.wasm. */
function loadFrameModule(): WebAssembly.Module {
  if (frameModule) return frameModule;
  const dir = process.env.IXWASM_CORE_DIR;
  const path = dir ? `${dir}/gen.wasm` : fileURLToPath(import.meta.resolve("#gen.wasm"));
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`gen frame writer not built (${path} missing): run \`npm install\` or \`npm run build\``);
  }
  frameModule = new WebAssembly.Module(bytes);
  return frameModule;
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
  // In the module's memory (read by frames()): addresses, ports, sequence numbers,
  // timestamp clocks, checksum parts, bT0, bCDelay, the message layout and areas.
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
   * The module's whole memory: value pattern, prefix sums, descriptors, output
   * records, message areas and burst fields. Burst b's side k head is at
   * areaOff + (2b + k)·AREA, its tail HEAD_MAX further.
   */
  area!: Uint8Array;
  /** A view of `area` (workloads write message heads through it). */
  dv!: DataView;
  private readonly wasm: FrameExports;
  private readonly patOff = LAYOUT_BASE;
  private readonly sumEvenOff = LAYOUT_BASE + PATTERN_BYTES;
  private readonly sumOddOff = this.sumEvenOff + 4 * (PATTERN_BYTES + 1);
  private readonly descOff = (this.sumOddOff + 4 * (PATTERN_BYTES + 1) + 7) & ~7;
  private readonly outOff = this.descOff + BATCH * DESC_BYTES;
  /** Start of the per-slot part (areas, then the burst fields), relaid out by grow(). */
  private readonly slotsOff = this.outOff + OUT_BYTES;
  private areaOff = 0;
  private descF!: Float64Array;
  private descI!: Int32Array;
  private nd = 0; // descriptors waiting
  private wolen = 0; // bytes of records frames() has written at outOff
  // Slots whose burst ended while descriptors may still refer to them.
  private pend!: Int32Array;
  private npend = 0;

  // Min-heap of burst ids on bNext.
  private heap!: Int32Array;
  private hlen = 0;

  private readonly writer: TraceWriter;
  private olen = 0; // bytes of records at outOff, queued ones included
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

  constructor(private readonly o: SynthOptions) {
    this.seg = o.mss - OPT_BYTES;
    this.startSec = o.startSec ?? 1704067200; // 2024-01-01T00:00:00Z: fixed, so files are reproducible
    timeToNsTicks(this.startSec, 0, this.baseTicks);
    this.fmt = o.format === "pcap" ? 0 : o.format === "pcap-ns" ? 1 : 2;
    this.onProgress = o.onProgress;
    this.wasm = new WebAssembly.Instance(loadFrameModule()).exports as unknown as FrameExports;
    // An older gen.wasm ($IXWASM_CORE_DIR) with another descriptor would write wrong records.
    if (this.wasm.DESC_BYTES.value !== DESC_BYTES)
      throw new Error(
        `gen.wasm's descriptor has ${this.wasm.DESC_BYTES.value} bytes, not ${DESC_BYTES}: rebuild it`,
      );
    this.grow(Math.max(16, o.poolHint ?? 64));
    const n = PATTERN_BYTES;
    const pat = this.area.subarray(this.patOff, this.patOff + n);
    let h = 0x2545f491;
    for (let i = 0; i < PATTERN_PERIOD; i++) {
      h = fmix32((h + i) >>> 0);
      pat[i] = ALPHABET.charCodeAt(h % ALPHABET.length);
    }
    for (let i = PATTERN_PERIOD; i < n; i++) pat[i] = pat[i - PATTERN_PERIOD];
    // Prefix sums of the pattern's even- and odd-indexed bytes.
    const sumEven = new Int32Array(this.area.buffer, this.sumEvenOff, n + 1);
    const sumOdd = new Int32Array(this.area.buffer, this.sumOddOff, n + 1);
    for (let i = 0; i < n; i++) {
      sumEven[i + 1] = sumEven[i] + (i & 1 ? 0 : pat[i]);
      sumOdd[i + 1] = sumOdd[i] + (i & 1 ? pat[i] : 0);
    }
    this.wasm.setup(
      this.patOff,
      this.sumEvenOff,
      this.sumOddOff,
      this.descOff,
      this.outOff,
      this.fmt,
      this.startSec,
      this.baseTicks.hi,
      this.baseTicks.lo,
      o.mss,
    );
    this.writer = new TraceWriter(o.path, { format: o.format, linktype: 1, snaplen: 65535 });
    this.writer.interfaceFor(1);
  }

  /** Bytes of state per burst slot (for the memory statement). */
  static readonly BYTES_PER_BURST = 11 * 8 + 25 * 4 + 2 * 2 + 3 + 2 * AREA + 8;

  private grow(n: number): void {
    const old = this.cap;
    const f64 = (a: Float64Array | undefined): Float64Array => {
      const x = new Float64Array(n);
      if (a) x.set(a);
      return x;
    };
    const u32 = (a: Uint32Array | undefined): Uint32Array => {
      const x = new Uint32Array(n);
      if (a) x.set(a);
      return x;
    };
    const u8 = (a: Uint8Array | undefined): Uint8Array => {
      const x = new Uint8Array(n);
      if (a) x.set(a);
      return x;
    };
    this.bKind = u8(this.bKind);
    this.bStream = u8(this.bStream);
    this.bFinalAck = u8(this.bFinalAck);
    this.bR0 = f64(this.bR0);
    this.bQGap = f64(this.bQGap);
    this.bRGap = f64(this.bRGap);
    this.bADelay = f64(this.bADelay);
    this.bNext = f64(this.bNext);
    this.bTag = f64(this.bTag);
    this.bNq = u32(this.bNq);
    this.bNa = u32(this.bNa);
    this.bNr = u32(this.bNr);
    this.bNc = u32(this.bNc);
    this.bQ = u32(this.bQ);
    this.bS = u32(this.bS);
    this.bC = u32(this.bC);
    // The module's part: records written and flushed first, the slot part copied out,
    // laid out again for n slots after the fixed part, and copied back.
    let saved: { areas: Uint8Array; fields: (Uint32Array | Uint16Array | Float64Array)[] } | undefined;
    if (old) {
      this.flush();
      saved = {
        areas: this.area.slice(this.areaOff, this.areaOff + old * 2 * AREA),
        fields: this.wasmFields().map((a) => a.slice()),
      };
    }
    this.areaOff = this.slotsOff;
    const end = this.layout(n);
    const mem = this.wasm.memory;
    const need = Math.ceil(end / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) mem.grow(need);
    this.views(n);
    if (saved) {
      this.area.set(saved.areas, this.areaOff);
      const now = this.wasmFields();
      for (let f = 0; f < now.length; f++) now[f].set(saved.fields[f]);
    }
    const heap = new Int32Array(n);
    if (this.heap) heap.set(this.heap);
    this.heap = heap;
    const free = new Int32Array(n);
    if (this.free) free.set(this.free.subarray(0, this.nfree));
    for (let i = n - 1; i >= old; i--) free[this.nfree++] = i;
    this.free = free;
    const pend = new Int32Array(n);
    if (this.pend) pend.set(this.pend.subarray(0, this.npend));
    this.pend = pend;
    this.cap = n;
  }

  // Burst fields in the module's memory, in layout order (u32 ×2 cap last).
  private static readonly U32_FIELDS = 8;
  private static readonly SIDE_FIELDS = 4;

  /** Byte address after the slot part for n slots (areas, then the fields of wasmFields()). */
  private layout(n: number): number {
    const f64 = 2 * 8 * n;
    const u32 = Synth.U32_FIELDS * 4 * n + Synth.SIDE_FIELDS * 8 * n;
    const fields = (this.areaOff + n * 2 * AREA + 7) & ~7;
    return fields + f64 + u32 + 2 * 2 * n;
  }

  private fieldsOff(n: number): number {
    return (this.areaOff + n * 2 * AREA + 7) & ~7;
  }

  /** Views on the module's memory (again after every memory.grow, which detaches the old ones). */
  private views(n: number): void {
    const buf = this.wasm.memory.buffer;
    this.area = new Uint8Array(buf);
    this.dv = new DataView(buf);
    this.descF = new Float64Array(buf, this.descOff, BATCH * (DESC_BYTES >>> 3));
    this.descI = new Int32Array(buf, this.descOff, BATCH * DESC_WORDS);
    let at = this.fieldsOff(n);
    const f64 = (): Float64Array => {
      const x = new Float64Array(buf, at, n);
      at += 8 * n;
      return x;
    };
    const u32 = (k = 1): Uint32Array => {
      const x = new Uint32Array(buf, at, n * k);
      at += 4 * n * k;
      return x;
    };
    this.bT0 = f64();
    this.bCDelay = f64();
    this.bCip = u32();
    this.bSip = u32();
    this.bCseq = u32();
    this.bSseq = u32();
    this.bCts = u32();
    this.bSts = u32();
    this.bIpSum = u32();
    this.bTcpSum = u32();
    this.bHl = u32(2);
    this.bVl = u32(2);
    this.bVb = u32(2);
    this.bTl = u32(2);
    this.bCport = new Uint16Array(buf, at, n);
    at += 2 * n;
    this.bSport = new Uint16Array(buf, at, n);
    const a = (x: { byteOffset: number }) => x.byteOffset;
    this.wasm.setLayout(
      a(this.bCip),
      a(this.bSip),
      a(this.bCport),
      a(this.bSport),
      a(this.bCseq),
      a(this.bSseq),
      a(this.bCts),
      a(this.bSts),
      a(this.bIpSum),
      a(this.bTcpSum),
      a(this.bT0),
      a(this.bCDelay),
      a(this.bHl),
      a(this.bVl),
      a(this.bVb),
      a(this.bTl),
      this.areaOff,
    );
  }

  private wasmFields(): (Uint32Array | Uint16Array | Float64Array)[] {
    return [
      this.bT0,
      this.bCDelay,
      this.bCip,
      this.bSip,
      this.bCseq,
      this.bSseq,
      this.bCts,
      this.bSts,
      this.bIpSum,
      this.bTcpSum,
      this.bHl,
      this.bVl,
      this.bVb,
      this.bTl,
      this.bCport,
      this.bSport,
    ];
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
    if (this.nfree === 0) {
      if (this.npend) this.writeBatch();
      else this.grow(this.cap * 2);
    }
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
        this.pend[this.npend++] = b; // free once its descriptors are written
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
   * Queues one record at time bNext[b]: the capture header, then Ethernet, IPv4 (DF,
   * TTL 64) and TCP with timestamps (plus MSS, SACK-permitted and window scale on
   * SYNs), then payload bytes [off, off+len) of side k's message. The sequence number
   * is the sender's next one plus seqOff, the ACK the receiver's plus ackOff (zero on
   * a SYN without ACK). frames() in assembly/gen/frame.ts writes it.
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
    const frameLen = 14 + 20 + 20 + ((flags & SYN) !== 0 ? SYN_OPT_BYTES : OPT_BYTES) + len;
    this.olen += this.fmt === 2 ? 32 + ((frameLen + 3) & ~3) : 16 + frameLen;
    this.orecs++;
    this.packets++;
    this.frameBytes += frameLen;
    const d = this.nd++;
    const i = d * DESC_WORDS;
    this.descF[(i + GD_W_TIME) >>> 1] = this.bNext[b];
    const di = this.descI;
    di[i + GD_W_BURST] = b;
    di[i + GD_W_FLAGS] = flags | (fromClient ? GD_F_CLIENT : 0) | (k << GD_SIDE_SHIFT);
    di[i + GD_W_SEQ_OFF] = seqOff;
    di[i + GD_W_ACK_OFF] = ackOff;
    di[i + GD_W_OFF] = off;
    di[i + GD_W_LEN] = len;
    if (this.nd === BATCH) this.writeBatch();
  }

  /** Writes the queued records into the output buffer and frees the slots waiting on them. */
  private writeBatch(): void {
    if (this.nd) {
      this.wolen = this.wasm.frames(this.nd, this.wolen);
      this.nd = 0;
    }
    for (let i = 0; i < this.npend; i++) this.free[this.nfree++] = this.pend[i];
    this.npend = 0;
  }

  private flush(): void {
    if (++this.flushes === FLUSH_WARM) this.olenMax = OUT_BYTES - RECORD_MAX;
    this.writeBatch();
    if (this.olen === 0) return;
    if (this.wolen !== this.olen)
      throw new Error(`gen: frames wrote ${this.wolen} bytes, expected ${this.olen}`);
    this.writer.writeRecords(this.area, this.outOff, this.olen, this.orecs);
    this.fileBytes += this.olen;
    this.olen = 0;
    this.wolen = 0;
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
