// Dispatcher entry point: RSS hash + RETA lookup for a batch of record
// descriptors (R_DESC, mem/desc.ts), one JS→WASM call per batch.
//
// Output: 8-byte records in the SCRATCH area of the control block, record k
// for descriptor first+k:
//   0  u32 hash    Toeplitz hash (0 when no IP header)
//   4  u16 worker  RETA[hash & 127]; HB_NO_WORKER (0xffff) when the frame has
//                  no IP header (ARP, unknown link type, not a packet): the
//                  dispatcher applies its non-IP policy
//   6  u8  group   hash & 127 (the flow group)
//   7  u8  flags   TX_F_* from flow/extract.ts (V4 1, V6 2, PORTS 4, FRAG 8, TRUNC 16)
// SCRATCH holds HB_MAX (512) records, so one call handles at most 512
// descriptors; it returns how many it did.
import { R_DESC, SCRATCH_BASE, SCRATCH_BYTES, regionOffset } from "../mem/layout";
import { DESC_BYTES, DESC_CAPLEN, DESC_FLAGS, DESC_F_NOT_PACKET, DESC_LINKTYPE, DESC_OFF } from "../mem/desc";
import { tupleHash, txFlags } from "./extract";
import { retaLookup } from "./reta";

export const HB_BYTES: usize = 8;
export const HB_MAX: u32 = <u32>(SCRATCH_BYTES / HB_BYTES);
export const HB_HASH: usize = 0;
export const HB_WORKER: usize = 4;
export const HB_GROUP: usize = 6;
export const HB_FLAGS: usize = 7;
export const HB_NO_WORKER: u16 = 0xffff;

/** hashBatchFrom(0, count). */
export function hashBatch(count: u32): u32 {
  return hashBatchFrom(0, count);
}

/** Hashes descriptors first..first+n-1 (n = min(count, 512)) into SCRATCH
 * records 0..n-1; returns n. */
export function hashBatchFrom(first: u32, count: u32): u32 {
  const n = count < HB_MAX ? count : HB_MAX;
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let out = SCRATCH_BASE;
  for (let k: u32 = 0; k < n; k++) {
    let h: u32 = 0;
    let f: u32 = 0;
    if ((load<u16>(d, DESC_FLAGS) & DESC_F_NOT_PACKET) == 0) {
      h = tupleHash(<usize>load<u32>(d, DESC_OFF), load<u32>(d, DESC_CAPLEN), <u32>load<u16>(d, DESC_LINKTYPE));
      f = txFlags;
    }
    store<u32>(out, h, HB_HASH);
    store<u16>(out, f & 3 ? <u16>retaLookup(h) : HB_NO_WORKER, HB_WORKER);
    store<u8>(out, <u8>(h & 127), HB_GROUP);
    store<u8>(out, <u8>f, HB_FLAGS);
    d += DESC_BYTES;
    out += HB_BYTES;
  }
  return n;
}
