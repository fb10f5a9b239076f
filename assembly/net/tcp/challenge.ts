// The per-core budget of RFC 5961 §7: challenge ACKs (and the ACKs that answer
// unacceptable segments, which an attacker can provoke just as well) at most
// CHALLENGE_PER_SEC a second, so a flood of blind segments cannot turn the
// core into an ACK cannon.
import { CHALLENGE_PER_SEC } from "./state";
import { nowS32 } from "./engine";

let budgetSec: u32 = 0xffffffff;
let budgetUsed: u32 = 0;

/** True (and counted) if one more such ACK may go out this second. */
export function challengeBudget(): bool {
  const s = nowS32();
  if (s != budgetSec) {
    budgetSec = s;
    budgetUsed = 0;
  }
  if (budgetUsed >= CHALLENGE_PER_SEC) return false;
  budgetUsed++;
  return true;
}
