// TCP input: RFC 9293 §3.10.7 "SEGMENT ARRIVES" as a ladder of checks, each
// citing its rule. Every path ends by returning a counter (the reason the
// segment, or the rest of it, was dropped; -1 for none); tcpInput bumps it and
// frees the mbuf unless a receive queue kept it: one place for both.
//
// Received data stays in its mbuf (zero-copy): in-order bytes go to the app as
// EV_TCP_RECV (ptr, len into the mbuf) and the mbuf waits on the connection's
// receive queue until CMD_RECV_DONE covers its bytes; out-of-order segments wait
// on a sorted, trimmed queue (at most OOO_MAX mbufs) until the hole fills.
// End of stream (the peer's FIN, in order) is an EV_TCP_RECV with ptr 0, len 0.
import { MB_FLAGS, MB_LINK, MB_SEQ, MB_USER0, MB_USER1, mbufFree, mbufFreeCount, mbufTotal } from "../../mem/mbuf";
import {
  C_TCP_ACK_TOO_NEW, C_TCP_BAD_ACK, C_TCP_BAD_CSUM, C_TCP_CHALLENGE_ACK, C_TCP_CHALLENGE_LIMITED, C_TCP_DUP_ACKS,
  C_TCP_DUP_SEGS, C_TCP_FAST_RETRANSMITS, C_TCP_SACK_RECOVERIES, C_TCP_MALFORMED, C_TCP_NO_LISTENER, C_TCP_OOO_DROPS, C_TCP_OOO_SEGS,
  C_TCP_OUT_OF_WINDOW, C_TCP_PASSIVE_OPENS, C_TCP_ACTIVE_OPENS, C_TCP_PAWS_DROP, C_TCP_PRESET_USED, C_TCP_RCV_NOSPACE,
  C_TCP_RST_RCVD, C_TCP_SEGS_IN, C_TCP_SYN_BAD, C_TCP_SYN_DUP, C_TCP_TCB_FULL, C_TCP_TIMEWAIT_REUSE, C_TCP_RCV_NOMBUF, bump,
} from "../../mem/counters";
import { PKTF_CSUM_OK, PKTF_L4_TRUNC, PKT_DST, PKT_FAMILY, PKT_FLAGS, PKT_L3, PKT_L4, PKT_L4LEN, PKT_M, PKT_NOW_US, PKT_SMAC, PKT_SRC, pkt } from "../pkt";
import { l4ChecksumOk } from "../../wire/checksum";
import { replySrcMac } from "../iface";
import {
  TcpView, TCP_MIN, tcpOptionsParse, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCPR_HAS, TCPR_HAS_MSS, TCPR_HAS_SACK, TCPR_HAS_SACK_OK, TCPR_HAS_TS,
  TCPR_HAS_WS, TCPR_MSS, TCPR_NSACK, TCPR_SACK, TCPR_TSECR, TCPR_TSVAL, TCPR_WSCALE,
} from "../../wire/tcp";
import { flowFind, flowInsert, flowValue } from "../../flow/table";
import { flowKeyHash, flowKeySetV4, flowKeySetV6 } from "../../flow/key";
import { EV_TCP_CONNECTED, EV_TCP_KNOCK, EV_TCP_RECV, DEAD_CLOSED, DEAD_REFUSED, DEAD_RESET, RET_OK, D_C, D_D } from "../../api/abi";
import {
  NONE, TCB_ANN_MSS, TCB_DELACK_AT, TCB_DUPACKS, TCB_FAMILY, TCB_FLAGS, TCB_FLOW, TCB_HASH, TCB_IRS, TCB_ISS, TCB_LADDR,
  TCB_LAST_ACK_SENT, TCB_LMAC, TCB_LPORT, TCB_MAX_SND_WND, TCB_OOO_HEAD,
  TCB_RADDR, TCB_RCV_ADV, TCB_RCV_HELD, TCB_RCV_NXT, TCB_RCV_WSCALE, TCB_RECOVER, TCB_RETRIES, TCB_RMAC, TCB_RPORT,
  TCB_RQ_HEAD, TCB_RQ_TAIL, TCB_RTT_SEQ, TCB_RTT_START, TCB_SEGS_UNACKED, TCB_SND_MAX, TCB_SND_NXT, TCB_SND_UNA,
  TCB_SND_WL1, TCB_SND_WL2, TCB_SND_WND, TCB_SND_WSCALE, TCB_SQ_HEAD, TCB_SQ_HEAD_OFF, TCB_SQ_LEN, TCB_SQ_TAIL,
  TCB_STATE, TCB_TMR_KIND, TCB_TS_OFF, TCB_TS_RECENT, TCB_TS_RECENT_AGE, TCB_CUR_SPAN, TCB_RTO, TCB_CWND, TCB_SSTHRESH,
  TCB_LAST_RX_S, tcbAt, tcbSlot,
} from "./tcb";
import { DUP_THRESH, sackActive, sackBoard, sackIdle, sackRecoveryStart, sackUnaLost, sackUpdate } from "./sack";
import { SP_LEN, SP_NEXT, spanAt, spanFree } from "./span";
import {
  DEFAULT_MSS_V4, DEFAULT_MSS_V6, MAX_WSCALE, PAWS_IDLE_S, ST_CLOSED, ST_CLOSE_WAIT,
  ST_CLOSING, ST_ESTABLISHED, ST_FIN_WAIT_1, ST_FIN_WAIT_2, ST_LAST_ACK, ST_SYN_RECEIVED, ST_SYN_SENT, ST_TIME_WAIT,
  TCPF_CHALLENGE, TCPF_DELACK, TCPF_SACK, TCPF_TS, TCPF_TW_REUSE, TCPF_WS, TF_ACCEPTED, TF_ACK_NOW, TF_APP, TF_EOF_TOLD,
  TF_FIN_QUEUED, TF_FIN_RCVD, TF_PASSIVE, TF_PRESET, TF_PRESET_SACK, TF_PRESET_TS, TF_PRESET_WS, TF_RECOVERY,
  TF_RTT_TIMING, TF_SACK_OK, TF_SACK_RECOVERY, TF_SYN_ACKED, TF_TS_OK, TF_WS_OK, TK_FIN_WAIT2, TK_PERSIST, TK_RTO, TK_TIME_WAIT,
  seqGE, seqGT, seqLE, seqLT,
} from "./state";
import {
  ccDupAckInRecovery, ccEnterRecovery, ccFullAck, ccOnAck, ccPartialAck, cwndInit, mssOf, rttInit, rttSample,
} from "./congestion";
import {
  annMssCfg, appEvent, appKnows, appSent, clearTimer, delackUs, freeRecv, freeSend, halfOpenAdd, halfOpenEvict,
  halfOpenFull, halfOpenRemove, isListening, markDirty, nowMs32, nowS32, ourWscale, setTimer, tcbDestroy,
  tcbNew, tcpFlags, tcpNow, tcpSetNow, twUs, armTimer, appDead, finWait2Us, idleLimitS,
} from "./engine";
import { retransmitHead, sendAck, sendRst, sendRstRaw, tcpOutput } from "./output";
import { isnFor, tsOffsetFor } from "./isn";
import { oooInsert, oooNext } from "./reassembly";
import { challengeBudget } from "./challenge";
import { effectiveMss, initialRcvAdv } from "./negotiate";

// ---- the segment being processed (static: one segment at a time) ---------------------
const opt = memory.data(80, 8); // TcpRepr of the options
const key = memory.data(40, 16); // arrival-direction flow key
let sSeq: u32 = 0;
let sAck: u32 = 0;
let sFlags: u32 = 0;
let sWnd: u32 = 0;
let sLen: u32 = 0; // payload bytes
let sData: usize = 0;
let sHas: u32 = 0; // TCPR_HAS_* of the options
let sTsVal: u32 = 0;
let sTsEcr: u32 = 0;
let sM: usize = 0;
let kept: bool = false; // a queue took the mbuf

/** Pointer to the arrival-direction flow key of the last segment (tests, replay). */
export function tcpLastKey(): usize {
  return key;
}

/** The segment described by pkt(); takes ownership of its mbuf. */
export function tcpInput(): void {
  const p = pkt();
  const m = <usize>load<u32>(p + PKT_M);
  tcpSetNow(load<u64>(p + PKT_NOW_US));
  bump(C_TCP_SEGS_IN);
  sM = m;
  kept = false;
  const reason = input(p);
  if (reason >= 0) bump(reason);
  if (!kept) mbufFree(m);
}

function input(p: usize): i32 {
  const l4 = <usize>load<u32>(p + PKT_L4);
  const l4len = load<u32>(p + PKT_L4LEN);
  // RFC 9293 §3.1: a header shorter than 20 bytes or a data offset past the segment is no segment.
  if (<usize>l4len < TCP_MIN) return C_TCP_MALFORMED;
  const tcp = changetype<TcpView>(l4);
  const hl = tcp.hdrLen;
  if (<usize>hl < TCP_MIN || hl > l4len) return C_TCP_MALFORMED;
  // A capture cut the payload: the bytes are not there to deliver.
  if ((load<u8>(p + PKT_FLAGS) & PKTF_L4_TRUNC) != 0) return C_TCP_MALFORMED;
  // RFC 9293 §3.1 checksum, unless IP verified it (or the config skips it).
  const family = <u32>load<u8>(p + PKT_FAMILY);
  if ((load<u8>(p + PKT_FLAGS) & PKTF_CSUM_OK) == 0 && !l4ChecksumOk(<i32>family, <usize>load<u32>(p + PKT_L3), 6, l4, l4len)) return C_TCP_BAD_CSUM;
  const sport = tcp.srcPort;
  const dport = tcp.dstPort;
  sSeq = tcp.seq;
  sAck = tcp.ack;
  sFlags = tcp.flags & 0x3f; // the six flags of RFC 793 this stack acts on
  sWnd = tcp.window;
  sData = l4 + hl;
  sLen = l4len - hl;
  if (<usize>hl > TCP_MIN) {
    tcpOptionsParse(l4 + TCP_MIN, hl - <u32>TCP_MIN, opt);
    sHas = <u32>load<u8>(opt + TCPR_HAS);
  } else sHas = 0;
  if ((sHas & TCPR_HAS_TS) != 0) {
    sTsVal = load<u32>(opt + TCPR_TSVAL);
    sTsEcr = load<u32>(opt + TCPR_TSECR);
  }
  if (family == 6) flowKeySetV6(key, 6, p + PKT_SRC, p + PKT_DST, sport, dport);
  else flowKeySetV4(key, 6, p + PKT_SRC, p + PKT_DST, sport, dport);
  const hash = flowKeyHash(key);
  const idx = flowFind(key, hash);
  if (idx < 0) {
    if (isListening(dport)) return listenInput(p, 0, hash);
    return closedInput(p);
  }
  const t = tcbAt(load<u32>(flowValue(idx)));
  const st = load<u8>(t, TCB_STATE);
  if (st == ST_CLOSED) return listenInput(p, t, hash); // a replay preset waiting for this SYN
  if (st == ST_SYN_SENT) return synSentInput(t);
  if (st == ST_TIME_WAIT && (sFlags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && timeWaitReusable(t) && isListening(dport)) {
    // RFC 9293 §3.10.7.4 / RFC 6191: a new incarnation may end TIME-WAIT.
    bump(C_TCP_TIMEWAIT_REUSE);
    tcbDestroy(t, -1);
    return listenInput(p, 0, hash);
  }
  return syncInput(t);
}

@inline function segLen(): u32 {
  return sLen + ((sFlags & TCP_SYN) != 0 ? 1 : 0) + ((sFlags & TCP_FIN) != 0 ? 1 : 0);
}

// RFC 9293 §3.10.7.1 CLOSED: RST answers everything but an RST.
function closedInput(p: usize): i32 {
  if ((sFlags & TCP_RST) != 0) return C_TCP_NO_LISTENER;
  replyRst(p);
  return C_TCP_NO_LISTENER;
}

function replyRst(p: usize): void {
  const family = <u32>load<u8>(p + PKT_FAMILY);
  const tcp = changetype<TcpView>(<usize>load<u32>(p + PKT_L4));
  if ((sFlags & TCP_ACK) != 0)
    sendRstRaw(family, p + PKT_DST, p + PKT_SRC, tcp.dstPort, tcp.srcPort, sAck, 0, TCP_RST, replySrcMac(), p + PKT_SMAC);
  else
    sendRstRaw(family, p + PKT_DST, p + PKT_SRC, tcp.dstPort, tcp.srcPort, 0, sSeq + segLen(), TCP_RST | TCP_ACK, replySrcMac(), p + PKT_SMAC);
}

// RFC 9293 §3.10.7.2 LISTEN (t = a replay preset for this flow, or 0).
function listenInput(p: usize, preset: usize, hash: u32): i32 {
  if ((sFlags & TCP_RST) != 0) return C_TCP_SYN_BAD; // first: an RST is ignored
  if ((sFlags & TCP_ACK) != 0) {
    replyRst(p); // second: <SEQ=SEG.ACK><CTL=RST>
    return C_TCP_NO_LISTENER;
  }
  if ((sFlags & TCP_SYN) == 0 || (sFlags & TCP_FIN) != 0) return C_TCP_SYN_BAD; // fourth: anything else is dropped
  // third: SYN. Bound the half-open connections (SYN flood, issue 10).
  let t = preset;
  if (t == 0) {
    if (halfOpenFull()) halfOpenEvict();
    t = tcbNew(true);
    if (t == 0) return C_TCP_TCB_FULL;
    const idx = flowInsert(key, hash);
    if (idx < 0) {
      tcbDestroy(t, -1);
      return C_TCP_TCB_FULL;
    }
    store<u32>(flowValue(idx), tcbSlot(t));
    store<u32>(t, <u32>idx, TCB_FLOW);
    store<u32>(t, hash, TCB_HASH);
  } else bump(C_TCP_PRESET_USED);
  passiveOpen(t, p, preset != 0);
  markDirty(t); // SYN-ACK at the flush
  return -1; // a SYN's payload is not taken (the peer sends it again after the handshake)
}

function passiveOpen(t: usize, p: usize, preset: bool): void {
  const family = <u32>load<u8>(p + PKT_FAMILY);
  const tcp = changetype<TcpView>(<usize>load<u32>(p + PKT_L4));
  let f = load<u32>(t, TCB_FLAGS);
  store<u8>(t, <u8>family, TCB_FAMILY);
  store<u16>(t, <u16>tcp.dstPort, TCB_LPORT);
  store<u16>(t, <u16>tcp.srcPort, TCB_RPORT);
  memory.copy(t + TCB_LADDR, p + PKT_DST, 16);
  memory.copy(t + TCB_RADDR, p + PKT_SRC, 16);
  memory.copy(t + TCB_LMAC, replySrcMac(), 6); // answer the way the SYN came (never from a group MAC)
  memory.copy(t + TCB_RMAC, p + PKT_SMAC, 6);
  store<u32>(t, sSeq, TCB_IRS);
  store<u32>(t, sSeq + 1, TCB_RCV_NXT);
  // Options (RFC 7323 §2.5, §3.2; RFC 2018 §2): on only if the SYN offered them, we
  // allow them, and (replay) the original server used them.
  f &= ~(TF_TS_OK | TF_WS_OK | TF_SACK_OK);
  let iss: u32;
  if (preset) {
    iss = load<u32>(t, TCB_ISS);
    if ((sHas & TCPR_HAS_WS) != 0 && (f & TF_PRESET_WS) != 0) f |= TF_WS_OK;
    if ((sHas & TCPR_HAS_TS) != 0 && (f & TF_PRESET_TS) != 0) f |= TF_TS_OK;
    if ((sHas & TCPR_HAS_SACK_OK) != 0 && (f & TF_PRESET_SACK) != 0) f |= TF_SACK_OK;
    // The preset TSval is what the original SYN-ACK carried: offset our clock to it.
    store<u32>(t, load<u32>(t, TCB_TS_OFF) - nowMs32(), TCB_TS_OFF);
    f &= ~(TF_PRESET | TF_PRESET_WS | TF_PRESET_TS | TF_PRESET_SACK);
    clearTimer(t);
  } else {
    iss = isnFor(key, tcpNow());
    if ((sHas & TCPR_HAS_WS) != 0 && (tcpFlags & TCPF_WS) != 0) f |= TF_WS_OK;
    if ((sHas & TCPR_HAS_TS) != 0 && (tcpFlags & TCPF_TS) != 0) f |= TF_TS_OK;
    if ((sHas & TCPR_HAS_SACK_OK) != 0 && (tcpFlags & TCPF_SACK) != 0) f |= TF_SACK_OK;
    store<u32>(t, tsOffsetFor(key), TCB_TS_OFF);
    store<u16>(t, <u16>(family == 6 ? annMssCfg - 20 : annMssCfg), TCB_ANN_MSS);
    store<u8>(t, <u8>ourWscale, TCB_RCV_WSCALE);
  }
  if ((f & TF_WS_OK) != 0) store<u8>(t, <u8>min<u32>(<u32>load<u8>(opt + TCPR_WSCALE), MAX_WSCALE), TCB_SND_WSCALE);
  else {
    store<u8>(t, 0, TCB_SND_WSCALE);
    store<u8>(t, 0, TCB_RCV_WSCALE);
  }
  if ((f & TF_TS_OK) != 0) {
    store<u32>(t, sTsVal, TCB_TS_RECENT);
    store<u32>(t, nowS32(), TCB_TS_RECENT_AGE);
  }
  f |= TF_PASSIVE;
  store<u32>(t, f, TCB_FLAGS);
  effectiveMss(t, (sHas & TCPR_HAS_MSS) != 0 ? <u32>load<u16>(opt + TCPR_MSS) : family == 6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
  store<u32>(t, iss, TCB_ISS);
  store<u32>(t, iss, TCB_SND_UNA);
  store<u32>(t, iss, TCB_SND_NXT);
  store<u32>(t, iss, TCB_SND_MAX);
  store<u32>(t, iss, TCB_RECOVER);
  store<u32>(t, sWnd, TCB_SND_WND); // RFC 7323 §2.2: not scaled in a SYN
  store<u32>(t, sWnd, TCB_MAX_SND_WND);
  store<u32>(t, sSeq, TCB_SND_WL1);
  store<u32>(t, iss, TCB_SND_WL2);
  store<u32>(t, sSeq + 1, TCB_LAST_ACK_SENT);
  initialRcvAdv(t);
  rttInit(t);
  cwndInit(t);
  store<u8>(t, ST_SYN_RECEIVED, TCB_STATE);
  halfOpenAdd(t);
}

/** Negotiation results of a SYN-ACK for an active open (RFC 7323 §1.3: an option is on only if both SYNs carry it). */
function activeOptions(t: usize): void {
  let f = load<u32>(t, TCB_FLAGS);
  if ((sHas & TCPR_HAS_WS) == 0) f &= ~TF_WS_OK;
  if ((sHas & TCPR_HAS_TS) == 0) f &= ~TF_TS_OK;
  if ((sHas & TCPR_HAS_SACK_OK) == 0) f &= ~TF_SACK_OK;
  store<u32>(t, f, TCB_FLAGS);
  if ((f & TF_WS_OK) != 0) store<u8>(t, <u8>min<u32>(<u32>load<u8>(opt + TCPR_WSCALE), MAX_WSCALE), TCB_SND_WSCALE);
  else {
    store<u8>(t, 0, TCB_SND_WSCALE);
    store<u8>(t, 0, TCB_RCV_WSCALE);
  }
  if ((f & TF_TS_OK) != 0) {
    store<u32>(t, sTsVal, TCB_TS_RECENT);
    store<u32>(t, nowS32(), TCB_TS_RECENT_AGE);
  }
  const family = <u32>load<u8>(t, TCB_FAMILY);
  effectiveMss(t, (sHas & TCPR_HAS_MSS) != 0 ? <u32>load<u16>(opt + TCPR_MSS) : family == 6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
  cwndInit(t);
}

// RFC 9293 §3.10.7.3 SYN-SENT.
function synSentInput(t: usize): i32 {
  const iss = load<u32>(t, TCB_ISS);
  let ackOk = false;
  if ((sFlags & TCP_ACK) != 0) {
    // first: SEG.ACK =< ISS or SEG.ACK > SND.NXT is unacceptable: RST (unless RST) and drop.
    if (seqLE(sAck, iss) || seqGT(sAck, load<u32>(t, TCB_SND_MAX))) {
      if ((sFlags & TCP_RST) == 0) sendRstRaw(<u32>load<u8>(t, TCB_FAMILY), t + TCB_LADDR, t + TCB_RADDR, <u32>load<u16>(t, TCB_LPORT), <u32>load<u16>(t, TCB_RPORT), sAck, 0, TCP_RST, t + TCB_LMAC, t + TCB_RMAC);
      return C_TCP_BAD_ACK;
    }
    ackOk = true;
  }
  if ((sFlags & TCP_RST) != 0) {
    // second: an RST is acceptable only with an acceptable ACK (RFC 5961 §3.2 keeps this).
    if (!ackOk) return C_TCP_BAD_ACK;
    bump(C_TCP_RST_RCVD);
    tcbDestroy(t, <i32>DEAD_REFUSED);
    return -1;
  }
  if ((sFlags & TCP_SYN) == 0) return C_TCP_SYN_BAD; // fifth: neither SYN nor RST
  // fourth: SYN.
  store<u32>(t, sSeq, TCB_IRS);
  store<u32>(t, sSeq + 1, TCB_RCV_NXT);
  store<u32>(t, sSeq + 1, TCB_LAST_ACK_SENT);
  activeOptions(t);
  initialRcvAdv(t);
  store<u32>(t, sWnd, TCB_SND_WND); // unscaled in a SYN
  store<u32>(t, sWnd, TCB_MAX_SND_WND);
  store<u32>(t, sSeq, TCB_SND_WL1);
  store<u32>(t, sAck, TCB_SND_WL2);
  if (ackOk) {
    if (idleLimitS != 0) store<u16>(t, <u16>nowS32(), TCB_LAST_RX_S);
    store<u32>(t, sAck, TCB_SND_UNA);
    if (seqLT(load<u32>(t, TCB_SND_NXT), sAck)) store<u32>(t, sAck, TCB_SND_NXT);
    synAcked(t);
    store<u8>(t, ST_ESTABLISHED, TCB_STATE);
    bump(C_TCP_ACTIVE_OPENS);
    appEvent(EV_TCP_CONNECTED, t, <u32>RET_OK, 0);
    if ((load<u32>(t, TCB_FLAGS) & TF_FIN_QUEUED) != 0) store<u8>(t, ST_FIN_WAIT_1, TCB_STATE);
  } else {
    // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    store<u8>(t, ST_SYN_RECEIVED, TCB_STATE);
    store<u32>(t, iss, TCB_SND_NXT);
  }
  ackNow(t);
  return -1;
}

// Our SYN is acknowledged: RTT sample if it was timed (not retransmitted, Karn), RTO reset.
function synAcked(t: usize): void {
  let f = load<u32>(t, TCB_FLAGS) | TF_SYN_ACKED;
  if ((f & TF_RTT_TIMING) != 0) {
    rttSample(t, <u32>tcpNow() - load<u32>(t, TCB_RTT_START));
    f &= ~TF_RTT_TIMING;
  }
  store<u32>(t, f, TCB_FLAGS);
  store<u8>(t, 0, TCB_RETRIES);
  store<u32>(t, NONE, TCB_CUR_SPAN);
  if (load<u8>(t, TCB_TMR_KIND) == TK_RTO) clearTimer(t);
}

@inline function ackNow(t: usize): void {
  store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_ACK_NOW, TCB_FLAGS);
  markDirty(t);
}

// RFC 5961 §7: a challenge ACK, within the per-core budget (net/tcp/challenge.ts).
function challenge(t: usize): i32 {
  if (!challengeBudget()) return C_TCP_CHALLENGE_LIMITED;
  ackNow(t);
  return C_TCP_CHALLENGE_ACK;
}

/** ACKs that answer an unacceptable pure ACK share the challenge budget (issue 10:
 * ACK storms bounded). True if one may be sent now; a refusal is counted as limited. */
function ackBudget(): bool {
  if (challengeBudget()) return true;
  bump(C_TCP_CHALLENGE_LIMITED);
  return false;
}

function timeWaitReusable(t: usize): bool {
  if ((tcpFlags & TCPF_TW_REUSE) == 0) return false;
  // RFC 6191 §2: newer timestamp, or (no timestamps) a sequence number beyond the old RCV.NXT.
  if ((load<u32>(t, TCB_FLAGS) & TF_TS_OK) != 0 && (sHas & TCPR_HAS_TS) != 0) return seqGT(sTsVal, load<u32>(t, TCB_TS_RECENT));
  return seqGT(sSeq, load<u32>(t, TCB_RCV_NXT));
}

// RFC 9293 §3.10.7.4, states SYN-RECEIVED through TIME-WAIT.
function syncInput(t: usize): i32 {
  let st = load<u8>(t, TCB_STATE);
  // Our SYN-ACK is queued for this batch's flush and not sent yet, but the peer's
  // next segment is already here (a top-speed replay delivers a capture's SYN and
  // the client's ACK in one batch). Send it now, so SND.NXT = ISS+1 when the ACK
  // is checked (RFC 9293 §3.10.7.2) and the SYN-ACK still leaves first.
  if (st == ST_SYN_RECEIVED && load<u32>(t, TCB_SND_MAX) == load<u32>(t, TCB_ISS)) tcpOutput(t);
  let f = load<u32>(t, TCB_FLAGS);
  const rst = (sFlags & TCP_RST) != 0;
  // A retransmitted SYN while our SYN-ACK is unanswered: send the SYN-ACK again.
  if (st == ST_SYN_RECEIVED && (sFlags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && sSeq == load<u32>(t, TCB_IRS)) {
    store<u32>(t, load<u32>(t, TCB_ISS), TCB_SND_NXT);
    markDirty(t);
    return C_TCP_SYN_DUP;
  }
  // PAWS (RFC 7323 §5.3 R1-R3), before the sequence check; never for an RST.
  if ((f & TF_TS_OK) != 0 && (sHas & TCPR_HAS_TS) != 0 && !rst && seqLT(sTsVal, load<u32>(t, TCB_TS_RECENT))) {
    if (nowS32() - load<u32>(t, TCB_TS_RECENT_AGE) > PAWS_IDLE_S) {
      store<u32>(t, sTsVal, TCB_TS_RECENT); // R3 / §5.5: TS.Recent too old to judge by
    } else {
      ackNow(t);
      return C_TCP_PAWS_DROP;
    }
  }
  // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK whatever its sequence number.
  if ((sFlags & TCP_SYN) != 0 && !rst) {
    if ((tcpFlags & TCPF_CHALLENGE) == 0) {
      ackNow(t);
      return C_TCP_OUT_OF_WINDOW;
    }
    return challenge(t);
  }
  // first: sequence number acceptable (the four cases of §3.10.7.4).
  const rcvNxt = load<u32>(t, TCB_RCV_NXT);
  const adv = load<u32>(t, TCB_RCV_ADV);
  const wnd = seqGT(adv, rcvNxt) ? adv - rcvNxt : 0;
  const len = segLen();
  let ok: bool;
  if (len == 0) ok = wnd == 0 ? sSeq == rcvNxt : seqGE(sSeq, rcvNxt) && seqLT(sSeq, rcvNxt + wnd);
  else ok = wnd != 0 && ((seqGE(sSeq, rcvNxt) && seqLT(sSeq, rcvNxt + wnd)) || (seqGE(sSeq + len - 1, rcvNxt) && seqLT(sSeq + len - 1, rcvNxt + wnd)));
  // A zero window still takes ACKs and RSTs at RCV.NXT; a zero-window probe is answered.
  if (!ok) {
    if (rst) return C_TCP_OUT_OF_WINDOW;
    // A pure ACK out of the window is answered within the challenge ACK budget:
    // two ends out of step would otherwise answer each other's ACKs forever (ACK storm).
    if (len != 0 || (tcpFlags & TCPF_CHALLENGE) == 0 || ackBudget()) ackNow(t);
    // A retransmitted FIN in TIME-WAIT: our last ACK was lost; ACK it again and restart 2·MSL (§3.10.7.4 eighth).
    if (st == ST_TIME_WAIT && (sFlags & TCP_FIN) != 0 && sSeq + len == rcvNxt) setTimer(t, TK_TIME_WAIT, tcpNow() + twUs);
    // The ACK field of an out-of-window segment is still processed (window probes
    // and updates) when it is exactly at RCV.NXT with a closed window.
    if (wnd == 0 && sSeq == rcvNxt && (sFlags & TCP_ACK) != 0 && st != ST_SYN_RECEIVED) {
      sLen = 0;
      sFlags &= ~TCP_FIN;
      return ackInput(t) ? C_TCP_RCV_NOSPACE : -1;
    }
    return (seqLT(sSeq, rcvNxt) && len > 0) ? C_TCP_DUP_SEGS : C_TCP_OUT_OF_WINDOW;
  }
  // The peer is alive: the idle limit counts from here (output.ts idleSweep), and
  // FIN-WAIT-2 waits afresh while data still comes. Only with the limit on: the
  // seconds cost a 64-bit division per segment.
  if (idleLimitS != 0) store<u16>(t, <u16>nowS32(), TCB_LAST_RX_S);
  if (st == ST_FIN_WAIT_2 && len != 0 && load<u8>(t, TCB_TMR_KIND) == TK_FIN_WAIT2) setTimer(t, TK_FIN_WAIT2, tcpNow() + finWait2Us);
  // second: RST (RFC 5961 §3.2: exact RCV.NXT resets, other in-window RSTs get a challenge ACK).
  if (rst) {
    if (sSeq != rcvNxt && (tcpFlags & TCPF_CHALLENGE) != 0) return challenge(t);
    bump(C_TCP_RST_RCVD);
    if (st == ST_SYN_RECEIVED) tcbDestroy(t, (f & TF_PASSIVE) != 0 ? -1 : <i32>DEAD_REFUSED);
    else if (st == ST_ESTABLISHED || st == ST_FIN_WAIT_1 || st == ST_FIN_WAIT_2 || st == ST_CLOSE_WAIT) tcbDestroy(t, <i32>DEAD_RESET);
    else tcbDestroy(t, <i32>DEAD_CLOSED); // CLOSING, LAST-ACK, TIME-WAIT: both sides were done
    return -1;
  }
  // fifth: ACK. Without it the segment is dropped.
  if ((sFlags & TCP_ACK) == 0) return C_TCP_BAD_ACK;
  // RFC 7323 §4.3 (3): TS.Recent follows the segment that covers Last.ACK.sent.
  if ((f & TF_TS_OK) != 0 && (sHas & TCPR_HAS_TS) != 0 && seqGE(sTsVal, load<u32>(t, TCB_TS_RECENT)) && seqLE(sSeq, load<u32>(t, TCB_LAST_ACK_SENT))) {
    store<u32>(t, sTsVal, TCB_TS_RECENT);
    store<u32>(t, nowS32(), TCB_TS_RECENT_AGE);
  }
  if (st == ST_SYN_RECEIVED) {
    if (!(seqGT(sAck, load<u32>(t, TCB_SND_UNA)) && seqLE(sAck, load<u32>(t, TCB_SND_MAX)))) {
      sendRst(t, sAck, false); // <SEQ=SEG.ACK><CTL=RST>
      return C_TCP_BAD_ACK;
    }
    establish(t);
    st = load<u8>(t, TCB_STATE);
    f = load<u32>(t, TCB_FLAGS);
  }
  // RFC 5961 §5.2: acceptable ACKs are SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
  if (seqGT(sAck, load<u32>(t, TCB_SND_MAX))) {
    if ((tcpFlags & TCPF_CHALLENGE) == 0 || ackBudget()) ackNow(t); // the other half of an ACK storm
    return C_TCP_ACK_TOO_NEW;
  }
  if (seqLT(sAck, load<u32>(t, TCB_SND_UNA) - load<u32>(t, TCB_MAX_SND_WND))) {
    if ((tcpFlags & TCPF_CHALLENGE) != 0) return challenge(t);
    return C_TCP_BAD_ACK;
  }
  if (!ackInput(t)) return -1; // the connection ended (LAST-ACK acknowledged)
  st = load<u8>(t, TCB_STATE);
  // sixth: URG is not supported (urgent data arrives inline, the pointer is ignored).
  // seventh and eighth: text and FIN.
  if (sLen == 0 && (sFlags & TCP_FIN) == 0) return -1;
  if (st == ST_ESTABLISHED || st == ST_FIN_WAIT_1 || st == ST_FIN_WAIT_2) return dataInput(t);
  // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN was taken already;
  // a retransmitted FIN is acknowledged again, and TIME-WAIT restarts (§3.10.7.4 eighth).
  ackNow(t);
  if (st == ST_TIME_WAIT) setTimer(t, TK_TIME_WAIT, tcpNow() + twUs);
  return sLen > 0 ? C_TCP_DUP_SEGS : -1;
}

// SYN-RECEIVED -> ESTABLISHED (or FIN-WAIT-1 if the app already closed).
function establish(t: usize): void {
  const f = load<u32>(t, TCB_FLAGS);
  halfOpenRemove(t);
  const una = load<u32>(t, TCB_ISS) + 1;
  store<u32>(t, una, TCB_SND_UNA);
  // A retransmitted SYN pulled SND.NXT back to ISS for a SYN-ACK not sent yet
  // (same batch as this ACK): the SYN is acknowledged, so it is not to be sent
  // again. Left at ISS, every later segment would carry a sequence number below
  // the peer's RCV.NXT (dropped as out of window) and no data could leave.
  if (seqLT(load<u32>(t, TCB_SND_NXT), una)) store<u32>(t, una, TCB_SND_NXT);
  synAcked(t);
  store<u32>(t, sWnd << <u32>load<u8>(t, TCB_SND_WSCALE), TCB_SND_WND);
  store<u32>(t, sSeq, TCB_SND_WL1);
  store<u32>(t, sAck, TCB_SND_WL2);
  store<u8>(t, (f & TF_FIN_QUEUED) != 0 ? ST_FIN_WAIT_1 : ST_ESTABLISHED, TCB_STATE);
  if ((f & TF_PASSIVE) != 0) {
    // KNOCK after the handshake: half-open connections never reach the app (SYN floods cost it nothing).
    bump(C_TCP_PASSIVE_OPENS);
    // Fresh flags: halfOpenRemove and synAcked changed them since f was read.
    store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_APP, TCB_FLAGS);
    const p = appEvent(EV_TCP_KNOCK, t, <u32>load<u16>(t, TCB_LPORT), <u32>load<u16>(t, TCB_RPORT));
    if (p != 0) {
      store<u32>(p, <u32>(t + TCB_RADDR), D_C);
      store<u32>(p, <u32>load<u8>(t, TCB_FAMILY), D_D);
    }
  } else {
    bump(C_TCP_ACTIVE_OPENS);
    appEvent(EV_TCP_CONNECTED, t, <u32>RET_OK, 0);
  }
}

// Frees the spans the ACK covered. n: data bytes newly acknowledged.
function sendQueueAdvance(t: usize, n: u32): void {
  let s = load<u32>(t, TCB_SQ_HEAD);
  let off = load<u32>(t, TCB_SQ_HEAD_OFF) + n;
  const cur = load<u32>(t, TCB_CUR_SPAN);
  while (s != NONE) {
    const l = load<u32>(spanAt(s), SP_LEN);
    if (off < l) break;
    off -= l;
    const nx = load<u32>(spanAt(s), SP_NEXT);
    if (s == cur) store<u32>(t, NONE, TCB_CUR_SPAN);
    spanFree(s);
    s = nx;
  }
  store<u32>(t, s, TCB_SQ_HEAD);
  if (s == NONE) {
    store<u32>(t, NONE, TCB_SQ_TAIL);
    off = 0;
  }
  store<u32>(t, off, TCB_SQ_HEAD_OFF);
  store<u32>(t, load<u32>(t, TCB_SQ_LEN) - n, TCB_SQ_LEN);
}

// The ACK field (§3.10.7.4 fifth, ESTABLISHED and after): new data acknowledged,
// duplicate ACKs, window update. Returns false if the connection is gone.
function ackInput(t: usize): bool {
  const una = load<u32>(t, TCB_SND_UNA);
  const ack = sAck;
  const shift = <u32>load<u8>(t, TCB_SND_WSCALE);
  const wndScaled = sWnd << shift;
  let f = load<u32>(t, TCB_FLAGS);
  // The SACK blocks (RFC 2018) go on the scoreboard first (sack.ts trims what the
  // cumulative ACK covers below).
  const sackInfo = (sHas & TCPR_HAS_SACK) != 0;
  if (sackInfo || sackBoard(t) != 0) sackUpdate(t, opt + TCPR_SACK, sackInfo ? <u32>load<u8>(opt + TCPR_NSACK) : 0);
  if (seqGT(ack, una)) {
    const acked = ack - una;
    const sq = load<u32>(t, TCB_SQ_LEN);
    let dataAcked = acked;
    let finAcked = false;
    if ((f & TF_FIN_QUEUED) != 0 && acked == sq + 1) {
      finAcked = true;
      dataAcked = sq;
    } else if (dataAcked > sq) dataAcked = sq; // a persist probe byte already counted
    sendQueueAdvance(t, dataAcked);
    store<u32>(t, ack, TCB_SND_UNA);
    if (seqLT(load<u32>(t, TCB_SND_NXT), ack)) store<u32>(t, ack, TCB_SND_NXT);
    // RTT (RFC 6298 §3): the timed segment, else (after retransmissions) the echoed timestamp (RFC 7323 §4).
    if ((f & TF_RTT_TIMING) != 0 && seqGT(ack, load<u32>(t, TCB_RTT_SEQ))) {
      rttSample(t, <u32>tcpNow() - load<u32>(t, TCB_RTT_START));
      f &= ~TF_RTT_TIMING;
    } else if ((f & (TF_RTT_TIMING | TF_TS_OK)) == TF_TS_OK && (sHas & TCPR_HAS_TS) != 0 && sTsEcr != 0 && load<u8>(t, TCB_RETRIES) != 0) {
      const ms = nowMs32() + load<u32>(t, TCB_TS_OFF) - sTsEcr;
      if (ms < 60000) rttSample(t, ms * 1000 + 500);
    }
    store<u8>(t, 0, TCB_RETRIES);
    store<u32>(t, f, TCB_FLAGS);
    if (sackBoard(t) != 0) sackUpdate(t, 0, 0); // drop what SND.UNA passed
    // Congestion control (RFC 5681, RFC 6582; RFC 6675 when SACK-based).
    if ((f & TF_RECOVERY) != 0) {
      if (seqGE(ack, load<u32>(t, TCB_RECOVER))) {
        ccFullAck(t);
        store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_SACK_RECOVERY, TCB_FLAGS);
      } else if ((f & TF_SACK_RECOVERY) == 0) {
        ccPartialAck(t, dataAcked);
        bump(C_TCP_FAST_RETRANSMITS);
        retransmitHead(t);
      } // SACK-based: the pipe says what may leave (tcpOutput, RFC 6675 §5 (C))
    } else ccOnAck(t, dataAcked);
    store<u8>(t, 0, TCB_DUPACKS);
    if (dataAcked > 0) appSent(t, dataAcked);
    // RFC 6298 (5.2)/(5.3): stop the timer when all is acknowledged, else restart it.
    const kind = load<u8>(t, TCB_TMR_KIND);
    if (ack == load<u32>(t, TCB_SND_MAX)) {
      if (kind == TK_RTO) clearTimer(t);
    } else if (kind == TK_RTO || kind == 0) setTimer(t, TK_RTO, tcpNow() + <u64>load<u32>(t, TCB_RTO));
    if (finAcked) {
      const st = load<u8>(t, TCB_STATE);
      if (st == ST_FIN_WAIT_1) {
        store<u8>(t, ST_FIN_WAIT_2, TCB_STATE);
        // RFC 9293 leaves FIN-WAIT-2 open-ended; like Linux (tcp_fin_timeout) we
        // do not wait forever for a peer that may be gone.
        if (finWait2Us != 0) setTimer(t, TK_FIN_WAIT2, tcpNow() + finWait2Us);
      }
      else if (st == ST_CLOSING) enterTimeWait(t);
      else if (st == ST_LAST_ACK) {
        tcbDestroy(t, <i32>DEAD_CLOSED);
        return false;
      }
    }
    markDirty(t);
  } else if (ack == una && sLen == 0 && (sFlags & (TCP_SYN | TCP_FIN)) == 0 && wndScaled == load<u32>(t, TCB_SND_WND) && load<u32>(t, TCB_SND_MAX) != una) {
    // Duplicate ACK (RFC 5681 §2: nothing new, no data, same window, data outstanding).
    bump(C_TCP_DUP_ACKS);
    const d = min<u32>(<u32>load<u8>(t, TCB_DUPACKS) + 1, 255);
    store<u8>(t, <u8>d, TCB_DUPACKS);
    if ((f & TF_RECOVERY) != 0) {
      if ((f & TF_SACK_RECOVERY) == 0) ccDupAckInRecovery(t);
      markDirty(t);
    } else if (d == DUP_THRESH && seqGT(ack, load<u32>(t, TCB_RECOVER))) {
      // RFC 6582 §3.2 step 2: only when the ACK covers more than `recover`.
      enterRecovery(t);
    }
  }
  // RFC 6675 §5: the scoreboard may show SND.UNA's segment lost (IsLost) before
  // DupThresh duplicate ACKs came (the ACKs that carried it changed the window,
  // or carried data).
  f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_RECOVERY) == 0 && sackBoard(t) != 0) {
    if (sackUnaLost(t) && seqGT(ack, load<u32>(t, TCB_RECOVER)) && load<u32>(t, TCB_SND_MAX) != load<u32>(t, TCB_SND_UNA)) enterRecovery(t);
    else sackIdle(t);
  }
  // Window update (§3.10.7.4: SND.WL1 < SEG.SEQ, or = and SND.WL2 =< SEG.ACK).
  const wl1 = load<u32>(t, TCB_SND_WL1);
  if (seqLT(wl1, sSeq) || (wl1 == sSeq && seqLE(load<u32>(t, TCB_SND_WL2), ack))) {
    const old = load<u32>(t, TCB_SND_WND);
    store<u32>(t, wndScaled, TCB_SND_WND);
    store<u32>(t, sSeq, TCB_SND_WL1);
    store<u32>(t, ack, TCB_SND_WL2);
    if (wndScaled > load<u32>(t, TCB_MAX_SND_WND)) store<u32>(t, wndScaled, TCB_MAX_SND_WND);
    if (wndScaled > old) {
      if (load<u8>(t, TCB_TMR_KIND) == TK_PERSIST) {
        clearTimer(t);
        store<u8>(t, 0, TCB_RETRIES);
      }
      markDirty(t);
    }
  }
  return true;
}

// Fast retransmit and recovery: RFC 6675 §5 (4.1)-(4.3) when the scoreboard holds
// SACK information (cwnd = ssthresh, then the pipe rules), else NewReno (RFC 6582).
function enterRecovery(t: usize): void {
  ccEnterRecovery(t);
  bump(C_TCP_FAST_RETRANSMITS);
  if (sackActive(t)) {
    bump(C_TCP_SACK_RECOVERIES);
    store<u32>(t, load<u32>(t, TCB_SSTHRESH), TCB_CWND);
    store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_SACK_RECOVERY, TCB_FLAGS);
    sackRecoveryStart(t);
  }
  retransmitHead(t);
  markDirty(t);
}

function enterTimeWait(t: usize): void {
  store<u8>(t, ST_TIME_WAIT, TCB_STATE);
  appDeadClosed(t);
  freeRecv(t);
  freeSend(t);
  setTimer(t, TK_TIME_WAIT, tcpNow() + twUs); // 2·MSL (RFC 9293 §3.10.7.4)
}

function appDeadClosed(t: usize): void {
  appDead(t, DEAD_CLOSED);
}

// Delivers bytes [ptr, ptr+len) of mbuf m in order: EV_TCP_RECV (once accepted) and the receive queue.
function deliver(t: usize, m: usize, ptr: usize, len: u32): void {
  store<u32>(m, len, MB_USER0);
  store<u32>(m, <u32>ptr, MB_USER1);
  store<u32>(m, 0, MB_LINK);
  const tail = <usize>load<u32>(t, TCB_RQ_TAIL);
  if (tail != 0) store<u32>(tail, <u32>m, MB_LINK);
  else store<u32>(t, <u32>m, TCB_RQ_HEAD);
  store<u32>(t, <u32>m, TCB_RQ_TAIL);
  store<u32>(t, load<u32>(t, TCB_RCV_HELD) + len, TCB_RCV_HELD);
  if ((load<u32>(t, TCB_FLAGS) & TF_ACCEPTED) != 0 && appKnows(t)) appEvent(EV_TCP_RECV, t, <u32>ptr, len);
}

/** Free mbufs kept back from received data for transmission: 1/16 of the pool, 4 to 256. */
@inline function rxReserve(): u32 {
  return min<u32>(256, max<u32>(4, mbufTotal() >> 4));
}

// §3.10.7.4 seventh (text) and eighth (FIN) for ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2.
function dataInput(t: usize): i32 {
  let seq = sSeq;
  let len = sLen;
  let ptr = sData;
  let fin = (sFlags & TCP_FIN) != 0;
  const rcvNxt = load<u32>(t, TCB_RCV_NXT);
  let reason: i32 = -1;
  // Trim what we already have.
  if (seqLT(seq, rcvNxt)) {
    const d = rcvNxt - seq;
    if (d >= len) {
      if (d > len) fin = false; // a FIN before RCV.NXT is old too
      len = 0;
    } else {
      ptr += d;
      len -= d;
    }
    seq = rcvNxt;
  }
  // Trim what lies beyond the window we offered (RFC 9293 §3.10.7.4: "trim ... to the window").
  const adv = load<u32>(t, TCB_RCV_ADV);
  if (seqGT(seq + len, adv)) {
    len = seqGT(adv, seq) ? adv - seq : 0;
    fin = false;
    bump(C_TCP_RCV_NOSPACE);
  }
  if (len == 0 && !fin) {
    ackNow(t);
    return C_TCP_DUP_SEGS;
  }
  // Keeping this segment's mbuf would take the pool below its TX reserve: drop the
  // data unacknowledged (the peer retransmits). Received data held until the app
  // is done with it must never take the last mbufs, or the answers (and the ACKs
  // that release the data) could never be sent: a pool-wide deadlock (issue 10).
  if (len > 0 && mbufFreeCount() < rxReserve()) {
    bump(C_TCP_RCV_NOMBUF);
    return -1;
  }
  if (seq != rcvNxt) {
    // Out of order: queue it and send a duplicate ACK at once, one per segment
    // (RFC 5681 §4.2): the sender counts them for fast retransmit, so these are
    // never coalesced into the batch's ACK.
    const ok = oooInsert(t, sM, seq, ptr, len, fin);
    if (ok) kept = true;
    sendAck(t); // at once, not at the flush
    if (!ok) return C_TCP_OOO_DROPS;
    bump(C_TCP_OOO_SEGS);
    return -1;
  }
  const filled = load<u32>(t, TCB_OOO_HEAD) != 0;
  if (len > 0) {
    deliver(t, sM, ptr, len);
    kept = true;
    store<u32>(t, rcvNxt + len, TCB_RCV_NXT);
  }
  if (filled && oooPull(t)) fin = true;
  if (fin) {
    finReceived(t);
    return reason;
  }
  // ACK policy: at once when a hole filled (RFC 5681 §4.2), else every second
  // segment or after the delayed-ACK time (RFC 9293 §3.8.6.3).
  if (filled || (tcpFlags & TCPF_DELACK) == 0) ackNow(t);
  else {
    const n = <u32>load<u8>(t, TCB_SEGS_UNACKED) + 1;
    store<u8>(t, <u8>min<u32>(n, 255), TCB_SEGS_UNACKED);
    // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an ACK for at least every second
    // full-sized segment, even inside one batch (a batch-wide ACK would stretch
    // ACKs to a whole window and stall the peer's slow start). Smaller segments
    // wait for the flush.
    if (n >= 2 && sLen >= mssOf(t)) sendAck(t); // at once, not at the flush
    else if (n >= 2) ackNow(t);
    else if (load<u64>(t, TCB_DELACK_AT) == 0) {
      store<u64>(t, tcpNow() + delackUs, TCB_DELACK_AT);
      armTimer(t);
    }
  }
  return reason;
}

// The peer's FIN, in order (§3.10.7.4 eighth).
function finReceived(t: usize): void {
  store<u32>(t, load<u32>(t, TCB_RCV_NXT) + 1, TCB_RCV_NXT);
  let f = load<u32>(t, TCB_FLAGS) | TF_FIN_RCVD;
  if ((f & TF_ACCEPTED) != 0 && appKnows(t)) {
    appEvent(EV_TCP_RECV, t, 0, 0); // end of stream
    f |= TF_EOF_TOLD;
  }
  store<u32>(t, f, TCB_FLAGS);
  ackNow(t);
  const st = load<u8>(t, TCB_STATE);
  if (st == ST_ESTABLISHED) store<u8>(t, ST_CLOSE_WAIT, TCB_STATE);
  else if (st == ST_FIN_WAIT_1) store<u8>(t, ST_CLOSING, TCB_STATE); // our FIN is not acknowledged yet
  else if (st == ST_FIN_WAIT_2) enterTimeWait(t);
}

// Moves queued segments that now start at or before RCV.NXT to the app. True if a FIN followed them.
function oooPull(t: usize): bool {
  for (let m = oooNext(t); m != 0; m = oooNext(t)) {
    const rcvNxt = load<u32>(t, TCB_RCV_NXT);
    const s = load<u32>(m, MB_SEQ);
    const e = s + load<u32>(m, MB_USER0);
    const fin = (load<u32>(m, MB_FLAGS) & 1) != 0;
    if (seqGT(e, rcvNxt)) {
      deliver(t, m, <usize>load<u32>(m, MB_USER1) + (rcvNxt - s), e - rcvNxt);
      store<u32>(t, e, TCB_RCV_NXT);
    } else mbufFree(m);
    if (fin && seqGE(load<u32>(t, TCB_RCV_NXT), e)) return true;
  }
  return false;
}
