// What the core transmits: each frame is written (--out) and scored against the
// capture's server (host/report/fidelity.ts, the mirror app), and it moves its
// flow's sentEnd (which held-back client packets wait for: pump.ts).
import type { Core } from "../../core/core.ts";
import { FidelityMeter, payloadHash } from "../../report/fidelity.ts";
import type { RunStats } from "../../report/replay.ts";
import type { ServeObserver } from "../../report/timeseq.ts";
import type { OutputSink } from "../output.ts";
import type { RunClock } from "./clock.ts";
import { capturePort, type ServeFlow } from "./flow.ts";
import type { LiveFlows } from "./live-flows.ts";
import { flowName } from "./prescan.ts";

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

/** The mirror's fidelity meter: ids are live slots, named by their flow's 4-tuple. */
export function newFidelity(
  core: Core,
  liveF: (ServeFlow | undefined)[],
  observer: ServeObserver | undefined,
): FidelityMeter {
  const fid = new FidelityMeter(
    10,
    (slot) => {
      const f = liveF[slot];
      return f ? flowName(f.key) : `flow ${slot}`;
    },
    fidelityHash(core),
  );
  if (observer) fid.listener = observer.listener;
  return fid;
}

export class TxScorer {
  /** --out (created at the first read batch). */
  sink: OutputSink | null = null;
  /** The HTML report's flow detail (host/report/timeseq.ts), in the first pass; null otherwise. */
  obs: ServeObserver | null = null;
  private readonly words = new Uint32Array(8); // a transmitted frame's addresses, as summary words
  // The last IPv4 flow found per (client port & 255): its key words, slot and
  // flow. A frame whose key matches an entry whose flow still holds the slot is
  // that flow's without a live-table lookup (hash and probe: ~290 instructions
  // of the ~7 800 per client packet, performance-log.md §9): a slot keeps its
  // flow until released (liveF emptied), and a flow on the same key releases the
  // old one first (live-flows.ts add), so while the flow is there the key is its.
  private readonly cPorts = new Int32Array(256);
  private readonly cSrc = new Int32Array(256);
  private readonly cDst = new Int32Array(256);
  private readonly cProto = new Int32Array(256);
  private readonly cSlot = new Int32Array(256);
  private readonly cFlow: (ServeFlow | undefined)[] = new Array<ServeFlow | undefined>(256).fill(undefined);

  constructor(
    private readonly st: RunStats,
    private readonly clock: RunClock,
    private readonly live: LiveFlows,
    private readonly liveF: (ServeFlow | undefined)[],
    private readonly fid: FidelityMeter | null,
  ) {}

  // Transmitted frames: scored against the capture (mirror) and written (--out).
  readonly onTx = (mem: Uint8Array, off: number, len: number): void => {
    const st = this.st;
    st.packetsOut++;
    st.bytesOut += len;
    if (this.sink) {
      const clock = this.clock;
      const sec = clock.baseSec + Math.floor(clock.nowNs / 1e9);
      this.sink.output(mem, off, len, len, 1, sec, Math.floor(clock.nowNs % 1e9));
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
    const dp = capturePort((m[l4 + 2] << 8) | m[l4 + 3], this.clock.loop);
    const ports = sp | (dp << 16);
    const c = dp & 255;
    let f = this.cFlow[c];
    if (
      v6 ||
      f === undefined ||
      this.cPorts[c] !== ports ||
      this.cSrc[c] !== (words[0] | 0) ||
      this.cDst[c] !== (words[4] | 0) ||
      this.cProto[c] !== proto ||
      this.liveF[this.cSlot[c]] !== f
    ) {
      const ls = this.live.lookup(proto, v6, ports, words, 0, 4);
      if (ls >= -1) return; // frames the core sends go server → client
      f = this.liveF[-2 - ls];
      if (!f) return;
      if (!v6) {
        this.cPorts[c] = ports;
        this.cSrc[c] = words[0] | 0;
        this.cDst[c] = words[4] | 0;
        this.cProto[c] = proto;
        this.cSlot[c] = -2 - ls;
        this.cFlow[c] = f;
      }
    }
    if (f.id < 0) return;
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
    if (this.obs !== null) this.obs.out(f, this.clock.nowNs, seq, end - pay, tf);
  }
}

/** A little-endian u32 of m at p (a transmitted frame's addresses, as the decode summary holds them). */
function rd32(m: Uint8Array, p: number): number {
  return (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
}
