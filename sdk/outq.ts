// A buffered send queue for one connection of an app module: bytes the proxy has not
// accepted yet (a SENDV's D_RET may be less than offered) wait here and are offered
// again after EV_TCP_SENT. One SENDV in flight at a time, so results come back in
// order. Record at q (outqBytes(cap)): 0 cap, 4 head, 8 len, 12 inflight, 16 blocked,
// then the ring.
import { send, sendv } from "./index";
import { RET_AGAIN } from "../assembly/abi/api.gen";

const HDR: usize = 24;
const iov = memory.data(16, 8);

export function outqBytes(cap: u32): usize {
  return HDR + <usize>cap;
}
export function outqInit(q: usize, cap: u32): void {
  memory.fill(q, 0, HDR);
  store<u32>(q, cap);
}
/** Bytes waiting (not yet accepted by the proxy). */
export function outqLen(q: usize): u32 {
  return load<u32>(q, 8);
}
/** Room left. */
export function outqRoom(q: usize): u32 {
  return load<u32>(q) - load<u32>(q, 8);
}
/** Appends len bytes; false (nothing appended) when they do not fit. */
export function outqPut(q: usize, ptr: usize, len: u32): bool {
  const cap = load<u32>(q);
  const n = load<u32>(q, 8);
  if (len > cap - n) return false;
  let tail = load<u32>(q, 4) + n;
  if (tail >= cap) tail -= cap;
  const first = min<u32>(len, cap - tail);
  memory.copy(q + HDR + <usize>tail, ptr, first);
  if (first < len) memory.copy(q + HDR, ptr + <usize>first, len - first);
  store<u32>(q, n + len, 8);
  return true;
}
/** Offers what waits, unless a SENDV is in flight or the last one was cut short. */
export function outqFlush(q: usize, handle: u32, cookie: u32): void {
  const n = load<u32>(q, 8);
  if (n == 0 || load<u32>(q, 12) != 0 || load<u32>(q, 16) != 0) return;
  const cap = load<u32>(q);
  const head = load<u32>(q, 4);
  const first = min<u32>(n, cap - head);
  let c: usize;
  if (first == n) c = send(handle, cookie, q + HDR + <usize>head, n);
  else {
    store<u32>(iov, <u32>(q + HDR + <usize>head));
    store<u32>(iov, first, 4);
    store<u32>(iov + 8, <u32>(q + HDR));
    store<u32>(iov + 8, n - first, 4);
    c = sendv(handle, cookie, iov, 2);
  }
  if (c != 0) store<u32>(q, n, 12);
}
/** The result of the SENDV outqFlush issued: bytes accepted (>= 0), or an error (< 0: returns false). */
export function outqResult(q: usize, ret: i32): bool {
  const offered = load<u32>(q, 12);
  store<u32>(q, 0, 12);
  if (ret == RET_AGAIN) return true; // the proxy's queue was full: offered again at the next flush
  if (ret < 0) return false;
  const took = min<u32>(<u32>ret, offered);
  const cap = load<u32>(q);
  let head = load<u32>(q, 4) + took;
  if (head >= cap) head -= cap;
  store<u32>(q, head, 4);
  store<u32>(q, load<u32>(q, 8) - took, 8);
  if (took < offered) store<u32>(q, 1, 16);
  return true;
}
/** After EV_TCP_SENT: the proxy has room again. */
export function outqSent(q: usize): void {
  store<u32>(q, 0, 16);
}
