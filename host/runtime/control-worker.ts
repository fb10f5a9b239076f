// The worker's half of the control plane's command channel: between two polls
// a dataplane worker looks at its request word and, when asked, exports a flow
// group into its own staging region or imports a chunk the main thread copied
// there (assembly/net/tcp/migrate.ts). Only the worker calls its core; the main
// thread only copies bytes between the two workers' memories.
import type { Core } from "../core/core.ts";
import type { Nic } from "./nic.ts";
import { MIG_AGAIN, MIG_BAD } from "../core/migrate.gen.ts";

/** Int32 words per worker in the migration block. */
export const MIG_STRIDE = 8;
export const MIG_REQ = 0; // 0 idle, else MIG_EXPORT / MIG_IMPORT; the worker writes 0 when done
export const MIG_ARG = 1; // export: group; import: chunk bytes
export const MIG_SNAP = 2; // export: RX ring position every frame of the group was put before
export const MIG_RESULT = 3; // core's answer (bytes, connections, or a negative MIG_* code)
export const MIG_EXPORT = 1;
export const MIG_IMPORT = 2;

export function newMigrationBlock(workers = 16): Int32Array {
  return new Int32Array(new SharedArrayBuffer(workers * MIG_STRIDE * 4));
}

/** Runs a pending request of worker i, unless it must wait (ring not yet drained past the snapshot, results pending). */
export function serveMigration(core: Core, nic: Nic, mig: Int32Array, i: number, clockNs: number): void {
  const b = i * MIG_STRIDE;
  const req = Atomics.load(mig, b + MIG_REQ);
  if (req === 0) return;
  const stg = core.regions.staging;
  const now = clockNs / 1000;
  let r: number;
  if (req === MIG_EXPORT) {
    // Every frame of the group dispatched before it was held must have gone through poll() first.
    if (((nic.rx.tail() - mig[b + MIG_SNAP]) | 0) < 0) return;
    const exp = core.exports.migrateExport as (g: number, out: number, cap: number, now: number) => number;
    r = exp(mig[b + MIG_ARG], stg.offset, stg.bytes, now);
    if (r === MIG_AGAIN) return;
  } else if (req === MIG_IMPORT) {
    const imp = core.exports.migrateImport as (inp: number, len: number, now: number) => number;
    r = imp(stg.offset, mig[b + MIG_ARG], now);
  } else r = MIG_BAD;
  mig[b + MIG_RESULT] = r;
  Atomics.store(mig, b + MIG_REQ, 0);
}
