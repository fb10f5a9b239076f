// echo's logic (app.ts registers it; the containment tests' faulty modules reuse it).
import {
  CMD_ABORT, CMD_ACCEPT, CMD_CLOSE, CMD_RECV_DONE, CMD_REJECT, CMD_SENDV, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET,
  DESC_SIZE, EV_TCP_DEAD, EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_UDP_RECV, D_A, D_C, cmdPush,
  udpReply,
} from "../../sdk";
import { outqBytes, outqFlush, outqInit, outqLen, outqPut, outqResult, outqSent } from "../../sdk/outq";
import { argU32 } from "../../sdk/args";
import { SLOT_HDR, SLOT_NONE, slotLive, slotRec, slotRelease, slotsInit, slotTake } from "../../sdk/slots";

const QCAP: u32 = 72 << 10;
// record (sdk/slots.ts): its header (handle, state: free, open, peer closed, close sent), then the queue
const R_Q: usize = (SLOT_HDR + 7) & ~7;
const REC: usize = R_Q + outqBytes(QCAP);
const ST_OPEN: u32 = 1;
const ST_PEER_CLOSED: u32 = 2;
const ST_CLOSE_SENT: u32 = 3;
const TOUCH_MAX: u32 = 4096;

const touched = memory.data(<i32>(TOUCH_MAX * 4), 8);
let nTouched: u32 = 0;

@inline function rec(i: u32): usize {
  return slotRec(i);
}

export function echoInit(args: usize, len: u32): i32 {
  const conns = argU32(args, len, "conns", 256);
  if (conns == 0) return -1;
  slotsInit(conns, REC);
  return 0;
}

@inline function release(i: u32): void {
  slotRelease(i);
}

@inline function live(i: u32): bool {
  return slotLive(i);
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
      const n = slotTake(h, ST_OPEN);
      if (n == SLOT_NONE) {
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const r = rec(n);
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

