// The TCB table's invariants, checked from outside the fast path (after a fault of
// an app module, at the end of a test): what a bug that wrote into stack state
// would break first.
import { MB_LINK, MB_STATE, MBUF_STATE_USED, mbufTotal } from "../../mem/mbuf";
import { FK_FAMILY } from "../../flow/key";
import { flowCapacity, flowCount, flowKeyAt, flowValue } from "../../flow/table";
import { TCB_FLAGS, TCB_FLOW, TCB_OOO_HEAD, TCB_RQ_HEAD, TCB_RQ_TAIL, tcbAt, tcbHighWater, tcbUsed } from "./tcb";
import { TF_USED } from "./state";

/**
 * 0 when the TCB table is consistent, else the number of problems: the used count
 * matches the slots marked used; each used TCB's flow entry is live and points back
 * at it; its receive and out-of-order chains hold only mbufs in use, end, and the
 * receive chain ends at its tail. O(TCBs + mbufs held).
 */
export function tcbTableCheck(): u32 {
  let bad: u32 = 0;
  let used: u32 = 0;
  let flows: u32 = 0;
  const hw = tcbHighWater();
  const limit = mbufTotal();
  for (let s: u32 = 0; s < hw; s++) {
    const t = tcbAt(s);
    if ((load<u32>(t, TCB_FLAGS) & TF_USED) == 0) continue;
    used++;
    const f = load<u32>(t, TCB_FLOW);
    if (f != 0xffffffff) {
      flows++;
      if (f >= flowCapacity() || load<u8>(flowKeyAt(<i32>f), FK_FAMILY) == 0 || load<u32>(flowValue(<i32>f)) != s) bad++;
    }
    for (let q = 0; q < 2; q++) {
      let m = <usize>load<u32>(t + (q == 0 ? TCB_RQ_HEAD : TCB_OOO_HEAD));
      let last: usize = 0;
      let n: u32 = 0;
      while (m != 0 && n <= limit) {
        if (load<u16>(m, MB_STATE) != MBUF_STATE_USED) bad++;
        last = m;
        m = <usize>load<u32>(m, MB_LINK);
        n++;
      }
      if (n > limit) bad++; // a cycle
      if (q == 0 && last != <usize>load<u32>(t, TCB_RQ_TAIL)) bad++;
    }
  }
  if (used != tcbUsed()) bad++;
  if (flows > flowCount()) bad++;
  return bad;
}
