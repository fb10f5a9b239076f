// Shards (`ixwasm replay --shard I/N`, `ixwasm split`): the capture's flows dealt
// to N independent processes the way --workers deals them to threads. A record's
// shard is its flow group (the low 7 bits of the symmetric Toeplitz hash, the
// RETA's index) mod N, so both directions of a flow land in one shard and shard
// i of N holds exactly the groups worker i of --workers N would get. A record
// without an IP header (ARP, unknown link, a pcapng custom block) goes to shard 0,
// as the dispatcher sends it to worker 0. Inside a shard the RETA deals its groups
// to the workers (flow/reta.ts), so shards and workers compose without a second
// hash.
//
// Only the capture's own tuple decides (before --loop's port rewrite): a shard is
// a set of the capture's flows, and `split`'s file for shard i replayed with
// --shard i/N keeps every record, whatever --loop does later.
import { CFG_FLAGS, CFG_F_SYMMETRIC, CFG_SHARD, CFG_SHARDS, R_DESC, SCRATCH_BASE, SCRATCH_BYTES, cfg, regionOffset } from "../mem/layout";
import { DESC_BYTES, DESC_CAPLEN, DESC_FLAGS, DESC_F_NOT_PACKET, DESC_LINKTYPE, DESC_OFF } from "../mem/desc";
import { tupleHash, txFlags } from "./extract";
import { RETA_MASK } from "./reta";

/** CFG_SHARDS, 0 read as 1. */
@inline export function shardCount(): u32 {
  const n = cfg(CFG_SHARDS);
  return n == 0 ? 1 : n;
}

/** Shard of the record at descriptor d, of n shards. */
@inline function shardOf(d: usize, n: u32): u32 {
  if ((load<u16>(d, DESC_FLAGS) & DESC_F_NOT_PACKET) != 0) return 0;
  const h = tupleHash(<usize>load<u32>(d, DESC_OFF), load<u32>(d, DESC_CAPLEN), <u32>load<u16>(d, DESC_LINKTYPE));
  if ((txFlags & 3) == 0) return 0; // no IP header
  return (h & RETA_MASK) % n;
}

/**
 * Keeps, of descriptors 0..count-1, those of this core's shard (CFG_SHARD of
 * CFG_SHARDS), moved down in order to 0..kept-1; returns kept. The host's reader
 * calls it after framing each batch, so every consumer (raw, track, serve, its
 * pre-scan, the workers' dispatcher) sees only the shard's records. Returns
 * 0xffffffff when the core's key is not the symmetric one (a flow's two
 * directions could then fall in two shards).
 */
export function shardKeep(count: u32): u32 {
  const n = shardCount();
  if (n <= 1) return count;
  if ((cfg(CFG_FLAGS) & CFG_F_SYMMETRIC) == 0) return 0xffffffff;
  const me = cfg(CFG_SHARD);
  const base = regionOffset(R_DESC);
  let kept: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const d = base + <usize>i * DESC_BYTES;
    if (shardOf(d, n) != me) continue;
    if (kept != i) memory.copy(base + <usize>kept * DESC_BYTES, d, DESC_BYTES);
    kept++;
  }
  return kept;
}

/**
 * `ixwasm split`: the shard (of `shards`) of descriptors first..first+k-1 as
 * one byte each in the scratch area (k = min(count, SCRATCH_BYTES)); returns k,
 * or 0xffffffff when the key is not symmetric.
 */
export function shardMark(first: u32, count: u32, shards: u32): u32 {
  if ((cfg(CFG_FLAGS) & CFG_F_SYMMETRIC) == 0) return 0xffffffff;
  const n = shards == 0 ? 1 : shards;
  const k = count < <u32>SCRATCH_BYTES ? count : <u32>SCRATCH_BYTES;
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  for (let j: u32 = 0; j < k; j++, d += DESC_BYTES) store<u8>(SCRATCH_BASE + <usize>j, <u8>shardOf(d, n));
  return k;
}
