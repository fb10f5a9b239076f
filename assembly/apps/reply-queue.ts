// Zero-copy reply queue for request/response protocols over TCP whose answer is
// (part of) the request itself: netpipe and sockperf. The app's parser walks each
// received span and says, for every byte, either "send back" (rqEcho: the span
// itself goes to SENDV, no copy) or "consume" (rqSkip). Bytes go back to the
// stack (CMD_RECV_DONE, which is in stream order and re-opens the window) only
// once everything before them has been acknowledged by the peer, as echo.ts does
// for a plain echo (IX's zero-copy rule: received bytes stay in their mbuf until
// the reply that points at them is acknowledged).
//
// Consumed bytes take no queue entry: each entry carries the count of consumed
// bytes just before it (released when it reaches the head), and `skipTail`
// counts those after the last entry.
//
// Record (RQ_BYTES), at the address the app gives:
//   0 qHead (oldest entry not fully acknowledged), 4 qTail (next free), 8 sendIdx,
//   12 sendOff (bytes of entry sendIdx already accepted by SENDV), 16 ackOff (bytes
//   of entry qHead acknowledged), 20 offered (bytes of the SENDV awaiting its
//   result), 24 blocked (flow control took less: wait for EV_TCP_SENT),
//   28 skipTail, 32 release (bytes to hand back in this iteration's RECV_DONE),
//   40 SENDV span array (RQ_IOV spans), then RQ_Q entries {ptr, len, skipBefore}.
import { CMD_RECV_DONE, CMD_SENDV, SPAN_SIZE, cmdPush } from "../api/abi";

const RQ_IOV: usize = 16;
const RQ_Q: u32 = 256; // entries (power of two); the receive window bounds what is outstanding
const ENTRY: usize = 12;
const O_IOV: usize = 40;
const O_Q: usize = O_IOV + RQ_IOV * SPAN_SIZE;
export const RQ_BYTES: usize = O_Q + <usize>RQ_Q * ENTRY;

@inline function entry(c: usize, i: u32): usize {
  return c + O_Q + <usize>(i & (RQ_Q - 1)) * ENTRY;
}

export function rqReset(c: usize): void {
  memory.fill(c, 0, O_IOV);
}

/** Queues len received bytes at ptr to be sent back. False when the queue is full (the caller aborts). */
export function rqEcho(c: usize, ptr: usize, len: u32): bool {
  if (len == 0) return true;
  const head = load<u32>(c);
  const tail = load<u32>(c, 4);
  const skip = load<u32>(c, 28);
  if (tail != head && skip == 0 && load<u32>(c, 8) != tail) {
    // Contiguous with the last entry, which SENDV has not fully taken yet: extend it
    // (a segment holding several messages that are all answered becomes one span).
    const last = entry(c, tail - 1);
    if (<usize>load<u32>(last) + <usize>load<u32>(last, 4) == ptr) {
      store<u32>(last, load<u32>(last, 4) + len, 4);
      return true;
    }
  }
  if (tail - head >= RQ_Q) return false;
  const e = entry(c, tail);
  store<u32>(e, <u32>ptr);
  store<u32>(e, len, 4);
  if (tail == head) {
    // Nothing outstanding before it: the consumed bytes in front go back now.
    store<u32>(c, load<u32>(c, 32) + skip, 32);
    store<u32>(e, 0, 8);
  } else {
    store<u32>(e, skip, 8);
  }
  store<u32>(c, 0, 28);
  store<u32>(c, tail + 1, 4);
  return true;
}

/** n received bytes consumed without a reply. */
export function rqSkip(c: usize, n: u32): void {
  if (load<u32>(c) == load<u32>(c, 4)) store<u32>(c, load<u32>(c, 32) + n, 32);
  else store<u32>(c, load<u32>(c, 28) + n, 28);
}

/** The result of our SENDV (ret ≥ 0: bytes accepted). True when more is waiting to be offered. */
export function rqSent(c: usize, ret: u32): bool {
  const offered = load<u32>(c, 20);
  store<u32>(c, 0, 20);
  let idx = load<u32>(c, 8);
  let off = load<u32>(c, 12) + ret;
  const tail = load<u32>(c, 4);
  while (idx != tail) {
    const len = load<u32>(entry(c, idx), 4);
    if (off < len) break;
    off -= len;
    idx++;
  }
  store<u32>(c, idx, 8);
  store<u32>(c, off, 12);
  if (ret < offered) {
    store<u32>(c, 1, 24);
    return false;
  }
  return idx != tail;
}

/** A SENDV that could not run (queue full): offer again next time. */
export function rqRetry(c: usize): void {
  store<u32>(c, 0, 20);
}

/** EV_TCP_SENT: n more of our bytes acknowledged; the window has room again. */
export function rqAcked(c: usize, n: u32): void {
  store<u32>(c, 0, 24);
  let head = load<u32>(c);
  let off = load<u32>(c, 16);
  const send = load<u32>(c, 8);
  const tail = load<u32>(c, 4);
  let rel = load<u32>(c, 32) + n;
  off += n;
  while (head != send) {
    const len = load<u32>(entry(c, head), 4);
    if (off < len) break;
    off -= len;
    head++;
    // the next entry's consumed prefix (or the tail's) may go now
    if (head != tail) {
      const e = entry(c, head);
      rel += load<u32>(e, 8);
      store<u32>(e, 0, 8);
    } else {
      rel += load<u32>(c, 28);
      store<u32>(c, 0, 28);
    }
  }
  store<u32>(c, head, 0);
  store<u32>(c, off, 16);
  store<u32>(c, rel, 32);
}

/** Pushes RECV_DONE for what may go back, then a SENDV of what is queued and not yet offered. */
export function rqFlush(c: usize, handle: u32, cookie: u32): void {
  const rel = load<u32>(c, 32);
  if (rel != 0 && cmdPush(CMD_RECV_DONE, handle, cookie, rel, 0, 0, 0) != 0) store<u32>(c, 0, 32);
  if (load<u32>(c, 20) != 0 || load<u32>(c, 24) != 0) return; // a result is due / window full
  let idx = load<u32>(c, 8);
  const tail = load<u32>(c, 4);
  if (idx == tail) return;
  const iov = c + O_IOV;
  let n: usize = 0;
  let total: u32 = 0;
  let off = load<u32>(c, 12);
  while (idx != tail && n < RQ_IOV) {
    const e = entry(c, idx);
    const len = load<u32>(e, 4) - off;
    store<u32>(iov + n * SPAN_SIZE, load<u32>(e) + off);
    store<u32>(iov + n * SPAN_SIZE, len, 4);
    total += len;
    off = 0;
    idx++;
    n++;
  }
  if (cmdPush(CMD_SENDV, handle, cookie, <u32>iov, <u32>n, 0, 0) != 0) store<u32>(c, total, 20);
}

/** Everything answered and acknowledged, every byte given back: the connection may close. */
export function rqIdle(c: usize): bool {
  return load<u32>(c) == load<u32>(c, 4) && load<u32>(c, 20) == 0 && load<u32>(c, 32) == 0 && load<u32>(c, 28) == 0;
}
