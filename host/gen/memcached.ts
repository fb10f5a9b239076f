// `gen etc` and `gen usr`: memcached request streams after Atikoglu et al.
// (SIGMETRICS 2012). Each server sees requests at Generalized-Pareto inter-arrival
// times; a request takes the connection to that server that has been idle longest
// (if all are busy it waits for the first to free up, and is counted as delayed).
// Keys follow Zipf popularity; GET or SET by the ratio; a SET stores a fresh value
// size, and a GET returns exactly the value last SET for that key (the bytes are a
// function of key and size), or a miss. ASCII or binary protocol.
import { C_BUSY, C_CLOSED, C_CLOSING, C_IDLE, C_OPENING, Conns } from "./conns.ts";
import {
  ACK_DELAY_NS,
  SERVICE_NS,
  TimeHeap,
  US,
  keyDigits,
  wireNs,
  type GenOptions,
  type GenStats,
} from "./common.ts";
import {
  ETC_IA,
  KeyPermutation,
  MAX_VALUE,
  USR_KEY_BYTES,
  USR_VALUE_BYTES,
  Zipf,
  clampKey,
  etcKeySizes,
  etcValueSize,
  gpdQuantile,
} from "./dist.ts";
import { Xoshiro128, type Rng, fmix32 } from "../io/prng.ts";
import { CLOSE, OPEN, type Synth, type Workload } from "./synth.ts";

const PH_OPEN = 0;
const PH_RUN = 1;
const PH_CLOSE = 2;
const PH_END = 3;

// Protocol text as bytes: copying these is cheaper than charCodeAt over a string.
const ascii = (t: string): Uint8Array => Uint8Array.from(t, (c) => c.charCodeAt(0));
const NOT_FOUND = ascii("Not found");
// The ASCII protocol's fixed text as big-endian 16- and 32-bit words, written with
// one store each (byte by byte, a GET's 24 bytes of it cost ~4 % of ETC generation).
const be = (t: string): number => {
  let w = 0;
  for (let i = 0; i < t.length; i++) w = w * 256 + t.charCodeAt(i);
  return w;
};
const GET_ = be("get ");
const SET_ = be("set ");
const CRLF = be("\r\n");
const LF = 10;
const SP = 32;
const END_ = be("END\r"); // + LF
const VALU = be("VALU"); // + "E "
const E_ = be("E ");
const SP0 = be(" 0"); // + SP
const SP0SP0 = be(" 0 0"); // + SP
const CRLF_EN = be("\r\nEN"); // + "D\r" + LF
const D_CR = be("D\r");
const STOR = be("STOR");
const ED_CRLF = be("ED\r\n");

/** Bytes of state per key: value size (4), CAS (4), key size (1). */
export const BYTES_PER_KEY = 9;

export class MemcachedWorkload implements Workload {
  nextStart = 0;
  private phase = PH_OPEN;
  private k = 0; // next connection to open or close
  private readonly conns: Conns;
  private readonly rng: Rng;
  private readonly zipf: Zipf;
  private readonly perm: KeyPermutation;
  private readonly keySize: Uint8Array;
  private readonly valSize: Int32Array;
  private readonly cas: Uint32Array;
  private casNext = 1;
  private opaque = 0;
  private readonly binary: boolean;
  private readonly usr: boolean;
  // Per server: next arrival, last arrival, waiting flag, and a FIFO of idle connections.
  private readonly arrivals: TimeHeap;
  private readonly last: Float64Array;
  private readonly waiting: Uint8Array;
  private readonly fifo: Int32Array;
  private readonly fHead: Int32Array;
  private readonly fLen: Int32Array;
  private readonly perServer: number;
  private readonly iaSigma: number;
  private readonly gap: number;

  constructor(
    private readonly o: GenOptions,
    private readonly st: GenStats,
  ) {
    this.usr = o.workload === "usr";
    this.binary = o.protocol === "binary";
    this.conns = new Conns(o.conns, o.clients, o.servers, o.port, o.seed);
    this.rng = new Xoshiro128(o.seed, 1);
    this.zipf = new Zipf(o.keys, o.zipf).buildAlias();
    this.perm = new KeyPermutation(o.keys, o.seed);
    const minLen = keyDigits(o.keys);
    if (this.usr) this.keySize = new Uint8Array(o.keys).fill(clampKey(USR_KEY_BYTES, minLen));
    else this.keySize = etcKeySizes(this.perm, o.zipf, minLen);
    this.valSize = new Int32Array(o.keys).fill(-1);
    this.cas = new Uint32Array(o.keys);
    const S = o.servers;
    this.arrivals = new TimeHeap(S);
    this.last = new Float64Array(S);
    this.waiting = new Uint8Array(S);
    this.perServer = Math.ceil(o.conns / S);
    this.fifo = new Int32Array(S * this.perServer);
    this.fHead = new Int32Array(S);
    this.fLen = new Int32Array(S);
    // --rate rescales the GPD so its mean is 1/rate and keeps its shape.
    this.iaSigma = o.rate > 0 ? ((1 - ETC_IA.xi) * 1e9) / o.rate : ETC_IA.sigmaUs * US;
    this.gap = 1 * US;
    this.nextStart = 0;
  }

  private ia(): number {
    return gpdQuantile(this.rng.unit(), 0, this.iaSigma, ETC_IA.xi);
  }

  admit(s: Synth): void {
    const o = this.o;
    const c = this.conns;
    if (this.phase === PH_OPEN) {
      c.open(s, this.k, this.nextStart, SERVICE_NS, o.rttNs);
      this.st.opened();
      if (++this.k < o.conns) this.nextStart += this.gap;
      else {
        // Requests begin once every handshake is through.
        this.phase = PH_RUN;
        const t0 = this.nextStart + SERVICE_NS + o.rttNs + this.gap;
        for (let srv = 0; srv < o.servers; srv++) {
          this.last[srv] = t0;
          this.arrivals.push(srv, t0 + this.ia());
        }
        this.nextStart = this.arrivals.topTime;
      }
      return;
    }
    if (this.phase === PH_RUN) {
      const t = this.nextStart;
      if (s.packets >= o.maxPackets || t >= o.durationNs) {
        this.phase = PH_CLOSE;
        this.k = 0;
        this.nextStart = Math.max(t, s.now);
        return;
      }
      const srv = this.arrivals.pop();
      if (this.fLen[srv] > 0) {
        this.request(s, this.take(srv), srv, t);
        this.arrivals.push(srv, t + this.ia());
      } else {
        this.waiting[srv] = 1; // resumes in done() when a connection to srv frees up
        this.st.delayed++;
      }
      this.nextStart = this.arrivals.topTime;
      return;
    }
    if (this.phase === PH_CLOSE) {
      // Close idle connections one by one; busy ones close when their exchange ends.
      while (this.k < o.conns && c.state[this.k] !== C_IDLE) {
        if (c.state[this.k] === C_BUSY || c.state[this.k] === C_OPENING) c.state[this.k] = C_CLOSING;
        this.k++;
      }
      if (this.k < o.conns) {
        c.close(s, this.k++, this.nextStart, SERVICE_NS, o.rttNs);
        this.nextStart += this.gap;
      } else {
        this.phase = PH_END;
        this.nextStart = Infinity;
      }
    }
  }

  done(s: Synth, b: number): void {
    const k = s.bTag[b];
    const c = this.conns;
    const kind = s.bKind[b];
    if (kind === CLOSE) {
      c.state[k] = C_CLOSED;
      this.st.closed();
      return;
    }
    if (c.state[k] === C_CLOSING || (this.phase >= PH_CLOSE && kind === OPEN)) {
      // Closing began while this exchange ran: close right after it.
      c.close(s, k, s.now + this.gap, SERVICE_NS, this.o.rttNs);
      return;
    }
    c.state[k] = C_IDLE;
    const srv = c.server(k);
    if (this.waiting[srv] && this.phase === PH_RUN) {
      this.waiting[srv] = 0;
      this.request(s, k, srv, s.now);
      this.arrivals.push(srv, s.now + this.ia());
      this.nextStart = this.arrivals.topTime;
      return;
    }
    const at = (this.fHead[srv] + this.fLen[srv]++) % this.perServer;
    this.fifo[srv * this.perServer + at] = k;
  }

  private take(srv: number): number {
    const k = this.fifo[srv * this.perServer + this.fHead[srv]];
    this.fHead[srv] = (this.fHead[srv] + 1) % this.perServer;
    this.fLen[srv]--;
    return k;
  }

  /** One request on connection k to server srv arriving at t, and its response. */
  private request(s: Synth, k: number, srv: number, t: number): void {
    const st = this.st;
    const o = this.o;
    st.interArrivalNs.add(Math.max(0, t - this.last[srv]));
    this.last[srv] = t;
    if (this.pN) this.applySets(t);
    const isGet = this.rng.unit() < o.getRatio;
    const key = this.perm.index(this.zipf.sample(this.rng));
    const kl = this.keySize[key];
    st.requests++;
    st.keySize.add(kl);
    const b = this.conns.exchange(s, k);
    const phase = fmix32((key ^ o.seed) >>> 0);
    if (isGet) {
      st.gets++;
      const v = this.valSize[key];
      if (v >= 0) st.hits++;
      if (this.binary) this.binGet(s, b, key, kl, v, phase);
      else this.asciiGet(s, b, key, kl, v, phase);
    } else {
      st.sets++;
      const v = this.usr ? USR_VALUE_BYTES : etcValueSize(this.rng, MAX_VALUE);
      st.valueSize.add(v);
      this.setSize = v;
      this.setCas = this.casNext++;
      if (this.binary) this.binSet(s, b, key, kl, v, phase);
      else this.asciiSet(s, b, key, kl, v, phase);
    }
    this.conns.commit(s, k, b);
    const gap = wireNs(s.seg);
    s.start(b, t, gap, SERVICE_NS, gap, ACK_DELAY_NS, o.rttNs, true);
    // The server stores a SET when its last byte is in: a GET that arrives while a
    // long SET is still arriving sees the old value, as memcached would.
    if (!isGet) this.defer(s.bT0[b] + (s.bNq[b] - 1) * s.bQGap[b], key, this.setSize, this.setCas);
  }

  private setSize = 0;
  private setCas = 0;
  // SETs not yet complete, ordered by completion time (a handful at most).
  private pN = 0;
  private pT = new Float64Array(64);
  private pKey = new Int32Array(64);
  private pSize = new Int32Array(64);
  private pCas = new Uint32Array(64);

  private defer(t: number, key: number, size: number, cas: number): void {
    if (this.pN === this.pT.length) {
      const grow = <T extends Float64Array | Int32Array | Uint32Array>(a: T, x: T): T => (x.set(a), x);
      const n = this.pN * 2;
      this.pT = grow(this.pT, new Float64Array(n));
      this.pKey = grow(this.pKey, new Int32Array(n));
      this.pSize = grow(this.pSize, new Int32Array(n));
      this.pCas = grow(this.pCas, new Uint32Array(n));
    }
    let i = this.pN++;
    while (i > 0 && this.pT[i - 1] > t) {
      this.pT[i] = this.pT[i - 1];
      this.pKey[i] = this.pKey[i - 1];
      this.pSize[i] = this.pSize[i - 1];
      this.pCas[i] = this.pCas[i - 1];
      i--;
    }
    this.pT[i] = t;
    this.pKey[i] = key;
    this.pSize[i] = size;
    this.pCas[i] = cas;
  }

  /** Applies the SETs complete by time t, in completion order. */
  private applySets(t: number): void {
    let i = 0;
    while (i < this.pN && this.pT[i] <= t) {
      this.valSize[this.pKey[i]] = this.pSize[i];
      this.cas[this.pKey[i]] = this.pCas[i];
      i++;
    }
    if (i === 0) return;
    this.pT.copyWithin(0, i, this.pN);
    this.pKey.copyWithin(0, i, this.pN);
    this.pSize.copyWithin(0, i, this.pN);
    this.pCas.copyWithin(0, i, this.pN);
    this.pN -= i;
  }

  // ---- message heads: written into the burst's area ----

  private at = 0;
  private buf!: Uint8Array;
  private dv!: DataView;

  private put4(w: number): void {
    this.dv.setUint32(this.at, w);
    this.at += 4;
  }

  private put2(w: number): void {
    this.dv.setUint16(this.at, w);
    this.at += 2;
  }

  private put1(c: number): void {
    this.buf[this.at++] = c;
  }

  private put(bytes: Uint8Array): void {
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < bytes.length; i++) b[at++] = bytes[i];
    this.at = at;
  }

  /** Decimal digits of n, without making a string. */
  private putNum(n: number): void {
    let d = 1; // n < 2^31 (sizes): int32 arithmetic
    for (let x = n | 0; x >= 10; x = (x / 10) | 0) d++;
    for (let i = d - 1, x = n | 0; i >= 0; i--, x = (x / 10) | 0) this.buf[this.at + i] = 48 + (x % 10);
    this.at += d;
  }

  /** The key: its index in decimal, zero-padded to its size. */
  private putKey(key: number, kl: number): void {
    const b = this.buf;
    let i = this.at + kl - 1;
    // key < 2^26: int32 arithmetic; zeros 4 at a time (fill() is a runtime call, and
    // ETC keys are ~30 bytes of mostly zeros).
    for (let x = key | 0; x > 0; x = (x / 10) | 0) b[i--] = 48 + (x % 10);
    let j = this.at;
    const dv = this.dv;
    for (; j + 3 <= i; j += 4) dv.setUint32(j, 0x30303030);
    for (; j <= i; j++) b[j] = 48;
    this.at += kl;
  }

  private head(s: Synth, b: number, side: number): void {
    this.buf = s.area;
    this.dv = s.dv;
    this.at = s.headAt(b, side);
  }

  private endHead(s: Synth, b: number, side: number): void {
    s.setHead(b, side, this.at - s.headAt(b, side));
  }

  /** Starts side's tail (write it with put*, then setTail). */
  private tail(s: Synth, b: number, side: number): void {
    this.buf = s.area;
    this.dv = s.dv;
    this.at = s.tailAt(b, side);
  }

  private asciiGet(s: Synth, b: number, key: number, kl: number, v: number, phase: number): void {
    this.head(s, b, 0);
    this.put4(GET_);
    this.putKey(key, kl);
    this.put2(CRLF);
    this.endHead(s, b, 0);
    this.head(s, b, 1);
    if (v < 0) {
      this.put4(END_); // END\r\n
      this.put1(LF);
      this.endHead(s, b, 1);
      return;
    }
    this.put4(VALU); // VALUE <key> 0 <bytes>\r\n
    this.put2(E_);
    this.putKey(key, kl);
    this.put2(SP0);
    this.put1(SP);
    this.putNum(v);
    this.put2(CRLF);
    this.endHead(s, b, 1);
    s.setValue(b, 1, v, phase);
    this.tail(s, b, 1); // \r\nEND\r\n
    this.put4(CRLF_EN);
    this.put2(D_CR);
    this.put1(LF);
    s.setTail(b, 1, 7);
  }

  private asciiSet(s: Synth, b: number, key: number, kl: number, v: number, phase: number): void {
    this.head(s, b, 0);
    this.put4(SET_); // set <key> 0 0 <bytes>\r\n
    this.putKey(key, kl);
    this.put4(SP0SP0);
    this.put1(SP);
    this.putNum(v);
    this.put2(CRLF);
    this.endHead(s, b, 0);
    s.setValue(b, 0, v, phase);
    this.tail(s, b, 0);
    this.put2(CRLF);
    s.setTail(b, 0, 2);
    this.head(s, b, 1);
    this.put4(STOR); // STORED\r\n
    this.put4(ED_CRLF);
    this.endHead(s, b, 1);
  }

  /** A 24-byte binary protocol header at the current position. */
  private binHeader(
    magic: number,
    op: number,
    keyLen: number,
    extLen: number,
    status: number,
    body: number,
    opaque: number,
    cas: number,
  ): void {
    const b = this.buf;
    const p = this.at;
    b[p] = magic;
    b[p + 1] = op;
    b[p + 2] = keyLen >>> 8;
    b[p + 3] = keyLen & 255;
    b[p + 4] = extLen;
    b[p + 5] = 0;
    b[p + 6] = status >>> 8;
    b[p + 7] = status & 255;
    be32(b, p + 8, body);
    be32(b, p + 12, opaque);
    be32(b, p + 16, 0);
    be32(b, p + 20, cas);
    this.at += 24;
  }

  private zeros(n: number): void {
    for (let i = 0; i < n; i++) this.buf[this.at++] = 0;
  }

  private binGet(s: Synth, b: number, key: number, kl: number, v: number, phase: number): void {
    const opaque = this.opaque++ >>> 0;
    this.head(s, b, 0);
    this.binHeader(0x80, 0x00, kl, 0, 0, kl, opaque, 0);
    this.putKey(key, kl);
    this.endHead(s, b, 0);
    this.head(s, b, 1);
    if (v < 0) {
      this.binHeader(0x81, 0x00, 0, 0, 0x0001, 9, opaque, 0);
      this.put(NOT_FOUND);
    } else {
      this.binHeader(0x81, 0x00, 0, 4, 0, 4 + v, opaque, this.cas[key]);
      this.zeros(4); // flags
      s.setValue(b, 1, v, phase);
    }
    this.endHead(s, b, 1);
  }

  private binSet(s: Synth, b: number, key: number, kl: number, v: number, phase: number): void {
    const opaque = this.opaque++ >>> 0;
    this.head(s, b, 0);
    this.binHeader(0x80, 0x01, kl, 8, 0, 8 + kl + v, opaque, 0);
    this.zeros(8); // flags, expiration
    this.putKey(key, kl);
    this.endHead(s, b, 0);
    s.setValue(b, 0, v, phase);
    this.head(s, b, 1);
    this.binHeader(0x81, 0x01, 0, 0, 0, 0, opaque, this.setCas);
    this.endHead(s, b, 1);
  }
}

function be32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 255;
  b[p + 2] = (v >>> 8) & 255;
  b[p + 3] = v & 255;
}
