// Load-generating client engine for `ixwasm pair`: N connections (CFG_APP_CONNS) to
// CFG_APP_PEER_IP4:CFG_APP_PEER_PORT, each running M requests (CFG_APP_MSGS) one at a
// time. Every response byte is compared with the one expected (a deterministic
// pattern per connection and message), and each round trip's latency on the loop
// clock goes into a log-linear histogram in R_APP.
//
// Modes: echo (the request is S = CFG_APP_MSG_BYTES pattern bytes, the answer the
// same bytes) and memcached (per message a set of key "k<conn>-<msg>" with an
// S-byte value, answered "STORED", then a get answered with the value: two round
// trips).
//
// A request's bytes stay unchanged until acknowledged (SENDV is zero-copy): the
// next request is built only after the answer arrived AND the request was acked.
//
// R_APP: histogram (HIST_BUCKETS u64), peer address (16 bytes), then per
// connection: a 64-byte record, the request buffer and the expected-answer buffer.
import {
  D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE, SPAN_SIZE,
  EV_TCP_CONNECTED, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD,
  CMD_CONNECT, CMD_SENDV, CMD_RECV_DONE, CMD_CLOSE, RET_OK, RET_AGAIN, cmdPush, DEAD_CLOSED, DEAD_RESET, DEAD_TIMEOUT,
} from "../api/abi";
import {
  CFG_APP_CONNS, CFG_APP_MSGS, CFG_APP_MSG_BYTES, CFG_APP_PEER_IP4, CFG_APP_PEER_PORT, CFG_EVQ_SLOTS, cfg,
} from "../mem/layout";
import { appBase, appBytes, appNowUs } from "../api/env";
import { fmtU64, put } from "./util";
import { K_SET, K_GET, T_STORED, T_STORED_LEN, T_VALUE, T_VALUE_LEN, T_END, T_END_LEN } from "./mc-text";

export const MODE_ECHO: u32 = 0;
export const MODE_MEMCACHED: u32 = 1;

export const HIST_BUCKETS: u32 = 512;
const REC: usize = 64;
// record fields
const F_HANDLE: usize = 0;
const F_STATE: usize = 4; // 0 not yet connecting, 1 connecting, 2 connected, 3 close sent, 4 dead
const F_SEQ: usize = 8; // requests completed
const F_TXLEN: usize = 12;
const F_SENT: usize = 16; // request bytes the stack took
const F_ACKED: usize = 20; // request bytes acknowledged
const F_RXLEN: usize = 24; // expected answer length
const F_RCVD: usize = 28; // answer bytes received
const F_OFFERED: usize = 32; // bytes of the SENDV awaiting its result
const F_BLOCKED: usize = 36;
const F_BAD: usize = 40; // this answer already counted as an error
const F_T0: usize = 48; // u64 request start, µs

const ST_IDLE: u32 = 0;
const ST_CONNECTING: u32 = 1;
const ST_CONNECTED: u32 = 2;
const ST_CLOSING: u32 = 3;
const ST_DEAD: u32 = 4;

let mode: u32 = MODE_ECHO;
let nConns: u32 = 0;
let nMsgs: u32 = 0;
let msgBytes: u32 = 0;
let bufBytes: usize = 0;
let stride: usize = 0;
let histBase: usize = 0;
let peerAddr: usize = 0;
let connBase: usize = 0;
let nextConnect: u32 = 0;
let finished: u32 = 0;
// SENDV span arrays of this iteration (the stack reads them before the next one)
const iovs = memory.data(<i32>(SPAN_SIZE * 4096), 8);
let iovUsed: u32 = 0;

export let roundTrips: u64 = 0;
export let bytesVerified: u64 = 0;
export let errors: u64 = 0;
export let connectsFailed: u64 = 0;
/** Connections that died (RST, timeout) before their requests were done: also in `errors`. */
export let diedEarly: u64 = 0;
// `errors` by kind (each error is counted in exactly one): connects that failed
// are in connectsFailed (CONNECT refused, or the handshake gave up or was reset);
// connections that died once open, by reason; answers that differed from the
// expected bytes; and anything else (a SENDV error, a connection aborted).
export let connsReset: u64 = 0;
export let connsTimedOut: u64 = 0;
export let responsesDiffered: u64 = 0;
export let otherErrors: u64 = 0;
/** Connections that ended with an orderly close (both FINs acknowledged) after all their requests. */
export let connsClosed: u64 = 0;
// The first difference: connection, request number, offset in the answer, byte
// expected, byte received (u32 each; connection NONE_CONN until one is seen).
const NONE_CONN: u32 = 0xffffffff;
const firstDiff = memory.data(20, 4);
export let latencySumUs: u64 = 0;

@inline function rec(i: u32): usize {
  return connBase + <usize>i * stride;
}
@inline function txBuf(i: u32): usize {
  return rec(i) + REC;
}
@inline function rxBuf(i: u32): usize {
  return rec(i) + REC + bufBytes;
}

/** R_APP bytes for n connections with S-byte messages (histogram, peer, records and buffers). */
export function clientRegionBytes(n: u32, s: u32): usize {
  const buf = (<usize>s + 320 + 63) & ~63;
  return <usize>HIST_BUCKETS * 8 + 64 + <usize>n * (REC + 2 * buf);
}

export function clientInit(m: u32): i32 {
  mode = m;
  nConns = cfg(CFG_APP_CONNS);
  if (nConns == 0) nConns = 1;
  nMsgs = cfg(CFG_APP_MSGS);
  msgBytes = cfg(CFG_APP_MSG_BYTES);
  if (msgBytes == 0) msgBytes = 64;
  bufBytes = (<usize>msgBytes + 320 + 63) & ~63;
  stride = REC + 2 * bufBytes;
  histBase = appBase();
  peerAddr = histBase + <usize>HIST_BUCKETS * 8;
  connBase = peerAddr + 64;
  if (connBase + <usize>nConns * stride > appBase() + appBytes()) return -2;
  memory.fill(histBase, 0, <usize>HIST_BUCKETS * 8 + 64);
  store<u32>(peerAddr, cfg(CFG_APP_PEER_IP4));
  for (let i: u32 = 0; i < nConns; i++) memory.fill(rec(i), 0, REC);
  nextConnect = 0;
  finished = 0;
  roundTrips = bytesVerified = errors = connectsFailed = diedEarly = latencySumUs = 0;
  connsReset = connsTimedOut = responsesDiffered = otherErrors = connsClosed = 0;
  store<u32>(firstDiff, NONE_CONN);
  return 0;
}

/** Histogram bucket of a latency in µs: exact below 16, then 16 steps per power of two. */
export function histBucket(v: u64): u32 {
  if (v < 16) return <u32>v;
  const lg: u32 = 63 - <u32>clz<u64>(v);
  const e: u32 = lg - 3;
  const b: u32 = e * 16 + <u32>((v >> <u64>(e - 1)) & 15);
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}
/** Lowest latency (µs) that falls in bucket b. */
export function histBucketLow(b: u32): u64 {
  if (b < 16) return <u64>b;
  const e = b >> 4;
  return <u64>(16 + (b & 15)) << (e - 1);
}

// Pattern byte j of message seq on connection i: varies with all three.
@inline function pat(i: u32, seq: u32, j: u32): u8 {
  const x = (i * 0x9e3779b1) ^ (seq * 0x85ebca6b) ^ ((j >> 8) * 0xc2b2ae35);
  return <u8>(((x >> 13) ^ (x >> 24) ^ (j * 7)) & 0xff);
}

// pat's position term, (j * 7) & 0xff, for j = 0..15: sixteen pattern bytes per v128 step.
const SEVENS = memory.data<u8>([0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98, 105]);

/** pat(i, seq, j) for j < msgBytes, 16 bytes at a time (the byte loop was ~10 instructions a byte,
 * a tenth of the client's cost per echo round trip). May write up to 15 bytes past msgBytes: the
 * buffers have 320 spare bytes, and what follows the pattern is written after it. */
function fillPattern(p: usize, i: u32, seq: u32): void {
  let j: u32 = 0;
  while (j < msgBytes) {
    // x changes every 256 bytes only.
    const x = (i * 0x9e3779b1) ^ (seq * 0x85ebca6b) ^ ((j >> 8) * 0xc2b2ae35);
    const c = i8x16.splat(<i8>((x >> 13) ^ (x >> 24)));
    let pos = i8x16.add(v128.load(SEVENS), i8x16.splat(<i8>(j * 7)));
    const end = min<u32>(msgBytes, (j + 256) & ~255);
    for (; j < end; j += 16) {
      v128.store(p + j, v128.xor(c, pos));
      pos = i8x16.add(pos, i8x16.splat(112)); // 16 * 7, per lane mod 256
    }
  }
}

/** Builds request seq of connection i (and the answer expected). */
function build(i: u32): void {
  const seq = load<u32>(rec(i), F_SEQ);
  const tx = txBuf(i);
  const rx = rxBuf(i);
  let tl: usize = 0;
  let rl: usize = 0;
  if (mode == MODE_ECHO) {
    fillPattern(tx, i, seq);
    tl = msgBytes;
    rl = msgBytes;
  } else {
    // seq even: set; odd: get of the value set by seq - 1
    const msg = seq >> 1;
    const key = rx + bufBytes - 64; // key text scratch at the end of the answer buffer
    let kl: usize = 0;
    store<u8>(key, 107); // 'k'
    kl = 1 + fmtU64(key + 1, i);
    store<u8>(key + kl++, 45); // '-'
    kl += fmtU64(key + kl, msg);
    if ((seq & 1) == 0) {
      tl = put(tx, K_SET, 3);
      store<u8>(tx + tl++, 32);
      memory.copy(tx + tl, key, kl);
      tl += kl;
      tl += zeros(tx + tl, 2);
      tl += fmtU64(tx + tl, msgBytes);
      tl += crlf(tx + tl);
      fillPattern(tx + tl, i, msg);
      tl += msgBytes;
      tl += crlf(tx + tl);
      rl = put(rx, T_STORED, T_STORED_LEN);
    } else {
      tl = put(tx, K_GET, 3);
      store<u8>(tx + tl++, 32);
      memory.copy(tx + tl, key, kl);
      tl += kl;
      tl += crlf(tx + tl);
      rl = put(rx, T_VALUE, T_VALUE_LEN);
      memory.copy(rx + rl, key, kl);
      rl += kl;
      rl += zeros(rx + rl, 1);
      rl += fmtU64(rx + rl, msgBytes);
      rl += crlf(rx + rl);
      fillPattern(rx + rl, i, msg);
      rl += msgBytes;
      rl += crlf(rx + rl);
      rl += put(rx + rl, T_END, T_END_LEN);
    }
  }
  const r = rec(i);
  store<u32>(r, <u32>tl, F_TXLEN);
  store<u32>(r, <u32>rl, F_RXLEN);
  store<u32>(r, 0, F_SENT);
  store<u32>(r, 0, F_ACKED);
  store<u32>(r, 0, F_RCVD);
  store<u32>(r, 0, F_BAD);
  store<u64>(r, appNowUs(), F_T0);
}

/** Writes " 0" n times and a space (flags and exptime fields of a request). */
function zeros(p: usize, n: usize): usize {
  for (let k: usize = 0; k < n; k++) store<u16>(p + (k << 1), 0x3020); // " 0"
  store<u8>(p + (n << 1), 32);
  return (n << 1) + 1;
}
@inline function crlf(p: usize): usize {
  store<u16>(p, 0x0a0d);
  return 2;
}

/** The answer byte expected at offset o (echo compares with the request itself). */
@inline function expected(i: u32, o: u32): u8 {
  return mode == MODE_ECHO ? load<u8>(txBuf(i) + o) : load<u8>(rxBuf(i) + o);
}

function offer(i: u32): void {
  const r = rec(i);
  if (load<u32>(r, F_OFFERED) != 0 || load<u32>(r, F_BLOCKED) != 0) return;
  const sent = load<u32>(r, F_SENT);
  const len = load<u32>(r, F_TXLEN);
  if (sent >= len || iovUsed >= 4096) return;
  const sp = iovs + <usize>iovUsed * SPAN_SIZE;
  iovUsed++;
  store<u32>(sp, <u32>(txBuf(i) + sent));
  store<u32>(sp, len - sent, 4);
  if (cmdPush(CMD_SENDV, load<u32>(r, F_HANDLE), i, <u32>sp, 1, 0, 0) != 0) store<u32>(r, len - sent, F_OFFERED);
}

function finishConn(i: u32): void {
  const r = rec(i);
  if (load<u32>(r, F_STATE) != ST_CONNECTED) return;
  store<u32>(r, ST_CLOSING, F_STATE);
  cmdPush(CMD_CLOSE, load<u32>(r, F_HANDLE), i, 0, 0, 0, 0);
}

/** The request is complete when answered in full and acknowledged; then the next one. */
function maybeNext(i: u32): void {
  const r = rec(i);
  if (load<u32>(r, F_STATE) != ST_CONNECTED) return;
  if (load<u32>(r, F_RCVD) < load<u32>(r, F_RXLEN) || load<u32>(r, F_ACKED) < load<u32>(r, F_TXLEN)) return;
  const lat = appNowUs() - load<u64>(r, F_T0);
  const b = histBase + (<usize>histBucket(lat) << 3);
  store<u64>(b, load<u64>(b) + 1);
  latencySumUs += lat;
  roundTrips++;
  if (load<u32>(r, F_BAD) == 0) bytesVerified += load<u32>(r, F_RXLEN);
  const seq = load<u32>(r, F_SEQ) + 1;
  store<u32>(r, seq, F_SEQ);
  const total = mode == MODE_ECHO ? nMsgs : nMsgs * 2;
  if (seq >= total) {
    finishConn(i);
    return;
  }
  build(i);
  offer(i);
}

export function clientRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  iovUsed = 0;
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const i = load<u32>(d, D_COOKIE);
    if (i >= nConns) continue;
    const r = rec(i);
    const ret = load<i32>(d, D_RET);
    if (kind == CMD_CONNECT) {
      if (ret < 0) {
        connectsFailed++;
        errors++;
        store<u32>(r, ST_DEAD, F_STATE);
        finished++;
      } else if (load<u32>(r, F_STATE) == ST_CONNECTING) store<u32>(r, <u32>ret, F_HANDLE);
    } else if (kind == CMD_SENDV) {
      const offered = load<u32>(r, F_OFFERED);
      store<u32>(r, 0, F_OFFERED);
      if (ret >= 0) {
        store<u32>(r, load<u32>(r, F_SENT) + <u32>ret, F_SENT);
        if (<u32>ret < offered) store<u32>(r, 1, F_BLOCKED);
      } else if (ret != RET_AGAIN) {
        errors++;
        otherErrors++;
      }
      if (ret == RET_AGAIN) offer(i);
    }
  }
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const i = load<u32>(e, D_COOKIE);
    if (i >= nConns) continue;
    const r = rec(i);
    if (kind == EV_TCP_RECV) {
      const p = <usize>load<u32>(e, D_A);
      const n = load<u32>(e, D_B);
      cmdPush(CMD_RECV_DONE, load<u32>(r, F_HANDLE), i, n, 0, 0, 0);
      if (n == 0) continue; // the peer closed; DEAD follows
      let o = load<u32>(r, F_RCVD);
      const want = load<u32>(r, F_RXLEN);
      // 16 bytes at a time while they match; the byte loop below takes the rest and records a difference.
      let j: u32 = 0;
      if (o + n <= want) {
        const exp = (mode == MODE_ECHO ? txBuf(i) : rxBuf(i)) + <usize>o;
        while (j + 16 <= n && !v128.any_true(v128.xor(v128.load(p + j), v128.load(exp + j)))) j += 16;
        o += j;
      }
      for (; j < n; j++) {
        if (o >= want || load<u8>(p + j) != expected(i, o)) {
          if (load<u32>(r, F_BAD) == 0) {
            errors++;
            responsesDiffered++;
            if (load<u32>(firstDiff) == NONE_CONN) {
              store<u32>(firstDiff, i);
              store<u32>(firstDiff, load<u32>(r, F_SEQ), 4);
              store<u32>(firstDiff, o, 8);
              store<u32>(firstDiff, o < want ? <u32>expected(i, o) : NONE_CONN, 12); // NONE: past the expected end
              store<u32>(firstDiff, <u32>load<u8>(p + j), 16);
            }
          }
          store<u32>(r, 1, F_BAD);
        }
        o++;
      }
      store<u32>(r, o > want ? want : o, F_RCVD);
      maybeNext(i);
    } else if (kind == EV_TCP_SENT) {
      store<u32>(r, load<u32>(r, F_ACKED) + load<u32>(e, D_A), F_ACKED);
      store<u32>(r, 0, F_BLOCKED);
      offer(i);
      maybeNext(i);
    } else if (kind == EV_TCP_CONNECTED) {
      if (load<u32>(e, D_A) != <u32>RET_OK) {
        connectsFailed++;
        errors++;
        store<u32>(r, ST_DEAD, F_STATE);
        finished++;
        continue;
      }
      store<u32>(r, load<u32>(e, D_HANDLE), F_HANDLE);
      store<u32>(r, ST_CONNECTED, F_STATE);
      if (nMsgs == 0) {
        finishConn(i);
        continue;
      }
      build(i);
      offer(i);
    } else if (kind == EV_TCP_DEAD) {
      const st = load<u32>(r, F_STATE);
      if (st == ST_DEAD) continue;
      if (st == ST_CLOSING && load<u32>(e, D_A) == DEAD_CLOSED) connsClosed++;
      if (st == ST_CONNECTING) {
        errors++; // the handshake gave up, or was refused or reset
        connectsFailed++;
      } else if (st != ST_CLOSING) {
        errors++; // died before its requests were done
        diedEarly++;
        const why = load<u32>(e, D_A);
        if (why == DEAD_RESET) connsReset++;
        else if (why == DEAD_TIMEOUT) connsTimedOut++;
        else otherErrors++;
      }
      store<u32>(r, ST_DEAD, F_STATE);
      finished++;
    }
  }
  // open connections, a bounded number per iteration (the command queue is shared)
  const budget = cfg(CFG_EVQ_SLOTS) / 4;
  let opened: u32 = 0;
  while (nextConnect < nConns && opened < budget) {
    const i = nextConnect;
    const r = rec(i);
    if (cmdPush(CMD_CONNECT, 0, i, 4, <u32>peerAddr, cfg(CFG_APP_PEER_PORT), 0) == 0) break;
    store<u32>(r, ST_CONNECTING, F_STATE);
    nextConnect++;
    opened++;
  }
}

export function clientDone(): bool {
  return finished >= nConns;
}
export function clientHistPtr(): usize {
  return histBase;
}
export function clientConnState(i: u32): u32 {
  return i < nConns ? load<u32>(rec(i), F_STATE) : 0xffffffff;
}
/** Requests connection i completed (echo: messages; memcached: sets and gets). */
export function clientConnSeq(i: u32): u32 {
  return i < nConns ? load<u32>(rec(i), F_SEQ) : 0;
}

// ---- results for the host --------------------------------------------------------
export function clientRoundTrips(): u64 {
  return roundTrips;
}
export function clientBytesVerified(): u64 {
  return bytesVerified;
}
export function clientErrors(): u64 {
  return errors;
}
export function clientConnectsFailed(): u64 {
  return connectsFailed;
}
export function clientDiedEarly(): u64 {
  return diedEarly;
}
export function clientConnsReset(): u64 {
  return connsReset;
}
export function clientConnsTimedOut(): u64 {
  return connsTimedOut;
}
export function clientResponsesDiffered(): u64 {
  return responsesDiffered;
}
export function clientConnsClosed(): u64 {
  return connsClosed;
}
export function clientOtherErrors(): u64 {
  return otherErrors;
}
/** The first differing answer byte: 5 u32 (connection, request, offset, expected or 0xffffffff past the end, received); connection 0xffffffff = none. */
export function clientFirstDiffPtr(): usize {
  return firstDiff;
}
export function clientLatencySumUs(): u64 {
  return latencySumUs;
}
export function clientHistBuckets(): u32 {
  return HIST_BUCKETS;
}
