// Replay with worker threads (host/dispatch/replay-plane.ts): the dispatcher's
// step. The dispatcher core holds the reader's batch; this pass decides, per
// descriptor, which worker gets the frame, in one call per batch (no per-packet
// JS crossing). It parses exactly as the replay batch functions do (rpParseDesc),
// so pass k of --loop rewrites the client port here, before the hash, and the
// worker then processes an already rewritten frame with loop 0: the same bytes
// and the same hash as the one-thread path gives.
//
// Policy for a frame the replay drops before flow lookup (not a packet, unknown
// link, non-IP, truncated IP): worker 0, which counts the drop with its reason.
import { DESC_BYTES } from "../mem/desc";
import { R_DESC, regionOffset } from "../mem/layout";
import { retaLookup } from "../flow/reta";
import { rpHash, rpParseDesc, verdictAt } from "./common";

/**
 * Over descriptors first..first+count-1 of R_DESC: writes each one's worker
 * (RETA entry of its symmetric RSS hash, 0 for an early drop) to its verdict
 * word (R_DECODE). Returns count.
 */
export function replayDispatchBatch(first: u32, count: u32, loop: u32): u32 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  for (let i = first; i < first + count; i++, d += DESC_BYTES)
    store<u32>(verdictAt(i), rpParseDesc(d, loop) == 0 ? retaLookup(rpHash) : 0);
  return count;
}
