// Replay with worker threads (host/replay/plane.ts): the dispatcher's
// step. The dispatcher core holds the reader's batch; this pass decides, per
// descriptor, which worker gets the frame, in one call per batch (no per-packet
// JS crossing). It parses exactly as the replay batch functions do (rpParseDesc),
// so pass k of --loop rewrites the client port here, before the hash, and the
// worker then processes an already rewritten frame with loop 0: the same bytes
// and the same hash as the one-thread path gives.
//
// Policy for a frame the replay drops before flow lookup (not a packet, unknown
// link, non-IP, truncated IP): worker 0, which counts the drop with its reason.
import { DESC_BYTES, DESC_CAPLEN, DESC_OFF } from "../mem/desc";
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

// ---- gather into per-worker outboxes (replayGatherBatch) ----------------------
//
// Each worker has an outbox in this (the dispatcher's, shared) memory that is a
// mirror of its own staging and descriptor regions: S bytes of frames, then a
// ring of `slots` 32-byte descriptors. A frame placed at outbox byte p gets a
// descriptor whose offset is already the worker's address of p (wStage + p),
// so the worker copies bytes and descriptors in bulk to the same positions in
// its memory and runs its batch function on them unchanged.
//
// Control block at `ctl` (u32 words, this thread only; the SPSC head/tail the
// worker sees live in the ring header the host publishes with Atomics):
// the GC_* byte offsets of abi/table.ts GATHER_CONTROL (the host's come from it too);
// per worker w at ctl + GC_HEADER + GC_PER_WORKER * w: GC_HEAD, GC_TAIL, GC_WPOS.
import { GC_BLOCKED, GC_BYTES, GC_HEAD, GC_HEADER, GC_OUTBOX, GC_PARSED, GC_PER_WORKER } from "../mem/layout";
import { GC_SLOTS, GC_STRIDE, GC_TAIL, GC_WORKERS, GC_WPOS, GC_WSTAGE, VERDICT_WHY_SHIFT } from "../mem/layout";

/**
 * Like replayDispatchBatch, then copies each frame (memory.copy) into its
 * worker's outbox and writes its descriptor there. Stops before the first frame
 * whose outbox has no room (slots, or bytes not held by descriptors the worker
 * has not released), with that worker in GC_BLOCKED; returns the descriptors
 * done. Frames are placed back to back at 8-byte steps; one that does not fit
 * before the end starts again at byte 0 (the oldest frame held is the
 * descriptor at the tail: no other bookkeeping).
 */
export function replayGatherBatch(first: u32, count: u32, loop: u32, ctl: usize): u32 {
  const S = load<u32>(ctl, GC_BYTES);
  const slots = load<u32>(ctl, GC_SLOTS);
  const mask = slots - 1;
  const wStage = load<u32>(ctl, GC_WSTAGE);
  const outbox0 = <usize>load<u32>(ctl, GC_OUTBOX);
  const stride = <usize>load<u32>(ctl, GC_STRIDE);
  const parsed = load<u32>(ctl, GC_PARSED);
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  for (let i: u32 = 0; i < count; i++, d += DESC_BYTES) {
    const why = rpParseDesc(d, first + i < parsed ? 0 : loop);
    const w: u32 = why == 0 ? retaLookup(rpHash) : 0;
    // The replay verdict (rpVerdict's word, uncounted): the host's --out at top
    // speed writes what raw forwards from it, in input order (host/replay/workers.ts).
    store<u32>(verdictAt(first + i), why > 0 ? <u32>why << VERDICT_WHY_SHIFT : w);
    const c = ctl + GC_HEADER + <usize>w * GC_PER_WORKER;
    const ob = outbox0 + <usize>w * stride;
    const head = load<u32>(c, GC_HEAD);
    const tail = load<u32>(c, GC_TAIL);
    const cap = load<u32>(d, DESC_CAPLEN);
    let foot = (cap + 7) & ~7;
    if (foot == 0) foot = 8; // every frame moves the position: equal positions mean "no bytes"
    let pos = load<u32>(c, GC_WPOS);
    if (head - tail >= slots) pos = S; // no slot: refused below
    else if (head != tail) {
      // r: the oldest byte still held (the tail descriptor's frame).
      const r = load<u32>(ob + <usize>S + (<usize>(tail & mask) << 5), DESC_OFF) - wStage;
      if (pos > r) {
        if (pos + foot > S) pos = foot < r ? 0 : S; // wrap; strictly below r, so pos never reaches r
      } else if (pos + foot >= r) pos = S;
    } else if (pos + foot > S) pos = 0; // empty: anywhere
    if (pos + foot > S) {
      store<u32>(ctl, w, GC_BLOCKED);
      store<u32>(ctl, first + i + 1, GC_PARSED);
      return i;
    }
    memory.copy(ob + <usize>pos, <usize>load<u32>(d, DESC_OFF), cap);
    const slot = ob + <usize>S + (<usize>(head & mask) << 5);
    memory.copy(slot, d, DESC_BYTES);
    store<u32>(slot, wStage + pos, DESC_OFF);
    store<u32>(c, head + 1, GC_HEAD);
    store<u32>(c, pos + foot, GC_WPOS);
  }
  return count;
}
