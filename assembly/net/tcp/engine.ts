// TCP engine: what every part shares (the clock, configuration, listeners, the
// flush list, the half-open list, TCB lifecycle, timer arming, app events). The
// steps the run-to-completion loop calls are in driver.ts (tcpInit, tcpTimers,
// tcpFlush), tcpInput in input.ts, tcpCommand in commands.ts: this file imports
// none of them, so output.ts can use it without a circle.
//
// Batching, as IX: input and commands only *mark* a connection (flush list);
// tcpFlush at the end of the batch builds its segments, so the ACKs for all the
// segments a batch brought in leave as one ACK per connection.
//
// Half-open bound (issue 10): passive connections in SYN-RECEIVED sit on a FIFO
// list, at most max(16, CFG_TCBS / 2) of them (a burst of legitimate connects, e.g.
// a load generator opening all its connections at once, must fit; a flood can hold at
// most half the table, established connections are never evicted); a new SYN beyond that evicts the
// oldest (silently, counted). Chosen over SYN cookies because replay serve mode
// must answer with the capture's ISN and exact options (MSS, window scale,
// SACK-permitted, timestamps), which a cookie cannot carry; the half-open TCB
// keeps them, and eviction keeps memory bounded. The cost: under a flood faster
// than (bound / RTT) a legitimate handshake can be evicted before its ACK; it
// then retries its SYN. Established connections are never evicted.
import {
  CFG_DELACK_US, CFG_MSS, CFG_MSL_MS, CFG_RCVBUF, CFG_SNDBUF, CFG_TCBS, CFG_TCP_FLAGS, CFG_TCP_FIN_TIMEOUT_MS, CFG_TCP_IDLE_TIMEOUT_S, cfg,
} from "../../mem/layout";
import { mbufDataBytes, mbufFree, MB_LINK } from "../../mem/mbuf";
import { flowDelete } from "../../flow/table";
import { EV_TCP_DEAD, EV_TCP_SENT, D_A, D_B, D_HANDLE, D_KIND, evBase, evLen, evPush } from "../../api/abi";
import {
  NONE, TCB_COOKIE, TCB_DELACK_AT, TCB_DIRTY_PREV, TCB_FLAGS, TCB_FLOW, TCB_HO_NEXT, TCB_HO_PREV, TCB_LAST_SENT_EV,
  TCB_LINK, TCB_OOO_COUNT, TCB_OOO_HEAD, TCB_RCV_HELD, TCB_RQ_HEAD, TCB_RQ_TAIL, TCB_SQ_HEAD, TCB_SQ_HEAD_OFF,
  TCB_SQ_LEN, TCB_SQ_TAIL, TCB_TMR_DEADLINE, TCB_TMR_KIND, TCB_CUR_SPAN, tcbAlloc, tcbAt, tcbHandle,
  tcbRelease, tcbSlot,
} from "./tcb";
import { SP_NEXT, spanAt, spanFree } from "./span";
import { sackRelease } from "./sack";
import {
  timerArm, timerArmed, timerCancel, timerDeadline,
  timerReset,
} from "../timer";
import { FIN_TIMEOUT_MS, IDLE_MAX_S, TF_APP, TF_APP_GONE, TF_DIRTY, TF_HALFOPEN, TK_NONE, MAX_WSCALE } from "./state";
import { C_TCP_HALFOPEN_EVICT, bump } from "../../mem/counters";

// ---- clock --------------------------------------------------------------------
let nowUs: u64 = 0;
@inline export function tcpNow(): u64 {
  return nowUs;
}
export function tcpSetNow(t: u64): void {
  if (t > nowUs) nowUs = t;
}
@inline export function nowMs32(): u32 {
  return <u32>(nowUs / 1000);
}
@inline export function nowS32(): u32 {
  return <u32>(nowUs / 1_000_000);
}

// ---- config read once at init --------------------------------------------------
export let tcpFlags: u32 = 0;
export let rcvBuf: u32 = 65535;
export let sndBuf: u32 = 262144;
export let delackUs: u64 = 40000;
export let twUs: u64 = 60_000_000;
/** FIN-WAIT-2 limit in µs (0 = none): a peer that acknowledged our FIN and never sent its own. */
export let finWait2Us: u64 = 60_000_000;
/** Connections with nothing received for this many seconds are reset (0 = off). */
export let idleLimitS: u32 = 0;
export let annMssCfg: u32 = 1460;
export let ourWscale: u32 = 0;
let halfOpenMax: u32 = 16;

// ---- listeners: one bit per port, plus "every port" (replay serve) ------------------
const listenBits = memory.data(8192, 16);
let listenAll: bool = false;

export function tcpListen(port: u32): void {
  if (port == 0) listenAll = true;
  else if (port < 65536) {
    const b = listenBits + (port >> 3);
    store<u8>(b, <u8>(<u32>load<u8>(b) | (<u32>1 << (port & 7))));
  }
}
export function tcpUnlisten(port: u32): void {
  if (port == 0) listenAll = false;
  else if (port < 65536) {
    const b = listenBits + (port >> 3);
    store<u8>(b, <u8>(<u32>load<u8>(b) & ~(<u32>1 << (port & 7))));
  }
}
@inline export function isListening(port: u32): bool {
  return listenAll || ((<u32>load<u8>(listenBits + (port >> 3)) >> (port & 7)) & 1) != 0;
}

/** Carves the TCB table, span pool and timer wheel from their regions. Call after plan() and mbufPoolInit(). */
/** The engine's part of tcpInit (driver.ts): configuration words, lists, clock. */
export function engineInit(): void {
  tcpFlags = cfg(CFG_TCP_FLAGS);
  rcvBuf = cfg(CFG_RCVBUF);
  if (rcvBuf == 0) rcvBuf = 65535;
  if (rcvBuf > 0x3fffffff) rcvBuf = 0x3fffffff;
  sndBuf = cfg(CFG_SNDBUF);
  if (sndBuf == 0) sndBuf = 262144;
  if (sndBuf > 0x3fffffff) sndBuf = 0x3fffffff;
  delackUs = <u64>cfg(CFG_DELACK_US);
  if (delackUs == 0) delackUs = 40000;
  twUs = <u64>cfg(CFG_MSL_MS) * 2000;
  const fin = cfg(CFG_TCP_FIN_TIMEOUT_MS);
  finWait2Us = fin == 0xffffffff ? 0 : <u64>(fin == 0 ? FIN_TIMEOUT_MS : fin) * 1000;
  idleLimitS = min<u32>(cfg(CFG_TCP_IDLE_TIMEOUT_S), IDLE_MAX_S);
  annMssCfg = cfg(CFG_MSS);
  if (annMssCfg == 0) annMssCfg = 1460;
  // A received frame must fit one mbuf: 1900 with 2 KiB mbufs (Ethernet 14 + IPv6 40 + TCP 60 + slack).
  const annMax = <u32>mbufDataBytes - 148;
  if (annMssCfg > annMax) annMssCfg = annMax;
  if (annMssCfg < 64) annMssCfg = 64;
  ourWscale = 0;
  while (ourWscale < MAX_WSCALE && (rcvBuf >> ourWscale) > 65535) ourWscale++;
  halfOpenMax = max<u32>(16, cfg(CFG_TCBS) >> 1);
  memory.fill(listenBits, 0, 8192);
  listenAll = false;
  dirtyHead = 0;
  dirtyTail = 0;
  hoHead = NONE;
  hoTail = NONE;
  hoCount = 0;
  nowUs = 0;
}

// ---- TCB lifecycle ---------------------------------------------------------------
let hoHead: u32 = NONE; // half-open FIFO (slots), oldest first
let hoTail: u32 = NONE;
let hoCount: u32 = 0;

export function halfOpenCount(): u32 {
  return hoCount;
}
@inline export function halfOpenFull(): bool {
  return hoCount >= halfOpenMax;
}

export function halfOpenAdd(t: usize): void {
  const s = tcbSlot(t);
  store<u32>(t, NONE, TCB_HO_NEXT);
  store<u32>(t, hoTail, TCB_HO_PREV);
  if (hoTail != NONE) store<u32>(tcbAt(hoTail), s, TCB_HO_NEXT);
  else hoHead = s;
  hoTail = s;
  hoCount++;
  store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_HALFOPEN, TCB_FLAGS);
}

export function halfOpenRemove(t: usize): void {
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_HALFOPEN) == 0) return;
  const nx = load<u32>(t, TCB_HO_NEXT);
  const pv = load<u32>(t, TCB_HO_PREV);
  if (pv != NONE) store<u32>(tcbAt(pv), nx, TCB_HO_NEXT);
  else hoHead = nx;
  if (nx != NONE) store<u32>(tcbAt(nx), pv, TCB_HO_PREV);
  else hoTail = pv;
  hoCount--;
  store<u32>(t, f & ~TF_HALFOPEN, TCB_FLAGS);
  store<u32>(t, NONE, TCB_CUR_SPAN); // the send cursor shares these words
}

/** Drops the oldest half-open connection; false if there is none. */
export function halfOpenEvict(): bool {
  if (hoHead == NONE) return false;
  bump(C_TCP_HALFOPEN_EVICT);
  tcbDestroy(tcbAt(hoHead), -1);
  return true;
}

/** A fresh TCB, evicting the oldest half-open one when the table is full; 0 if none can be had. */
export function tcbNew(evict: bool): usize {
  let t = tcbAlloc();
  if (t == 0 && evict && halfOpenEvict()) t = tcbAlloc();
  if (t == 0) return 0;
  timerReset(tcbSlot(t));
  store<u32>(t, NONE, TCB_SQ_HEAD);
  store<u32>(t, NONE, TCB_SQ_TAIL);
  store<u32>(t, NONE, TCB_CUR_SPAN);
  return t;
}

/** Frees the connection and all it holds. reason >= 0: EV_TCP_DEAD for an app that holds the handle. */
export function tcbDestroy(t: usize, reason: i32): void {
  if (reason >= 0) appDead(t, <u32>reason);
  const fi = load<u32>(t, TCB_FLOW);
  if (fi != 0xffffffff) flowDelete(<i32>fi);
  freeRecv(t);
  freeSend(t);
  halfOpenRemove(t);
  dirtyRemove(t);
  timerCancel(tcbSlot(t));
  sackRelease(t);
  tcbRelease(t);
}

/** Returns every received mbuf (held for the app, and out of order). */
export function freeRecv(t: usize): void {
  let m = <usize>load<u32>(t, TCB_RQ_HEAD);
  while (m != 0) {
    const nx = <usize>load<u32>(m, MB_LINK);
    mbufFree(m);
    m = nx;
  }
  m = <usize>load<u32>(t, TCB_OOO_HEAD);
  while (m != 0) {
    const nx = <usize>load<u32>(m, MB_LINK);
    mbufFree(m);
    m = nx;
  }
  store<u32>(t, 0, TCB_RQ_HEAD);
  store<u32>(t, 0, TCB_RQ_TAIL);
  store<u32>(t, 0, TCB_OOO_HEAD);
  store<u8>(t, 0, TCB_OOO_COUNT);
  store<u32>(t, 0, TCB_RCV_HELD);
}

export function freeSend(t: usize): void {
  let s = load<u32>(t, TCB_SQ_HEAD);
  while (s != NONE) {
    const nx = load<u32>(spanAt(s), SP_NEXT);
    spanFree(s);
    s = nx;
  }
  store<u32>(t, NONE, TCB_SQ_HEAD);
  store<u32>(t, NONE, TCB_SQ_TAIL);
  store<u32>(t, 0, TCB_SQ_HEAD_OFF);
  store<u32>(t, 0, TCB_SQ_LEN);
  if ((load<u32>(t, TCB_FLAGS) & TF_HALFOPEN) == 0) store<u32>(t, NONE, TCB_CUR_SPAN);
}

// ---- app events ----------------------------------------------------------------------
@inline export function appKnows(t: usize): bool {
  return (load<u32>(t, TCB_FLAGS) & (TF_APP | TF_APP_GONE)) == TF_APP;
}

export function appEvent(kind: u16, t: usize, a: u32, b: u32): usize {
  return evPush(kind, tcbHandle(t), load<u32>(t, TCB_COOKIE), a, b, 0, 0);
}

/** EV_TCP_DEAD once per handle the app holds; afterwards the handle is refused. */
export function appDead(t: usize, reason: u32): void {
  if (!appKnows(t)) return;
  appEvent(EV_TCP_DEAD, t, reason, 0);
  store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_APP_GONE, TCB_FLAGS);
}

/** EV_TCP_SENT, merged into this connection's SENT event of the same batch if it is still the queue's. */
export function appSent(t: usize, acked: u32): void {
  if (!appKnows(t)) return;
  const room = sndBuf > load<u32>(t, TCB_SQ_LEN) ? sndBuf - load<u32>(t, TCB_SQ_LEN) : 0;
  const p = <usize>load<u32>(t, TCB_LAST_SENT_EV);
  const b = evBase();
  if (p >= b && p < b + (<usize>evLen() << 5) && load<u16>(p, D_KIND) == EV_TCP_SENT && load<u32>(p, D_HANDLE) == tcbHandle(t)) {
    store<u32>(p, load<u32>(p, D_A) + acked, D_A);
    store<u32>(p, room, D_B);
    return;
  }
  store<u32>(t, <u32>appEvent(EV_TCP_SENT, t, acked, room), TCB_LAST_SENT_EV);
}

// ---- flush list (doubly linked through TCB_LINK / TCB_DIRTY_PREV, slot + 1, 0 = end) ----
let dirtyHead: u32 = 0;
let dirtyTail: u32 = 0;

export function markDirty(t: usize): void {
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_DIRTY) != 0) return;
  store<u32>(t, f | TF_DIRTY, TCB_FLAGS);
  const s = tcbSlot(t) + 1;
  store<u32>(t, 0, TCB_LINK);
  store<u32>(t, dirtyTail, TCB_DIRTY_PREV);
  if (dirtyTail != 0) store<u32>(tcbAt(dirtyTail - 1), s, TCB_LINK);
  else dirtyHead = s;
  dirtyTail = s;
}

function dirtyRemove(t: usize): void {
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_DIRTY) == 0) return;
  store<u32>(t, f & ~TF_DIRTY, TCB_FLAGS);
  const nx = load<u32>(t, TCB_LINK);
  const pv = load<u32>(t, TCB_DIRTY_PREV);
  if (pv != 0) store<u32>(tcbAt(pv - 1), nx, TCB_LINK);
  else dirtyHead = nx;
  if (nx != 0) store<u32>(tcbAt(nx - 1), pv, TCB_DIRTY_PREV);
  else dirtyTail = pv;
}

/** The next connection on the flush list, taken off it; 0 when the list is empty. */
export function dirtyPop(): usize {
  if (dirtyHead == 0) return 0;
  const t = tcbAt(dirtyHead - 1);
  dirtyRemove(t);
  return t;
}

// ---- the one timer per TCB ---------------------------------------------------------------
// The TCB holds the kind and deadline of its main timer (RTO, persist, TIME-WAIT,
// preset expiry) and the delayed-ACK deadline; the wheel holds one entry at or
// before the earlier of the two. Deadlines that move later (an RTO restarted by
// every ACK) leave the wheel entry alone: it fires early, finds nothing due and
// re-arms (lazy, so the common case costs no wheel operation).
export function armTimer(t: usize): void {
  let d: u64 = 0xffffffffffffffff;
  if (load<u8>(t, TCB_TMR_KIND) != TK_NONE) d = load<u64>(t, TCB_TMR_DEADLINE);
  const da = load<u64>(t, TCB_DELACK_AT);
  if (da != 0 && da < d) d = da;
  const id = tcbSlot(t);
  if (d == 0xffffffffffffffff) return; // stale entries find nothing and stop
  if (!timerArmed(id) || d < timerDeadline(id)) timerArm(id, d, nowUs);
}

export function setTimer(t: usize, kind: u8, deadline: u64): void {
  store<u8>(t, kind, TCB_TMR_KIND);
  store<u64>(t, deadline, TCB_TMR_DEADLINE);
  armTimer(t);
}

@inline export function clearTimer(t: usize): void {
  store<u8>(t, TK_NONE, TCB_TMR_KIND);
}

/** Exact bytes of one TCB (for reports). */
export function tcpTcbBytes(): u32 {
  return 256;
}

export function tcpSetFlags(f: u32): void {
  tcpFlags = f;
}
