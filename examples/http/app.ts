// A small HTTP/1.1 responder as an app module: answers every request on a
// connection (keep-alive, pipelining) with 200 and a fixed body, and closes after
// a request that says "Connection: close" (RFC 9112 §9.6) or when the peer does.
// Options: conns=N (default 256), body=N (bytes of body, default: the greeting).
//
// A request ends at the blank line after its header fields (RFC 9112 §2.1); a
// body (Content-Length) is not read: this responder serves GET and HEAD. Header
// bytes are copied into the connection's 4 KiB input buffer; a header longer
// than that gets 431 and a close (RFC 6585 §5).
import {
  CMD_ABORT, CMD_ACCEPT, CMD_CLOSE, CMD_RECV_DONE, CMD_REJECT, CMD_SENDV, D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET,
  DESC_SIZE, EV_TCP_DEAD, EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, cmdPush, register,
} from "../../sdk";
import { outqBytes, outqFlush, outqInit, outqLen, outqPut, outqResult, outqSent } from "../../sdk/outq";
import { argU32 } from "../../sdk/args";
import { SLOT_FREE, SLOT_HDR, SLOT_NONE, slotCount, slotLive, slotRec, slotRelease, slotsInit, slotTake } from "../../sdk/slots";
export * from "../../sdk/exports";

const IN_CAP: u32 = 4096;
const QCAP: u32 = 16 << 10;
// record (sdk/slots.ts): its header (handle, state), then input bytes, requests, the input, the queue
const R_INLEN: usize = SLOT_HDR;
const R_REQS: usize = SLOT_HDR + 4;
const R_IN: usize = (SLOT_HDR + 8 + 7) & ~7;
const R_Q: usize = R_IN + <usize>IN_CAP;
const REC: usize = R_Q + outqBytes(QCAP);
const ST_FREE: u32 = SLOT_FREE;
const ST_OPEN: u32 = 1;
const ST_CLOSING: u32 = 2; // answer what is queued, then close
const ST_CLOSE_SENT: u32 = 3;

const GREETING = "hello from an ixwasm app module\n";
let resp: usize = 0; // the whole 200 response, built once at init
let respLen: u32 = 0;
let resp431: usize = 0;
let resp431Len: u32 = 0;

@inline function rec(i: u32): usize {
  return slotRec(i);
}

/** Writes s (ASCII) at p; returns the bytes written. */
function ascii(p: usize, s: string): u32 {
  for (let k = 0; k < s.length; k++) store<u8>(p + <usize>k, <u8>s.charCodeAt(k));
  return <u32>s.length;
}

function init(args: usize, len: u32): i32 {
  const conns = argU32(args, len, "conns", 256);
  const bodyLen = argU32(args, len, "body", <u32>GREETING.length);
  if (conns == 0 || bodyLen > QCAP / 2) return -1;
  slotsInit(conns, REC);
  resp = heap.alloc(<usize>bodyLen + 128);
  let n = ascii(resp, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ");
  n += ascii(resp + n, bodyLen.toString()); // once, at init: the stub runtime never frees it
  n += ascii(resp + n, "\r\n\r\n");
  for (let k: u32 = 0; k < bodyLen; k++)
    store<u8>(resp + n + k, bodyLen == <u32>GREETING.length ? <u8>GREETING.charCodeAt(k) : <u8>(0x61 + (k % 26)));
  respLen = n + bodyLen;
  resp431 = heap.alloc(96);
  resp431Len = ascii(resp431, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  return 0;
}

@inline function release(i: u32): void {
  slotRelease(i);
}
@inline function live(i: u32): bool {
  return slotLive(i);
}
@inline function lower(c: u32): u32 {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** The header block [p, p + n) asks to close: a "connection: close" field (names case-insensitive). */
function wantsClose(p: usize, n: u32): bool {
  const key = "\nconnection:";
  for (let i: u32 = 0; i + <u32>key.length < n; i++) {
    let k = 0;
    while (k < key.length && lower(<u32>load<u8>(p + <usize>i + <usize>k)) == <u32>key.charCodeAt(k)) k++;
    if (k < key.length) continue;
    let j = i + <u32>key.length;
    while (j < n && (load<u8>(p + <usize>j) == 0x20 || load<u8>(p + <usize>j) == 0x09)) j++;
    const v = "close";
    let m = 0;
    while (m < v.length && j + <u32>m < n && lower(<u32>load<u8>(p + <usize>(j + m))) == <u32>v.charCodeAt(m)) m++;
    if (m == v.length) return true;
  }
  return false;
}

/** Takes received bytes into the input buffer and answers every complete request. */
function take(i: u32, r: usize, p: usize, len: u32): void {
  const inp = r + R_IN;
  let have = load<u32>(r, R_INLEN);
  let off: u32 = 0;
  while (off < len && load<u32>(r, 4) == ST_OPEN) {
    const n = min<u32>(len - off, IN_CAP - have);
    memory.copy(inp + <usize>have, p + <usize>off, n);
    have += n;
    off += n;
    // answer each request whose header block ends in this buffer
    let start: u32 = 0;
    for (let k: u32 = 3; k < have; k++) {
      if (load<u32>(inp + <usize>(k - 3)) != 0x0a0d0a0d) continue; // "\r\n\r\n"
      const close = wantsClose(inp + <usize>start, k + 1 - start);
      if (!outqPut(r + R_Q, resp, respLen)) return abort(i, r);
      store<u32>(r, load<u32>(r, R_REQS) + 1, R_REQS);
      start = k + 1;
      if (close) {
        store<u32>(r, ST_CLOSING, 4);
        break;
      }
    }
    if (start == 0 && have == IN_CAP) {
      outqPut(r + R_Q, resp431, resp431Len);
      store<u32>(r, ST_CLOSING, 4);
      have = 0;
      break;
    }
    if (start != 0) memory.copy(inp, inp + <usize>start, have - start);
    have -= start;
  }
  store<u32>(r, have, R_INLEN);
  cmdPush(CMD_RECV_DONE, load<u32>(r), i, len, 0, 0, 0); // copied: the window opens at once
}

function abort(i: u32, r: usize): void {
  cmdPush(CMD_ABORT, load<u32>(r), i, 0, 0, 0, 0);
  release(i);
}

function run(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const i = load<u32>(d, D_COOKIE);
    if (!live(i)) continue;
    const kind = load<u16>(d, D_KIND);
    if (kind == CMD_SENDV && !outqResult(rec(i) + R_Q, load<i32>(d, D_RET))) abort(i, rec(i));
    else if (kind == CMD_ACCEPT && load<i32>(d, D_RET) < 0) release(i);
  }
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const i = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!live(i)) continue;
      const r = rec(i);
      const len = load<u32>(e, D_B);
      if (len == 0) {
        if (load<u32>(r, 4) == ST_OPEN) store<u32>(r, ST_CLOSING, 4);
      } else take(i, r, <usize>load<u32>(e, D_A), len);
    } else if (kind == EV_TCP_SENT) {
      if (live(i)) outqSent(rec(i) + R_Q);
    } else if (kind == EV_TCP_KNOCK) {
      const h = load<u32>(e, D_HANDLE);
      const n = slotTake(h, ST_OPEN);
      if (n == SLOT_NONE) {
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const r = rec(n);
      store<u32>(r, 0, R_INLEN);
      store<u32>(r, 0, R_REQS);
      outqInit(r + R_Q, QCAP);
      cmdPush(CMD_ACCEPT, h, n, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      if (live(i)) release(i);
    }
  }
  // offer what is queued; close once a closing connection's answers are all accepted
  for (let i: u32 = 0; i < slotCount(); i++) {
    const r = rec(i);
    const st = load<u32>(r, 4);
    if (st == ST_FREE || st == ST_CLOSE_SENT) continue;
    outqFlush(r + R_Q, load<u32>(r), i);
    if (st == ST_CLOSING && outqLen(r + R_Q) == 0) {
      store<u32>(r, ST_CLOSE_SENT, 4);
      cmdPush(CMD_CLOSE, load<u32>(r), i, 0, 0, 0, 0);
    }
  }
}

register(init, run, 8080, 0);
