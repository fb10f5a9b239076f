// Which serve worker owns each record of a read batch (serve --workers N,
// host/replay/serve/workers.ts). Every worker reads the whole capture and
// keeps only its own flows: RSS at the source, as a NIC with one queue per
// core would steer them, instead of a dispatcher thread copying frames (the
// dispatcher is what keeps raw and track on threads slower than one thread
// here, docs/figures.md "Workers"). The owner is the core's own flow hash: symmetric
// Toeplitz over addresses and ports, so both directions of a flow (the client's
// packets and the capture's server reference) reach the same worker, then the
// RETA (group g → worker g mod N). One hashBatchFrom call per 512 records
// (assembly/flow/batch.ts); frames without an IP header go to worker 0.
import type { Core } from "../../core/core.ts";
import { CFG_F_SYMMETRIC, HB_BYTES, HB_NO_WORKER, HB_WORKER, SCRATCH_BASE } from "../../core/core.ts";

import { shardConfig, type ShardSpec } from "../shard.ts";

const MAX_BATCH = 1 << 16;

export interface OwnerSpec {
  /** This worker's index, 0..workers-1. */
  index: number;
  workers: number;
  /** replay --shard: the process's shard; its reader keeps only the shard's records, dealt to the workers by the RETA. */
  shard?: ShardSpec | null;
}

/** The core config fields a core needs to hash as worker `index` of `workers` (of its shard). */
export function ownerConfig(o: OwnerSpec, flags = 0) {
  return { worker: o.index, workers: o.workers, flags: flags | CFG_F_SYMMETRIC, ...shardConfig(o.shard) };
}

export class FlowOwner {
  private readonly owners = new Uint16Array(MAX_BATCH);
  private readonly hashFrom: (first: number, count: number) => number;

  constructor(
    private readonly core: Core,
    readonly spec: OwnerSpec,
  ) {
    this.hashFrom = core.exports.hashBatchFrom as (first: number, count: number) => number;
  }

  /**
   * Hashes the n records the reader just put in the descriptor region. Uses the
   * scratch area (nothing may be pending there: serve flushes its copy list first).
   */
  mark(n: number): void {
    if (n > MAX_BATCH) throw new Error(`flow owner: a batch of ${n} records (at most ${MAX_BATCH})`);
    const u32 = this.core.u32;
    for (let first = 0; first < n;) {
      const k = this.hashFrom(first, n - first);
      if (k <= 0) throw new Error("flow owner: hashBatchFrom took no record");
      for (let j = 0; j < k; j++) {
        const w = u32[(SCRATCH_BASE + j * HB_BYTES + HB_WORKER) >>> 2] & 0xffff; // u16 worker (little-endian)
        this.owners[first + j] = w === HB_NO_WORKER ? 0 : w;
      }
      first += k;
    }
  }

  /** The worker record i of the marked batch belongs to. */
  ownerOf(i: number): number {
    return this.owners[i];
  }

  /** Record i of the marked batch belongs to this worker. */
  mine(i: number): boolean {
    return this.owners[i] === this.spec.index;
  }
}
