// echo's logic (app.ts registers it; the containment tests' faulty modules reuse it).
import {
  CMD_ABORT, CMD_ACCEPT, CMD_CLOSE, CMD_RECV_DONE, CMD_REJECT, CMD_SENDV, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET,
  DESC_SIZE, EV_TCP_DEAD, EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_UDP_RECV, D_A, D_C, cmdPush,
  udpReply,
} from "../../sdk";
import { outqBytes, outqFlush, outqInit, outqLen, outqPut, outqResult, outqSent } from "../../sdk/outq";
import { argU32 } from "../../sdk/args";

const QCAP: u32 = 72 << 10;
// record: 0 handle, 4 state (0 free, 1 open, 2 peer closed, 3 close sent), 8 next free, 16 queue
const R_Q: usize = 16;
const REC: usize = R_Q + outqBytes(QCAP);
const ST_FREE: u32 = 0;
const ST_OPEN: u32 = 1;
const ST_PEER_CLOSED: u32 = 2;
const ST_CLOSE_SENT: u32 = 3;
const TOUCH_MAX: u32 = 4096;

let conns: u32 = 0;
let base: usize = 0;
let freeHead: u32 = 0xffffffff;
const touched = memory.data(<i32>(TOUCH_MAX * 4), 8);
let nTouched: u32 = 0;

@inline function rec(i: u32): usize {
  return base + <usize>i * REC;
}

export function echoInit(args: usize, len: u32): i32 {
  conns = argU32(args, len, "conns", 256);
  if (conns == 0) return -1;
  base = heap.alloc(<usize>conns * REC);
  freeHead = 0xffffffff;
  for (let i = conns; i > 0; i--) {
    const r = rec(i - 1);
    store<u32>(r, ST_FREE, 4);
    store<u32>(r, freeHead, 8);
    freeHead = i - 1;
  }
  return 0;
}

function release(i: u32): void {
  const r = rec(i);
  store<u32>(r, ST_FREE, 4);
  store<u32>(r, freeHead, 8);
  freeHead = i;
}

@inline function live(i: u32): bool {
  return i < conns && load<u32>(rec(i), 4) != ST_FREE;
}

function touch(i: u32): void {
  if (nTouched >= TOUCH_MAX) return;
  store<u32>(touched + (<usize>nTouched << 2), i);
  nTouched++;
}

export function echoRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  nTouched = 0;
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const i = load<u32>(d, D_COOKIE);
    if (!live(i)) continue;
    const kind = load<u16>(d, D_KIND);
    const r = rec(i);
    if (kind == CMD_SENDV) {
      const q = r + R_Q;
      const before = outqLen(q);
      if (!outqResult(q, load<i32>(d, D_RET))) {
        cmdPush(CMD_ABORT, load<u32>(r), i, 0, 0, 0, 0);
        release(i);
        continue;
      }
      const took = before - outqLen(q);
      if (took != 0) cmdPush(CMD_RECV_DONE, load<u32>(r), i, took, 0, 0, 0);
      touch(i);
    } else if (kind == CMD_ACCEPT && load<i32>(d, D_RET) < 0) release(i);
  }
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const i = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!live(i)) continue;
      const r = rec(i);
      const len = load<u32>(e, D_B);
      if (len == 0) store<u32>(r, ST_PEER_CLOSED, 4);
      else if (!outqPut(r + R_Q, <usize>load<u32>(e, D_A), len)) {
        cmdPush(CMD_ABORT, load<u32>(r), i, 0, 0, 0, 0); // more than the window: a peer we cannot follow
        release(i);
        continue;
      }
      touch(i);
    } else if (kind == EV_TCP_SENT) {
      if (!live(i)) continue;
      outqSent(rec(i) + R_Q);
      touch(i);
    } else if (kind == EV_TCP_KNOCK) {
      const h = load<u32>(e, D_HANDLE);
      if (freeHead == 0xffffffff) {
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const n = freeHead;
      const r = rec(n);
      freeHead = load<u32>(r, 8);
      store<u32>(r, h);
      store<u32>(r, ST_OPEN, 4);
      outqInit(r + R_Q, QCAP);
      cmdPush(CMD_ACCEPT, h, n, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      if (live(i)) release(i);
    } else if (kind == EV_UDP_RECV) {
      udpReply(<usize>load<u32>(e, D_A), load<u32>(e, D_B), <usize>load<u32>(e, D_C));
    }
  }
  for (let k: u32 = 0; k < nTouched; k++) {
    const i = load<u32>(touched + (<usize>k << 2));
    if (!live(i)) continue;
    const r = rec(i);
    const q = r + R_Q;
    outqFlush(q, load<u32>(r), i);
    if (load<u32>(r, 4) == ST_PEER_CLOSED && outqLen(q) == 0) {
      store<u32>(r, ST_CLOSE_SENT, 4);
      cmdPush(CMD_CLOSE, load<u32>(r), i, 0, 0, 0, 0);
    }
  }
}

