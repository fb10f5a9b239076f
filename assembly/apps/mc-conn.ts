// memcached connections: per-connection state in R_APP, the input path (received
// spans queued until copied out, then RECV_DONE) and the output path (a text ring
// plus spans pointing into items; nothing changes until EV_TCP_SENT acknowledges it).
//
// Connection record (CONN_BYTES):
//   0 handle, 4 state, 8 proto, 12 rstate, 16 item being filled, 20 bytes filled,
//   24 bytes to fill, 28 bytes to swallow, 32 input line length, 36 get resume offset,
//   40 store op, 44 noreply, 48 request cas u64, 56 binary opaque, 60 binary opcode,
//   64 recv queue head, 68 tail, 72 bytes consumed of the head span, 76 consumed this
//   iteration (for RECV_DONE), 80 out queue head, 84 tail, 88 send index, 92 send
//   offset, 96 ack offset, 100 bytes offered to the pending SENDV, 104 blocked by
//   flow control, 108 dirty, 112 text head, 116 text tail, 120 text bytes
//   outstanding, 124 next free slot, 128 wrap end, 132 wrapped, 136 binary key
//   length, 140 binary extras length, 144 binary body length, 148 long-get cut,
//   then the SENDV span array, the receive queue, the output queue, the input
//   buffer and the text ring.
import { SPAN_SIZE } from "../api/abi";
import { itemRef, itemUnref } from "./store";

export const C_HANDLE: usize = 0;
export const C_STATE: usize = 4;
export const C_PROTO: usize = 8;
export const C_RSTATE: usize = 12;
export const C_ITEM: usize = 16;
export const C_DOFF: usize = 20;
export const C_DLEN: usize = 24;
export const C_SWALLOW: usize = 28;
export const C_INLEN: usize = 32;
export const C_RESUME: usize = 36;
export const C_OP: usize = 40;
export const C_NOREPLY: usize = 44;
export const C_REQCAS: usize = 48;
export const C_OPAQUE: usize = 56;
export const C_OPCODE: usize = 60;
const C_RQH: usize = 64;
const C_RQT: usize = 68;
const C_ROFF: usize = 72;
export const C_CONSUMED: usize = 76;
const C_OQH: usize = 80;
const C_OQT: usize = 84;
const C_SIDX: usize = 88;
const C_SOFF: usize = 92;
const C_AOFF: usize = 96;
export const C_OFFERED: usize = 100;
export const C_BLOCKED: usize = 104;
export const C_DIRTY: usize = 108;
const C_THEAD: usize = 112;
const C_TTAIL: usize = 116;
const C_TOUT: usize = 120;
export const C_NEXT: usize = 124;
const C_WRAPEND: usize = 128;
const C_WRAPPED: usize = 132;
export const C_BKEYLEN: usize = 136;
export const C_BEXTLEN: usize = 140;
export const C_BBODYLEN: usize = 144;
export const C_PARTIAL: usize = 148; // long multi-get: end of the keys answered so far + 1

const IOV: usize = 16;
export const RQ: u32 = 128; // received spans held (power of two)
const OQ: u32 = 128; // output spans (power of two)
const OQ_ENTRY: usize = 12; // ptr, len, item (0 = text)
const C_IOV: usize = 160;
const C_RQ: usize = C_IOV + IOV * SPAN_SIZE;
const C_OQ: usize = C_RQ + <usize>RQ * SPAN_SIZE;
export const C_IN: usize = (C_OQ + <usize>OQ * OQ_ENTRY + 63) & ~63;
export const IN_BYTES: usize = 4096;
const C_TEXT: usize = C_IN + IN_BYTES;
export const TEXT_BYTES: usize = 8192;
export const CONN_BYTES: usize = C_TEXT + TEXT_BYTES;

export const ST_FREE: u32 = 0;
export const ST_OPEN: u32 = 1;
export const ST_CLOSING: u32 = 2; // quit or protocol error: close once output is acknowledged
export const ST_CLOSE_SENT: u32 = 3;
export const ST_PEER_CLOSED: u32 = 4;

// Statistics counted by the connection layer and both protocols.
export let stBytesRead: u64 = 0;
export let stBytesWritten: u64 = 0;
export let stCurrConns: u64 = 0;
export let stTotalConns: u64 = 0;
export let stRejected: u64 = 0;
export function connStatsReset(): void {
  stBytesRead = stBytesWritten = stTotalConns = stRejected = 0;
}
export function connStatsZero(): void {
  connStatsReset();
  stCurrConns = 0;
}
export function statConnOpen(): void {
  stCurrConns++;
  stTotalConns++;
}
export function statConnClose(): void {
  stCurrConns--;
}
export function statRejected(): void {
  stRejected++;
}

// ---- input ---------------------------------------------------------------------
export function rqPush(c: usize, ptr: u32, len: u32): bool {
  const h = load<u32>(c, C_RQH);
  const t = load<u32>(c, C_RQT);
  if (t - h >= RQ) return false;
  const q = c + C_RQ + <usize>(t & (RQ - 1)) * SPAN_SIZE;
  store<u32>(q, ptr);
  store<u32>(q, len, 4);
  store<u32>(c, t + 1, C_RQT);
  stBytesRead += len;
  return true;
}

export function inAvail(c: usize): bool {
  return load<u32>(c, C_RQH) != load<u32>(c, C_RQT);
}

/** The first unconsumed received byte (call only when inAvail). */
export function inPeek(c: usize): u8 {
  const q = c + C_RQ + <usize>(load<u32>(c, C_RQH) & (RQ - 1)) * SPAN_SIZE;
  return load<u8>(<usize>load<u32>(q) + <usize>load<u32>(c, C_ROFF));
}

function consume(c: usize, n: u32): void {
  store<u32>(c, load<u32>(c, C_CONSUMED) + n, C_CONSUMED);
  const h = load<u32>(c, C_RQH);
  const q = c + C_RQ + <usize>(h & (RQ - 1)) * SPAN_SIZE;
  const off = load<u32>(c, C_ROFF) + n;
  if (off >= load<u32>(q, 4)) {
    store<u32>(c, h + 1, C_RQH);
    store<u32>(c, 0, C_ROFF);
  } else store<u32>(c, off, C_ROFF);
}

/** Copies up to n received bytes to dst (dst 0: discard); returns the bytes taken. */
export function inTake(c: usize, dst: usize, n: u32): u32 {
  let got: u32 = 0;
  while (got < n && inAvail(c)) {
    const q = c + C_RQ + <usize>(load<u32>(c, C_RQH) & (RQ - 1)) * SPAN_SIZE;
    const off = load<u32>(c, C_ROFF);
    let k = load<u32>(q, 4) - off;
    if (k > n - got) k = n - got;
    if (dst != 0) memory.copy(dst + got, <usize>load<u32>(q) + off, k);
    got += k;
    consume(c, k);
  }
  return got;
}

/**
 * Appends received bytes to the input buffer up to and including the first '\n'.
 * Returns true when the buffer ends with a complete line.
 */
export function inLine(c: usize): bool {
  let len = <usize>load<u32>(c, C_INLEN);
  const buf = c + C_IN;
  while (len < IN_BYTES && inAvail(c)) {
    const q = c + C_RQ + <usize>(load<u32>(c, C_RQH) & (RQ - 1)) * SPAN_SIZE;
    const off = load<u32>(q) + load<u32>(c, C_ROFF);
    let k = <usize>(load<u32>(q, 4) - load<u32>(c, C_ROFF));
    if (k > IN_BYTES - len) k = IN_BYTES - len;
    let j: usize = 0;
    let nl = false;
    while (j < k) {
      const b = load<u8>(<usize>off + j);
      store<u8>(buf + len + j, b);
      j++;
      if (b == 10) {
        nl = true;
        break;
      }
    }
    len += j;
    consume(c, <u32>j);
    if (nl) {
      store<u32>(c, <u32>len, C_INLEN);
      return true;
    }
  }
  store<u32>(c, <u32>len, C_INLEN);
  return false;
}

/** Takes up to `need` bytes more into the input buffer (binary headers and bodies). */
export function inFill(c: usize, need: u32): bool {
  const len = load<u32>(c, C_INLEN);
  if (len >= need) return true;
  const got = inTake(c, c + C_IN + <usize>len, need - len);
  store<u32>(c, len + got, C_INLEN);
  return len + got == need;
}

// ---- output --------------------------------------------------------------------
/** Reserves n contiguous bytes of the text ring; returns the pointer or 0 if full. */
export function outReserve(c: usize, n: usize): usize {
  const base = c + C_TEXT;
  if (load<u32>(c, C_TOUT) == 0) {
    store<u32>(c, 0, C_THEAD);
    store<u32>(c, 0, C_TTAIL);
    store<u32>(c, 0, C_WRAPPED);
  }
  const head = <usize>load<u32>(c, C_THEAD);
  const tail = <usize>load<u32>(c, C_TTAIL);
  if (load<u32>(c, C_WRAPPED) == 0) {
    if (TEXT_BYTES - head >= n) return base + head;
    if (tail > n) {
      store<u32>(c, <u32>head, C_WRAPEND);
      store<u32>(c, 1, C_WRAPPED);
      store<u32>(c, 0, C_THEAD);
      return base;
    }
    return 0;
  }
  if (tail - head > n) return base + head;
  return 0;
}

function oqSpaceFor(c: usize, n: u32): bool {
  return load<u32>(c, C_OQT) - load<u32>(c, C_OQH) + n <= OQ;
}

/** True if the output path can take `text` more bytes and `spans` more spans. */
export function outRoom(c: usize, text: usize, spans: u32): bool {
  if (!oqSpaceFor(c, spans + 1)) return false;
  if (load<u32>(c, C_TOUT) == 0) return true;
  const head = <usize>load<u32>(c, C_THEAD);
  const tail = <usize>load<u32>(c, C_TTAIL);
  if (load<u32>(c, C_WRAPPED) == 0) return TEXT_BYTES - head >= text || tail > text;
  return tail - head > text;
}

/** Queues n bytes written at p (from outReserve) for sending. */
export function outCommit(c: usize, p: usize, n: usize): void {
  if (n == 0) return;
  store<u32>(c, <u32>(p - (c + C_TEXT) + n), C_THEAD);
  store<u32>(c, load<u32>(c, C_TOUT) + <u32>n, C_TOUT);
  const t = load<u32>(c, C_OQT);
  // merge with the last span if it is text, ends here and is not fully offered yet
  if (t != load<u32>(c, C_OQH) && t - 1 >= load<u32>(c, C_SIDX)) {
    const last = c + C_OQ + <usize>((t - 1) & (OQ - 1)) * OQ_ENTRY;
    if (load<u32>(last, 8) == 0 && <usize>(load<u32>(last) + load<u32>(last, 4)) == p) {
      store<u32>(last, load<u32>(last, 4) + <u32>n, 4);
      return;
    }
  }
  pushSpan(c, <u32>p, <u32>n, 0);
}

/** Queues a span of an item's bytes; the item is held (refcount) until acknowledged. */
export function outItem(c: usize, it: usize, p: usize, n: u32): void {
  if (n == 0) return;
  itemRef(it);
  pushSpan(c, <u32>p, n, <u32>it);
}

function pushSpan(c: usize, p: u32, n: u32, it: u32): void {
  const t = load<u32>(c, C_OQT);
  const e = c + C_OQ + <usize>(t & (OQ - 1)) * OQ_ENTRY;
  store<u32>(e, p);
  store<u32>(e, n, 4);
  store<u32>(e, it, 8);
  store<u32>(c, t + 1, C_OQT);
}

export function outPending(c: usize): bool {
  return load<u32>(c, C_OQH) != load<u32>(c, C_OQT);
}
export function outUnsent(c: usize): bool {
  return load<u32>(c, C_SIDX) != load<u32>(c, C_OQT);
}

/** Records that the stack took n more bytes (SENDV result). */
export function outSent(c: usize, n: u32): void {
  let idx = load<u32>(c, C_SIDX);
  let off = load<u32>(c, C_SOFF) + n;
  const t = load<u32>(c, C_OQT);
  while (idx != t) {
    const len = load<u32>(c + C_OQ + <usize>(idx & (OQ - 1)) * OQ_ENTRY, 4);
    if (off < len) break;
    off -= len;
    idx++;
  }
  store<u32>(c, idx, C_SIDX);
  store<u32>(c, off, C_SOFF);
  stBytesWritten += n;
}

/** n bytes acknowledged: releases text and item spans that are fully acknowledged. */
export function outAcked(c: usize, n: u32): void {
  let h = load<u32>(c, C_OQH);
  let off = load<u32>(c, C_AOFF) + n;
  const s = load<u32>(c, C_SIDX);
  while (h != s) {
    const e = c + C_OQ + <usize>(h & (OQ - 1)) * OQ_ENTRY;
    const len = load<u32>(e, 4);
    if (off < len) break;
    off -= len;
    const it = load<u32>(e, 8);
    if (it != 0) itemUnref(<usize>it);
    else textRelease(c, <usize>load<u32>(e), len);
    h++;
  }
  store<u32>(c, h, C_OQH);
  store<u32>(c, off, C_AOFF);
}

function textRelease(c: usize, p: usize, n: u32): void {
  store<u32>(c, load<u32>(c, C_TOUT) - n, C_TOUT);
  let tail = <u32>(p - (c + C_TEXT)) + n;
  if (load<u32>(c, C_WRAPPED) != 0 && tail == load<u32>(c, C_WRAPEND)) {
    tail = 0;
    store<u32>(c, 0, C_WRAPPED);
  }
  store<u32>(c, tail, C_TTAIL);
}

/** Fills the SENDV span array with unsent bytes; returns the span count (total in sendvBytes). */
export let sendvBytes: u32 = 0;
export function outIov(c: usize): usize {
  const iov = c + C_IOV;
  let idx = load<u32>(c, C_SIDX);
  const t = load<u32>(c, C_OQT);
  let off = load<u32>(c, C_SOFF);
  let n: usize = 0;
  sendvBytes = 0;
  while (idx != t && n < IOV) {
    const e = c + C_OQ + <usize>(idx & (OQ - 1)) * OQ_ENTRY;
    const len = load<u32>(e, 4) - off;
    store<u32>(iov + n * SPAN_SIZE, load<u32>(e) + off);
    store<u32>(iov + n * SPAN_SIZE, len, 4);
    sendvBytes += len;
    off = 0;
    idx++;
    n++;
  }
  return n;
}
export function iovPtr(c: usize): usize {
  return c + C_IOV;
}

/** Drops everything queued (connection gone): releases item references. */
export function outDrop(c: usize): void {
  let h = load<u32>(c, C_OQH);
  const t = load<u32>(c, C_OQT);
  while (h != t) {
    const e = c + C_OQ + <usize>(h & (OQ - 1)) * OQ_ENTRY;
    const it = load<u32>(e, 8);
    if (it != 0) itemUnref(<usize>it);
    h++;
  }
}

/** Resets a record for a new connection. */
export function connReset(c: usize, handle: u32): void {
  memory.fill(c, 0, C_IOV);
  store<u32>(c, handle, C_HANDLE);
  store<u32>(c, ST_OPEN, C_STATE);
}
