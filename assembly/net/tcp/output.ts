// TCP output: segment construction (header, options, payload copied from the
// app's spans: the copy is the "DMA"), the send decision (RFC 9293 §3.8.6 window
// management, RFC 5681 congestion window, sender SWS avoidance), RSTs, and the
// expiry of the per-TCB timer (RFC 6298 retransmission, §3.8.6.1 persist,
// delayed ACK, TIME-WAIT).
import { MB_DATA_LEN, MB_DATA_OFF, MB_LINK, MB_SEQ, MB_USER0, MB_USER1, mbufAlloc, mbufData, mbufFree, mbufDataBytes } from "../../mem/mbuf";
import {
  C_TCP_CONN_TIMEOUT, C_TCP_DELACK_SENT, C_TCP_PERSIST_PROBES, C_TCP_RETRANSMITS, C_TCP_RST_SENT, C_TCP_RTO_TIMEOUTS,
  C_TCP_SACK_RETRANSMITS, C_TCP_SEGS_OUT, C_TCP_TX_NOMBUF, bump,
} from "../../mem/counters";
import { ipSend, TX_HEADROOM } from "../ip";
import { neighRecheck, neighResolve } from "../neigh";
import { l4ChecksumFill } from "../../wire/checksum";
import { IPV4_MIN, ipv4EmitPlain } from "../../wire/ipv4";
import { IPV6_HDR, ipv6EmitPlain } from "../../wire/ipv6";
import {
  tcpEmit, tcpEmitPlain, TCP_MIN, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCPR_ACK, TCPR_CSUM, TCPR_DPORT, TCPR_FLAGS, TCPR_HAS,
  TCPR_HAS_MSS, TCPR_HAS_SACK, TCPR_HAS_SACK_OK, TCPR_HAS_TS, TCPR_HAS_WS, TCPR_MSS, TCPR_NSACK, TCPR_SACK, TCPR_SEQ,
  TCPR_SPORT, TCPR_TSECR, TCPR_TSVAL, TCPR_URG, TCPR_WIN, TCPR_WSCALE,
} from "../../wire/tcp";
import {
  NONE, TCB_ANN_MSS, TCB_CUR_OFF, TCB_CUR_SEQ, TCB_CUR_SPAN, TCB_DELACK_AT, TCB_DUPACKS, TCB_FAMILY, TCB_FLAGS, TCB_ISS,
  TCB_LADDR, TCB_LAST_ACK_SENT, TCB_LAST_OOO_SEQ, TCB_LMAC, TCB_LPORT, TCB_MAX_SND_WND, TCB_OOO_HEAD, TCB_RADDR,
  TCB_RCV_ADV, TCB_RCV_HELD, TCB_RCV_NXT, TCB_RCV_WSCALE, TCB_RETRIES, TCB_RMAC, TCB_RPORT, TCB_RTO, TCB_RTT_SEQ,
  TCB_RTT_START, TCB_SEGS_UNACKED, TCB_SND_MAX, TCB_SND_NXT, TCB_SND_UNA, TCB_SND_WND, TCB_SQ_HEAD, TCB_SQ_HEAD_OFF,
  TCB_SQ_LEN, TCB_STATE, TCB_TMR_DEADLINE, TCB_TMR_KIND, TCB_TS_OFF, TCB_TS_RECENT, TCB_CWND, TCB_LAST_RX_S, tcbAt,
  tcbHighWater,
} from "./tcb";
import { SP_FLAGS, SP_LEN, SP_NEXT, SP_PTR, SPF_EOR, spanAt } from "./span";
import { sackBoard, sackNextSeg, sackPipe, sackRelease, sackSent } from "./sack";
import {
  NEIGH_FAST_TICKS, NEIGH_TICKS_MAX, PERSIST_MAX, RETRIES_DATA, RETRIES_SYN, RETRIES_SYNACK, RTO_INITIAL_US,
  RTO_MAX_US, ST_CLOSE_WAIT, ST_CLOSING, ST_ESTABLISHED, ST_FIN_WAIT_1, ST_LAST_ACK, ST_SYN_RECEIVED,
  ST_SYN_SENT, ST_TIME_WAIT, TF_ACK_NOW, TF_FIN_QUEUED, TF_NEED_NEIGH, TF_PASSIVE, TF_RECORDS, TF_RTT_TIMING, TF_SACK_OK,
  TF_SACK_RECOVERY, TF_SWS_OVERRIDE, TF_SYN_ACKED, TF_TS_OK, TF_WS_OK, TK_NONE, TK_PERSIST, TK_FIN_WAIT2, TK_PRESET,
  TK_RTO, TK_TIME_WAIT, TF_USED, seqGT, seqLT,
} from "./state";
import { ccOnTimeout, mssOf, rtoBackoff } from "./congestion";
import { clearTimer, nowMs32, rcvBuf, setTimer, tcbDestroy, tcpNow } from "./engine";
import { DEAD_TIMEOUT } from "../../api/abi";
import { CFG_TCP_DATA_RETRIES, CFG_TCP_SYN_RETRIES, CFG_TCP_SYNACK_RETRIES, cfg } from "../../mem/layout";
import { copyBytes } from "../../wire/bytes";

const txr = memory.data(80, 8); // TcpRepr scratch for the segment being built
const MAX_HDR: u32 = 60;
/** Payload bytes one TX mbuf can carry after the headroom and the largest TCP header (1924 with 2 KiB mbufs). */
@inline export function txMaxPayload(): u32 {
  return <u32>mbufDataBytes - <u32>TX_HEADROOM - MAX_HDR;
}

// ---- test capture (tcpTestCapture): segments become raw IP packets queued here
// instead of going to ipSend, so conversations can be checked and relayed
// between cores without the Ethernet/IP path.
let capture: bool = false;
let capHead: usize = 0;
let capTail: usize = 0;
let capCount: u32 = 0;
export function setCapture(on: bool): void {
  capture = on;
}
export function capturePop(): usize {
  const m = capHead;
  if (m == 0) return 0;
  capHead = <usize>load<u32>(m, MB_LINK);
  if (capHead == 0) capTail = 0;
  store<u32>(m, 0, MB_LINK);
  capCount--;
  return m;
}
export function captureCount(): u32 {
  return capCount;
}

function captureOut(m: usize, family: u32, src: usize, dst: usize, l4len: u32): bool {
  const l4 = mbufData(m);
  let ip: usize;
  if (family == 4) {
    ip = l4 - IPV4_MIN;
    ipv4EmitPlain(ip, l4len, 0, 64, 6, src, dst, true);
  } else {
    ip = l4 - IPV6_HDR;
    ipv6EmitPlain(ip, l4len, 6, 64, src, dst);
  }
  l4ChecksumFill(<i32>family, ip, 6, l4, l4len);
  store<u32>(m, <u32>ip, MB_USER0);
  store<u32>(m, <u32>(l4 - ip) + l4len, MB_USER1);
  store<u32>(m, 0, MB_LINK);
  if (capTail != 0) store<u32>(capTail, <u32>m, MB_LINK);
  else capHead = m;
  capTail = m;
  capCount++;
  return true;
}

/** Hands a built segment to IP (or the test capture). Takes ownership of m. */
function ipOut(t: usize, m: usize, l4len: u32): bool {
  const family = <u32>load<u8>(t, TCB_FAMILY);
  store<u16>(m, <u16>l4len, MB_DATA_LEN);
  const f = load<u32>(t, TCB_FLAGS);
  if (capture) {
    bump(C_TCP_SEGS_OUT);
    store<u32>(t, f & ~TF_NEED_NEIGH, TCB_FLAGS); // no link layer to resolve
    return captureOut(m, family, t + TCB_LADDR, t + TCB_RADDR, l4len);
  }
  if ((f & TF_NEED_NEIGH) != 0) {
    // Active open before the neighbour is known: the SYN stays queued (the
    // 20 ms neighbour retry of rtoFire sends it) and is not counted as sent.
    if (!neighResolve(family, t + TCB_RADDR, t + TCB_RMAC)) {
      mbufFree(m);
      return false;
    }
    store<u32>(t, f & ~TF_NEED_NEIGH, TCB_FLAGS);
  }
  bump(C_TCP_SEGS_OUT);
  return ipSend(m, family, t + TCB_LADDR, t + TCB_RADDR, 6, l4len, true, t + TCB_LMAC, t + TCB_RMAC);
}

// ---- receive window (RFC 9293 §3.8.6.2.2, RFC 7323 §2.3) ----------------------------

/** Window we can offer now: the buffer minus what the app still holds (RECV without RECV_DONE). */
@inline export function rcvSpace(t: usize): u32 {
  const held = load<u32>(t, TCB_RCV_HELD);
  return rcvBuf > held ? rcvBuf - held : 0;
}

/** True if re-opening the window is worth an ACK of its own (receiver SWS avoidance: min(RCV.BUFF/2, MSS)). */
export function windowUpdateWorth(t: usize): bool {
  const edge = load<u32>(t, TCB_RCV_NXT) + rcvSpace(t);
  const adv = load<u32>(t, TCB_RCV_ADV);
  if (!seqGT(edge, adv)) return false;
  return edge - adv >= min<u32>(rcvBuf >> 1, <u32>load<u16>(t, TCB_ANN_MSS));
}

/** Moves the advertised right edge (never left) and returns the window to put in the header, before scaling. */
function rcvWindow(t: usize): u32 {
  const nxt = load<u32>(t, TCB_RCV_NXT);
  let adv = load<u32>(t, TCB_RCV_ADV);
  const edge = nxt + rcvSpace(t);
  if (seqLT(adv, nxt)) adv = nxt;
  if (seqGT(edge, adv) && (edge - adv >= min<u32>(rcvBuf >> 1, <u32>load<u16>(t, TCB_ANN_MSS)) || adv == nxt)) adv = edge;
  // The scaled field can only say multiples of 2^shift: round the edge down to one, unless that would move it left.
  const shift = <u32>load<u8>(t, TCB_RCV_WSCALE);
  let w = adv - nxt;
  const maxw = <u32>65535 << shift;
  if (w > maxw) {
    w = maxw;
    adv = nxt + w;
  }
  store<u32>(t, adv, TCB_RCV_ADV);
  return w;
}

// ---- segment construction -------------------------------------------------------------

@inline function tsNow(t: usize): u32 {
  return nowMs32() + load<u32>(t, TCB_TS_OFF);
}

// SACK blocks for our out-of-order queue (RFC 2018 §4): the block holding the most
// recent out-of-order segment first, then the others in sequence order.
function fillSack(t: usize, r: usize, maxBlocks: u32): u32 {
  const recent = load<u32>(t, TCB_LAST_OOO_SEQ);
  let nb: u32 = 0;
  let firstL: u32 = 0;
  let firstR: u32 = 0;
  let found = false;
  // pass 1: the block containing `recent`
  let m = <usize>load<u32>(t, TCB_OOO_HEAD);
  while (m != 0) {
    const l = load<u32>(m, MB_SEQ);
    let rr = l + load<u32>(m, MB_USER0);
    let n = <usize>load<u32>(m, MB_LINK);
    while (n != 0 && !seqGT(load<u32>(n, MB_SEQ), rr)) {
      const e = load<u32>(n, MB_SEQ) + load<u32>(n, MB_USER0);
      if (seqGT(e, rr)) rr = e;
      n = <usize>load<u32>(n, MB_LINK);
    }
    if (!seqLT(recent, l) && seqLT(recent, rr)) {
      firstL = l;
      firstR = rr;
      found = true;
      break;
    }
    m = n;
  }
  if (found) {
    store<u32>(r + TCPR_SACK, firstL);
    store<u32>(r + TCPR_SACK + 4, firstR);
    nb = 1;
  }
  m = <usize>load<u32>(t, TCB_OOO_HEAD);
  while (m != 0 && nb < maxBlocks) {
    const l = load<u32>(m, MB_SEQ);
    let rr = l + load<u32>(m, MB_USER0);
    let n = <usize>load<u32>(m, MB_LINK);
    while (n != 0 && !seqGT(load<u32>(n, MB_SEQ), rr)) {
      const e = load<u32>(n, MB_SEQ) + load<u32>(n, MB_USER0);
      if (seqGT(e, rr)) rr = e;
      n = <usize>load<u32>(n, MB_LINK);
    }
    if (!(found && l == firstL) && rr != l) {
      store<u32>(r + TCPR_SACK + (<usize>nb << 3), l);
      store<u32>(r + TCPR_SACK + (<usize>nb << 3) + 4, rr);
      nb++;
    }
    m = n;
  }
  return nb;
}

// Where sequence seq stands in the send queue: (seekSpan, seekOff), the offset
// possibly at or past that span's end. A cursor remembers where the last copy
// ended, so sending a long queue in order is O(1) per segment; anything else
// (retransmissions) starts from the head.
let seekSpan: u32 = NONE;
let seekOff: u32 = 0;
function sendQueueSeek(t: usize, seq: u32): void {
  const s = load<u32>(t, TCB_CUR_SPAN);
  const una = load<u32>(t, TCB_SND_UNA);
  if (s != NONE && load<u32>(t, TCB_CUR_SEQ) == seq && !seqLT(seq, una)) {
    seekSpan = s;
    seekOff = load<u32>(t, TCB_CUR_OFF);
  } else {
    seekSpan = load<u32>(t, TCB_SQ_HEAD);
    seekOff = load<u32>(t, TCB_SQ_HEAD_OFF) + (seq - una);
  }
}

// Copies len bytes of the send queue starting at sequence seq into dst.
function copySendData(t: usize, seq: u32, dst: usize, len: u32): void {
  sendQueueSeek(t, seq);
  let s = seekSpan;
  let off = seekOff;
  while (s != NONE && off >= load<u32>(spanAt(s), SP_LEN)) {
    off -= load<u32>(spanAt(s), SP_LEN);
    s = load<u32>(spanAt(s), SP_NEXT);
  }
  let left = len;
  while (left > 0 && s != NONE) {
    const sp = spanAt(s);
    const slen = load<u32>(sp, SP_LEN);
    const n = min<u32>(slen - off, left);
    copyBytes(dst, <usize>load<u32>(sp, SP_PTR) + off, n);
    dst += n;
    left -= n;
    off += n;
    if (off >= slen && left > 0) {
      s = load<u32>(sp, SP_NEXT);
      off = 0;
    }
  }
  store<u32>(t, s, TCB_CUR_SPAN);
  store<u32>(t, off, TCB_CUR_OFF);
  store<u32>(t, seq + len, TCB_CUR_SEQ);
}

// Bytes from sequence seq to the next record end (SENDV_EOR), at most cap: a
// segment never crosses a record end. Queues that never held one answer cap at once.
function recordRoom(t: usize, seq: u32, cap: u32): u32 {
  if ((load<u32>(t, TCB_FLAGS) & TF_RECORDS) == 0 || cap == 0) return cap;
  sendQueueSeek(t, seq);
  let s = seekSpan;
  let off = seekOff;
  let room: u32 = 0;
  while (s != NONE && room < cap) {
    const sp = spanAt(s);
    const slen = load<u32>(sp, SP_LEN);
    if (off < slen) {
      room += slen - off;
      if ((load<u32>(sp, SP_FLAGS) & SPF_EOR) != 0) break;
      off = 0;
    } else off -= slen;
    s = load<u32>(sp, SP_NEXT);
  }
  return min<u32>(room, cap);
}

/** Builds and sends one segment of connection t. false if no mbuf (counted) or IP refused it. */
export function sendSegment(t: usize, seq: u32, flags: u32, len: u32): bool {
  const m = mbufAlloc();
  if (m == 0) {
    bump(C_TCP_TX_NOMBUF);
    return false;
  }
  store<u16>(m, TX_HEADROOM, MB_DATA_OFF);
  const p = mbufData(m);
  const r = txr;
  const f = load<u32>(t, TCB_FLAGS);
  const rcvNxt = load<u32>(t, TCB_RCV_NXT);
  store<u16>(r + TCPR_SPORT, load<u16>(t, TCB_LPORT));
  store<u16>(r + TCPR_DPORT, load<u16>(t, TCB_RPORT));
  store<u32>(r + TCPR_SEQ, seq);
  store<u32>(r + TCPR_ACK, (flags & TCP_ACK) != 0 ? rcvNxt : 0);
  store<u16>(r + TCPR_FLAGS, <u16>flags);
  store<u16>(r + TCPR_CSUM, 0);
  store<u16>(r + TCPR_URG, 0);
  let has: u32 = 0;
  const w = rcvWindow(t);
  if ((flags & TCP_SYN) != 0) {
    // RFC 7323 §2.2: the window of a SYN is never scaled.
    store<u16>(r + TCPR_WIN, <u16>min<u32>(w, 65535));
    has |= TCPR_HAS_MSS;
    store<u16>(r + TCPR_MSS, load<u16>(t, TCB_ANN_MSS));
    if ((f & TF_WS_OK) != 0) {
      has |= TCPR_HAS_WS;
      store<u8>(r + TCPR_WSCALE, load<u8>(t, TCB_RCV_WSCALE));
    }
    if ((f & TF_SACK_OK) != 0) has |= TCPR_HAS_SACK_OK;
  } else {
    store<u16>(r + TCPR_WIN, <u16>min<u32>(w >> <u32>load<u8>(t, TCB_RCV_WSCALE), 65535));
  }
  if ((f & TF_TS_OK) != 0) {
    has |= TCPR_HAS_TS;
    store<u32>(r + TCPR_TSVAL, tsNow(t));
    // RFC 7323 §3.2: TSecr is only meaningful with ACK; an active SYN echoes 0.
    store<u32>(r + TCPR_TSECR, (flags & TCP_ACK) != 0 ? load<u32>(t, TCB_TS_RECENT) : 0);
  }
  if ((f & TF_SACK_OK) != 0 && (flags & (TCP_SYN | TCP_RST)) == 0 && load<u32>(t, TCB_OOO_HEAD) != 0) {
    const nb = fillSack(t, r, (f & TF_TS_OK) != 0 ? 3 : 4);
    if (nb > 0) {
      has |= TCPR_HAS_SACK;
      store<u8>(r + TCPR_NSACK, <u8>nb);
    }
  }
  store<u8>(r + TCPR_HAS, <u8>has);
  const hl = <u32>tcpEmit(r, p, mbufDataBytes - <usize>TX_HEADROOM);
  if (len > 0) copySendData(t, seq, p + hl, len);
  if ((flags & TCP_ACK) != 0) {
    // This segment carries our ACK: nothing is owed any more (RFC 9293 §3.8.6.3).
    store<u32>(t, rcvNxt, TCB_LAST_ACK_SENT);
    store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_ACK_NOW, TCB_FLAGS);
    store<u64>(t, 0, TCB_DELACK_AT);
    store<u8>(t, 0, TCB_SEGS_UNACKED);
  }
  return ipOut(t, m, hl + len);
}

/** RST (or RST+ACK) for a segment that has no connection (RFC 9293 §3.10.7.1), or to abort one. */
export function sendRstRaw(family: u32, local: usize, remote: usize, lport: u32, rport: u32, seq: u32, ack: u32, flags: u32, lmac: usize, rmac: usize): void {
  const m = mbufAlloc();
  if (m == 0) {
    bump(C_TCP_TX_NOMBUF);
    return;
  }
  store<u16>(m, TX_HEADROOM, MB_DATA_OFF);
  tcpEmitPlain(mbufData(m), lport, rport, seq, (flags & TCP_ACK) != 0 ? ack : 0, flags, 0);
  store<u16>(m, <u16>TCP_MIN, MB_DATA_LEN);
  bump(C_TCP_RST_SENT);
  bump(C_TCP_SEGS_OUT);
  if (capture) {
    captureOut(m, family, local, remote, <u32>TCP_MIN);
    return;
  }
  ipSend(m, family, local, remote, 6, 20, true, lmac, rmac);
}

/**
 * A pure ACK of connection t. Its SEQ is SND.MAX, not SND.NXT: after an RTO
 * SND.NXT goes back to SND.UNA while the peer's RCV.NXT may already be past it,
 * and a segment below RCV.NXT is unacceptable, its ACK field never read (RFC 9293
 * §3.10.7.4): two peers resending after timeouts would then ignore each other's
 * ACKs until they gave up. While zero-window probes go, SND.NXT (the probe's byte
 * is outside the peer's window). BSD's tcp_output makes the same choice.
 */
export function sendAck(t: usize): void {
  const seq = load<u8>(t, TCB_TMR_KIND) == TK_PERSIST ? load<u32>(t, TCB_SND_NXT) : load<u32>(t, TCB_SND_MAX);
  sendSegment(t, seq, TCP_ACK, 0);
}

/** RST from connection t, <SEQ=seq><ACK=RCV.NXT> when withAck. */
export function sendRst(t: usize, seq: u32, withAck: bool): void {
  sendRstRaw(
    <u32>load<u8>(t, TCB_FAMILY), t + TCB_LADDR, t + TCB_RADDR, <u32>load<u16>(t, TCB_LPORT), <u32>load<u16>(t, TCB_RPORT),
    seq, load<u32>(t, TCB_RCV_NXT), withAck ? TCP_RST | TCP_ACK : TCP_RST, t + TCB_LMAC, t + TCB_RMAC,
  );
}

// ---- the send decision ---------------------------------------------------------------

/**
 * Data bytes per segment: the effective MSS less the SACK blocks sendSegment adds
 * while the out-of-order queue is not empty (RFC 9293 §3.7.1: options come out of
 * the MSS; the timestamp option is already taken off in TCB_MSS). Reserves the
 * most blocks that fit: NOP NOP, kind, length and 3 blocks beside a timestamp, 4 without.
 */
function sendMss(t: usize): u32 {
  const mss = mssOf(t);
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_SACK_OK) == 0 || load<u32>(t, TCB_OOO_HEAD) == 0) return mss;
  const sack: u32 = (f & TF_TS_OK) != 0 ? 28 : 36;
  return mss > sack + 64 ? mss - sack : 64;
}

@inline function restartRto(t: usize): void {
  setTimer(t, TK_RTO, tcpNow() + <u64>load<u32>(t, TCB_RTO));
}

/** Retransmits the first unacknowledged segment (fast retransmit, NewReno partial ACK). */
export function retransmitHead(t: usize): void {
  const una = load<u32>(t, TCB_SND_UNA);
  const sq = load<u32>(t, TCB_SQ_LEN);
  let len = min<u32>(sq, sendMss(t));
  len = recordRoom(t, una, len);
  let flags = TCP_ACK;
  if ((load<u32>(t, TCB_FLAGS) & TF_FIN_QUEUED) != 0 && len == sq && seqGT(load<u32>(t, TCB_SND_MAX), una + sq)) flags |= TCP_FIN;
  if (len == 0 && (flags & TCP_FIN) == 0) return;
  // Karn (RFC 6298 §3): a retransmitted segment must not be timed.
  store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_RTT_TIMING, TCB_FLAGS);
  bump(C_TCP_RETRANSMITS);
  sendSegment(t, una, flags, len);
  sackSent(t, una, len);
}

// RFC 6675 §5 (C): while cwnd - pipe >= 1 SMSS, send what NextSeg (§4) names:
// a lost hole (rule 1), new data (rule 2), a hole not yet deemed lost (rule 3).
// SND.NXT stays at SND.MAX here: retransmissions are placed by HighRxt.
function sackOutput(t: usize, mss: u32): void {
  for (let i = 0; i < 256; i++) {
    const pipe = sackPipe(t);
    const cwnd = load<u32>(t, TCB_CWND);
    if (cwnd <= pipe || cwnd - pipe < mss) return;
    let ns = sackNextSeg(t, mss, false);
    if (ns == 0) {
      // Rule 2: new data within the peer's window.
      const una = load<u32>(t, TCB_SND_UNA);
      const max = load<u32>(t, TCB_SND_MAX);
      const sq = load<u32>(t, TCB_SQ_LEN);
      const off = max - una;
      const wnd = load<u32>(t, TCB_SND_WND);
      if (off < sq && wnd > off) {
        const avail = recordRoom(t, max, min<u32>(sq - off, mss + 1)); // to the push point, as tcpOutput
        const len = min<u32>(min<u32>(avail, mss), wnd - off);
        if (!sendSegment(t, max, len == avail ? TCP_ACK | TCP_PSH : TCP_ACK, len)) return;
        store<u32>(t, max + len, TCB_SND_NXT);
        store<u32>(t, max + len, TCB_SND_MAX);
        continue;
      }
      ns = sackNextSeg(t, mss, true);
      if (ns == 0) return;
    }
    const seq = <u32>ns;
    const len = recordRoom(t, seq, <u32>(ns >> 32));
    // Karn (RFC 6298 §3): a retransmitted segment must not be timed.
    store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_RTT_TIMING, TCB_FLAGS);
    if (!sendSegment(t, seq, TCP_ACK, len)) return;
    bump(C_TCP_RETRANSMITS);
    bump(C_TCP_SACK_RETRANSMITS);
    sackSent(t, seq, len);
  }
}

/** Sends what connection t may send now: SYN, data within min(snd window, cwnd), FIN, or the ACK it owes. */
export function tcpOutput(t: usize): void {
  const st = load<u8>(t, TCB_STATE);
  let f = load<u32>(t, TCB_FLAGS);
  const iss = load<u32>(t, TCB_ISS);
  if (st == ST_SYN_SENT || (st == ST_SYN_RECEIVED && (f & TF_SYN_ACKED) == 0)) {
    if (load<u32>(t, TCB_SND_NXT) == iss) {
      const retx = load<u32>(t, TCB_SND_MAX) != iss;
      if (retx) bump(C_TCP_RETRANSMITS);
      else {
        store<u32>(t, iss, TCB_RTT_SEQ);
        store<u32>(t, <u32>tcpNow(), TCB_RTT_START);
        store<u32>(t, f | TF_RTT_TIMING, TCB_FLAGS);
      }
      sendSegment(t, iss, st == ST_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK, 0);
      store<u32>(t, iss + 1, TCB_SND_NXT);
      store<u32>(t, iss + 1, TCB_SND_MAX);
      if (load<u8>(t, TCB_TMR_KIND) != TK_RTO) {
        const neigh = (load<u32>(t, TCB_FLAGS) & TF_NEED_NEIGH) != 0;
        setTimer(t, TK_RTO, tcpNow() + (neigh ? 20_000 : <u64>load<u32>(t, TCB_RTO)));
      }
    } else if ((f & TF_ACK_NOW) != 0 && st == ST_SYN_RECEIVED) {
      sendSegment(t, load<u32>(t, TCB_SND_NXT), TCP_ACK, 0);
    }
    return;
  }
  if (st == ST_TIME_WAIT || st < ST_SYN_SENT) {
    if ((f & TF_ACK_NOW) != 0 && st == ST_TIME_WAIT) sendSegment(t, load<u32>(t, TCB_SND_MAX), TCP_ACK, 0);
    return;
  }
  const mss = sendMss(t);
  let sent = false;
  let held = false; // sender SWS avoidance kept a runt back
  const canSend = st == ST_ESTABLISHED || st == ST_CLOSE_WAIT || st == ST_FIN_WAIT_1 || st == ST_CLOSING || st == ST_LAST_ACK;
  if (canSend && (f & TF_SACK_RECOVERY) != 0 && sackBoard(t) != 0) {
    sackOutput(t, mss);
    if ((load<u32>(t, TCB_FLAGS) & TF_ACK_NOW) != 0) sendAck(t);
    return;
  }
  while (canSend) {
    const una = load<u32>(t, TCB_SND_UNA);
    const nxt = load<u32>(t, TCB_SND_NXT);
    const sq = load<u32>(t, TCB_SQ_LEN);
    const off = nxt - una;
    if (off > sq) break; // FIN already sent: nothing beyond it
    // D of RFC 9293 §3.8.6.2.1: the data up to the push point, which is the end of
    // the queue (every SENDV is pushed: no Nagle) or the next record end.
    // (mss + 1: data that goes on beyond this segment leaves it without PSH.)
    const avail = recordRoom(t, nxt, min<u32>(sq - off, mss + 1));
    const wnd = min<u32>(load<u32>(t, TCB_SND_WND), load<u32>(t, TCB_CWND));
    const usable = wnd > off ? wnd - off : 0;
    let len = min<u32>(min<u32>(avail, mss), usable);
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): send a full MSS, or all the data
    // up to the push point, or at least half the largest window the peer offered;
    // else wait for the window to open (an ACK) or, with nothing in flight, for
    // the override timer (persistFire).
    if (len < avail && len < mss && len < (load<u32>(t, TCB_MAX_SND_WND) >> 1) && (f & TF_SWS_OVERRIDE) == 0) {
      len = 0;
      held = true;
    }
    const fin = (f & TF_FIN_QUEUED) != 0 && off + len == sq;
    if (len == 0 && !fin) break;
    let flags = TCP_ACK;
    if (fin) flags |= TCP_FIN;
    if (len > 0 && len == avail) flags |= TCP_PSH;
    const retx = seqLT(nxt, load<u32>(t, TCB_SND_MAX));
    if (!sendSegment(t, nxt, flags, len)) break;
    if (retx) bump(C_TCP_RETRANSMITS);
    else if ((load<u32>(t, TCB_FLAGS) & TF_RTT_TIMING) == 0 && load<u8>(t, TCB_RETRIES) == 0) {
      store<u32>(t, nxt, TCB_RTT_SEQ);
      store<u32>(t, <u32>tcpNow(), TCB_RTT_START);
      store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_RTT_TIMING, TCB_FLAGS);
    }
    const end = nxt + len + (fin ? 1 : 0);
    store<u32>(t, end, TCB_SND_NXT);
    if (seqGT(end, load<u32>(t, TCB_SND_MAX))) store<u32>(t, end, TCB_SND_MAX);
    sent = true;
    if (load<u8>(t, TCB_TMR_KIND) != TK_RTO) restartRto(t); // RFC 6298 (5.1)
    f = load<u32>(t, TCB_FLAGS);
    if (fin) break;
  }
  if (canSend && !sent) {
    // Zero window with data waiting and nothing in flight: probe (RFC 9293 §3.8.6.1).
    // A runt held by SWS avoidance with nothing in flight waits for the same timer,
    // which then sends what the window takes (the override of §3.8.6.2.1).
    const una = load<u32>(t, TCB_SND_UNA);
    const sq = load<u32>(t, TCB_SQ_LEN);
    const shut = load<u32>(t, TCB_SND_WND) == 0 && sq > load<u32>(t, TCB_SND_NXT) - una;
    if ((shut || held) && load<u32>(t, TCB_SND_MAX) == una) {
      if (load<u8>(t, TCB_TMR_KIND) != TK_PERSIST) {
        store<u8>(t, 0, TCB_RETRIES);
        setTimer(t, TK_PERSIST, tcpNow() + <u64>load<u32>(t, TCB_RTO));
      }
    }
  }
  if ((load<u32>(t, TCB_FLAGS) & TF_ACK_NOW) != 0) sendAck(t);
}

// ---- timer expiry --------------------------------------------------------------------

/** Runs what is due on connection t; false if t was freed. */
export function tcbTimerFire(t: usize): bool {
  const now = tcpNow();
  const da = load<u64>(t, TCB_DELACK_AT);
  if (da != 0 && now >= da) {
    store<u64>(t, 0, TCB_DELACK_AT);
    bump(C_TCP_DELACK_SENT);
    store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_ACK_NOW, TCB_FLAGS);
    tcpOutput(t);
  }
  const kind = load<u8>(t, TCB_TMR_KIND);
  if (kind == TK_NONE || now < load<u64>(t, TCB_TMR_DEADLINE)) return true;
  clearTimer(t);
  if (kind == TK_RTO) return rtoFire(t);
  if (kind == TK_PERSIST) return persistFire(t);
  if (kind == TK_TIME_WAIT || kind == TK_PRESET) {
    tcbDestroy(t, -1);
    return false;
  }
  if (kind == TK_FIN_WAIT2) {
    giveUp(t);
    return false;
  }
  return true;
}

/** Ends a connection whose peer went silent: RST (if the peer is there after all, it learns the connection is gone), EV_TCP_DEAD timeout. */
function giveUp(t: usize): void {
  bump(C_TCP_CONN_TIMEOUT);
  sendRst(t, load<u32>(t, TCB_SND_MAX), false);
  tcbDestroy(t, <i32>DEAD_TIMEOUT);
}

// ---- idle limit (CFG_TCP_IDLE_TIMEOUT_S) ---------------------------------------------
// A connection that has nothing outstanding runs no timer, so one whose peer
// vanished would wait forever. With the limit on, a cursor walks the TCB table
// so that every slot is visited once per quarter of the limit (at most
// IDLE_VISITS a call, no wheel entry per connection), and a synchronized
// connection with nothing received for the limit is reset.
const IDLE_VISITS: u64 = 4096;
let idleCursor: u32 = 0;
let idleLastUs: u64 = 0;

export function idleSweepReset(): void {
  idleCursor = 0;
  idleLastUs = 0;
}

export function idleSweep(now: u64, limitS: u32): void {
  const hw = tcbHighWater();
  if (hw == 0) return;
  if (idleLastUs == 0) idleLastUs = now;
  let n = (<u64>hw * (now - idleLastUs)) / (<u64>limitS * 250_000);
  if (n == 0) return; // too little time since the last visits: they accumulate
  idleLastUs = now;
  n = min<u64>(min<u64>(n, <u64>hw), IDLE_VISITS);
  const nowS = <u32>(now / 1_000_000);
  for (let i: u64 = 0; i < n; i++) {
    if (idleCursor >= hw) idleCursor = 0;
    const t = tcbAt(idleCursor++);
    if ((load<u32>(t, TCB_FLAGS) & TF_USED) == 0) continue;
    const st = load<u8>(t, TCB_STATE);
    // Handshakes and TIME-WAIT have their own limits; CLOSE-WAIT waits for our app, not for the peer.
    if (st < ST_ESTABLISHED || st == ST_TIME_WAIT || st == ST_CLOSE_WAIT) continue;
    if (((nowS - <u32>load<u16>(t, TCB_LAST_RX_S)) & 0xffff) >= limitS) giveUp(t);
  }
}

/** SYN (active) or SYN-ACK (passive) retransmissions before giving up (CFG_TCP_SYN*_RETRIES, 0 = default). */
export function synRetries(passive: bool): u32 {
  const c = cfg(passive ? CFG_TCP_SYNACK_RETRIES : CFG_TCP_SYN_RETRIES);
  return c != 0 ? c : passive ? RETRIES_SYNACK : RETRIES_SYN;
}

/** RTO expirations of data or FIN before giving up (CFG_TCP_DATA_RETRIES, 0 = default). */
export function dataRetries(): u32 {
  const c = cfg(CFG_TCP_DATA_RETRIES);
  return c != 0 ? c : RETRIES_DATA;
}

/** Neighbour-wait ticks (state.ts NEIGH_*) that last as long as an active open's SYN retries: 1 s of fast ticks, then one a second. */
function neighTicksMax(): u32 {
  let us: u64 = 0;
  let rto: u64 = <u64>RTO_INITIAL_US;
  for (let i: u32 = 0; i <= synRetries(false) && us < 300_000_000; i++) {
    us += rto;
    rto = min<u64>(rto << 1, <u64>RTO_MAX_US);
  }
  const ticks = <u64>NEIGH_FAST_TICKS + (us - <u64>RTO_INITIAL_US) / 1_000_000;
  return <u32>min<u64>(ticks, <u64>NEIGH_TICKS_MAX);
}

// RFC 6298 §5 (5.4)-(5.6), RFC 5681 §3.1, RFC 6582 §4: go back to SND.UNA.
function rtoFire(t: usize): bool {
  const st = load<u8>(t, TCB_STATE);
  const f = load<u32>(t, TCB_FLAGS);
  const una = load<u32>(t, TCB_SND_UNA);
  const retries = <u32>load<u8>(t, TCB_RETRIES) + 1;
  store<u8>(t, <u8>min<u32>(retries, 255), TCB_RETRIES);
  const synState = st == ST_SYN_SENT || (st == ST_SYN_RECEIVED && (f & TF_SYN_ACKED) == 0);
  if ((f & TF_NEED_NEIGH) != 0 && synState) {
    // No neighbour yet: the SYN has not left (state.ts NEIGH_*). Give up after
    // as long as the SYN's own retransmissions would have taken.
    if (retries > neighTicksMax()) {
      bump(C_TCP_CONN_TIMEOUT);
      tcbDestroy(t, <i32>DEAD_TIMEOUT);
      return false;
    }
    store<u32>(t, load<u32>(t, TCB_ISS), TCB_SND_NXT);
    store<u32>(t, load<u32>(t, TCB_ISS), TCB_SND_MAX);
    tcpOutput(t);
    if ((load<u32>(t, TCB_FLAGS) & TF_NEED_NEIGH) == 0) {
      // The SYN left just now, a first transmission: its retries start here.
      store<u8>(t, 0, TCB_RETRIES);
    } else if (retries >= NEIGH_FAST_TICKS) {
      setTimer(t, TK_RTO, tcpNow() + 1_000_000);
    }
    return true;
  }
  const limit = synState ? synRetries((f & TF_PASSIVE) != 0) : dataRetries();
  if (retries > limit) {
    bump(C_TCP_CONN_TIMEOUT);
    tcbDestroy(t, <i32>DEAD_TIMEOUT);
    return false;
  }
  if (load<u32>(t, TCB_SND_MAX) == una && !synState) return true; // nothing outstanding any more
  // From the second expiry on, the peer's link address is in doubt: ask again at
  // each expiry (the ask itself may be lost), and send with the cache's answer
  // (a corrupted ARP reply must not doom the connection).
  if (!capture && retries >= 2) neighRecheck(<u32>load<u8>(t, TCB_FAMILY), t + TCB_RADDR, t + TCB_RMAC, true);
  bump(C_TCP_RTO_TIMEOUTS);
  // RFC 2018 §8: after a timeout the SACK information is not trusted; back to SND.UNA.
  sackRelease(t);
  store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_SACK_RECOVERY, TCB_FLAGS);
  ccOnTimeout(t, retries == 1);
  rtoBackoff(t);
  store<u32>(t, f & ~TF_RTT_TIMING, TCB_FLAGS);
  store<u8>(t, 0, TCB_DUPACKS);
  store<u32>(t, synState ? load<u32>(t, TCB_ISS) : una, TCB_SND_NXT);
  tcpOutput(t);
  if (load<u8>(t, TCB_TMR_KIND) != TK_RTO) restartRto(t);
  return true;
}

// Zero-window probe: one byte beyond the window (RFC 9293 §3.8.6.1), backing off
// like the RTO; bounded by PERSIST_MAX probes while the window stays shut.
function persistFire(t: usize): bool {
  const una = load<u32>(t, TCB_SND_UNA);
  const sq = load<u32>(t, TCB_SQ_LEN);
  if (load<u32>(t, TCB_SND_WND) != 0 || sq == 0) {
    store<u8>(t, 0, TCB_RETRIES);
    // The window is open but may be too small for SWS avoidance: send what it takes now.
    store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_SWS_OVERRIDE, TCB_FLAGS);
    tcpOutput(t);
    store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_SWS_OVERRIDE, TCB_FLAGS);
    return true;
  }
  const n = <u32>load<u8>(t, TCB_RETRIES) + 1;
  store<u8>(t, <u8>n, TCB_RETRIES);
  if (n > PERSIST_MAX) {
    bump(C_TCP_CONN_TIMEOUT);
    tcbDestroy(t, <i32>DEAD_TIMEOUT);
    return false;
  }
  bump(C_TCP_PERSIST_PROBES);
  sendSegment(t, una, TCP_ACK, 1);
  if (seqGT(una + 1, load<u32>(t, TCB_SND_MAX))) store<u32>(t, una + 1, TCB_SND_MAX);
  let iv = <u64>load<u32>(t, TCB_RTO) << min<u64>(<u64>n, 16);
  if (iv > <u64>RTO_MAX_US) iv = <u64>RTO_MAX_US;
  setTimer(t, TK_PERSIST, tcpNow() + iv);
  return true;
}

