// The one place that says where everything lives in a core instance's linear memory.
//
//   [0, 64 KiB)            control block, owned by the host/core ABI (below)
//   [64 KiB, heap end)     AssemblyScript static data and a small stub heap
//   [regionBase, total)    regions sized from the config: staging, descriptors,
//                          decode output, mbuf pool, rings, flow table, ...
//
// The host writes the config words, calls `plan()` (on a throw-away instance with
// a small memory) to learn the total size, creates one shared Memory of exactly
// that size (never grown), instantiates, writes the config again and calls
// `init()`. Region offsets are then read back from the region table. The fixed
// numbers of this block are generated for both sides from abi/table.ts; host/core/core.ts
// still asks `abiCheck()` at every instantiation, which catches a core built from
// an older table.

// The control block's offsets, the config word indices, the CFG_FLAGS and
// CFG_TCP_FLAGS bits and the region ids come from the ABI table (abi/table.ts),
// as does the host's copy (host/core/abi.gen.ts).
export * from "../abi/layout.gen";
import { CFG_BASE, CFG_FLAGS, CFG_F_FRESH_MEMORY, REGION_BASE } from "../abi/layout.gen";

// ---- sizes -------------------------------------------------------------------
export const CACHE_LINE: usize = 64;
export const PAGE: usize = 65536;

@inline export function memoryIsFresh(): bool {
  return (load<u32>(CFG_BASE + (<usize>CFG_FLAGS << 2)) & CFG_F_FRESH_MEMORY) != 0;
}

@inline export function cfg(i: i32): u32 {
  return load<u32>(CFG_BASE + (<usize>i << 2));
}

@inline export function regionOffset(r: i32): usize {
  return <usize>load<u32>(REGION_BASE + (<usize>r << 3));
}

@inline export function regionBytes(r: i32): usize {
  return <usize>load<u32>(REGION_BASE + (<usize>r << 3) + 4);
}

@inline export function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}
