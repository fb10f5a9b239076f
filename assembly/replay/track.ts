// Replay track mode: both directions of every flow go through flow lookup
// (canonical key, so one entry per conversation) and TCP segments through a
// passive state tracker. Nothing is answered. Works on captures that start
// mid-stream: a flow first seen without its SYN is picked up from its first
// packet, its window scale assumed maximal (14, RFC 7323 §2.3) until proven.
//
// The tracker follows the bounds of G. van Rooij, "Real Stateful TCP Packet
// Filtering in IP Filter" (2001), as Linux conntrack does, with RFC 9293 state
// names. Per direction (sender d, receiver o):
//   end[d]    highest sequence number d has sent, + 1 (seq + SYN + data + FIN)
//   maxend[d] highest right window edge d has advertised: ack + (window << scale)
//   maxwin[d] largest window d has advertised (scaled, at least 1)
// A segment from d is in the window when
//   (I)  seq + len <= maxend[o] + maxwin[o]  (one window of slack: captures lose
//                                              window updates)
//   (II) seq + len >= end[d] - maxwin[o]     (not older than one receiver window)
// A RST failing either is dropped (C_RP_DROP_TCP_RST_INVALID, RFC 5961 §3.2:
// it does not close the flow). Other segments failing them are counted
// (C_RP_TCP_OUT_OF_WINDOW), not dropped, and do not move end[d]: in a capture a
// jump past the window is mostly data that was not captured (bigtransfer.pcap
// skips hundreds of MB) and sometimes a damaged segment (sll-oversized-addr.pcapng
// frame 7): either way later segments must still be judged against what the
// receiver really allowed. Everything else is observed and counted:
// retransmissions (sequence space already seen), out-of-order arrivals (filling
// the last gap), gaps (data the capture missed: tshark's "previous segment not
// captured"), ACKs of unseen data, duplicate ACKs (RFC 5681 §2), zero windows,
// keep-alives (RFC 1122 §4.2.3.6). Retransmissions + out-of-order + repeated
// SYNs equal tshark's tcp.analysis.retransmission || out_of_order on the
// corpus, gaps its lost_segment (test/replay/track.test.ts).
//
// Flow records live in R_APP (track mode runs no app), one per flow-table entry,
// indexed by the entry's index (stable while other entries move, flow/table.ts).
import { DESC_BYTES, DESC_CAPLEN } from "../mem/desc";
import { CFG_FLOWS, R_APP, R_DESC, SCRATCH_BASE, cfg, regionBytes, regionOffset } from "../mem/layout";
import { C_RP_DROP_FLOW_TABLE_FULL, C_RP_DROP_TCP_BAD_FLAGS, C_RP_DROP_TCP_MALFORMED, C_RP_TCP_OUT_OF_WINDOW, C_RP_DROP_TCP_RST_INVALID, C_RP_FLOWS, C_RP_FLOWS_MIDSTREAM, C_RP_FLOWS_TCP, C_RP_TCP_ACK_UNSEEN, C_RP_TCP_CLOSED, C_RP_TCP_DUP_ACKS, C_RP_TCP_FINS, C_RP_TCP_HANDSHAKES, C_RP_TCP_KEEPALIVES, C_RP_TCP_OUT_OF_ORDER, C_RP_TCP_RETRANSMISSIONS, C_RP_TCP_REUSED, C_RP_TCP_RSTS, C_RP_TCP_SEQ_GAPS, C_RP_TCP_SYN_RETRANS, C_RP_TCP_ZERO_WINDOW, bump } from "../mem/counters";

import { flowKeyCanonicalSwap, flowKeySetV4, flowKeySetV4Wire, flowKeySetV6 } from "../flow/key";
import { flowCount, flowInsert, flowKeyAt, flowSlots } from "../flow/table";
import { be16, be32 } from "../wire/bytes";
import { TX_F_PORTS, TX_F_V4 } from "../flow/extract";
import { rpBatchEnd, rpFlags, rpHash, rpL3, rpL4, rpEnd, rpParseDesc, rpProto, rpVerdict } from "./common";

// ---- flow record (128 bytes) ---------------------------------------------------
export const TR_BYTES: usize = 128;
const R_STATE: usize = 0; // u8: state (low 4 bits), SF_FINACK (bits 4, 5), SF_BEYOND (bits 6, 7)
const R_FLAGS: usize = 1; // u8: RF_*
const R_SCALE: usize = 2; // u8 x 2: window shift announced in each direction's SYN
const R_ISN: usize = 4; // u32: the initiator's ISN (tells a retransmitted SYN from a new conversation)
const R_DIR: usize = 8; // per direction d at R_DIR + d * D_BYTES:
const D_BYTES: usize = 28;
const D_END: usize = 0;
const D_MAXEND: usize = 4;
const D_MAXWIN: usize = 8;
const D_LASTACK: usize = 12;
const D_LASTWIN: usize = 16;
const D_HOLE_LO: usize = 20; // one gap [lo, hi) left by a segment that started beyond end (lo == hi: none)
const D_HOLE_HI: usize = 24;
const R_BEYOND: usize = 64; // u32 x 2: end of each direction's last segment past the window (valid with SF_BEYOND)

const RF_TCP: u32 = 1;
const RF_MID: u32 = 2; // picked up without its SYN: window scale unknown
const RF_SEEN0: u32 = 4; // direction 0 has sent (bit << d)
const RF_FIN0: u32 = 16; // direction 0 has sent a FIN (bit << d)
const RF_WS: u32 = 64; // both SYNs carried window scale: scaling is on (RFC 7323 §2.2)
const RF_INIT1: u32 = 128; // the initiator (first SYN) travels direction 1
const SF_FINACK0: u32 = 16; // direction 0's FIN is acknowledged (bit << d)
const SF_BEYOND0: u32 = 64; // direction 0 sent past the window since end[0] last moved (bit << d)

// Conversation states (RFC 9293 names, one per conversation: the tracker sees both ends),
// ST_* and ST_COUNT: abi/table/track.ts (the report names them from the same table).
import {
  ST_NONE, ST_SYN_SENT, ST_SYN_RECEIVED, ST_ESTABLISHED, ST_FIN_WAIT, ST_CLOSING, ST_TIME_WAIT, ST_CLOSED, ST_COUNT,
} from "../abi/track.gen";

const TH_FIN: u32 = 1;
const TH_SYN: u32 = 2;
const TH_RST: u32 = 4;
const TH_ACK: u32 = 16;
const MID_SCALE: u32 = 14; // RFC 7323 §2.3: the largest shift

const key = memory.data(48, 16);
let recBase: usize = 0;

// Last IPv4 conversation seen (either orientation): consecutive packets of one
// flow skip key, hash and probe (as flow/count.ts does for inspect).
let lastAddrs: u64 = 0;
let lastPorts: u32 = 0;
let lastProto: u32 = 0;
let lastEntry: i32 = -1;
let lastDir: u32 = 0;

/** Track mode needs CFG_APP_BYTES >= CFG_FLOWS * TR_BYTES. Returns 0 or -1. */
export function trackInit(): i32 {
  recBase = regionOffset(R_APP);
  lastEntry = -1;
  if (<u64>regionBytes(R_APP) < <u64>cfg(CFG_FLOWS) * TR_BYTES) return -1;
  return 0;
}

/** Bytes of R_APP track mode needs for a flow capacity (host sizing). */
export function trackBytes(flows: u32): u32 {
  return flows * <u32>TR_BYTES;
}

@inline function rec(e: i32): usize {
  return recBase + (<usize>e << 7);
}

@inline function seqLt(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}
@inline function seqGt(a: u32, b: u32): bool {
  return <i32>(a - b) > 0;
}

/**
 * Track mode over descriptors first..first+count-1 (loop: the --loop pass).
 * Writes each verdict (common.ts) and returns the number processed.
 */
export function replayTrackBatch(first: u32, count: u32, loop: u32): u32 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let done: u32 = 0;
  let bytes: u64 = 0;
  let other: u64 = 0;
  for (let i = first; i < first + count; i++, d += DESC_BYTES) {
    const caplen = load<u32>(d, DESC_CAPLEN);
    bytes += caplen;
    let why = rpParseDesc(d, loop);
    if (why == 0) why = trackPacket();
    if (why < 0) other++; // other IP: counted, and processed like the rest
    done += rpVerdict(i, why, rpHash, caplen);
  }
  rpBatchEnd(count, bytes, done, other);
  return done;
}

/** Flow lookup and, for TCP, tracking. 0: tracked TCP; -1: other IP (flow only); > 0: drop reason. */
function trackPacket(): i32 {
  const e = trackLookup();
  if (e < 0) return C_RP_DROP_FLOW_TABLE_FULL;
  return trackTcp(e, tlDir, tlFresh);
}

// Outputs of trackLookup besides the entry (module globals: no allocation).
export let tlDir: u32 = 0; // direction of the packet relative to the canonical key
export let tlFresh = false; // the lookup inserted the flow

/**
 * Flow lookup of the packet rpParse just parsed (split from trackPacket so
 * stats/staged.ts can time it as its own pass): the entry, or -1 when the
 * table is full; sets tlDir and tlFresh.
 */
export function trackLookup(): i32 {
  const l3 = rpL3;
  const l4 = rpL4;
  const v4 = (rpFlags & TX_F_V4) != 0;
  const ports = (rpFlags & TX_F_PORTS) != 0;
  const proto = rpProto;
  let e: i32 = -1;
  let dir: u32 = 0;
  let fresh = false;
  if (v4 && ports) {
    const addrs = load<u64>(l3 + 12);
    const pp = load<u32>(l4);
    if (lastEntry >= 0 && proto == lastProto) {
      if (addrs == lastAddrs && pp == lastPorts) {
        e = lastEntry;
        dir = lastDir;
      } else if (((addrs >> 32) | (addrs << 32)) == lastAddrs && ((pp >> 16) | (pp << 16)) == lastPorts) {
        e = lastEntry;
        dir = lastDir ^ 1;
      }
    }
  }
  if (e < 0) {
    if (v4 && ports) flowKeySetV4Wire(key, proto, l3 + 12, l3 + 16, l4);
    else {
      const sp = ports ? be16(l4) : 0;
      const dp = ports ? be16(l4 + 2) : 0;
      if (v4) flowKeySetV4(key, proto, l3 + 12, l3 + 16, sp, dp);
      else flowKeySetV6(key, proto, l3 + 8, l3 + 24, sp, dp);
    }
    dir = <u32>flowKeyCanonicalSwap(key);
    const before = flowCount();
    // The symmetric RSS key makes rpHash a function of the canonical key (flow/table.ts contract).
    e = flowInsert(key, rpHash);
    if (e < 0) return -1;
    fresh = flowCount() != before;
    if (v4 && ports) {
      lastAddrs = load<u64>(l3 + 12);
      lastPorts = load<u32>(l4);
      lastProto = proto;
      lastEntry = e;
      lastDir = dir;
    }
  }
  if (fresh) {
    memory.fill(rec(e), 0, TR_BYTES);
    bump(C_RP_FLOWS);
  }
  tlDir = dir;
  tlFresh = fresh;
  return e;
}

/** TCP tracking of the looked-up packet on entry e: 0 tracked, -1 not TCP with ports, > 0 drop reason. */
export function trackTcp(e: i32, dir: u32, fresh: bool): i32 {
  if (rpProto != 6 || (rpFlags & TX_F_PORTS) == 0) return -1;
  return tcpTrack(rec(e), dir, fresh);
}

/** Window shift of direction d's advertisements (RFC 7323 §2.2: only when both SYNs offered it). */
@inline function shiftOf(r: usize, d: u32): u32 {
  const f = <u32>load<u8>(r, R_FLAGS);
  if (f & RF_MID) return MID_SCALE;
  return f & RF_WS ? <u32>load<u8>(r + R_SCALE + <usize>d) : 0;
}

/** Window-scale option of a SYN (RFC 7323 §2.3), 0xff when absent or cut. */
function synWscale(l4: usize, doff: usize): u32 {
  let p = l4 + 20;
  let end = l4 + doff;
  if (end > rpEnd) end = rpEnd;
  while (p < end) {
    const kind = <u32>load<u8>(p);
    if (kind == 0) break;
    if (kind == 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = <usize>load<u8>(p, 1);
    if (len < 2 || p + len > end) break;
    if (kind == 3 && len == 3) return min<u32>(<u32>load<u8>(p, 2), MID_SCALE);
    p += len;
  }
  return 0xff;
}

/** Starts a conversation on record r with this segment from direction d. */
function tcpOpen(r: usize, d: u32, flags: u32, seq: u32, l4: usize, doff: usize, count: bool = true): void {
  memory.fill(r, 0, TR_BYTES);
  let f: u32 = RF_TCP;
  if (count) bump(C_RP_FLOWS_TCP);
  if ((flags & (TH_SYN | TH_ACK)) == TH_SYN) {
    store<u8>(r, <u8>ST_SYN_SENT, R_STATE);
    store<u32>(r, seq, R_ISN);
    store<u8>(r + R_SCALE + <usize>d, <u8>synWscale(l4, doff));
    if (d == 1) f |= RF_INIT1;
  } else {
    // Mid-stream (or from the SYN-ACK): the scale factors are unknown.
    f |= RF_MID;
    bump(C_RP_FLOWS_MIDSTREAM);
    store<u8>(r, <u8>(flags & TH_SYN ? ST_SYN_RECEIVED : ST_ESTABLISHED), R_STATE);
    if (d == 0) f |= RF_INIT1;
  }
  store<u8>(r, <u8>f, R_FLAGS);
}

function tcpTrack(r: usize, d: u32, fresh: bool): i32 {
  const l4 = rpL4;
  if (l4 + 20 > rpEnd) return C_RP_DROP_TCP_MALFORMED;
  const doff = (<usize>load<u8>(l4, 12) >> 4) << 2;
  if (doff < 20) return C_RP_DROP_TCP_MALFORMED;
  // Payload length from the IP header (captures may cut the bytes themselves).
  let plen: i32;
  const hdr = <i32>(l4 - rpL3) + <i32>doff;
  if (rpFlags & TX_F_V4) {
    const tot = <i32>be16(rpL3 + 2);
    plen = tot != 0 ? tot - hdr : <i32>(rpEnd - l4) - <i32>doff; // 0: TSO, length from the capture
  } else plen = <i32>be16(rpL3 + 4) + 40 - hdr;
  if (plen < 0) return C_RP_DROP_TCP_MALFORMED;
  const flags = <u32>load<u8>(l4, 13);
  // RFC 9293 §3.10.7: SYN with RST or FIN is never valid, and every segment but
  // the first SYN carries ACK or RST (so none of SYN/ACK/RST is a scan or junk).
  if ((flags & TH_SYN) != 0 && (flags & (TH_RST | TH_FIN)) != 0) return C_RP_DROP_TCP_BAD_FLAGS;
  if ((flags & (TH_SYN | TH_ACK | TH_RST)) == 0) return C_RP_DROP_TCP_BAD_FLAGS;
  const seq = be32(l4 + 4);
  const ack = be32(l4 + 8);
  const win = be16(l4 + 14);
  const syn = (flags & TH_SYN) != 0;
  const fin = (flags & TH_FIN) != 0;
  const rst = (flags & TH_RST) != 0;
  const seglen = <u32>plen + (syn ? 1 : 0) + (fin ? 1 : 0);
  const o = d ^ 1;
  const dp = r + R_DIR + <usize>d * D_BYTES;
  const op = r + R_DIR + <usize>o * D_BYTES;

  let f = <u32>load<u8>(r, R_FLAGS);
  if (fresh || (f & RF_TCP) == 0) {
    tcpOpen(r, d, flags, seq, l4, doff);
  } else if (syn && (flags & TH_ACK) == 0) {
    // A SYN on a known tuple: the initiator's retransmission (same ISN), or a new
    // conversation reusing the tuple (RFC 9293 §3.10.7.4: a new SYN in TIME-WAIT).
    const init = (f & RF_INIT1) != 0 ? 1 : 0;
    // Same ISN from the initiator: the same attempt, even after a RST refused it
    // (a new conversation picks a new ISN, RFC 6528); tshark keeps one stream too.
    if (<u32>init == d && load<u32>(r, R_ISN) == seq && (f & RF_MID) == 0) {
      bump(C_RP_TCP_SYN_RETRANS);
      if ((<u32>load<u8>(r, R_STATE) & 15) == ST_CLOSED) {
        // Refused by a RST and tried again: start the tracking over, same conversation.
        tcpOpen(r, d, flags, seq, l4, doff, false);
        store<u8>(r, <u8>(<u32>load<u8>(r, R_FLAGS) | (RF_SEEN0 << d)), R_FLAGS);
        store<u32>(r + R_DIR + <usize>d * D_BYTES, seq + 1, D_END);
      }
      return 0;
    }
    bump(C_RP_TCP_REUSED);
    bump(C_RP_FLOWS);
    tcpOpen(r, d, flags, seq, l4, doff);
  }
  f = <u32>load<u8>(r, R_FLAGS);
  let st = <u32>load<u8>(r, R_STATE);
  const seenD = (f & (RF_SEEN0 << d)) != 0;
  const seenO = (f & (RF_SEEN0 << o)) != 0;

  if (!seenD) {
    // First segment of this direction: its sequence space starts here.
    f |= RF_SEEN0 << d;
    store<u32>(dp, seq + seglen, D_END);
    store<u32>(dp, seq, D_HOLE_LO);
    store<u32>(dp, seq, D_HOLE_HI);
    if (syn) {
      const ws = synWscale(l4, doff);
      store<u8>(r + R_SCALE + <usize>d, <u8>ws);
      if ((flags & TH_ACK) != 0) {
        // SYN-ACK: scaling is on when both SYNs offered it.
        if (ws != 0xff && load<u8>(r + R_SCALE + <usize>o) != 0xff && (f & RF_MID) == 0) f |= RF_WS;
        if ((st & 15) == ST_SYN_SENT) st = (st & 0xf0) | ST_SYN_RECEIVED;
      }
    }
    store<u8>(r, <u8>f, R_FLAGS);
  } else {
    const end = load<u32>(dp, D_END);
    let beyond = false;
    if (seenO) {
      // Window bounds (I) and (II), once the receiver has advertised a window.
      const maxwin = load<u32>(op, D_MAXWIN);
      if (maxwin != 0) {
        const top = seq + seglen;
        beyond = seqGt(top, load<u32>(op, D_MAXEND) + maxwin);
        if (beyond || seqLt(top, end - maxwin)) {
          if (rst) return C_RP_DROP_TCP_RST_INVALID;
          bump(C_RP_TCP_OUT_OF_WINDOW);
        }
      }
    }
    if (syn && (flags & TH_ACK) != 0 && seq + 1 == end) {
      bump(C_RP_TCP_SYN_RETRANS); // the SYN-ACK again
    } else if (!rst) {
      if (seglen <= 1 && !syn && !fin && seq + 1 == end) {
        bump(C_RP_TCP_KEEPALIVES);
      } else if (seqGt(seq, end)) {
        // Starts beyond the next expected byte: the capture missed [end, seq).
        bump(C_RP_TCP_SEQ_GAPS);
        store<u32>(dp, end, D_HOLE_LO);
        store<u32>(dp, seq, D_HOLE_HI);
        if (!beyond) store<u32>(dp, seq + seglen, D_END);
        else {
          st |= SF_BEYOND0 << d;
          store<u32>(r + R_BEYOND + (<usize>d << 2), seq + seglen);
        }
      } else if (seglen > 0 && seqLt(seq, end)) {
        const lo = load<u32>(dp, D_HOLE_LO);
        const hi = load<u32>(dp, D_HOLE_HI);
        if (lo != hi && !seqLt(seq, lo) && seqLt(seq, hi)) {
          // Fills the last gap, after the data beyond it: arrived out of order.
          bump(C_RP_TCP_OUT_OF_ORDER);
          if (seq == lo) store<u32>(dp, seqLt(seq + seglen, hi) ? seq + seglen : hi, D_HOLE_LO);
          else store<u32>(dp, seq, D_HOLE_HI);
        } else bump(C_RP_TCP_RETRANSMISSIONS);
        if (seqGt(seq + seglen, end)) store<u32>(dp, seq + seglen, D_END);
      } else if (seglen > 0) {
        store<u32>(dp, seq + seglen, D_END);
        st &= ~(SF_BEYOND0 << d);
      }
    }
  }

  if (rst) {
    // RFC 5961 §3.2 would also want the exact next sequence number; a passive
    // observer accepts any RST inside the window (checked above).
    bump(C_RP_TCP_RSTS);
    if ((st & 15) != ST_CLOSED) {
      if ((st & 15) != ST_TIME_WAIT) bump(C_RP_TCP_CLOSED);
      st = (st & 0xf0) | ST_CLOSED;
    }
    store<u8>(r, <u8>st, R_STATE);
    return 0;
  }

  if (flags & TH_ACK) {
    if (seenO) {
      const oend = load<u32>(op, D_END);
      if (seqGt(ack, oend)) {
        // ACKs data the capture never showed. end[o] stays: when that data's
        // successor shows up it counts as a gap, as tshark's analysis does.
        bump(C_RP_TCP_ACK_UNSEEN);
        // Unless it covers (part of) o's last segment past the window: then the
        // receiver confirms that segment was real.
        if ((st & (SF_BEYOND0 << o)) != 0 && !seqGt(ack, load<u32>(r + R_BEYOND + (<usize>o << 2))))
          store<u32>(op, ack, D_END);
      } else if (
        seglen == 0 && seenD && ack == load<u32>(dp, D_LASTACK) && win == load<u32>(dp, D_LASTWIN) && seqLt(ack, oend)
      ) {
        bump(C_RP_TCP_DUP_ACKS); // RFC 5681 §2: no data, same ACK and window, data outstanding
      }
      // The peer's FIN is acknowledged once the ACK covers it.
      if ((f & (RF_FIN0 << o)) != 0 && !seqLt(ack, load<u32>(op, D_END))) st |= SF_FINACK0 << o;
    }
    if (win == 0 && !syn && !fin) bump(C_RP_TCP_ZERO_WINDOW);
    // RFC 7323 §2.2: the window of a SYN segment is never scaled.
    const w = syn ? win : win << shiftOf(r, d);
    const edge = ack + w;
    if (load<u32>(dp, D_MAXWIN) == 0 || seqGt(edge, load<u32>(dp, D_MAXEND))) store<u32>(dp, edge, D_MAXEND);
    if (w > load<u32>(dp, D_MAXWIN)) store<u32>(dp, w, D_MAXWIN);
    if (load<u32>(dp, D_MAXWIN) == 0) store<u32>(dp, 1, D_MAXWIN);
    store<u32>(dp, ack, D_LASTACK);
    store<u32>(dp, win, D_LASTWIN);
    // SYN-RECEIVED → ESTABLISHED: the initiator ACKs the responder's SYN.
    if ((st & 15) == ST_SYN_RECEIVED && !syn && seenO && ack == load<u32>(op, D_END)) {
      st = (st & 0xf0) | ST_ESTABLISHED;
      if ((f & RF_MID) == 0) bump(C_RP_TCP_HANDSHAKES);
    }
  }
  if (fin && (f & (RF_FIN0 << d)) == 0) {
    f |= RF_FIN0 << d;
    store<u8>(r, <u8>f, R_FLAGS);
    bump(C_RP_TCP_FINS);
    if ((st & 15) < ST_FIN_WAIT) st = (st & 0xf0) | ST_FIN_WAIT;
  }
  if ((f & (RF_FIN0 | (RF_FIN0 << 1))) == (RF_FIN0 | (RF_FIN0 << 1))) {
    if ((st & 15) < ST_CLOSING) st = (st & 0xf0) | ST_CLOSING;
    if ((st & (SF_FINACK0 | (SF_FINACK0 << 1))) == (SF_FINACK0 | (SF_FINACK0 << 1)) && (st & 15) == ST_CLOSING) {
      st = (st & 0xf0) | ST_TIME_WAIT;
      bump(C_RP_TCP_CLOSED);
    }
  }
  store<u8>(r, <u8>st, R_STATE);
  return 0;
}

/**
 * Conversations by state at this moment (the end of a run): u64 per ST_* state
 * (ST_NONE = flows that are not TCP) in SCRATCH; returns SCRATCH's address.
 */
export function trackStates(): usize {
  memory.fill(SCRATCH_BASE, 0, <usize>ST_COUNT * 8);
  const n = flowSlots();
  if (n == 0) return SCRATCH_BASE;
  const cap = cfg(CFG_FLOWS);
  for (let e: u32 = 0; e < cap; e++) {
    const k = flowKeyAt(<i32>e);
    if (k == 0 || load<u8>(k) == 0) continue;
    const p = SCRATCH_BASE + (<usize>(<u32>load<u8>(rec(<i32>e), R_STATE) & 15) << 3);
    store<u64>(p, load<u64>(p) + 1);
  }
  return SCRATCH_BASE;
}
