// SACK-based loss recovery (RFC 6675) over a scoreboard of what the peer's SACK
// blocks (RFC 2018) said it holds above SND.UNA.
//
// Why a side pool: a scoreboard is needed only while a connection has SACKed
// data outstanding, a few connections at a time, and the 256-byte TCB has no
// room for one (1 M connections are the design point). A TCB holds the index
// + 1 of its board in the byte TCB_SACK_BOARD (0: none). With the pool empty (or SACK not
// negotiated) the connection recovers with NewReno (RFC 6582), as before.
//
// Board (64 bytes): n u32 @0 (blocks), highRxt u32 @4 (RFC 6675 HighRxt: the
// highest sequence retransmitted in this recovery, + 1), @8..16 spare, then up
// to SB_MAX blocks {left, right} (right exclusive), sorted, disjoint and not
// adjacent, all inside (SND.UNA, SND.MAX]. The oldest blocks beyond SB_MAX are
// forgotten (RFC 2018 §8: SACK information is advisory; the cumulative ACK and
// the RTO stay the authority).
//
// Not implemented (RFC 6675): the rescue retransmission of §4 NextSeg (4), and
// SACK-based loss recovery after an RTO (§5.1): an RTO drops the board and the
// connection goes back to SND.UNA, as RFC 2018 §8 describes.
import { TCB_FLAGS, TCB_MSS, TCB_SACK_BOARD, TCB_SND_MAX, TCB_SND_UNA } from "./tcb";
import { TF_SACK_OK, seqGT, seqLE, seqLT } from "./state";

const SB_COUNT: u32 = 255; // the TCB keeps index + 1 in one byte
const SB_BYTES: usize = 64;
const SB_N: usize = 0;
const SB_HIGH_RXT: usize = 4;
const SB_BLOCKS: usize = 16;
const SB_MAX: u32 = 6;
/** RFC 6675 §2 DupThresh. */
export const DUP_THRESH: u32 = 3;

const pool = memory.data(<i32>(SB_COUNT * <u32>SB_BYTES), 16);
const freeStack = memory.data(<i32>(SB_COUNT * 2), 2);
let freeTop: u32 = 0;

export function sackInit(): void {
  for (let i: u32 = 0; i < SB_COUNT; i++) store<u16>(freeStack + (<usize>i << 1), <u16>(SB_COUNT - 1 - i));
  freeTop = SB_COUNT;
}

/** The board of t, or 0. */
@inline export function sackBoard(t: usize): usize {
  const i = <u32>load<u8>(t, TCB_SACK_BOARD);
  return i == 0 ? 0 : pool + <usize>(i - 1) * SB_BYTES;
}

/** Returns t's board to the pool (connection gone, RTO, or nothing SACKed any more). */
export function sackRelease(t: usize): void {
  const i = <u32>load<u8>(t, TCB_SACK_BOARD);
  if (i == 0) return;
  store<u16>(freeStack + (<usize>freeTop << 1), <u16>(i - 1));
  freeTop++;
  store<u8>(t, 0, TCB_SACK_BOARD);
}

@inline function blk(b: usize, k: u32): usize {
  return b + SB_BLOCKS + (<usize>k << 3);
}

function removeBlock(b: usize, k: u32): void {
  const n = load<u32>(b, SB_N);
  if (k + 1 < n) memory.copy(blk(b, k), blk(b, k + 1), <usize>(n - k - 1) << 3);
  store<u32>(b, n - 1, SB_N);
}

// Inserts [l, r) keeping the blocks sorted and merged; past SB_MAX the lowest block goes
// (the cumulative ACK will cover it soonest).
function insertBlock(b: usize, l: u32, r: u32): void {
  let n = load<u32>(b, SB_N);
  let k: u32 = 0;
  while (k < n && seqLT(load<u32>(blk(b, k), 4), l)) k++; // first block whose right >= l
  // merge every block that touches [l, r)
  while (k < n && seqLE(load<u32>(blk(b, k)), r)) {
    const bl = load<u32>(blk(b, k));
    const br = load<u32>(blk(b, k), 4);
    if (seqLT(bl, l)) l = bl;
    if (seqGT(br, r)) r = br;
    removeBlock(b, k);
    n--;
  }
  if (n == SB_MAX) {
    removeBlock(b, 0);
    n--;
    if (k > 0) k--;
  }
  if (k < n) memory.copy(blk(b, k + 1), blk(b, k), <usize>(n - k) << 3);
  store<u32>(blk(b, k), l);
  store<u32>(blk(b, k), r, 4);
  store<u32>(b, n + 1, SB_N);
}

/**
 * After SND.UNA moved to `una` and with the segment's SACK blocks (nb pairs at
 * `blocks`, already in host order): the board of t updated. Blocks outside
 * (una, SND.MAX] are ignored (RFC 2018 §4: a D-SACK or a stale block). Takes a
 * board from the pool on the first useful block (sackIdle gives it back).
 */
export function sackUpdate(t: usize, blocks: usize, nb: u32): void {
  if ((load<u32>(t, TCB_FLAGS) & TF_SACK_OK) == 0) return;
  const una = load<u32>(t, TCB_SND_UNA);
  const max = load<u32>(t, TCB_SND_MAX);
  let b = sackBoard(t);
  for (let i: u32 = 0; i < nb; i++) {
    const l = load<u32>(blocks + (<usize>i << 3));
    const r = load<u32>(blocks + (<usize>i << 3), 4);
    if (!seqLT(l, r) || !seqGT(l, una) || seqGT(r, max)) continue;
    if (b == 0) {
      if (freeTop == 0) return; // no board: NewReno for this connection
      freeTop--;
      const idx = <u32>load<u16>(freeStack + (<usize>freeTop << 1));
      store<u8>(t, <u8>(idx + 1), TCB_SACK_BOARD);
      b = pool + <usize>idx * SB_BYTES;
      store<u32>(b, 0, SB_N);
      store<u32>(b, una, SB_HIGH_RXT);
    }
    insertBlock(b, l, r);
  }
  if (b == 0) return;
  // The cumulative ACK point passed the lowest blocks: drop or trim them.
  while (load<u32>(b, SB_N) > 0 && seqLE(load<u32>(blk(b, 0)), una)) {
    if (seqLE(load<u32>(blk(b, 0), 4), una)) removeBlock(b, 0);
    else store<u32>(blk(b, 0), una);
  }
  if (seqLT(load<u32>(b, SB_HIGH_RXT), una)) store<u32>(b, una, SB_HIGH_RXT);
}

/** Frees t's board when nothing above SND.UNA is SACKed (outside recovery). */
export function sackIdle(t: usize): void {
  const b = sackBoard(t);
  if (b != 0 && load<u32>(b, SB_N) == 0) sackRelease(t);
}

/** Whether t has SACK information to recover with. */
export function sackActive(t: usize): bool {
  const b = sackBoard(t);
  return b != 0 && load<u32>(b, SB_N) > 0;
}

// SACKed blocks and bytes above the hole that ends at block k (blocks k..n-1).
// IsLost (RFC 6675 §4) of any sequence in that hole: DupThresh discontiguous
// SACKed blocks above it, or more than (DupThresh - 1) · SMSS SACKed bytes.
function holeLost(b: usize, k: u32, mss: u32): bool {
  const n = load<u32>(b, SB_N);
  if (n - k >= DUP_THRESH) return true;
  let bytes: u32 = 0;
  for (let j = k; j < n; j++) bytes += load<u32>(blk(b, j), 4) - load<u32>(blk(b, j));
  return bytes > (DUP_THRESH - 1) * mss;
}

/** RFC 6675 §5 (4.1)-style test at SND.UNA: is the first hole lost already (enter recovery)? */
export function sackUnaLost(t: usize): bool {
  const b = sackBoard(t);
  if (b == 0 || load<u32>(b, SB_N) == 0) return false;
  return holeLost(b, 0, <u32>load<u16>(t, TCB_MSS));
}

/**
 * RFC 6675 §4 SetPipe: octets in flight. Over the holes between SND.UNA and
 * SND.MAX (SACKed octets are not in flight): a hole not lost counts whole, and
 * what of a hole was retransmitted (below HighRxt) counts (again).
 */
export function sackPipe(t: usize): u32 {
  const b = sackBoard(t);
  const una = load<u32>(t, TCB_SND_UNA);
  const max = load<u32>(t, TCB_SND_MAX);
  if (b == 0) return max - una;
  const mss = <u32>load<u16>(t, TCB_MSS);
  const hr = load<u32>(b, SB_HIGH_RXT);
  const n = load<u32>(b, SB_N);
  let pipe: u32 = 0;
  let l = una;
  for (let k: u32 = 0; k <= n; k++) {
    const r = k < n ? load<u32>(blk(b, k)) : max; // the hole [l, r) ends at block k
    if (seqLT(l, r)) {
      const lost = k < n && holeLost(b, k, mss);
      if (!lost) pipe += r - l;
      if (seqGT(hr, l)) pipe += (seqLT(hr, r) ? hr : r) - l;
    }
    if (k < n) l = load<u32>(blk(b, k), 4);
  }
  return pipe;
}

/**
 * RFC 6675 §4 NextSeg, rules (1) and (3): the first sequence not SACKed, at or
 * above HighRxt and below the highest SACKed octet, lost (rule 1) or, when
 * `any`, not (rule 3); its length to the end of its hole, at most `cap`, in the
 * high 32 bits. 0 when there is none (then new data, rule 2, is the caller's).
 */
export function sackNextSeg(t: usize, cap: u32, any: bool): u64 {
  const b = sackBoard(t);
  if (b == 0) return 0;
  const una = load<u32>(t, TCB_SND_UNA);
  const mss = <u32>load<u16>(t, TCB_MSS);
  const hr = load<u32>(b, SB_HIGH_RXT);
  const n = load<u32>(b, SB_N);
  let l = una;
  for (let k: u32 = 0; k < n; k++) {
    const r = load<u32>(blk(b, k));
    let s = seqGT(hr, l) ? hr : l;
    if (seqLT(s, r) && (any || holeLost(b, k, mss))) {
      const len = min<u32>(r - s, cap);
      return (<u64>len << 32) | <u64>s;
    }
    l = load<u32>(blk(b, k), 4);
  }
  return 0;
}

/** A retransmission of [seq, seq + len) left: HighRxt moves past it. */
export function sackSent(t: usize, seq: u32, len: u32): void {
  const b = sackBoard(t);
  if (b == 0) return;
  const e = seq + len;
  if (seqGT(e, load<u32>(b, SB_HIGH_RXT))) store<u32>(b, e, SB_HIGH_RXT);
}

/** Recovery starts (RFC 6675 §5 (4.1)): nothing of it retransmitted yet. */
export function sackRecoveryStart(t: usize): void {
  const b = sackBoard(t);
  if (b != 0) store<u32>(b, load<u32>(t, TCB_SND_UNA), SB_HIGH_RXT);
}
