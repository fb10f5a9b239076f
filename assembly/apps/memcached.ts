// memcached: ASCII and binary protocols (protocol-ascii.ts, protocol-binary.ts) over
// the item store (store.ts), with per-connection input/output in R_APP (mc-conn.ts).
//
// R_APP layout: connection records (CFG_APP_CONNS of them, or one per 8 parts of the
// region up to 1024), then the store (hash table, slab pages).
//
// Per iteration: command results (SENDV: how much the stack took), then events
// (knock, received spans, acknowledgements, deaths), then each connection touched
// runs its protocol until it needs input or output room, gives back what it copied
// (RECV_DONE) and offers its output (SENDV).
import {
  D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE,
  EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD,
  CMD_ACCEPT, CMD_REJECT, CMD_SENDV, CMD_RECV_DONE, CMD_CLOSE, CMD_ABORT, RET_AGAIN, cmdPush,
} from "../api/abi";
import { CFG_APP_CONNS, cfg } from "../mem/layout";
import { appBase, appBytes, appNowUs } from "../api/env";
import {
  CONN_BYTES, C_HANDLE, C_STATE, C_PROTO, C_RSTATE, C_ITEM, C_CONSUMED, C_OFFERED, C_BLOCKED, C_DIRTY, C_NEXT,
  ST_FREE, ST_OPEN, ST_CLOSING, ST_CLOSE_SENT, ST_PEER_CLOSED,
  rqPush, inAvail, inPeek, inTake, outSent, outAcked, outIov, iovPtr, sendvBytes, outUnsent, outDrop, connReset,
  statConnOpen, statConnClose, statRejected, connStatsZero,
} from "./mc-conn";
import { storeInit, storeClock, itemRelease, stCurrItems, casId } from "./store";
import { statsReset } from "./mc-stats";
import { asciiStep, R_PROGRESS, R_CLOSE } from "./protocol-ascii";
import { binaryStep } from "./protocol-binary";

const PROTO_NONE: u32 = 0;
const PROTO_ASCII: u32 = 1;
const PROTO_BINARY: u32 = 2;
const STEPS_PER_ITER: i32 = 4096; // commands one connection may run per iteration (fairness)
const MAX_DIRTY: usize = 4096;

let conns: u32 = 0;
let connBase: usize = 0;
let freeHead: u32 = 0xffffffff;
const dirty = memory.data(<i32>(MAX_DIRTY * 4), 16);
let nDirty: u32 = 0;
let cErrors: u64 = 0;

@inline function conn(i: u32): usize {
  return connBase + <usize>i * CONN_BYTES;
}
@inline function live(i: u32): bool {
  return i < conns && load<u32>(conn(i), C_STATE) != ST_FREE;
}

export function mcInit(): i32 {
  const base = appBase();
  const bytes = appBytes();
  let n = cfg(CFG_APP_CONNS);
  if (n == 0) {
    n = <u32>(bytes / 8 / CONN_BYTES);
    if (n > 1024) n = 1024;
    if (n < 1) n = 1;
  }
  const connBytes = <usize>n * CONN_BYTES;
  if (connBytes >= bytes) return -2;
  conns = n;
  connBase = base;
  freeHead = 0xffffffff;
  for (let i = n; i > 0; i--) {
    const c = conn(i - 1);
    store<u32>(c, ST_FREE, C_STATE);
    store<u32>(c, 0, C_DIRTY);
    store<u32>(c, freeHead, C_NEXT);
    freeHead = i - 1;
  }
  const r = storeInit((base + connBytes + 63) & ~63, bytes - connBytes - 64);
  if (r < 0) return r;
  statsReset();
  connStatsZero();
  cErrors = 0;
  return 0;
}

function markDirty(i: u32): void {
  const c = conn(i);
  if (load<u32>(c, C_DIRTY) != 0 || nDirty >= <u32>MAX_DIRTY) return;
  store<u32>(c, 1, C_DIRTY);
  store<u32>(dirty + (<usize>nDirty << 2), i);
  nDirty++;
}

/** The connection is gone (DEAD or aborted): release what it holds, free the slot. */
function connGone(i: u32): void {
  const c = conn(i);
  const it = <usize>load<u32>(c, C_ITEM);
  if (it != 0) itemRelease(it);
  store<u32>(c, 0, C_ITEM);
  outDrop(c);
  store<u32>(c, ST_FREE, C_STATE);
  store<u32>(c, freeHead, C_NEXT);
  freeHead = i;
  statConnClose();
}

export function mcRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  storeClock(appNowUs());
  nDirty = 0;
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const i = load<u32>(d, D_COOKIE);
    const ret = load<i32>(d, D_RET);
    if (!live(i)) continue;
    const c = conn(i);
    if (kind == CMD_SENDV) {
      const offered = load<u32>(c, C_OFFERED);
      store<u32>(c, 0, C_OFFERED);
      if (ret >= 0) {
        outSent(c, <u32>ret);
        if (<u32>ret < offered) store<u32>(c, 1, C_BLOCKED);
        markDirty(i);
      } else if (ret == RET_AGAIN) {
        markDirty(i);
      } else {
        cErrors++;
        cmdPush(CMD_ABORT, load<u32>(c, C_HANDLE), i, 0, 0, 0, 0);
        connGone(i);
      }
    } else if (kind == CMD_ACCEPT && ret < 0) {
      connGone(i);
    }
  }
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const i = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!live(i)) continue;
      const c = conn(i);
      const len = load<u32>(e, D_B);
      if (len == 0) {
        if (load<u32>(c, C_STATE) == ST_OPEN) store<u32>(c, ST_PEER_CLOSED, C_STATE);
      } else if (!rqPush(c, load<u32>(e, D_A), len)) {
        cErrors++; // more segments than tracked: the window should prevent it
        cmdPush(CMD_ABORT, load<u32>(c, C_HANDLE), i, 0, 0, 0, 0);
        connGone(i);
        continue;
      }
      markDirty(i);
    } else if (kind == EV_TCP_SENT) {
      if (!live(i)) continue;
      const c = conn(i);
      outAcked(c, load<u32>(e, D_A));
      store<u32>(c, 0, C_BLOCKED);
      markDirty(i);
    } else if (kind == EV_TCP_KNOCK) {
      const h = load<u32>(e, D_HANDLE);
      if (freeHead == 0xffffffff) {
        statRejected();
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const n = freeHead;
      const c = conn(n);
      freeHead = load<u32>(c, C_NEXT);
      connReset(c, h);
      statConnOpen();
      cmdPush(CMD_ACCEPT, h, n, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      if (live(i)) connGone(i);
    }
  }
  for (let k: u32 = 0; k < nDirty; k++) {
    const i = load<u32>(dirty + (<usize>k << 2));
    const c = conn(i);
    store<u32>(c, 0, C_DIRTY);
    if (load<u32>(c, C_STATE) == ST_FREE) continue;
    serve(i, c);
  }
}

function serve(i: u32, c: usize): void {
  const h = load<u32>(c, C_HANDLE);
  let st = load<u32>(c, C_STATE);
  let idle = false; // the protocol wants more input than has arrived
  if (st == ST_OPEN || st == ST_PEER_CLOSED) {
    for (let s = 0; s < STEPS_PER_ITER; s++) {
      let proto = load<u32>(c, C_PROTO);
      if (proto == PROTO_NONE) {
        if (!inAvail(c)) {
          idle = true;
          break;
        }
        proto = inPeek(c) == 0x80 ? PROTO_BINARY : PROTO_ASCII;
        store<u32>(c, proto, C_PROTO);
      }
      const r = proto == PROTO_ASCII ? asciiStep(c) : binaryStep(c);
      if (r == R_PROGRESS) continue;
      if (r == R_CLOSE) {
        st = ST_CLOSING;
        store<u32>(c, st, C_STATE);
        inTake(c, 0, 0xffffffff); // what follows is not read: give it back
      } else idle = r != 2; // R_NEED (R_STALL waits for acknowledgements)
      break;
    }
  }
  const consumed = load<u32>(c, C_CONSUMED);
  if (consumed != 0) {
    store<u32>(c, 0, C_CONSUMED);
    cmdPush(CMD_RECV_DONE, h, i, consumed, 0, 0, 0);
  }
  if (load<u32>(c, C_OFFERED) == 0 && load<u32>(c, C_BLOCKED) == 0 && outUnsent(c)) {
    const n = outIov(c);
    if (cmdPush(CMD_SENDV, h, i, <u32>iovPtr(c), <u32>n, 0, 0) != 0) store<u32>(c, sendvBytes, C_OFFERED);
    return;
  }
  // close once everything was handed to the stack (its FIN follows the queued data)
  if (load<u32>(c, C_OFFERED) != 0 || outUnsent(c)) return;
  if (st == ST_CLOSING || (st == ST_PEER_CLOSED && idle)) {
    store<u32>(c, ST_CLOSE_SENT, C_STATE);
    cmdPush(CMD_CLOSE, h, i, 0, 0, 0, 0);
  }
}

// ---- for the host and tests ------------------------------------------------------
export function mcConnSlots(): u32 {
  return conns;
}
export function mcConnPtr(i: u32): usize {
  return conn(i);
}
export function mcItems(): u64 {
  return stCurrItems;
}
export function mcCasId(): u64 {
  return casId;
}
export function mcErrors(): u64 {
  return cErrors;
}
export function mcRsState(i: u32): u32 {
  return load<u32>(conn(i), C_RSTATE);
}
