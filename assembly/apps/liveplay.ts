// liveplay: the client side of `ixwasm liveplay`. Per captured TCP flow it opens
// a connection of its own (own ISN, own port) to the live server, then runs the
// flow's turns in order: send request k (the captured client bytes), count the
// response bytes until the captured count is reached (or the turn times out),
// comparing each with the captured byte, then turn k+1; it closes as the
// captured client did. At most H_CONC flows are open at once; the next flow
// starts when one ends.
//
// The host (host/tap/liveplay-feed.ts) writes everything before the first
// poll: a header, the flow records, the turn records and the payload bytes,
// all in R_APP (the whole feed is in memory: captures for liveplay are
// request/response sessions, small next to the stack's own memory). Request
// bytes never change, so SENDV hands them to the stack zero-copy and a turn
// need not wait for their acknowledgement.
//
// Results stay in the same records (per turn: latency, first differing byte;
// per flow: outcome, counts): the host reads them after the run, so the core
// keeps no histogram and crosses to JS not at all.
//
// The capture's end: a flow the host marks open-ended (FF_OPEN_END: no FIN or RST
// from the server in the capture, which stopped or saw the client reset while
// the server could still answer) counts the response bytes after its last
// captured server byte apart (F_BEYOND): they were never recorded, so there is
// nothing to compare them with and no mismatch. In any other flow, bytes beyond
// a turn's captured response are extra and a difference.
//
// Timeouts: app timers cannot be cancelled, so one periodic scan timer (cookie
// SCAN_COOKIE) walks the open flows' deadlines; think-time timers (paced speeds)
// carry a generation so a stale one is ignored.
import {
  D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE, SPAN_SIZE,
  EV_TCP_CONNECTED, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD, EV_TIMER,
  CMD_CONNECT, CMD_SENDV, CMD_RECV_DONE, CMD_CLOSE, CMD_ABORT, CMD_TIMER, RET_OK, RET_AGAIN, cmdPush,
} from "../api/abi";
import { CFG_EVQ_SLOTS, cfg } from "../mem/layout";
import { appBase, appBytes, appNowUs } from "../api/env";
// The header, status, flow and turn records and their codes (abi/table/feeds.ts; the host's
// host/core/liveplay.gen.ts has the same names).
import {
  LP_HDR_BYTES, H_MAGIC, H_FLOWS, H_CONC, H_TIMEOUT_US, H_SCAN_US, H_FLAGS, H_FAMILY, H_PORT, H_FLOWS_OFF,
  H_TURNS_OFF, H_DATA_OFF, H_SLOTS_OFF, H_ADDR, H_SCRATCH_OFF, S_STARTED, S_DONE, S_ACTIVE, S_TURNS, S_MISMATCH,
  S_TIMEOUTS, S_ERRORS, S_BAD, S_TX, S_RX, LP_MAGIC, HF_COMPARE, LP_FLOW_BYTES, F_STATE, F_HANDLE, F_TURN0,
  F_NTURNS, F_CUR, F_SENT, F_RCVD, F_OFFERED, F_BLOCKED, F_CLOSE, F_START_US, F_BITS, F_T0, F_DEADLINE, F_RESULT,
  F_DEAD, F_MISMATCH, F_TIMEOUTS, F_SLOT, F_EXTRA, F_T_CONNECT, F_T_OPEN, F_T_END, F_GEN, F_FLAGS, F_BEYOND,
  FF_OPEN_END, B_EOF, B_THINK, B_BEGUN, B_CLOSE_TIMEOUT, CK_CLIENT_RST, CK_SERVER_FIN, RES_OK, RES_MISMATCH,
  RES_TIMEOUT, RES_REFUSED, RES_CONNECT_TIMEOUT, RES_DIED, RES_SERVER_CLOSED, LP_TURN_BYTES, T_REQ_OFF, T_REQ_LEN,
  T_RESP_OFF, T_RESP_LEN, T_CMP_LEN, T_THINK_US, T_LAT_US, T_MISS, LAT_TIMEOUT, MISS_NONE,
} from "../abi/liveplay.gen";

// Flow states (F_STATE): the app's own.
const FS_PENDING: u32 = 0;
const FS_CONNECTING: u32 = 1;
const FS_OPEN: u32 = 2;
const FS_AWAIT_EOF: u32 = 3; // turns done, waiting for the server to close first (as captured)
const FS_CLOSING: u32 = 4; // CLOSE/ABORT sent, waiting for EV_TCP_DEAD
const FS_DONE: u32 = 5;

const NONE: u32 = 0xffffffff;
const SCAN_COOKIE: u32 = 0xffffffff;

let ready = false;
let nFlows: u32 = 0;
let conc: u32 = 0;
let timeoutUs: u64 = 0;
let scanUs: u32 = 0;
let compare = true;
let family: u32 = 4;
let port: u32 = 0;
let flowBase: usize = 0;
let turnBase: usize = 0;
let dataBase: usize = 0;
let slotBase: usize = 0;
let scratch: usize = 0;
let addr: usize = 0;
let nextFlow: u32 = 0;
let active: u32 = 0;
let done: u32 = 0;
let scanArmed = false;
let t0us: u64 = 0; // the first step's clock: F_START_US counts from here
let freeSlot: u32 = 0; // a free-slot search starts here
let cTurns: u32 = 0;
let cMismatch: u32 = 0;
let cTimeouts: u32 = 0;
let cErrors: u32 = 0;
let cTx: u64 = 0;
let cRx: u64 = 0;
// SENDV span arrays of this step (the stack reads them in this iteration)
const IOV_MAX: u32 = 4096;
const iovs = memory.data(<i32>(SPAN_SIZE * IOV_MAX), 8);
let iovUsed: u32 = 0;

@inline function flowAt(f: u32): usize {
  return flowBase + <usize>f * LP_FLOW_BYTES;
}
@inline function turnAt(r: usize): usize {
  return turnBase + <usize>(load<u32>(r, F_TURN0) + load<u32>(r, F_CUR)) * LP_TURN_BYTES;
}
@inline function bits(r: usize): u32 {
  return load<u32>(r, F_BITS);
}
@inline function setBits(r: usize, b: u32): void {
  store<u32>(r, load<u32>(r, F_BITS) | b, F_BITS);
}
@inline function clearBits(r: usize, b: u32): void {
  store<u32>(r, load<u32>(r, F_BITS) & ~b, F_BITS);
}

export function liveplayInit(): i32 {
  if (appBytes() < LP_HDR_BYTES) return -2;
  memory.fill(appBase(), 0, LP_HDR_BYTES);
  ready = false;
  nextFlow = active = done = freeSlot = 0;
  scanArmed = false;
  cTurns = cMismatch = cTimeouts = cErrors = 0;
  cTx = cRx = 0;
  return 0;
}

/** Reads the header the host wrote; false (S_BAD set if it is inconsistent) until it is there. */
function setup(): bool {
  const b = appBase();
  if (load<u32>(b, H_MAGIC) != LP_MAGIC) return false;
  nFlows = load<u32>(b, H_FLOWS);
  conc = load<u32>(b, H_CONC);
  const end = <u64>appBytes();
  const fo = <u64>load<u32>(b, H_FLOWS_OFF);
  const so = <u64>load<u32>(b, H_SLOTS_OFF);
  const xo = <u64>load<u32>(b, H_SCRATCH_OFF);
  if (conc == 0 || fo + <u64>nFlows * LP_FLOW_BYTES > end || so + <u64>conc * 4 > end ||
      xo + <u64>cfg(CFG_EVQ_SLOTS) * DESC_SIZE > end ||
      <u64>load<u32>(b, H_TURNS_OFF) > end || <u64>load<u32>(b, H_DATA_OFF) > end) {
    store<u32>(b, 1, S_BAD);
    return false;
  }
  timeoutUs = <u64>load<u32>(b, H_TIMEOUT_US);
  scanUs = load<u32>(b, H_SCAN_US);
  if (scanUs == 0) scanUs = 1000;
  compare = (load<u32>(b, H_FLAGS) & HF_COMPARE) != 0;
  family = load<u32>(b, H_FAMILY);
  port = load<u32>(b, H_PORT);
  flowBase = b + <usize>fo;
  turnBase = b + <usize>load<u32>(b, H_TURNS_OFF);
  dataBase = b + <usize>load<u32>(b, H_DATA_OFF);
  slotBase = b + <usize>so;
  scratch = b + <usize>xo;
  addr = b + H_ADDR;
  for (let i: u32 = 0; i < conc; i++) store<u32>(slotBase + (<usize>i << 2), NONE);
  t0us = appNowUs();
  ready = true;
  return true;
}

export function liveplayRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  if (!ready && !setup()) return;
  iovUsed = 0;
  const now = appNowUs();
  // 1. the previous step's command results. Handling one may push a command, which
  //    would overwrite the results not yet read (apps/registry.ts): read them from a copy.
  memory.copy(scratch, prev, <usize>nPrev * DESC_SIZE);
  prev = scratch;
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const f = load<u32>(d, D_COOKIE);
    const ret = load<i32>(d, D_RET);
    if (kind == CMD_TIMER) {
      if (ret < 0) {
        cErrors++;
        if (f == SCAN_COOKIE) scanArmed = false; // re-armed below
        else if (f < nFlows && (bits(flowAt(f)) & B_THINK) != 0) beginTurn(f, flowAt(f), now); // no timer: no pause
      }
      continue;
    }
    if (f >= nFlows) continue;
    const r = flowAt(f);
    if (kind == CMD_CONNECT) {
      if (ret < 0) flowEnd(f, r, RES_REFUSED, now);
      else if (load<u32>(r, F_STATE) == FS_CONNECTING) store<u32>(r, <u32>ret, F_HANDLE);
    } else if (kind == CMD_SENDV) {
      const offered = load<u32>(r, F_OFFERED);
      store<u32>(r, 0, F_OFFERED);
      if (load<u32>(r, F_STATE) != FS_OPEN) continue;
      if (ret >= 0) {
        store<u32>(r, load<u32>(r, F_SENT) + <u32>ret, F_SENT);
        cTx += <u64>ret;
        if (<u32>ret < offered) store<u32>(r, 1, F_BLOCKED);
        else offer(f, r);
        turnCheck(f, r, now);
      } else if (ret == RET_AGAIN) offer(f, r);
      else cErrors++;
    }
  }
  // 2. this step's events
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const f = load<u32>(e, D_COOKIE);
    if (kind == EV_TIMER) {
      if (f == SCAN_COOKIE) {
        scanArmed = false;
        scan(now);
      } else if (f < nFlows) {
        const r = flowAt(f);
        if ((bits(r) & B_THINK) != 0 && load<u32>(e, D_A) == load<u32>(r, F_GEN)) beginTurn(f, r, now);
      }
      continue;
    }
    if (f >= nFlows) continue;
    const r = flowAt(f);
    if (kind == EV_TCP_RECV) {
      const n = load<u32>(e, D_B);
      cmdPush(CMD_RECV_DONE, load<u32>(e, D_HANDLE), f, n, 0, 0, 0);
      if (n == 0) serverClosed(f, r, now);
      else {
        cRx += <u64>n;
        consume(f, r, <usize>load<u32>(e, D_A), n, now);
      }
    } else if (kind == EV_TCP_SENT) {
      store<u32>(r, 0, F_BLOCKED);
      if (load<u32>(r, F_STATE) == FS_OPEN) offer(f, r);
    } else if (kind == EV_TCP_CONNECTED) {
      if (load<u32>(e, D_A) != <u32>RET_OK || load<u32>(r, F_STATE) != FS_CONNECTING) continue; // DEAD follows
      store<u32>(r, load<u32>(e, D_HANDLE), F_HANDLE);
      store<u32>(r, FS_OPEN, F_STATE);
      store<u64>(r, now, F_T_OPEN);
      store<u64>(r, 0, F_DEADLINE);
      startTurn(f, r, now);
    } else if (kind == EV_TCP_DEAD) {
      store<u32>(r, load<u32>(e, D_A) + 1, F_DEAD);
      const st = load<u32>(r, F_STATE);
      if (st == FS_DONE) continue;
      if (st == FS_CONNECTING) flowEnd(f, r, RES_REFUSED, now);
      else if (load<u32>(r, F_CUR) < load<u32>(r, F_NTURNS)) flowEnd(f, r, RES_DIED, now);
      else flowEnd(f, r, 0, now);
    }
  }
  // 3. new flows while there is room (a bounded number per step: the command queue is shared)
  openFlows(now);
  if (!scanArmed && done < nFlows && cmdPush(CMD_TIMER, 0, SCAN_COOKIE, 0, scanUs, 0, 0) != 0) scanArmed = true;
  writeStatus();
}

function openFlows(now: u64): void {
  const budget = cfg(CFG_EVQ_SLOTS) / 4;
  let opened: u32 = 0;
  while (nextFlow < nFlows && active < conc && opened < budget) {
    const f = nextFlow;
    const r = flowAt(f);
    if (now < t0us + <u64>load<u32>(r, F_START_US)) break; // flows are in start order: the scan comes back
    if (cmdPush(CMD_CONNECT, 0, f, family, <u32>addr, port, 0) == 0) break;
    store<u32>(r, FS_CONNECTING, F_STATE);
    store<u32>(r, 0, F_CUR);
    store<u64>(r, now, F_T_CONNECT);
    store<u64>(r, timeoutUs != 0 ? now + timeoutUs : 0, F_DEADLINE);
    // a slot for the scan
    while (load<u32>(slotBase + (<usize>freeSlot << 2)) != NONE) freeSlot = (freeSlot + 1) % conc;
    store<u32>(slotBase + (<usize>freeSlot << 2), f);
    store<u32>(r, freeSlot, F_SLOT);
    nextFlow++;
    active++;
    opened++;
  }
}

/** The current turn, after its think time (paced speeds) if it has one; or the close once all are done. */
function startTurn(f: u32, r: usize, now: u64): void {
  if (load<u32>(r, F_CUR) >= load<u32>(r, F_NTURNS)) {
    turnsDone(f, r, now);
    return;
  }
  const think = load<u32>(turnAt(r), T_THINK_US);
  if (think != 0) {
    const gen = load<u32>(r, F_GEN) + 1;
    store<u32>(r, gen, F_GEN);
    setBits(r, B_THINK);
    store<u64>(r, 0, F_DEADLINE);
    if (cmdPush(CMD_TIMER, 0, f, gen, think, 0, 0) != 0) return;
  }
  beginTurn(f, r, now);
}

function beginTurn(f: u32, r: usize, now: u64): void {
  clearBits(r, B_THINK);
  setBits(r, B_BEGUN);
  store<u32>(r, 0, F_SENT);
  store<u32>(r, 0, F_RCVD);
  store<u64>(r, now, F_T0);
  store<u64>(r, timeoutUs != 0 ? now + timeoutUs : 0, F_DEADLINE);
  offer(f, r);
  turnCheck(f, r, now);
}

function offer(f: u32, r: usize): void {
  if ((bits(r) & B_BEGUN) == 0 || load<u32>(r, F_OFFERED) != 0 || load<u32>(r, F_BLOCKED) != 0) return;
  const t = turnAt(r);
  const sent = load<u32>(r, F_SENT);
  const len = load<u32>(t, T_REQ_LEN);
  if (sent >= len || iovUsed >= IOV_MAX) return;
  const sp = iovs + <usize>iovUsed * SPAN_SIZE;
  iovUsed++;
  store<u32>(sp, <u32>(dataBase + <usize>load<u32>(t, T_REQ_OFF) + sent));
  store<u32>(sp, len - sent, 4);
  if (cmdPush(CMD_SENDV, load<u32>(r, F_HANDLE), f, <u32>sp, 1, 0, 0) != 0) store<u32>(r, len - sent, F_OFFERED);
}

/** The turn is complete once its request is all with the stack and its response all in. */
function turnCheck(f: u32, r: usize, now: u64): void {
  if ((bits(r) & B_BEGUN) == 0) return;
  const t = turnAt(r);
  if (load<u32>(r, F_SENT) < load<u32>(t, T_REQ_LEN) || load<u32>(r, F_RCVD) < load<u32>(t, T_RESP_LEN)) return;
  const lat = now - load<u64>(r, F_T0);
  store<u32>(t, lat >= <u64>LAT_TIMEOUT ? LAT_TIMEOUT - 1 : <u32>lat, T_LAT_US);
  cTurns++;
  nextTurn(f, r, now);
}

function nextTurn(f: u32, r: usize, now: u64): void {
  clearBits(r, B_BEGUN);
  store<u32>(r, 0, F_OFFERED);
  store<u32>(r, load<u32>(r, F_CUR) + 1, F_CUR);
  startTurn(f, r, now);
}

/** Marks the current turn's response different at offset off (once per turn). */
function miss(r: usize, t: usize, off: u32): void {
  if (load<u32>(t, T_MISS) != MISS_NONE) return;
  store<u32>(t, off, T_MISS);
  store<u32>(r, load<u32>(r, F_MISMATCH) + 1, F_MISMATCH);
  cMismatch++;
}

/** Response bytes: compared with the captured ones of the current turn; any beyond it are extra. */
function consume(f: u32, r: usize, p: usize, n: u32, now: u64): void {
  const st = load<u32>(r, F_STATE);
  const cur = load<u32>(r, F_CUR);
  if (st != FS_OPEN || (bits(r) & B_BEGUN) == 0) {
    // Nothing awaited: the previous turn's response was longer than captured.
    extra(r, cur, n);
    return;
  }
  const t = turnAt(r);
  const rcvd = load<u32>(r, F_RCVD);
  const want = load<u32>(t, T_RESP_LEN) - rcvd;
  const take = n < want ? n : want;
  if (compare) {
    const cmp = load<u32>(t, T_CMP_LEN);
    const exp = dataBase + <usize>load<u32>(t, T_RESP_OFF);
    const stop = rcvd + take < cmp ? rcvd + take : cmp;
    for (let o = rcvd; o < stop; o++)
      if (load<u8>(p + <usize>(o - rcvd)) != load<u8>(exp + <usize>o)) {
        miss(r, t, o);
        break;
      }
  }
  store<u32>(r, rcvd + take, F_RCVD);
  if (take < n) {
    // More than this turn's captured response in one piece: after the capture's
    // end if this is an open-ended flow's last turn, else extra bytes of this turn.
    if (beyond(r, cur + 1)) store<u32>(r, load<u32>(r, F_BEYOND) + (n - take), F_BEYOND);
    else {
      if (compare) miss(r, t, load<u32>(t, T_RESP_LEN));
      store<u32>(r, load<u32>(r, F_EXTRA) + (n - take), F_EXTRA);
    }
  }
  turnCheck(f, r, now);
}

/** Bytes that follow turn next-1's response come after the capture's end (see the header). */
@inline function beyond(r: usize, next: u32): bool {
  return (load<u32>(r, F_FLAGS) & FF_OPEN_END) != 0 && next >= load<u32>(r, F_NTURNS);
}

function extra(r: usize, cur: u32, n: u32): void {
  if (beyond(r, cur)) {
    store<u32>(r, load<u32>(r, F_BEYOND) + n, F_BEYOND);
    return;
  }
  store<u32>(r, load<u32>(r, F_EXTRA) + n, F_EXTRA);
  if (!compare) return;
  const k = cur > 0 ? cur - 1 : 0;
  if (k >= load<u32>(r, F_NTURNS)) return;
  const t = turnBase + <usize>(load<u32>(r, F_TURN0) + k) * LP_TURN_BYTES;
  miss(r, t, load<u32>(t, T_RESP_LEN));
}

/** Every turn done: close as the captured client did. */
function turnsDone(f: u32, r: usize, now: u64): void {
  const ck = load<u32>(r, F_CLOSE);
  const h = load<u32>(r, F_HANDLE);
  store<u64>(r, timeoutUs != 0 ? now + timeoutUs : 0, F_DEADLINE);
  if (ck == CK_SERVER_FIN && (bits(r) & B_EOF) == 0) {
    store<u32>(r, FS_AWAIT_EOF, F_STATE);
    return;
  }
  store<u32>(r, FS_CLOSING, F_STATE);
  cmdPush(ck == CK_CLIENT_RST ? CMD_ABORT : CMD_CLOSE, h, f, 0, 0, 0, 0);
}

function serverClosed(f: u32, r: usize, now: u64): void {
  setBits(r, B_EOF);
  const st = load<u32>(r, F_STATE);
  if (st == FS_AWAIT_EOF) {
    store<u32>(r, FS_CLOSING, F_STATE);
    cmdPush(CMD_CLOSE, load<u32>(r, F_HANDLE), f, 0, 0, 0, 0);
    return;
  }
  if (st != FS_OPEN) return;
  // Turns left that wait for response bytes can never complete: end the flow here.
  const cur = load<u32>(r, F_CUR);
  if (cur >= load<u32>(r, F_NTURNS)) return;
  const t = turnAt(r);
  if ((bits(r) & B_BEGUN) != 0 && load<u32>(r, F_RCVD) >= load<u32>(t, T_RESP_LEN)) return; // its request is still going out
  store<u32>(r, RES_SERVER_CLOSED, F_RESULT);
  store<u32>(r, FS_CLOSING, F_STATE);
  store<u64>(r, timeoutUs != 0 ? now + timeoutUs : 0, F_DEADLINE);
  cmdPush(CMD_CLOSE, load<u32>(r, F_HANDLE), f, 0, 0, 0, 0);
}

/** Periodic: deadlines of the open flows, and flows whose start time has come. */
function scan(now: u64): void {
  for (let i: u32 = 0; i < conc; i++) {
    const f = load<u32>(slotBase + (<usize>i << 2));
    if (f == NONE) continue;
    const r = flowAt(f);
    const dl = load<u64>(r, F_DEADLINE);
    if (dl == 0 || now < dl) continue;
    const st = load<u32>(r, F_STATE);
    if (st == FS_CONNECTING) {
      store<u32>(r, RES_CONNECT_TIMEOUT, F_RESULT);
      store<u64>(r, 0, F_DEADLINE);
      cmdPush(CMD_ABORT, load<u32>(r, F_HANDLE), f, 0, 0, 0, 0);
      store<u32>(r, FS_CLOSING, F_STATE);
    } else if (st == FS_OPEN && (bits(r) & B_BEGUN) != 0) {
      // The response did not come in full: record it and go on with the next turn.
      const t = turnAt(r);
      store<u32>(t, LAT_TIMEOUT, T_LAT_US);
      store<u32>(r, load<u32>(r, F_TIMEOUTS) + 1, F_TIMEOUTS);
      cTimeouts++;
      nextTurn(f, r, now);
    } else if (st == FS_AWAIT_EOF || st == FS_CLOSING) {
      setBits(r, B_CLOSE_TIMEOUT);
      store<u64>(r, 0, F_DEADLINE);
      store<u32>(r, FS_CLOSING, F_STATE);
      cmdPush(CMD_ABORT, load<u32>(r, F_HANDLE), f, 0, 0, 0, 0);
    }
  }
}

/** The flow is over (its handle is dead, or it never got one): its outcome, its slot back. */
function flowEnd(f: u32, r: usize, res: u32, now: u64): void {
  if (load<u32>(r, F_RESULT) == 0) {
    if (res == 0) {
      if (load<u32>(r, F_TIMEOUTS) != 0) res = RES_TIMEOUT;
      else if (load<u32>(r, F_MISMATCH) != 0) res = RES_MISMATCH;
      else res = RES_OK;
    }
    store<u32>(r, res, F_RESULT);
  }
  store<u32>(r, FS_DONE, F_STATE);
  store<u64>(r, now, F_T_END);
  store<u64>(r, 0, F_DEADLINE);
  store<u32>(slotBase + (<usize>load<u32>(r, F_SLOT) << 2), NONE);
  active--;
  done++;
}

function writeStatus(): void {
  const b = appBase();
  store<u32>(b, nextFlow, S_STARTED);
  store<u32>(b, done, S_DONE);
  store<u32>(b, active, S_ACTIVE);
  store<u32>(b, cTurns, S_TURNS);
  store<u32>(b, cMismatch, S_MISMATCH);
  store<u32>(b, cTimeouts, S_TIMEOUTS);
  store<u32>(b, cErrors, S_ERRORS);
  store<u64>(b, cTx, S_TX);
  store<u64>(b, cRx, S_RX);
}
