// Redirection table (RETA): 128 flow groups -> worker. A packet's flow group is
// the low 7 bits of its RSS hash, as in NIC RSS and IX. The control plane moves
// load by rewriting entries (retaSet) at a quiescent point; the dispatcher only
// reads. One byte per entry: workers are numbered 0..254 (255 reserved).
import { CFG_SHARDS, CFG_WORKERS, cfg } from "../mem/layout";
import { RETA_SIZE, RETA_MASK } from "../abi/migrate.gen"; // the groups the host moves (abi/table/migrate.ts)
export { RETA_MASK };

const reta: usize = memory.data(<i32>RETA_SIZE, 64);
let retaWorkers: u32 = 1;

/**
 * Default mapping: group g -> worker (g div S) mod CFG_WORKERS, S = CFG_SHARDS
 * (1 unless sharded: then g mod W, round-robin). A shard holds the groups g = i,
 * i + S, i + 2S, ... (flow/shard.ts): g div S numbers them 0, 1, 2, ..., so its
 * workers share them round-robin too; g mod W would leave workers idle whenever
 * S and W share a factor (S = W = 2: every group of shard 0 is even).
 */
export function retaInit(): void {
  let w = cfg(CFG_WORKERS);
  if (w == 0) w = 1;
  if (w > 255) w = 255;
  let s = cfg(CFG_SHARDS);
  if (s == 0) s = 1;
  retaWorkers = w;
  for (let g: u32 = 0; g < RETA_SIZE; g++) store<u8>(reta + g, <u8>((g / s) % w));
}

/** Points flow group `group` at `worker`. Returns 0, or -1 if either is out of range. */
export function retaSet(group: u32, worker: u32): i32 {
  if (group >= RETA_SIZE || worker >= retaWorkers) return -1;
  store<u8>(reta + group, <u8>worker);
  return 0;
}

/** Worker of flow group `group` (group & 127). */
export function retaGet(group: u32): u32 {
  return load<u8>(reta + (group & RETA_MASK));
}

/** Worker for an RSS hash: entry (hash & 127). */
@inline export function retaLookup(hash: u32): u32 {
  return load<u8>(reta + (hash & RETA_MASK));
}

/** Address of the 128-byte table (host may read it for reports). */
export function retaPtr(): usize {
  return reta;
}
