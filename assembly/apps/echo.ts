// echo: sends every received TCP byte back, zero-copy, and answers UDP datagrams.
//
// TCP: the received span itself (inside the mbuf) is handed to SENDV; the mbuf is
// released with RECV_DONE only once the echoed bytes are acknowledged
// (EV_TCP_SENT), so the receive window tracks what the peer has not yet got back,
// as in IX's echo. Per-connection state lives in R_APP, indexed by the cookie.
//
// Connection record (ECHO_CONN_BYTES):
//   0 handle u32, 4 state u32 (0 free, 1 open, 2 peer closed, 3 close sent)
//   8 qHead (oldest unacknowledged span), 12 qTail (next free), 16 sendIdx,
//   20 sendOff (bytes of span sendIdx already accepted), 24 ackOff (bytes of span
//   qHead acknowledged), 28 offered (bytes of the SENDV awaiting its result),
//   32 blocked (flow control took less than offered: wait for EV_TCP_SENT),
//   36 dirty (on this iteration's flush list), 40 next free slot,
//   48 SENDV span array (ECHO_IOV spans), then the span queue (ECHO_Q spans).
import {
  D_A, D_B, D_C, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE, SPAN_SIZE,
  EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD, EV_UDP_RECV,
  CMD_ACCEPT, CMD_REJECT, CMD_SENDV, CMD_RECV_DONE, CMD_CLOSE, CMD_ABORT, CMD_UDP_SEND,
  RET_AGAIN, cmdPush,
} from "../api/abi";
import { CFG_APP_CONNS, cfg } from "../mem/layout";
import { appBase, appBytes } from "../api/env";
import { UDPA_BYTES } from "../net/udp";

const ECHO_IOV: usize = 16;
const ECHO_Q: u32 = 256; // spans queued per connection (power of two)
const C_IOV: usize = 48;
const C_Q: usize = C_IOV + ECHO_IOV * SPAN_SIZE;
export const ECHO_CONN_BYTES: usize = C_Q + <usize>ECHO_Q * SPAN_SIZE;
export const ECHO_UDP_SCRATCH: usize = 128 * 1024; // datagrams copied out per iteration
const UDP_SCRATCH = ECHO_UDP_SCRATCH;
const MAX_DIRTY: usize = 4096;

const ST_FREE: u32 = 0;
const ST_OPEN: u32 = 1;
const ST_PEER_CLOSED: u32 = 2;
const ST_CLOSE_SENT: u32 = 3;

let conns: u32 = 0;
let connBase: usize = 0;
let freeHead: u32 = 0xffffffff;
let udpBase: usize = 0;
let udpUsed: usize = 0;
const dirty = memory.data(<i32>(MAX_DIRTY * 4), 16);
let nDirty: u32 = 0;

// Counters, exported to the host.
let cAccepted: u64 = 0;
let cRejected: u64 = 0;
let cBytes: u64 = 0;
let cUdp: u64 = 0;
let cUdpDropped: u64 = 0;
let cErrors: u64 = 0;

@inline function conn(i: u32): usize {
  return connBase + <usize>i * ECHO_CONN_BYTES;
}

export function echoInit(): i32 {
  const bytes = appBytes();
  if (bytes < UDP_SCRATCH + ECHO_CONN_BYTES) return -2;
  udpBase = appBase();
  connBase = udpBase + UDP_SCRATCH;
  let n = <u32>((bytes - UDP_SCRATCH) / ECHO_CONN_BYTES);
  const want = cfg(CFG_APP_CONNS);
  if (want != 0 && want < n) n = want;
  conns = n;
  freeHead = 0xffffffff;
  for (let i = n; i > 0; i--) {
    const c = conn(i - 1);
    memory.fill(c, 0, C_IOV);
    store<u32>(c, freeHead, 40);
    freeHead = i - 1;
  }
  cAccepted = cRejected = cBytes = cUdp = cUdpDropped = cErrors = 0;
  return 0;
}

function connFree(i: u32): void {
  const c = conn(i);
  store<u32>(c, ST_FREE, 4);
  store<u32>(c, freeHead, 40);
  freeHead = i;
}

function markDirty(i: u32): void {
  const c = conn(i);
  if (load<u32>(c, 36) != 0 || nDirty >= <u32>MAX_DIRTY) return;
  store<u32>(c, 1, 36);
  store<u32>(dirty + (<usize>nDirty << 2), i);
  nDirty++;
}

@inline function valid(i: u32): bool {
  return i < conns && load<u32>(conn(i), 4) != ST_FREE;
}

export function echoRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  nDirty = 0;
  udpUsed = 0;
  // 1. results of our previous commands
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const i = load<u32>(d, D_COOKIE);
    const ret = load<i32>(d, D_RET);
    if (kind == CMD_SENDV) {
      if (!valid(i)) continue;
      const c = conn(i);
      const offered = load<u32>(c, 28);
      store<u32>(c, 0, 28);
      if (ret >= 0) {
        advanceSent(c, <u32>ret);
        if (<u32>ret < offered) store<u32>(c, 1, 32);
        else markDirty(i); // more may be queued behind
      } else if (ret == RET_AGAIN) {
        markDirty(i);
      } else {
        cErrors++;
        cmdPush(CMD_ABORT, load<u32>(c), i, 0, 0, 0, 0);
        connFree(i);
      }
    } else if (kind == CMD_ACCEPT) {
      if (ret < 0 && valid(i)) connFree(i);
    }
  }
  // 2. this iteration's events
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const h = load<u32>(e, D_HANDLE);
    const i = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!valid(i)) continue;
      const c = conn(i);
      const len = load<u32>(e, D_B);
      if (len == 0) {
        store<u32>(c, ST_PEER_CLOSED, 4);
        markDirty(i);
        continue;
      }
      const head = load<u32>(c, 8);
      const tail = load<u32>(c, 12);
      if (tail - head >= ECHO_Q) {
        // More segments outstanding than we track: the window should prevent it.
        cErrors++;
        cmdPush(CMD_ABORT, h, i, 0, 0, 0, 0);
        connFree(i);
        continue;
      }
      const q = c + C_Q + <usize>(tail & (ECHO_Q - 1)) * SPAN_SIZE;
      store<u32>(q, load<u32>(e, D_A));
      store<u32>(q, len, 4);
      store<u32>(c, tail + 1, 12);
      markDirty(i);
    } else if (kind == EV_TCP_SENT) {
      if (!valid(i)) continue;
      const c = conn(i);
      const acked = load<u32>(e, D_A);
      if (acked != 0) {
        cBytes += acked;
        advanceAcked(c, acked);
        cmdPush(CMD_RECV_DONE, load<u32>(c), i, acked, 0, 0, 0);
      }
      store<u32>(c, 0, 32);
      markDirty(i);
    } else if (kind == EV_TCP_KNOCK) {
      if (freeHead == 0xffffffff) {
        cRejected++;
        cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
        continue;
      }
      const n = freeHead;
      const c = conn(n);
      freeHead = load<u32>(c, 40);
      memory.fill(c, 0, C_IOV);
      store<u32>(c, h);
      store<u32>(c, ST_OPEN, 4);
      cAccepted++;
      cmdPush(CMD_ACCEPT, h, n, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      if (valid(i)) connFree(i);
    } else if (kind == EV_UDP_RECV) {
      udpEcho(e);
    }
  }
  // 3. offer what is queued, close what the peer closed
  for (let k: u32 = 0; k < nDirty; k++) {
    const i = load<u32>(dirty + (<usize>k << 2));
    const c = conn(i);
    store<u32>(c, 0, 36);
    if (load<u32>(c, 4) == ST_FREE) continue;
    flush(i, c);
  }
}

function advanceSent(c: usize, n: u32): void {
  let idx = load<u32>(c, 16);
  let off = load<u32>(c, 20) + n;
  const tail = load<u32>(c, 12);
  while (idx != tail) {
    const len = load<u32>(c + C_Q + <usize>(idx & (ECHO_Q - 1)) * SPAN_SIZE, 4);
    if (off < len) break;
    off -= len;
    idx++;
  }
  store<u32>(c, idx, 16);
  store<u32>(c, off, 20);
}

function advanceAcked(c: usize, n: u32): void {
  let head = load<u32>(c, 8);
  let off = load<u32>(c, 24) + n;
  const send = load<u32>(c, 16);
  while (head != send) {
    const len = load<u32>(c + C_Q + <usize>(head & (ECHO_Q - 1)) * SPAN_SIZE, 4);
    if (off < len) break;
    off -= len;
    head++;
  }
  store<u32>(c, head, 8);
  store<u32>(c, off, 24);
}

function flush(i: u32, c: usize): void {
  if (load<u32>(c, 28) != 0 || load<u32>(c, 32) != 0) return; // result pending / window full
  let idx = load<u32>(c, 16);
  const tail = load<u32>(c, 12);
  if (idx == tail) {
    // everything echoed; once acknowledged too, answer the peer's FIN
    if (load<u32>(c, 4) == ST_PEER_CLOSED && load<u32>(c, 8) == tail) {
      store<u32>(c, ST_CLOSE_SENT, 4);
      cmdPush(CMD_CLOSE, load<u32>(c), i, 0, 0, 0, 0);
    }
    return;
  }
  const iov = c + C_IOV;
  let n: usize = 0;
  let total: u32 = 0;
  let off = load<u32>(c, 20);
  while (idx != tail && n < ECHO_IOV) {
    const q = c + C_Q + <usize>(idx & (ECHO_Q - 1)) * SPAN_SIZE;
    const len = load<u32>(q, 4) - off;
    store<u32>(iov + n * SPAN_SIZE, load<u32>(q) + off);
    store<u32>(iov + n * SPAN_SIZE, len, 4);
    total += len;
    off = 0;
    idx++;
    n++;
  }
  if (cmdPush(CMD_SENDV, load<u32>(c), i, <u32>iov, <u32>n, 0, 0) != 0) store<u32>(c, total, 28);
}

function udpEcho(e: usize): void {
  const len = <usize>load<u32>(e, D_B);
  const need = (len + UDPA_BYTES + 15) & ~15;
  if (udpUsed + need > UDP_SCRATCH) {
    cUdpDropped++;
    return;
  }
  // The datagram's mbuf is only ours for this iteration: copy payload and the whole
  // address record out (its MACs, after the flow key, address the reply).
  const dst = udpBase + udpUsed;
  memory.copy(dst, <usize>load<u32>(e, D_C), UDPA_BYTES);
  memory.copy(dst + UDPA_BYTES, <usize>load<u32>(e, D_A), len);
  udpUsed += need;
  if (cmdPush(CMD_UDP_SEND, 0, 0, <u32>(dst + UDPA_BYTES), <u32>len, <u32>dst, 0) == 0) cUdpDropped++;
  else cUdp++;
}

export function echoConns(): u32 {
  return conns;
}
export function echoStat(i: i32): u64 {
  switch (i) {
    case 0: return cAccepted;
    case 1: return cRejected;
    case 2: return cBytes;
    case 3: return cUdp;
    case 4: return cUdpDropped;
    case 5: return cErrors;
  }
  return 0;
}

// ---- flow-group migration (hooks in its apps/registry.ts row) -----------------------------------
// The whole record moves (its span queue points into the connection's received
// mbufs, which move with the TCB): the importer re-points the spans with
// migrateXlate and gives the record a new slot and the new handle.
import { migrateXlate } from "../net/tcp/migrate";

export function echoMigrateBytes(i: u32): i32 {
  if (!valid(i)) return 0;
  if (load<u32>(conn(i), 28) != 0) return -1; // a SENDV result is due: not quiescent
  return <i32>ECHO_CONN_BYTES;
}

export function echoExport(i: u32, out: usize): u32 {
  if (!valid(i)) return 0;
  memory.copy(out, conn(i), ECHO_CONN_BYTES);
  connFree(i);
  return <u32>ECHO_CONN_BYTES;
}

export function echoImport(inp: usize, len: u32, handle: u32): i32 {
  if (len != <u32>ECHO_CONN_BYTES || freeHead == 0xffffffff) return -1;
  const n = freeHead;
  const c = conn(n);
  freeHead = load<u32>(c, 40);
  memory.copy(c, inp, ECHO_CONN_BYTES);
  store<u32>(c, handle);
  store<u32>(c, 0, 36); // not on this core's dirty list
  store<u32>(c, 0, 40);
  const tail = load<u32>(c, 12);
  for (let idx = load<u32>(c, 8); idx != tail; idx++) {
    const q = c + C_Q + <usize>(idx & (ECHO_Q - 1)) * SPAN_SIZE;
    store<u32>(q, migrateXlate(load<u32>(q)));
  }
  return <i32>n;
}

export function echoMigrateRoom(): u32 {
  let n: u32 = 0;
  for (let i = freeHead; i != 0xffffffff; i = load<u32>(conn(i), 40)) n++;
  return n;
}
