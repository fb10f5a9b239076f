// Byte moves queued by the host and done by the core in one call
// (assembly/replay/serve.ts serveCopies): copying from JS into or within the
// core's shared memory costs 0.2-0.7 µs per frame in V8, memory.copy 20-30 ns.
// The list lives in the control block's host scratch area, after the first 64
// bytes (tcpPreset's key scratch). Flush before the core reads the destinations
// (before each poll) and before the sources are overwritten (the next read batch).
import type { Core } from "../../core/core.ts";
import { SCRATCH_BASE } from "../../core/core.ts";

const LIST_BASE = SCRATCH_BASE + 64;
const CAP = Math.floor((0x1000 - 64) / 12); // SCRATCH_BYTES (assembly/mem/layout.ts)
export const NO_SRC = 0xffffffff;

export class CopyList {
  private n = 0;
  private readonly u32: Uint32Array;
  private readonly fn: (list: number, n: number) => void;

  constructor(core: Core) {
    this.u32 = core.u32;
    this.fn = core.exports.serveCopies as (list: number, n: number) => void;
  }

  /** Queues len bytes from src (NO_SRC: zeros) to dst (byte offsets in the core's memory). */
  add(dst: number, src: number, len: number): void {
    if (len <= 0) return;
    if (this.n === CAP) this.flush();
    const w = (LIST_BASE >>> 2) + this.n * 3;
    this.u32[w] = dst;
    this.u32[w + 1] = src;
    this.u32[w + 2] = len;
    this.n++;
  }

  flush(): void {
    if (this.n === 0) return;
    this.fn(LIST_BASE, this.n);
    this.n = 0;
  }
}
