// The connection side of a server app that answers with the request's own bytes
// (netpipe, sockperf): accepts, keeps one fixed-size record per connection in
// R_APP, feeds every received span to the app's parser, which marks bytes to send
// back or to consume through the zero-copy reply queue (reply-queue.ts), and
// closes once the peer has closed and everything is answered and acknowledged.
// A parser that finds a protocol error makes the connection end with a reset.
//
// One app runs per core, so the state here is module-global, set by the app's
// init (rsInit). Record: 0 handle, 4 state, 8 on the dirty list, 12 next free,
// 16 the app's protocol state (protoBytes), then the reply queue.
import {
  D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE,
  EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD, EV_UDP_RECV,
  CMD_ACCEPT, CMD_REJECT, CMD_SENDV, CMD_CLOSE, CMD_ABORT, RET_AGAIN, cmdPush,
} from "../api/abi";
import { CFG_APP_CONNS, cfg } from "../mem/layout";
import { appBase, appBytes } from "../api/env";
import { RQ_BYTES, rqAcked, rqEcho, rqFlush, rqIdle, rqReset, rqRetry, rqSent } from "./reply-queue";

/** Parses len received bytes at ptr for the connection whose protocol state is at p and reply queue at q; false on a protocol error. */
export type RsParse = (p: usize, q: usize, ptr: usize, len: u32) => bool;
/** Sets up a new connection's protocol state at p. */
export type RsOpen = (p: usize) => void;
/** One EV_UDP_RECV descriptor. */
export type RsUdp = (e: usize) => void;

function noOpen(p: usize): void {}
function noParse(p: usize, q: usize, ptr: usize, len: u32): bool {
  return false;
}
function noUdp(e: usize): void {}

const ST_FREE: u32 = 0;
const ST_OPEN: u32 = 1;
const ST_PEER_CLOSED: u32 = 2;
const ST_CLOSE_SENT: u32 = 3;
const NONE: u32 = 0xffffffff;
const MAX_DIRTY: usize = 4096;

let recBytes: usize = 0;
let protoOff: usize = 16;
let rqOff: usize = 0;
let conns: u32 = 0;
let base: usize = 0;
let freeHead: u32 = NONE;
let onOpen: RsOpen = noOpen;
let onParse: RsParse = noParse;
let onUdp: RsUdp = noUdp;
const dirty = memory.data(<i32>(MAX_DIRTY * 4), 16);
let nDirty: u32 = 0;

let cAccepted: u64 = 0;
let cRejected: u64 = 0;
let cProtoErrors: u64 = 0;
let cQueueFull: u64 = 0;
let cClosed: u64 = 0;
let cSendErrors: u64 = 0;

/** Bytes of one connection record for an app with protoBytes of protocol state. */
export function rsRecordBytes(protoBytes: usize): usize {
  return ((16 + protoBytes + 7) & ~7) + RQ_BYTES;
}

/** Lays the records out in R_APP (after `reserve` bytes the app keeps for itself). Returns 0, or -2 if not even one fits. */
export function rsInit(protoBytes: usize, reserve: usize, open: RsOpen, parse: RsParse, udp: RsUdp): i32 {
  rqOff = (16 + protoBytes + 7) & ~7;
  recBytes = rqOff + RQ_BYTES;
  onOpen = open;
  onParse = parse;
  onUdp = udp;
  const bytes = appBytes();
  if (bytes < reserve + recBytes) return -2;
  base = appBase() + reserve;
  let n = <u32>((bytes - reserve) / recBytes);
  const want = cfg(CFG_APP_CONNS);
  if (want != 0 && want < n) n = want;
  conns = n;
  freeHead = NONE;
  for (let i = n; i > 0; i--) {
    const c = rec(i - 1);
    store<u32>(c, ST_FREE, 4);
    store<u32>(c, freeHead, 12);
    freeHead = i - 1;
  }
  cAccepted = cRejected = cProtoErrors = cQueueFull = cClosed = cSendErrors = 0;
  return 0;
}

@inline function rec(i: u32): usize {
  return base + <usize>i * recBytes;
}

@inline function valid(i: u32): bool {
  return i < conns && load<u32>(rec(i), 4) != ST_FREE;
}

function release(i: u32): void {
  const c = rec(i);
  store<u32>(c, ST_FREE, 4);
  store<u32>(c, freeHead, 12);
  freeHead = i;
}

function markDirty(i: u32): void {
  const c = rec(i);
  if (load<u32>(c, 8) != 0 || nDirty >= <u32>MAX_DIRTY) return;
  store<u32>(c, 1, 8);
  store<u32>(dirty + (<usize>nDirty << 2), i);
  nDirty++;
}

function abort(i: u32): void {
  cmdPush(CMD_ABORT, load<u32>(rec(i)), i, 0, 0, 0, 0);
  release(i);
}

/** For the app's parser: queue bytes to send back, counting a full queue as an error. */
export function rsEcho(q: usize, ptr: usize, len: u32): bool {
  if (rqEcho(q, ptr, len)) return true;
  cQueueFull++;
  return false;
}

export function rsRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  nDirty = 0;
  // 1. results of our previous commands (read before the first cmdPush overwrites them)
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const i = load<u32>(d, D_COOKIE);
    if (kind == CMD_SENDV) {
      if (!valid(i)) continue;
      const ret = load<i32>(d, D_RET);
      const q = rec(i) + rqOff;
      if (ret >= 0) {
        if (rqSent(q, <u32>ret)) markDirty(i);
      } else if (ret == RET_AGAIN) {
        rqRetry(q);
        markDirty(i);
      } else {
        cSendErrors++;
        abort(i);
      }
    } else if (kind == CMD_ACCEPT) {
      if (load<i32>(d, D_RET) < 0 && valid(i)) release(i);
    }
  }
  // 2. this iteration's events
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const i = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!valid(i)) continue;
      const c = rec(i);
      const len = load<u32>(e, D_B);
      if (len == 0) {
        store<u32>(c, ST_PEER_CLOSED, 4);
      } else if (load<u32>(c, 4) == ST_OPEN && !onParse(c + protoOff, c + rqOff, <usize>load<u32>(e, D_A), len)) {
        cProtoErrors++;
        abort(i);
        continue;
      }
      markDirty(i);
    } else if (kind == EV_TCP_SENT) {
      if (!valid(i)) continue;
      rqAcked(rec(i) + rqOff, load<u32>(e, D_A));
      markDirty(i);
    } else if (kind == EV_TCP_KNOCK) {
      const h = load<u32>(e, D_HANDLE);
      if (freeHead == NONE) {
        cRejected++;
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const n = freeHead;
      const c = rec(n);
      freeHead = load<u32>(c, 12);
      store<u32>(c, h);
      store<u32>(c, ST_OPEN, 4);
      store<u32>(c, 0, 8);
      rqReset(c + rqOff);
      onOpen(c + protoOff);
      cAccepted++;
      cmdPush(CMD_ACCEPT, h, n, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      if (valid(i)) {
        cClosed++;
        release(i);
      }
    } else if (kind == EV_UDP_RECV) {
      onUdp(e);
    }
  }
  // 3. give back, send, and close what the peer closed once it is all answered
  for (let k: u32 = 0; k < nDirty; k++) {
    const i = load<u32>(dirty + (<usize>k << 2));
    const c = rec(i);
    store<u32>(c, 0, 8);
    const st = load<u32>(c, 4);
    if (st == ST_FREE) continue;
    const q = c + rqOff;
    rqFlush(q, load<u32>(c), i);
    if (st == ST_PEER_CLOSED && rqIdle(q)) {
      store<u32>(c, ST_CLOSE_SENT, 4);
      cmdPush(CMD_CLOSE, load<u32>(c), i, 0, 0, 0, 0);
    }
  }
}

/** Connection records that fit (the most concurrent connections). */
export function rsConns(): u32 {
  return conns;
}

/** 0 accepted, 1 rejected (no record free), 2 protocol errors, 3 reply queue full, 4 closed, 5 SENDV failures. */
export function rsStat(i: i32): u64 {
  switch (i) {
    case 0: return cAccepted;
    case 1: return cRejected;
    case 2: return cProtoErrors;
    case 3: return cQueueFull;
    case 4: return cClosed;
    case 5: return cSendErrors;
  }
  return 0;
}
