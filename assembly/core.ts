// ixwasm core: the exported entry points of one WASM core instance.
export { plan } from "./mem/plan";
import { plan } from "./mem/plan";
import { ABI_VERSION, CFG_BASE, REGION_BASE, COUNTER_BASE, HIST_BASE, SCRATCH_BASE } from "./mem/layout";

/** Lays out the regions and initialises pools, rings and tables. Returns 0 on success. */
export function init(): i32 {
  if (plan() == 0) return -1;
  return 0;
}

/** ABI self-description, so host/core.ts can check its mirrored offsets. */
export function abiCheck(i: i32): u32 {
  switch (i) {
    case 0: return ABI_VERSION;
    case 1: return <u32>CFG_BASE;
    case 2: return <u32>REGION_BASE;
    case 3: return <u32>COUNTER_BASE;
    case 4: return <u32>HIST_BASE;
    case 5: return <u32>SCRATCH_BASE;
  }
  return 0xffffffff;
}
