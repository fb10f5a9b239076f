// The app's TCP commands (api/abi.ts CMD_*), one descriptor at a time, and the
// replay preset table. Every command names its connection by handle; a handle
// that is stale, never valid, or already reported dead gets RET_BADHANDLE.
//
// Semantics beyond abi.ts:
//  - KNOCK comes after the three-way handshake (engine.ts says why). Until
//    ACCEPT, received bytes wait without RECV events; ACCEPT replays them (and
//    the end-of-stream RECV if the FIN came too).
//  - Every handle the app holds ends with exactly one EV_TCP_DEAD: a failed
//    CONNECT too (DEAD_REFUSED on RST, DEAD_TIMEOUT when the SYNs go
//    unanswered); EV_TCP_CONNECTED is only sent with RET_OK. REJECT ends a
//    handle without an event (the app chose it).
//  - CMD_TIMER is served here as well (EV_TIMER from tcpTimers).
import { CFG_IPV4, CFG_IPV6_0, CFG_MAC_HI, CFG_MAC_LO, CFG_WORKER, cfg } from "../../mem/layout";
import { MB_LINK, MB_USER0, MB_USER1, mbufFree } from "../../mem/mbuf";
import { C_TCP_SPAN_EXHAUSTED, C_TCP_TCB_FULL, bump } from "../../mem/counters";
import { flowFind, flowInsert, flowValue } from "../../flow/table";
import { FK_DPORT, FK_DST, FK_FAMILY, FK_SPORT, FK_SRC, flowKeyHash, flowKeySetV4, flowKeySetV6 } from "../../flow/key";
import { retaLookup } from "../../flow/reta";
import { neighResolve } from "../neigh";
import { neighWaitAdd } from "./neigh-wait";
import {
  CMD_ABORT, CMD_ACCEPT, CMD_CLOSE, CMD_CONNECT, CMD_RECV_DONE, CMD_REJECT, CMD_SENDV, CMD_TIMER, D_A, D_B, D_C,
  D_COOKIE, D_FLAGS, D_HANDLE, D_KIND, D_RET, DEAD_ABORTED, DEAD_CLOSED, EV_TCP_RECV, RET_BADHANDLE, RET_INVAL, RET_NOMEM,
  RET_NOROUTE, RET_OK, RET_STATE, RET_AGAIN, SENDV_EOR,
} from "../../api/abi";
import {
  NONE, TCB_ANN_MSS, TCB_COOKIE, TCB_FAMILY, TCB_FLAGS, TCB_FLOW, TCB_HASH, TCB_ISS, TCB_LADDR, TCB_LMAC, TCB_LPORT,
  TCB_MSS, TCB_RADDR, TCB_RCV_HELD, TCB_RCV_WSCALE, TCB_RECOVER, TCB_RMAC, TCB_RPORT, TCB_RQ_HEAD, TCB_RQ_TAIL,
  TCB_SND_MAX, TCB_SND_NXT, TCB_SND_UNA, TCB_SQ_HEAD, TCB_SQ_LEN, TCB_SQ_TAIL, TCB_STATE, TCB_TS_OFF, tcbFromHandle,
  tcbHandle, tcbSlot, tcbAt,
} from "./tcb";
import { SP_FLAGS, SP_LEN, SP_NEXT, SP_PTR, SPF_EOR, spanAlloc, spanAt } from "./span";
import {
  DEFAULT_MSS_V4, DEFAULT_MSS_V6, ST_CLOSED, ST_CLOSE_WAIT, ST_ESTABLISHED, ST_FIN_WAIT_1, ST_FIN_WAIT_2,
  ST_LAST_ACK, ST_SYN_RECEIVED, ST_SYN_SENT, TCPF_SACK, TCPF_TS, TCPF_WS, TF_ACCEPTED, TF_ACK_NOW, TF_APP, TF_APP_GONE,
  TF_EOF_TOLD, TF_FIN_QUEUED, TF_FIN_RCVD, TF_NEED_NEIGH, TF_PASSIVE, TF_PRESET, TF_PRESET_SACK, TF_PRESET_TS,
  TF_PRESET_WS, TF_RECORDS, TF_SACK_OK, TF_SYN_ACKED, TF_TS_OK, TF_WS_OK, TK_PRESET, MAX_WSCALE,
} from "./state";
import { cwndInit, rttInit } from "./congestion";
import {
  annMssCfg, appEvent, markDirty, ourWscale, setTimer, sndBuf, tcbDestroy, tcbNew, tcpFlags, tcpNow, twUs,
} from "./engine";
import { sendRst, windowUpdateWorth } from "./output";
import { isnFor, tsOffsetFor } from "./isn";
import { timerSetApp } from "../timer";

/** Runs the command descriptor at desc and writes its result to D_RET. */
export function tcpCommand(desc: usize): void {
  const kind = load<u16>(desc, D_KIND);
  let ret: i32 = RET_INVAL;
  if (kind == CMD_SENDV) ret = cmdSendv(desc);
  else if (kind == CMD_RECV_DONE) ret = cmdRecvDone(desc);
  else if (kind == CMD_ACCEPT) ret = cmdAccept(desc);
  else if (kind == CMD_CONNECT) ret = cmdConnect(desc);
  else if (kind == CMD_CLOSE) ret = cmdClose(desc);
  else if (kind == CMD_ABORT) ret = cmdAbort(desc);
  else if (kind == CMD_REJECT) ret = cmdReject(desc);
  else if (kind == CMD_TIMER)
    ret = timerSetApp(load<u32>(desc, D_COOKIE), load<u32>(desc, D_A), <u64>load<u32>(desc, D_B), tcpNow()) ? RET_OK : RET_NOMEM;
  store<i32>(desc, ret, D_RET);
}

/** The live connection an app handle names, or 0. */
function appTcb(desc: usize): usize {
  const t = tcbFromHandle(load<u32>(desc, D_HANDLE));
  if (t == 0) return 0;
  if ((load<u32>(t, TCB_FLAGS) & (TF_APP | TF_APP_GONE)) != TF_APP) return 0;
  return t;
}

@inline function memEnd(): u64 {
  return <u64>memory.size() << 16;
}

function cmdAccept(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  let f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_ACCEPTED) != 0) return RET_STATE;
  f |= TF_ACCEPTED;
  store<u32>(t, load<u32>(desc, D_COOKIE), TCB_COOKIE);
  // Bytes that arrived before ACCEPT: their RECV events now, in order.
  let m = <usize>load<u32>(t, TCB_RQ_HEAD);
  while (m != 0) {
    appEvent(EV_TCP_RECV, t, load<u32>(m, MB_USER1), load<u32>(m, MB_USER0));
    m = <usize>load<u32>(m, MB_LINK);
  }
  if ((f & TF_FIN_RCVD) != 0) {
    appEvent(EV_TCP_RECV, t, 0, 0);
    f |= TF_EOF_TOLD;
  }
  store<u32>(t, f, TCB_FLAGS);
  return RET_OK;
}

function cmdReject(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  if ((load<u32>(t, TCB_FLAGS) & TF_ACCEPTED) != 0) return RET_STATE;
  sendRst(t, load<u32>(t, TCB_SND_MAX), true);
  tcbDestroy(t, -1);
  return RET_OK;
}

// CMD_SENDV: references to the app's bytes go on the send queue, up to CFG_SNDBUF
// queued bytes; adjacent spans merge into one entry, never across a record end.
// SENDV_EOR marks the last span a record end. A record is queued whole or not at
// all (0: offer it again after EV_TCP_SENT), so a full send buffer cannot cut it
// into pieces that leave as segments of their own; only a record larger than the
// whole buffer is taken in parts, and its end is marked with the part that ends it.
function cmdSendv(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  const st = load<u8>(t, TCB_STATE);
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_FIN_QUEUED) != 0 || !(st == ST_ESTABLISHED || st == ST_CLOSE_WAIT || st == ST_SYN_SENT || st == ST_SYN_RECEIVED))
    return RET_STATE;
  const arr = <usize>load<u32>(desc, D_A);
  const n = load<u32>(desc, D_B);
  if (<u64>arr + (<u64>n << 3) > memEnd()) return RET_INVAL;
  let sq = load<u32>(t, TCB_SQ_LEN);
  let budget = sndBuf > sq ? sndBuf - sq : 0;
  const eor = (load<u16>(desc, D_FLAGS) & SENDV_EOR) != 0;
  if (eor) {
    let want: u64 = 0;
    for (let i: u32 = 0; i < n; i++) want += <u64>load<u32>(arr + (<usize>i << 3) + 4);
    if (want > <u64>budget && want <= <u64>sndBuf) return 0;
  }
  let total: u32 = 0;
  let noSpan = false;
  let whole = true; // every offered byte was queued
  for (let i: u32 = 0; i < n; i++) {
    const ptr = load<u32>(arr + (<usize>i << 3));
    const len = load<u32>(arr + (<usize>i << 3) + 4);
    if (<u64>ptr + <u64>len > memEnd() || ptr < 0x10000) {
      if (total == 0) return RET_INVAL; // a span outside memory (or in the control block)
      whole = false;
      break;
    }
    if (len == 0) continue;
    if (budget == 0) {
      whole = false;
      break;
    }
    const take = min<u32>(len, budget);
    const tail = load<u32>(t, TCB_SQ_TAIL);
    if (
      tail != NONE &&
      (load<u32>(spanAt(tail), SP_FLAGS) & SPF_EOR) == 0 &&
      load<u32>(spanAt(tail), SP_PTR) + load<u32>(spanAt(tail), SP_LEN) == ptr
    ) {
      store<u32>(spanAt(tail), load<u32>(spanAt(tail), SP_LEN) + take, SP_LEN);
    } else {
      const s = spanAlloc(ptr, take);
      if (s == NONE) {
        bump(C_TCP_SPAN_EXHAUSTED);
        noSpan = true;
        whole = false;
        break;
      }
      if (tail != NONE) store<u32>(spanAt(tail), s, SP_NEXT);
      else store<u32>(t, s, TCB_SQ_HEAD);
      store<u32>(t, s, TCB_SQ_TAIL);
    }
    total += take;
    budget -= take;
    if (take < len) {
      whole = false;
      break;
    }
  }
  if (total == 0 && noSpan) return RET_NOMEM;
  if (total > 0) {
    store<u32>(t, sq + total, TCB_SQ_LEN);
    if (whole && eor) {
      const tail = spanAt(load<u32>(t, TCB_SQ_TAIL));
      store<u32>(tail, load<u32>(tail, SP_FLAGS) | SPF_EOR, SP_FLAGS);
      store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_RECORDS, TCB_FLAGS);
    }
    markDirty(t);
  }
  return <i32>total;
}

// CMD_RECV_DONE: the app is done with `a` more bytes of what RECV gave it; mbufs
// whose bytes are all done go back to the pool, and the window re-opens.
function cmdRecvDone(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  let n = min<u32>(load<u32>(desc, D_A), load<u32>(t, TCB_RCV_HELD));
  const done = n;
  let m = <usize>load<u32>(t, TCB_RQ_HEAD);
  while (n > 0 && m != 0) {
    const rem = load<u32>(m, MB_USER0);
    if (n >= rem) {
      n -= rem;
      const nx = <usize>load<u32>(m, MB_LINK);
      mbufFree(m);
      m = nx;
    } else {
      store<u32>(m, rem - n, MB_USER0);
      store<u32>(m, load<u32>(m, MB_USER1) + n, MB_USER1);
      n = 0;
    }
  }
  store<u32>(t, <u32>m, TCB_RQ_HEAD);
  if (m == 0) store<u32>(t, 0, TCB_RQ_TAIL);
  store<u32>(t, load<u32>(t, TCB_RCV_HELD) - done, TCB_RCV_HELD);
  const st = load<u8>(t, TCB_STATE);
  if ((st == ST_ESTABLISHED || st == ST_FIN_WAIT_1 || st == ST_FIN_WAIT_2) && windowUpdateWorth(t)) {
    store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_ACK_NOW, TCB_FLAGS);
    markDirty(t);
  }
  return <i32>done;
}

// CMD_CLOSE (RFC 9293 §3.10.4): FIN after the queued data.
function cmdClose(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  const st = load<u8>(t, TCB_STATE);
  const f = load<u32>(t, TCB_FLAGS);
  if ((f & TF_FIN_QUEUED) != 0) return RET_STATE;
  if (st == ST_SYN_SENT) {
    tcbDestroy(t, <i32>DEAD_CLOSED); // nothing was sent on it: delete the TCB
    return RET_OK;
  }
  if (st == ST_SYN_RECEIVED) {
    store<u32>(t, f | TF_FIN_QUEUED, TCB_FLAGS); // FIN-WAIT-1 once our SYN is acknowledged
  } else if (st == ST_ESTABLISHED) {
    store<u32>(t, f | TF_FIN_QUEUED, TCB_FLAGS);
    store<u8>(t, ST_FIN_WAIT_1, TCB_STATE);
  } else if (st == ST_CLOSE_WAIT) {
    store<u32>(t, f | TF_FIN_QUEUED, TCB_FLAGS);
    store<u8>(t, ST_LAST_ACK, TCB_STATE);
  } else return RET_STATE;
  markDirty(t);
  return RET_OK;
}

// CMD_ABORT (RFC 9293 §3.10.5): RST in the synchronized states, then delete.
function cmdAbort(desc: usize): i32 {
  const t = appTcb(desc);
  if (t == 0) return RET_BADHANDLE;
  const st = load<u8>(t, TCB_STATE);
  if (st == ST_SYN_RECEIVED || st == ST_ESTABLISHED || st == ST_FIN_WAIT_1 || st == ST_FIN_WAIT_2 || st == ST_CLOSE_WAIT)
    sendRst(t, load<u32>(t, TCB_SND_MAX), false);
  tcbDestroy(t, <i32>DEAD_ABORTED);
  return RET_OK;
}

// ---- active open ------------------------------------------------------------------------
const ckey = memory.data(40, 16);
const lbuf = memory.data(16, 16); // the local address being chosen
let portCursor: u32 = 0;
const PORT_LO: u32 = 32768;
const PORT_SPAN: u32 = 28232; // 32768..60999, as Linux's ip_local_port_range

// CMD_CONNECT: a = family, b = ptr to the 16-byte remote address, c = remote port.
function cmdConnect(desc: usize): i32 {
  const family = load<u32>(desc, D_A);
  const raddr = <usize>load<u32>(desc, D_B);
  const rport = load<u32>(desc, D_C);
  if ((family != 4 && family != 6) || rport == 0 || rport > 65535 || <u64>raddr + 16 > memEnd()) return RET_INVAL;
  memory.fill(lbuf, 0, 16);
  if (family == 4) {
    if (cfg(CFG_IPV4) == 0) return RET_NOROUTE;
    store<u32>(lbuf, cfg(CFG_IPV4));
  } else {
    let any: u32 = 0;
    for (let i = 0; i < 4; i++) {
      store<u32>(lbuf + (<usize>i << 2), cfg(CFG_IPV6_0 + i));
      any |= cfg(CFG_IPV6_0 + i);
    }
    if (any == 0) return RET_NOROUTE;
  }
  // Local port: the reply tuple (remote -> local) must hash to this worker's RETA entries (IX).
  const worker = cfg(CFG_WORKER);
  let lport: u32 = 0;
  let hash: u32 = 0;
  for (let i: u32 = 0; i < PORT_SPAN; i++) {
    const port = PORT_LO + (portCursor % PORT_SPAN);
    portCursor++;
    if (family == 4) flowKeySetV4(ckey, 6, raddr, lbuf, rport, port);
    else flowKeySetV6(ckey, 6, raddr, lbuf, rport, port);
    const h = flowKeyHash(ckey);
    if (retaLookup(h) != worker) continue;
    if (flowFind(ckey, h) >= 0) continue;
    lport = port;
    hash = h;
    break;
  }
  if (lport == 0) return RET_AGAIN;
  const t = tcbNew(true);
  if (t == 0) {
    bump(C_TCP_TCB_FULL);
    return RET_NOMEM;
  }
  const idx = flowInsert(ckey, hash);
  if (idx < 0) {
    tcbDestroy(t, -1);
    bump(C_TCP_TCB_FULL);
    return RET_NOMEM;
  }
  store<u32>(flowValue(idx), tcbSlot(t));
  store<u32>(t, <u32>idx, TCB_FLOW);
  store<u32>(t, hash, TCB_HASH);
  store<u8>(t, <u8>family, TCB_FAMILY);
  store<u16>(t, <u16>lport, TCB_LPORT);
  store<u16>(t, <u16>rport, TCB_RPORT);
  memory.copy(t + TCB_LADDR, lbuf, 16);
  memory.copy(t + TCB_RADDR, raddr, 16);
  store<u32>(t + TCB_LMAC, cfg(CFG_MAC_LO));
  store<u16>(t + TCB_LMAC + 4, <u16>cfg(CFG_MAC_HI));
  let f = load<u32>(t, TCB_FLAGS) | TF_APP | TF_ACCEPTED;
  if (!neighResolve(family, raddr, t + TCB_RMAC)) f |= TF_NEED_NEIGH;
  // Offer what the config allows; the SYN-ACK decides (input.ts activeOptions).
  if ((tcpFlags & TCPF_WS) != 0) f |= TF_WS_OK;
  if ((tcpFlags & TCPF_TS) != 0) f |= TF_TS_OK;
  if ((tcpFlags & TCPF_SACK) != 0) f |= TF_SACK_OK;
  store<u32>(t, f, TCB_FLAGS);
  if ((f & TF_NEED_NEIGH) != 0) neighWaitAdd(t); // its SYN goes out as soon as the neighbour answers
  store<u8>(t, <u8>ourWscale, TCB_RCV_WSCALE);
  store<u16>(t, <u16>(family == 6 ? annMssCfg - 20 : annMssCfg), TCB_ANN_MSS);
  store<u16>(t, <u16>(family == 6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4), TCB_MSS);
  const iss = isnFor(ckey, tcpNow());
  store<u32>(t, iss, TCB_ISS);
  store<u32>(t, iss, TCB_SND_UNA);
  store<u32>(t, iss, TCB_SND_NXT);
  store<u32>(t, iss, TCB_SND_MAX);
  store<u32>(t, iss, TCB_RECOVER);
  store<u32>(t, tsOffsetFor(ckey), TCB_TS_OFF);
  store<u32>(t, load<u32>(desc, D_COOKIE), TCB_COOKIE);
  rttInit(t);
  cwndInit(t);
  store<u8>(t, ST_SYN_SENT, TCB_STATE);
  markDirty(t); // SYN at the flush
  return <i32>tcbHandle(t);
}

// ---- replay presets (issue 5) -------------------------------------------------------------
// A preset is a TCB in state CLOSED, in the flow table under the key of the
// client's SYN (arrival direction: src = client, dst = server; flow/key.ts
// layout, ports as numbers), waiting for that SYN. So the table is bounded by
// CFG_TCBS like everything else, costs no extra memory, and the SYN's flow lookup
// finds it with no second table. It expires after 2·MSL unused.

/**
 * Presets flow `key` for replay serve mode: when its SYN arrives, the connection
 * answers with ISN `isn`, announces MSS `mss`, window scale `wscale` (0xff =
 * none), SACK-permitted if `sackOk`, timestamps if `tsOk` with TSval `tsVal` in
 * the SYN-ACK (options still need the SYN to offer them). The port needs no
 * listener. Returns RET_OK, RET_STATE if the flow has a live connection,
 * RET_NOMEM if the TCB or flow table is full, RET_INVAL for a bad key.
 */
export function tcpPreset(key: usize, isn: u32, mss: u32, wscale: u32, sackOk: u32, tsOk: u32, tsVal: u32): i32 {
  const fam = load<u8>(key, FK_FAMILY);
  if ((fam != 4 && fam != 6) || <u64>key + 40 > memEnd()) return RET_INVAL;
  const hash = flowKeyHash(key);
  let t: usize = 0;
  const found = flowFind(key, hash);
  if (found >= 0) {
    t = tcbAt(load<u32>(flowValue(found)));
    if (load<u8>(t, TCB_STATE) != ST_CLOSED) return RET_STATE;
  } else {
    t = tcbNew(false);
    if (t == 0) return RET_NOMEM;
    const idx = flowInsert(key, hash);
    if (idx < 0) {
      tcbDestroy(t, -1);
      return RET_NOMEM;
    }
    store<u32>(flowValue(idx), tcbSlot(t));
    store<u32>(t, <u32>idx, TCB_FLOW);
    store<u32>(t, hash, TCB_HASH);
  }
  let f = (load<u32>(t, TCB_FLAGS) & ~(TF_PRESET_WS | TF_PRESET_TS | TF_PRESET_SACK)) | TF_PRESET;
  if (wscale <= MAX_WSCALE) {
    f |= TF_PRESET_WS;
    store<u8>(t, <u8>wscale, TCB_RCV_WSCALE);
  } else store<u8>(t, 0, TCB_RCV_WSCALE);
  if (tsOk != 0) f |= TF_PRESET_TS;
  if (sackOk != 0) f |= TF_PRESET_SACK;
  store<u32>(t, f, TCB_FLAGS);
  store<u32>(t, isn, TCB_ISS);
  store<u16>(t, <u16>(mss == 0 ? annMssCfg : min<u32>(mss, 65535)), TCB_ANN_MSS);
  store<u32>(t, tsVal, TCB_TS_OFF); // turned into an offset when the SYN arrives
  setTimer(t, TK_PRESET, tcpNow() + twUs);
  return RET_OK;
}


/** CMD_TIMER alone (for the loop's timer-command step): EV_TIMER(cookie, a) after b µs. */
export function timerCommand(desc: usize): void {
  const ok = timerSetApp(load<u32>(desc, D_COOKIE), load<u32>(desc, D_A), <u64>load<u32>(desc, D_B), tcpNow());
  store<i32>(desc, ok ? RET_OK : RET_NOMEM, D_RET);
}
