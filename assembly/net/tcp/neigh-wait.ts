// Active opens waiting for the neighbour (ARP/ND). A SYN whose next hop is not
// resolved yet is not sent (output.ts ipOut) and retried every 20 ms
// (rtoFire); with a burst of connects that is up to 20 ms lost per connection
// after the answer is in. So connect() lists such TCBs here (by handle: a slot
// reused meanwhile is skipped) and, once the neighbour cache has learned
// something new, the next timer step sends their SYNs at once. The list is
// small and bounded; a TCB that does not fit keeps the 20 ms retry.
import { neighLearned, neighResolve } from "../neigh";
import { TCB_FAMILY, TCB_FLAGS, TCB_ISS, TCB_RADDR, TCB_RETRIES, TCB_RMAC, TCB_SND_MAX, TCB_SND_NXT, tcbFromHandle, tcbHandle } from "./tcb";
import { TF_NEED_NEIGH } from "./state";
import { clearTimer } from "./engine";
import { tcpOutput } from "./output";

const WAIT_MAX: u32 = 256;
const list = memory.data(<i32>WAIT_MAX * 4, 16);
let len: u32 = 0;
let seen: u32 = 0; // neighLearned() when the list was last walked

/** Lists t (its SYN waits for the neighbour). */
export function neighWaitAdd(t: usize): void {
  if (len == WAIT_MAX) return;
  store<u32>(list + (<usize>len << 2), tcbHandle(t));
  len++;
}

/** After the cache learned an address: sends the SYN of every listed TCB whose neighbour is now known. */
export function neighWaitStep(): void {
  if (len == 0 || neighLearned() == seen) return;
  seen = neighLearned();
  let keep: u32 = 0;
  for (let i: u32 = 0; i < len; i++) {
    const h = load<u32>(list + (<usize>i << 2));
    const t = tcbFromHandle(h);
    if (t == 0) continue; // closed or reused meanwhile
    const f = load<u32>(t, TCB_FLAGS);
    if ((f & TF_NEED_NEIGH) == 0) continue; // its retry got through already
    if (!neighResolve(<u32>load<u8>(t, TCB_FAMILY), t + TCB_RADDR, t + TCB_RMAC)) {
      store<u32>(list + (<usize>keep << 2), h);
      keep++;
      continue;
    }
    store<u32>(t, f & ~TF_NEED_NEIGH, TCB_FLAGS);
    // The SYN goes out as a first transmission, with the normal RTO armed by
    // tcpOutput; the neighbour-wait ticks counted so far are not its retries.
    store<u8>(t, 0, TCB_RETRIES);
    const iss = load<u32>(t, TCB_ISS);
    store<u32>(t, iss, TCB_SND_NXT);
    store<u32>(t, iss, TCB_SND_MAX);
    clearTimer(t);
    tcpOutput(t);
  }
  len = keep;
}

/** Forgets every listed TCB (init). */
export function neighWaitReset(): void {
  len = 0;
  seen = 0;
}
