// What the core lends an app besides the descriptor queues (api/abi.ts): its own
// region R_APP (CFG_APP_BYTES, laid out once at init, nothing allocated later)
// and the loop's clock.
import { R_APP, regionBytes, regionOffset } from "../mem/layout";
import { PKT_NOW_US, pkt } from "../net/pkt";

@inline export function appBase(): usize {
  return regionOffset(R_APP);
}
@inline export function appBytes(): usize {
  return regionBytes(R_APP);
}
/** The clock of this loop iteration (µs). */
@inline export function appNowUs(): u64 {
  return load<u64>(pkt() + PKT_NOW_US);
}
