// Replay (`ixwasm replay`, raw and track modes): what both modes share.
//
// The host frames a batch of capture records into descriptors (mem/desc.ts) and
// calls one batch function per call (raw.ts replayRawBatch, track.ts
// replayTrackBatch): no per-packet JS. The mode is chosen once by the host, which
// calls only its mode's batch function (no per-packet mode branch).
//
// Per descriptor the batch function writes one u32 verdict into the R_DECODE
// region (unused by replay otherwise): the low half the worker (RETA entry of the
// flow's RSS hash), the bits from VERDICT_WHY_SHIFT 0 when the packet was processed,
// else the drop reason (RP_DROP_*, the same numbers as the counters). The host reads verdicts
// only when it writes --out.
//
// Accounting: every record is either processed (C_RP_PROCESSED) or dropped with
// exactly one reason (C_RP_DROP_*); the host checks the identity.
//
// --loop: pass k (0-based) of the capture rewrites, before anything else, the
// client port of every TCP/UDP packet to port + k (mod 2^16, 0 skipped), the
// client being the endpoint with the higher port (both when equal), and fixes the
// transport checksum incrementally (RFC 1624 eqn. 3). Both directions of a flow
// get the same rewrite, so each pass's flows are distinct conversations that
// still hash symmetrically, keep their server ports (80, 11211) and reach other
// workers as new flows would.
import { R_DECODE, VERDICT_WHY_SHIFT, WC_BYTES, WC_PACKETS, WORKER_COUNT_BYTES, regionOffset } from "../mem/layout";
import {
  C_RP_DROP_IP_TRUNCATED, C_RP_DROP_NON_IP, C_RP_DROP_NOT_PACKET, C_RP_DROP_UNKNOWN_LINK, C_RP_OTHER_IP,
  C_RP_PROCESSED, C_RX_BYTES, C_RX_FRAMES, bump,
} from "../mem/counters";
import { DESC_CAPLEN, DESC_FLAGS, DESC_F_NOT_PACKET, DESC_LINKTYPE, DESC_OFF } from "../mem/desc";
import { retaLookup } from "../flow/reta";
import { be16, putBe16 } from "../wire/bytes";
import { rssHashV4, rssHashV6 } from "../flow/toeplitz";
import { TX_F_FRAG, TX_F_PORTS, TX_F_TRUNC, TX_F_V4, tupleHash, txFlags, txL3, txProto } from "../flow/extract";

export const MAX_WORKERS: u32 = 256;
/** Per-worker packet and byte counts (u64 each), for the report's per-worker split. */
export const workerCounts: usize = memory.data(<i32>(MAX_WORKERS * <u32>WORKER_COUNT_BYTES), 16);

// Outputs of rpParse for the packet just parsed (module globals: no allocation).
export let rpHash: u32 = 0; // RSS hash (symmetric key: same for both directions)
export let rpFlags: u32 = 0; // TX_F_* from flow/extract.ts
export let rpProto: u32 = 0;
export let rpL3: usize = 0; // address of the IP header
export let rpL4: usize = 0; // address of the transport header (0 if none or fragment)
export let rpEnd: usize = 0; // one past the last captured byte

/** Clears the per-worker counts (the host calls it once before a run). */
export function replayReset(): void {
  memory.fill(workerCounts, 0, <usize>MAX_WORKERS * WORKER_COUNT_BYTES);
}

/** Address of the per-worker counts: u64 packets, u64 bytes per worker. */
export function replayWorkerCounts(): usize {
  return workerCounts;
}

/** Address of descriptor i's verdict word. */
@inline export function verdictAt(i: u32): usize {
  return regionOffset(R_DECODE) + (<usize>i << 2);
}

@inline export function countWorker(w: u32, bytes: u32): void {
  const p = workerCounts + <usize>(w & (MAX_WORKERS - 1)) * WORKER_COUNT_BYTES;
  store<u64>(p, load<u64>(p, WC_PACKETS) + 1, WC_PACKETS);
  store<u64>(p, load<u64>(p, WC_BYTES) + <u64>bytes, WC_BYTES);
}

// Link types the extractor knows (flow/extract.ts linkToIp): a frame of any
// other type is dropped as "unknown link" rather than "non-IP".
@inline function knownLink(lt: u32): bool {
  return lt == 1 || lt == 101 || lt == 12 || lt == 14 || lt == 228 || lt == 229 || lt == 113 || lt == 276 || lt == 0 || lt == 108;
}

/**
 * Parses one frame: link → IP → ports, RSS hash. Returns 0 when it has an IP
 * header (processed from here), else the drop reason (a C_RP_DROP_* counter).
 */
export function rpParse(frame: usize, caplen: u32, linktype: u32, loop: u32): i32 {
  rpHash = tupleHash(frame, caplen, linktype);
  rpFlags = txFlags;
  rpEnd = frame + caplen;
  if ((rpFlags & 3) == 0) {
    if (!knownLink(linktype)) return C_RP_DROP_UNKNOWN_LINK;
    return rpFlags & TX_F_TRUNC ? C_RP_DROP_IP_TRUNCATED : C_RP_DROP_NON_IP;
  }
  rpProto = txProto;
  rpL3 = frame + <usize>txL3;
  rpL4 = 0;
  if ((rpFlags & TX_F_PORTS) != 0) {
    rpL4 = l4Start(rpL3, rpFlags);
    if (loop != 0) loopRewrite(loop);
  }
  return 0;
}

/** Start of the transport header of an unfragmented packet whose ports were read (TX_F_PORTS). */
function l4Start(ip: usize, flags: u32): usize {
  if (flags & TX_F_V4) return ip + ((<usize>load<u8>(ip) & 15) << 2);
  // IPv6: the same walk as flow/extract.ts (bounds already checked there).
  let nh = <u32>load<u8>(ip, 6);
  let off: usize = 40;
  for (let n = 0; n < 8; n++) {
    if (nh != 0 && nh != 43 && nh != 60 && nh != 44) break;
    const h = ip + off;
    off += nh == 44 ? 8 : (<usize>load<u8>(h, 1) + 1) << 3;
    nh = <u32>load<u8>(h);
  }
  return ip + off;
}

/** The --loop rewrite (see the header): client port += loop, checksum fixed, hash recomputed. */
function loopRewrite(loop: u32): void {
  const l4 = rpL4;
  const sp = be16(l4);
  const dp = be16(l4 + 2);
  let nsp = sp;
  let ndp = dp;
  if (sp >= dp) nsp = bump16(sp, loop);
  if (dp >= sp) ndp = bump16(dp, loop);
  putBe16(l4, nsp);
  putBe16(l4 + 2, ndp);
  // Checksum field: TCP at 16, UDP at 6 (UDP over IPv4 may carry 0 = none, RFC 768).
  const ck = rpProto == 6 ? l4 + 16 : rpProto == 17 ? l4 + 6 : 0;
  if (ck != 0 && ck + 2 <= rpEnd) {
    const old = be16(ck);
    if (!(rpProto == 17 && old == 0)) {
      // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one's complement sums.
      let s: u32 = (~old & 0xffff) + (~sp & 0xffff) + nsp + (~dp & 0xffff) + ndp;
      s = (s & 0xffff) + (s >> 16);
      s = (s & 0xffff) + (s >> 16);
      let c = ~s & 0xffff;
      if (rpProto == 17 && c == 0) c = 0xffff; // UDP sends a computed 0 as all ones
      putBe16(ck, c);
    }
  }
  if (rpFlags & TX_F_V4) rpHash = rssHashV4(rpL3 + 12, rpL3 + 16, nsp, ndp);
  else rpHash = rssHashV6(rpL3 + 8, rpL3 + 24, nsp, ndp);
}

@inline function bump16(p: u32, k: u32): u32 {
  const v = (p + k) & 0xffff;
  return v == 0 ? 1 : v; // wrapped onto 0: not a valid port
}

// CFG_MODE values (abi/table.ts MODES): 0 is the plain stack loop.
export { MODE_STACK, MODE_RAW, MODE_TRACK, MODE_SERVE } from "../mem/layout";

// ---- stage timing (stats/staged.ts): puts back one parsed packet's outputs ----
/** Sets the rpParse outputs to a packet parsed earlier in the batch (a later pass works on it). */
export function rpRestore(hash: u32, flags: u32, proto: u32, l3: usize, l4: usize, end: usize): void {
  rpHash = hash;
  rpFlags = flags;
  rpProto = proto;
  rpL3 = l3;
  rpL4 = l4;
  rpEnd = end;
}

// ---- the steps every replay batch function shares (raw, track, the timed variants) ----

// Drop counts of one batch, by counter number (C_RP_DROP_* are 69..77), bumped once per batch.
const dropBatch = memory.data(16 * 8, 16);

@inline export function dropNote(reason: i32): void {
  const p = dropBatch + (<usize>(reason - C_RP_DROP_NOT_PACKET) << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function dropFlush(): void {
  for (let r = 0; r < 9; r++) {
    const p = dropBatch + (<usize>r << 3);
    const v = load<u64>(p);
    if (v != 0) {
      bump(C_RP_DROP_NOT_PACKET + r, v);
      store<u64>(p, 0);
    }
  }
}

/** Parses the frame of descriptor d (rpParse); a record that is not a packet is a drop. */
@inline export function rpParseDesc(d: usize, loop: u32): i32 {
  if ((load<u16>(d, DESC_FLAGS) & DESC_F_NOT_PACKET) != 0) return C_RP_DROP_NOT_PACKET;
  return rpParse(<usize>load<u32>(d, DESC_OFF), load<u32>(d, DESC_CAPLEN), <u32>load<u16>(d, DESC_LINKTYPE), loop);
}

/** Writes packet i's verdict: dropped (why > 0), else the worker its hash maps to (counted). Returns 1 if processed. */
@inline export function rpVerdict(i: u32, why: i32, hash: u32, caplen: u32): u32 {
  if (why > 0) {
    dropNote(why);
    store<u32>(verdictAt(i), <u32>why << VERDICT_WHY_SHIFT);
    return 0;
  }
  const w = retaLookup(hash);
  countWorker(w, caplen);
  store<u32>(verdictAt(i), w);
  return 1;
}

/** A batch's counters, bumped once per batch. */
export function rpBatchEnd(count: u32, bytes: u64, done: u32, other: u64): void {
  bump(C_RX_FRAMES, count);
  bump(C_RX_BYTES, bytes);
  bump(C_RP_PROCESSED, done);
  if (other != 0) bump(C_RP_OTHER_IP, other);
  dropFlush();
}
