// Byte moves queued by the host and done by the core in one call
// (assembly/replay/serve.ts serveCopies): copying from JS into or within the
// core's shared memory costs 0.2-0.7 µs per frame in V8, memory.copy 20-30 ns.
// The list lives in the control block's host scratch area, after the first 64
// bytes (tcpPreset's key scratch). Flush before the core reads the destinations
// (before each poll) and before the sources are overwritten (the next read batch).
import type { Core } from "../../core/core.ts";
import { SCRATCH_BASE, SCRATCH_BYTES } from "../../core/abi.gen.ts";
import * as COPIES from "../../core/copies.gen.ts";

// The entry's layout (abi/table/serve.ts) as this module's own constants: add() runs per
// frame and per recorded payload, and V8 folds a module's constants where an imported
// binding costs a load at each use.
const { COPY_LIST_OFF, COPY_BYTES, CP_DST, CP_SRC, CP_LEN, NO_SRC } = COPIES;
export { NO_SRC };

const LIST_BASE = SCRATCH_BASE + COPY_LIST_OFF;
const CAP = Math.floor((SCRATCH_BYTES - COPY_LIST_OFF) / COPY_BYTES);

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
    const e = LIST_BASE + this.n * COPY_BYTES;
    this.u32[(e + CP_DST) >>> 2] = dst;
    this.u32[(e + CP_SRC) >>> 2] = src;
    this.u32[(e + CP_LEN) >>> 2] = len;
    this.n++;
  }

  flush(): void {
    if (this.n === 0) return;
    this.fn(LIST_BASE, this.n);
    this.n = 0;
  }
}
