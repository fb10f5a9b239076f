// The out-of-order queue of a connection (RFC 9293 §3.10.7.4 seventh: segments
// beyond RCV.NXT are held until the hole before them fills). It holds the
// received mbufs themselves (zero-copy), linked through MB_LINK from
// TCB_OOO_HEAD; tcp/input.ts delivers what oooNext gives back in order.
import { MB_FLAGS, MB_LINK, MB_SEQ, MB_USER0, MB_USER1, mbufFree } from "../../mem/mbuf";
import { TCB_LAST_OOO_SEQ, TCB_OOO_COUNT, TCB_OOO_HEAD, TCB_RCV_NXT } from "./tcb";
import { OOO_MAX, seqGE, seqGT, seqLE, seqLT } from "./state";

// Out-of-order queue: ascending MB_SEQ, no overlaps (new data is trimmed to the
// gaps, segments it covers entirely are dropped), at most OOO_MAX mbufs.
// MB_USER0 = length, MB_USER1 = data pointer, MB_FLAGS bit 0 = FIN after the data.
// Queues mbuf m (its bytes [ptr, ptr+len) at seq); false if nothing of it was new
// or the queue is full (the caller frees it then).
export function oooInsert(t: usize, m: usize, seq: u32, ptr: usize, len: u32, fin: bool): bool {
  let prev: usize = 0;
  let cur = <usize>load<u32>(t, TCB_OOO_HEAD);
  while (cur != 0 && seqLE(load<u32>(cur, MB_SEQ), seq)) {
    prev = cur;
    cur = <usize>load<u32>(cur, MB_LINK);
  }
  if (prev != 0) {
    const pend = load<u32>(prev, MB_SEQ) + load<u32>(prev, MB_USER0);
    if (seqGE(pend, seq + len) && (!fin || (load<u32>(prev, MB_FLAGS) & 1) != 0 || seqGT(pend, seq + len))) return false; // nothing new
    if (seqGT(pend, seq)) {
      const d = pend - seq;
      seq += d;
      ptr += d;
      len -= d;
    }
  }
  // Drop queued segments the new one covers; trim it before the next one.
  while (cur != 0) {
    const cs = load<u32>(cur, MB_SEQ);
    const ce = cs + load<u32>(cur, MB_USER0);
    if (!seqLE(ce, seq + len) || seqGE(cs, seq + len)) break;
    const nx = <usize>load<u32>(cur, MB_LINK);
    if (prev != 0) store<u32>(prev, <u32>nx, MB_LINK);
    else store<u32>(t, <u32>nx, TCB_OOO_HEAD);
    mbufFree(cur);
    store<u8>(t, load<u8>(t, TCB_OOO_COUNT) - 1, TCB_OOO_COUNT);
    cur = nx;
  }
  if (cur != 0 && seqLT(load<u32>(cur, MB_SEQ), seq + len)) {
    len = load<u32>(cur, MB_SEQ) - seq;
    fin = false;
  }
  if (len == 0 && !fin) return false;
  if (<u32>load<u8>(t, TCB_OOO_COUNT) >= OOO_MAX) return false;
  store<u32>(m, seq, MB_SEQ);
  store<u32>(m, len, MB_USER0);
  store<u32>(m, <u32>ptr, MB_USER1);
  store<u32>(m, fin ? 1 : 0, MB_FLAGS);
  store<u32>(m, <u32>cur, MB_LINK);
  if (prev != 0) store<u32>(prev, <u32>m, MB_LINK);
  else store<u32>(t, <u32>m, TCB_OOO_HEAD);
  store<u8>(t, load<u8>(t, TCB_OOO_COUNT) + 1, TCB_OOO_COUNT);
  store<u32>(t, seq, TCB_LAST_OOO_SEQ);
  return true;
}

/** The first queued mbuf if it starts at or before RCV.NXT, unlinked from the queue; else 0. */
export function oooNext(t: usize): usize {
  const m = <usize>load<u32>(t, TCB_OOO_HEAD);
  if (m == 0 || seqGT(load<u32>(m, MB_SEQ), load<u32>(t, TCB_RCV_NXT))) return 0;
  store<u32>(t, load<u32>(m, MB_LINK), TCB_OOO_HEAD);
  store<u8>(t, load<u8>(t, TCB_OOO_COUNT) - 1, TCB_OOO_COUNT);
  return m;
}
