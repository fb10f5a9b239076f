// TCB table: CFG_TCBS fixed 256-byte records in region R_TCB, carved at init and
// never grown. Exactly 256 bytes per TCB (4 cache lines), data excluded: data
// lives in mbufs (receive) and in the app's memory (send spans). For 1,000,000
// TCBs: 256 MB of TCBs + 16 MB of timer entries (net/timer.ts).
//
// Handles are slot | (generation & 0xff) << 24: up to 16,777,216 slots, and a
// slot reused 256 times before a stale handle could alias (the generation
// moves on every free). Every command checks the handle (tcbFromHandle).
//
// Free slots form a LIFO list through TCB_LINK (O(1) alloc/free; the most
// recently freed, cache-warm TCB is reused first). Slots never used are handed
// out by a bump index, so init is O(1) whatever CFG_TCBS is.
//
// Layout (little-endian; sequence numbers in host order):
//  off size field
//   0   1   state        ST_* (state.ts)
//   1   1   family       4 | 6
//   2   1   tmrKind      TK_* of the one per-TCB timer
//   3   1   retries      consecutive RTO expirations / zero-window probes
//   4   4   flags        TF_*
//   8   4   gen          generation (handle bits 24..31 are its low byte)
//  12   4   cookie       the app's word for this connection
//  16   2   lport        local port (number)
//  18   2   rport        remote port
//  20   4   flowIdx      flow-table entry of the arrival-direction key
//  24   4   hash         Toeplitz hash of that key
//  28   1   sndWscale    shift applied to SEG.WND (peer's window scale)
//  29   1   rcvWscale    shift we apply to our window
//  30   1   dupacks      duplicate ACK count (RFC 5681 §3.2)
//  31   1   oooCount     segments in the out-of-order queue
//  32  16   laddr        local address (wire order)
//  48  16   raddr        remote address
//  64   6   lmac         our MAC as the peer addressed it (replies go back the way they came)
//  70   6   rmac         peer MAC
//  76   4   link         free list / flush list next (slot+1, 0 = end)
//  80   4   iss          initial send sequence number
//  84   4   sndUna
//  88   4   sndNxt       next sequence to send (pulled back to sndUna by an RTO)
//  92   4   sndMax       highest sequence sent + 1 (RFC 9293 SND.NXT for ACK checks)
//  96   4   sndWnd       peer window in bytes (scaled)
// 100   4   sndWl1
// 104   4   sndWl2
// 108   4   maxSndWnd    largest window seen (RFC 5961 §5.2 MAX.SND.WND)
// 112   4   sqHead       send queue: first span index (NONE = empty)
// 116   4   sqTail
// 120   4   sqHeadOff    bytes of the head span already acknowledged
// 124   4   sqLen        data bytes queued from sndUna (unacked + unsent)
// 128   4   irs
// 132   4   rcvNxt
// 136   4   rcvAdv       right edge of the window we advertised (never moves left)
// 140   4   rcvHeld      bytes given to the app in RECV events and not yet RECV_DONE
// 144   4   rqHead       mbufs holding those bytes (MB_LINK chain)
// 148   4   rqTail
// 152   4   oooHead      out-of-order mbufs, ascending MB_SEQ (MB_LINK chain)
// 156   2   mss          effective send MSS, payload bytes per segment (options deducted)
// 158   1   segsUnacked  in-order segments since our last ACK (delayed ACK, every 2nd)
// 159   1   sackBoard    index + 1 of its SACK scoreboard (sack.ts), 0 = none
// 160   4   cwnd
// 164   4   ssthresh
// 168   4   recover      NewReno (RFC 6582)
// 172   4   caAcked      bytes acked in congestion avoidance (RFC 5681 byte counting)
// 176   4   srtt         µs (RFC 6298)
// 180   4   rttvar       µs
// 184   4   rto          µs, backed off
// 188   4   rttSeq       sequence whose ACK ends the RTT sample
// 192   4   rttStart     low 32 bits of the clock (µs) when it was sent
// 196   4   tsRecent     RFC 7323 §4.3
// 200   4   tsRecentAge  seconds
// 204   4   tsOff        our TSval = now in ms + tsOff (random per connection, or the replay preset)
// 208   4   lastAckSent  RCV.NXT in our last ACK (RFC 7323 Last.ACK.sent)
// 212   4   lastSentEv   the EV_TCP_SENT descriptor to coalesce into
// 216   4   curSpan      send cursor span | half-open list next (SYN-RECEIVED only)
// 220   4   curOff       send cursor offset in that span | half-open list prev
// 224   4   curSeq       sequence number the send cursor stands at
// 228   4   lastOooSeq   start of the most recent out-of-order segment (first SACK block)
// 232   8   tmrDeadline  deadline of tmrKind, µs
// 240   8   delackAt     delayed-ACK deadline, µs (0 = none)
// 248   4   dirtyPrev    flush list prev (slot+1); TCB_LINK is next
// 252   2   annMss       MSS we announce (config, or the replay preset)
// 254   2   lastRxS      low 16 bits of the second the last acceptable segment arrived (idle limit)
import { CFG_TCBS, R_TCB, cfg, regionOffset } from "../../mem/layout";
import { TF_USED } from "./state";

export const TCB_BYTES: usize = 256;
export const NONE: u32 = 0xffffffff;

export const TCB_STATE: usize = 0;
export const TCB_FAMILY: usize = 1;
export const TCB_TMR_KIND: usize = 2;
export const TCB_RETRIES: usize = 3;
export const TCB_FLAGS: usize = 4;
export const TCB_GEN: usize = 8;
export const TCB_COOKIE: usize = 12;
export const TCB_LPORT: usize = 16;
export const TCB_RPORT: usize = 18;
export const TCB_FLOW: usize = 20;
export const TCB_HASH: usize = 24;
export const TCB_SND_WSCALE: usize = 28;
export const TCB_RCV_WSCALE: usize = 29;
export const TCB_DUPACKS: usize = 30;
export const TCB_OOO_COUNT: usize = 31;
export const TCB_LADDR: usize = 32;
export const TCB_RADDR: usize = 48;
export const TCB_LMAC: usize = 64;
export const TCB_RMAC: usize = 70;
export const TCB_LINK: usize = 76;
export const TCB_ISS: usize = 80;
export const TCB_SND_UNA: usize = 84;
export const TCB_SND_NXT: usize = 88;
export const TCB_SND_MAX: usize = 92;
export const TCB_SND_WND: usize = 96;
export const TCB_SND_WL1: usize = 100;
export const TCB_SND_WL2: usize = 104;
export const TCB_MAX_SND_WND: usize = 108;
export const TCB_SQ_HEAD: usize = 112;
export const TCB_SQ_TAIL: usize = 116;
export const TCB_SQ_HEAD_OFF: usize = 120;
export const TCB_SQ_LEN: usize = 124;
export const TCB_IRS: usize = 128;
export const TCB_RCV_NXT: usize = 132;
export const TCB_RCV_ADV: usize = 136;
export const TCB_RCV_HELD: usize = 140;
export const TCB_RQ_HEAD: usize = 144;
export const TCB_RQ_TAIL: usize = 148;
export const TCB_OOO_HEAD: usize = 152;
export const TCB_MSS: usize = 156;
export const TCB_SEGS_UNACKED: usize = 158;
export const TCB_SACK_BOARD: usize = 159;
export const TCB_CWND: usize = 160;
export const TCB_SSTHRESH: usize = 164;
export const TCB_RECOVER: usize = 168;
export const TCB_CA_ACKED: usize = 172;
export const TCB_SRTT: usize = 176;
export const TCB_RTTVAR: usize = 180;
export const TCB_RTO: usize = 184;
export const TCB_RTT_SEQ: usize = 188;
export const TCB_RTT_START: usize = 192;
export const TCB_TS_RECENT: usize = 196;
export const TCB_TS_RECENT_AGE: usize = 200;
export const TCB_TS_OFF: usize = 204;
export const TCB_LAST_ACK_SENT: usize = 208;
export const TCB_LAST_SENT_EV: usize = 212;
export const TCB_CUR_SPAN: usize = 216;
export const TCB_CUR_OFF: usize = 220;
export const TCB_HO_NEXT: usize = 216; // union with the send cursor: SYN-RECEIVED sends no data
export const TCB_HO_PREV: usize = 220;
export const TCB_CUR_SEQ: usize = 224;
export const TCB_LAST_OOO_SEQ: usize = 228;
export const TCB_TMR_DEADLINE: usize = 232;
export const TCB_DELACK_AT: usize = 240;
export const TCB_DIRTY_PREV: usize = 248;
export const TCB_ANN_MSS: usize = 252;
export const TCB_LAST_RX_S: usize = 254;

/** Bytes of region R_TCB for n TCBs (mem/plan.ts). */
export function tcbTableBytes(n: u32): usize {
  return <usize>n * TCB_BYTES;
}

let base: usize = 0;
let cap: u32 = 0;
let bumpNext: u32 = 0;
let freeHead: u32 = 0; // slot + 1, 0 = empty
let used: u32 = 0;

export function tcbTableInit(): void {
  base = regionOffset(R_TCB);
  cap = cfg(CFG_TCBS);
  if (cap > 0xffffff) cap = 0xffffff; // handles carry 24 slot bits
  bumpNext = 0;
  freeHead = 0;
  used = 0;
}

@inline export function tcbAt(slot: u32): usize {
  return base + <usize>slot * TCB_BYTES;
}

@inline export function tcbSlot(t: usize): u32 {
  return <u32>((t - base) / TCB_BYTES);
}

@inline export function tcbHandle(t: usize): u32 {
  return tcbSlot(t) | ((load<u32>(t, TCB_GEN) & 0xff) << 24);
}

/** A zeroed TCB (state CLOSED) or 0 when all CFG_TCBS are in use. */
export function tcbAlloc(): usize {
  let slot: u32;
  if (freeHead != 0) {
    slot = freeHead - 1;
    freeHead = load<u32>(tcbAt(slot), TCB_LINK);
  } else if (bumpNext < cap) {
    slot = bumpNext++;
    store<u32>(tcbAt(slot), 0, TCB_GEN);
  } else return 0;
  const t = tcbAt(slot);
  const gen = load<u32>(t, TCB_GEN);
  memory.fill(t, 0, TCB_BYTES);
  store<u32>(t, gen, TCB_GEN);
  store<u32>(t, 0xffffffff, TCB_FLOW);
  store<u32>(t, TF_USED, TCB_FLAGS);
  used++;
  return t;
}

/** Returns a TCB to the free list; the generation moves so old handles fail. */
export function tcbRelease(t: usize): void {
  store<u8>(t, 0, TCB_STATE);
  store<u32>(t, 0, TCB_FLAGS);
  store<u32>(t, load<u32>(t, TCB_GEN) + 1, TCB_GEN);
  store<u32>(t, freeHead, TCB_LINK);
  store<u32>(t, 0xffffffff, TCB_FLOW);
  freeHead = tcbSlot(t) + 1;
  used--;
}

/** The TCB a handle names, or 0 if the slot is out of range, free, or of another generation. */
export function tcbFromHandle(h: u32): usize {
  const slot = h & 0xffffff;
  if (slot >= bumpNext) return 0;
  const t = tcbAt(slot);
  if ((load<u32>(t, TCB_FLAGS) & TF_USED) == 0) return 0; // free
  if ((load<u32>(t, TCB_GEN) & 0xff) != h >> 24) return 0;
  return t;
}

export function tcbUsed(): u32 {
  return used;
}

export function tcbCapacity(): u32 {
  return cap;
}

/** Slots handed out so far (every used TCB is below it): what a scan over all TCBs walks (net/tcp/migrate.ts). */
export function tcbHighWater(): u32 {
  return bumpNext;
}
