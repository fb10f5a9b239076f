// Per-instance counters: u64 slots in the control block, bumped by the core (once
// per batch where possible) and read by the host, which merges workers and prints.
// The indices (C_*) and the report's names are generated from one list, COUNTERS
// in abi/table.ts: append a counter there, never renumber.
import { COUNTER_BASE, COUNTER_SLOTS } from "./layout";

export * from "../abi/counters.gen";

@inline export function bump(c: i32, by: u64 = 1): void {
  const p = COUNTER_BASE + (<usize>c << 3);
  store<u64>(p, load<u64>(p) + by);
}

@inline export function counter(c: i32): u64 {
  return load<u64>(COUNTER_BASE + (<usize>c << 3));
}

export function resetCounters(): void {
  memory.fill(COUNTER_BASE, 0, COUNTER_SLOTS << 3);
}
