// --out: the frames a replay wrote, optionally interleaved with its input.
import type { Core } from "../core/core.ts";
import { TraceWriter } from "../io/writer.ts";
import * as ABI from "../core/abi.gen.ts";
import { DESC_F_NOT_PACKET, VERDICT_WHY_SHIFT } from "../core/abi.gen.ts";
import { MODE_WORDS } from "./options.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} = ABI;

/** --out: what the core transmitted, optionally interleaved with the input (--out-merged). */
export class OutputSink {
  private readonly w: TraceWriter;
  constructor(
    path: string,
    readonly merged: boolean,
    linktype: number,
  ) {
    this.w = new TraceWriter(path, { linktype });
  }
  input(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    if (this.merged) this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  /** A transmitted frame (raw: the forwarded input; serve: a frame drained from the TX ring). */
  output(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  get records(): number {
    return this.w.records;
  }
  close(): void {
    this.w.close();
  }
}

/**
 * --out for descriptors first..first+count-1 after the core call: raw forwards
 * every processed frame unchanged (as DPDK's l2fwd, without its MAC rewrite, so
 * the output compares byte for byte with the input); track transmits nothing.
 * wallS: the wall-clock time (paced), or null for the capture's (top).
 * forwards: raw's (replay --workers: the dispatcher core is a raw one in track mode too).
 */
export function writeBatch(
  sink: OutputSink,
  core: Core,
  first: number,
  count: number,
  shift: number,
  wallS: number | null,
  forwards = core.config.mode === MODE_WORDS.raw,
): void {
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const verdictW = core.regions.decode.offset >>> 2;
  let sec = 0;
  let nsec = 0;
  if (wallS !== null) {
    sec = Math.floor(wallS);
    nsec = Math.min(999999999, Math.round((wallS - sec) * 1e9));
  }
  for (let i = first; i < first + count; i++) {
    const d = descW + i * DESC_WORDS;
    if (wallS === null) {
      sec = f64[(d + DESC_W_SEC) >>> 1] + shift;
      nsec = u32[d + DESC_W_NSEC];
    }
    const lt = u32[d + DESC_W_LINKTYPE] & 0xffff;
    const flags = u32[d + DESC_W_LINKTYPE] >>> DESC_S_FLAGS;
    if (flags & DESC_F_NOT_PACKET) continue; // not a packet (pcapng custom block): nothing to write
    sink.input(core.u8, u32[d + DESC_W_OFF], u32[d + DESC_W_CAPLEN], u32[d + DESC_W_LEN], lt, sec, nsec);
    if (forwards && u32[verdictW + i] >>> VERDICT_WHY_SHIFT === 0)
      sink.output(core.u8, u32[d + DESC_W_OFF], u32[d + DESC_W_CAPLEN], u32[d + DESC_W_LEN], lt, sec, nsec);
  }
}
