// Dispatcher entry point: RSS hash + RETA lookup for a batch of record
// descriptors (R_DESC, mem/desc.ts), one JS→WASM call per batch.
//
// Output: HB_BYTES-byte records in the SCRATCH area of the control block, record k
// for descriptor first+k: hash, worker (HB_NO_WORKER when the frame has no IP
// header: the dispatcher applies its non-IP policy), flow group, TX_F_* flags
// (abi/table.ts HASH_BATCH). SCRATCH holds HB_MAX records, so one call handles at
// most HB_MAX descriptors; it returns how many it did.
import { R_DESC, SCRATCH_BASE, SCRATCH_BYTES, regionOffset } from "../mem/layout";
import { DESC_BYTES, DESC_CAPLEN, DESC_FLAGS, DESC_F_NOT_PACKET, DESC_LINKTYPE, DESC_OFF } from "../mem/desc";
import { tupleHash, txFlags } from "./extract";
import { RETA_MASK, retaLookup } from "./reta";

// The record's layout comes from the ABI table (abi/table.ts HASH_BATCH), as the host's does.
import { HB_BYTES, HB_FLAGS, HB_GROUP, HB_HASH, HB_NO_WORKER, HB_WORKER } from "../mem/layout";
export { HB_BYTES, HB_FLAGS, HB_GROUP, HB_HASH, HB_NO_WORKER, HB_WORKER };
export const HB_MAX: u32 = <u32>(SCRATCH_BYTES / HB_BYTES);

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
    store<u8>(out, <u8>(h & RETA_MASK), HB_GROUP);
    store<u8>(out, <u8>f, HB_FLAGS);
    d += DESC_BYTES;
    out += HB_BYTES;
  }
  return n;
}
