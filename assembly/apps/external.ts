// The proxy for an app module (docs/design/app-modules.md): a built-in app that
// stands between the stack and a server app running as a WASM module of its own,
// in a worker thread, in a memory of its own. Each busy poll it
//  1. takes the stack's results of its own previous commands (send-buffer accounting),
//  2. takes the module's answer if one arrived (XS_ANSWERED): every command is
//     validated (opcode, handle, offsets, lengths, counts) and a fresh stack command
//     is built from the proxy's own fields; nothing of the module's reaches the
//     stack but bytes copied into the proxy's send buffers,
//  3. queues this poll's stack events for the module (RECV bytes stay in their mbufs,
//     which the stack holds until the module's RECV_DONE),
//  4. offers the send buffers to the stack,
//  5. when no batch is out (XS_IDLE), writes the next one into the export area
//     (results, events, then the payload copied out of the mbufs) and marks it
//     XS_EXPORTED; the host copies it into the module and its answer back.
// The module's handles are the proxy's slots (slot | generation << 24), never the
// stack's. The stack's cookie for a connection is slot + 1 (0: not accepted yet).
//
// Region (R_APP): control block | connection records | pending events | results |
// dirty list | UDP in | UDP out | export area | import area (extRegionBytes).
import {
  AM_IN_DATA, AM_IN_DATA_MAX, AM_IN_EVENTS, AM_IN_EVENTS_MAX, AM_IN_HDR, AM_IN_RESULTS, AM_IN_VERSION, AM_OUT_CMDS,
  AM_OUT_CMDS_MAX, AM_OUT_DATA, AM_OUT_DATA_MAX, AM_OUT_HDR, AM_UDP_ADDR, AM_VERSION, CMD_ABORT, CMD_ACCEPT, CMD_CLOSE,
  CMD_RECV_DONE, CMD_REJECT, CMD_SENDV, CMD_UDP_SEND, D_A, D_B, D_C, D_COOKIE, D_D, D_FLAGS, D_HANDLE, D_KIND, D_RET,
  DEAD_ABORTED, DESC_SIZE, EV_TCP_DEAD, EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_UDP_RECV, RET_AGAIN, RET_BADHANDLE,
  RET_INVAL, RET_OK, RET_STATE, SPAN_SIZE, XC_BATCHES, XC_CONNS, XC_EXPORT_LEN, XC_EXPORT_PTR, XC_FAULTS,
  XC_FAULT_RESETS, XC_FLUSH, XC_GARBAGE, XC_GARBAGE_MAX, XC_RESULTS, XC_IMPORT_CAP, XC_IMPORT_LEN, XC_IMPORT_PTR, XC_REJECTED, XC_STATE,
  XS_ANSWERED, XS_DOWN, XS_EXPORTED, XS_IDLE, cmdLen, cmdPush,
} from "../api/abi";
import { appBase, appBytes } from "../api/env";

/** The host runs the exported batch through the module now, in this thread (1), or leaves it to the module's own thread (0). */
@external("env", "appModuleRun") declare function hostAppRun(): u32;
import { CFG_APP_CONNS, CFG_EVQ_SLOTS, cfg } from "../mem/layout";

// The address record a datagram carries is the stack's (net/udp.ts UDPA_BYTES); the
// mailbox names its size (AM_UDP_ADDR); test/apps/external.test.ts checks they agree.

const SEND_CAP: u32 = 64 << 10; // bytes of module output a connection buffers (≥ a window's worth)
const UDP_STAGE: usize = 128 << 10;
const PEND_MAX: u32 = AM_IN_EVENTS_MAX;
const PE: usize = 48; // pending event: a 32-byte descriptor + 16 bytes inline (KNOCK's address)
const RES_MAX: u32 = AM_OUT_CMDS_MAX;

// connection record
const R_STACK: usize = 0; // the stack's handle
const R_STATE: usize = 4;
const R_GEN: usize = 8;
const R_COOKIE: usize = 12; // the module's cookie (ACCEPT)
const R_RECV_OUT: usize = 16; // bytes delivered to the module and not yet RECV_DONE
const R_NEXT: usize = 20; // free list
const R_HEAD: usize = 24; // send buffer: oldest unacknowledged byte
const R_LEN: usize = 28; // bytes buffered (unacknowledged + not yet given to the stack)
const R_OFFERED: usize = 32; // bytes the stack has taken (from R_HEAD)
const R_INFLIGHT: usize = 36; // bytes of the SENDV awaiting its result
const R_BLOCKED: usize = 40; // the stack took less than offered: wait for EV_TCP_SENT
const R_FLAGS: usize = 44;
const R_IOV: usize = 48; // two spans
const R_BUF: usize = 64;
const REC: usize = R_BUF + <usize>SEND_CAP;

const ST_FREE: u32 = 0;
const ST_KNOCKED: u32 = 1; // KNOCK queued for the module, no ACCEPT yet
const ST_OPEN: u32 = 2;

const F_DIRTY: u32 = 1;
const F_CLOSE: u32 = 2; // the module asked for CLOSE: FIN once the buffer is given to the stack
const F_CLOSE_SENT: u32 = 4;

const NO: u32 = 0xffffffff;

let conns: u32 = 0;
let ctl: usize = 0;
let recs: usize = 0;
let pend: usize = 0;
let res: usize = 0;
let dirty: usize = 0;
let udpIn: usize = 0;
let udpOut: usize = 0;
let exp: usize = 0;
let imp: usize = 0;
let freeHead: u32 = NO;
let pHead: u32 = 0; // pending ring: oldest
let pCount: u32 = 0;
let nRes: u32 = 0;
let nDirty: u32 = 0;
let udpInUsed: usize = 0;
let udpOutUsed: usize = 0;
let impNext: u32 = 0; // next command of the import to take (an import may take several polls)
let impGarbage: u32 = 0;
let faultPending = false;
let urgent = false; // a result the module should see without waiting for an event

@inline function rec(i: u32): usize {
  return recs + <usize>i * REC;
}
@inline function ctlGet(w: u32): u32 {
  return load<u32>(ctl + (<usize>w << 2));
}
@inline function ctlSet(w: u32, v: u32): void {
  store<u32>(ctl + (<usize>w << 2), v);
}
@inline function ctlAdd(w: u32, v: u32): void {
  ctlSet(w, ctlGet(w) + v);
}
@inline function exportBytes(): usize {
  return <usize>AM_IN_HDR + <usize>(RES_MAX + PEND_MAX) * DESC_SIZE + <usize>AM_IN_DATA_MAX;
}
@inline function importBytes(): usize {
  return <usize>AM_OUT_HDR + <usize>AM_OUT_CMDS_MAX * DESC_SIZE + <usize>AM_OUT_DATA_MAX;
}
function fixedBytes(): usize {
  return 64 + <usize>PEND_MAX * PE + <usize>RES_MAX * DESC_SIZE + 2 * UDP_STAGE + exportBytes() + importBytes();
}

/** R_APP bytes for `conns` connections (each with a SEND_CAP buffer). */
export function extRegionBytes(n: u32, _msgBytes: u32): u64 {
  const c = <u64>(n == 0 ? 256 : n);
  return <u64>fixedBytes() + c * (<u64>REC + 4);
}

/** The control block (XC_* u32 words): the host's view of the mailbox. */
export function extControl(): usize {
  return ctl;
}

export function extInit(): i32 {
  const base = (appBase() + 63) & ~63;
  const bytes = appBytes() - (base - appBase());
  const fixed = fixedBytes();
  if (bytes < fixed + REC + 4) return -2;
  let n = <u32>((bytes - fixed) / (REC + 4));
  const want = cfg(CFG_APP_CONNS);
  if (want != 0 && want < n) n = want;
  if (n > 0xffffff) n = 0xffffff;
  conns = n;
  ctl = base;
  memory.fill(ctl, 0, 64);
  recs = ctl + 64;
  pend = recs + <usize>n * REC;
  res = pend + <usize>PEND_MAX * PE;
  dirty = res + <usize>RES_MAX * DESC_SIZE;
  udpIn = dirty + <usize>n * 4;
  udpOut = udpIn + UDP_STAGE;
  exp = udpOut + UDP_STAGE;
  imp = exp + exportBytes();
  ctlSet(XC_EXPORT_PTR, <u32>exp);
  ctlSet(XC_IMPORT_PTR, <u32>imp);
  ctlSet(XC_IMPORT_CAP, <u32>importBytes());
  freeHead = NO;
  for (let i = n; i > 0; i--) {
    const r = rec(i - 1);
    memory.fill(r, 0, R_BUF);
    store<u32>(r, freeHead, R_NEXT);
    freeHead = i - 1;
  }
  pHead = pCount = nRes = nDirty = impNext = impGarbage = 0;
  udpInUsed = udpOutUsed = 0;
  faultPending = false;
  atomic.store<u32>(ctl, XS_IDLE, <usize>XC_STATE << 2);
  return 0;
}

/** The host saw the module fail (trap, timeout, memory): reset its connections at the next poll. */
export function extFault(): void {
  faultPending = true;
}

/** The host has a new module instance ready: serve again. */
export function extRestart(): void {
  if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) == XS_DOWN) atomic.store<u32>(ctl, XS_IDLE, <usize>XC_STATE << 2);
}

// ---- connections -------------------------------------------------------------------
@inline function modHandle(i: u32): u32 {
  return i | (load<u32>(rec(i), R_GEN) << 24);
}

function slotNew(stackHandle: u32): u32 {
  if (freeHead == NO) return NO;
  const i = freeHead;
  const r = rec(i);
  freeHead = load<u32>(r, R_NEXT);
  const gen = (load<u32>(r, R_GEN) + 1) & 0xff;
  memory.fill(r, 0, R_BUF);
  store<u32>(r, gen, R_GEN);
  store<u32>(r, stackHandle, R_STACK);
  store<u32>(r, ST_KNOCKED, R_STATE);
  ctlAdd(XC_CONNS, 1);
  return i;
}

function slotFree(i: u32): void {
  const r = rec(i);
  if (load<u32>(r, R_STATE) == ST_FREE) return;
  store<u32>(r, ST_FREE, R_STATE);
  store<u32>(r, 0, R_FLAGS);
  store<u32>(r, (load<u32>(r, R_GEN) + 1) & 0xff, R_GEN); // the module's handle is stale from now on
  store<u32>(r, freeHead, R_NEXT);
  freeHead = i;
  ctlSet(XC_CONNS, ctlGet(XC_CONNS) - 1);
  // Its queued RECVs point into mbufs the stack frees with the connection: never export them.
  for (let k: u32 = 0; k < pCount; k++) {
    const e = pendAt(k);
    if (load<u16>(e, D_KIND) == EV_TCP_RECV && load<u32>(e, 40) == i) store<u16>(e, 0, D_KIND);
  }
}

/** The slot of a module handle, or NO (out of range, stale generation, free). */
function slotOf(h: u32): u32 {
  const i = h & 0xffffff;
  if (i >= conns) return NO;
  const r = rec(i);
  if (load<u32>(r, R_STATE) == ST_FREE || load<u32>(r, R_GEN) != h >>> 24) return NO;
  return i;
}

/** The slot a stack event names: by cookie (slot + 1) when set, else by the stack handle. */
function slotOfStack(h: u32, cookie: u32): u32 {
  if (cookie != 0) {
    const i = cookie - 1;
    if (i < conns && load<u32>(rec(i), R_STATE) != ST_FREE && load<u32>(rec(i), R_STACK) == h) return i;
    return NO;
  }
  for (let i: u32 = 0; i < conns; i++) {
    const r = rec(i);
    if (load<u32>(r, R_STATE) == ST_KNOCKED && load<u32>(r, R_STACK) == h) return i;
  }
  return NO;
}

function markDirty(i: u32): void {
  const r = rec(i);
  const f = load<u32>(r, R_FLAGS);
  if ((f & F_DIRTY) != 0 || nDirty >= conns) return;
  store<u32>(r, f | F_DIRTY, R_FLAGS);
  store<u32>(dirty + (<usize>nDirty << 2), i);
  nDirty++;
}

// ---- events for the module ------------------------------------------------------------
@inline function pendAt(k: u32): usize {
  return pend + <usize>((pHead + k) % PEND_MAX) * PE;
}

/** Queues an event for the module; false when the queue is full. Word 40 of the entry: the slot. */
function pendPush(kind: u16, i: u32, a: u32, b: u32, c: u32, d: u32): usize {
  if (pCount >= PEND_MAX) return 0;
  const e = pendAt(pCount++);
  store<u16>(e, kind, D_KIND);
  store<u16>(e, 0, D_FLAGS);
  store<u32>(e, i == NO ? 0 : modHandle(i), D_HANDLE);
  store<u32>(e, i == NO ? 0 : load<u32>(rec(i), R_COOKIE), D_COOKIE);
  store<u32>(e, a, D_A);
  store<u32>(e, b, D_B);
  store<u32>(e, c, D_C);
  store<u32>(e, d, D_D);
  store<i32>(e, 0, D_RET);
  store<u32>(e, i, 40);
  return e;
}

function stackEvent(e: usize): void {
  const kind = load<u16>(e, D_KIND);
  const h = load<u32>(e, D_HANDLE);
  if (kind == EV_TCP_KNOCK) {
    const i = atomic.load<u32>(ctl, <usize>XC_STATE << 2) == XS_DOWN ? NO : slotNew(h);
    if (i == NO) {
      ctlAdd(XC_REJECTED, 1);
      cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
      return;
    }
    const p = pendPush(EV_TCP_KNOCK, i, load<u32>(e, D_A), load<u32>(e, D_B), 0, load<u32>(e, D_D));
    if (p == 0) {
      slotFree(i);
      ctlAdd(XC_REJECTED, 1);
      cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
      return;
    }
    memory.copy(p + 32, <usize>load<u32>(e, D_C), 16); // the remote address: valid in this poll only
    return;
  }
  if (kind == EV_UDP_RECV) {
    if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) == XS_DOWN) return;
    const len = <usize>load<u32>(e, D_B);
    const need = (<usize>AM_UDP_ADDR + len + 7) & ~7;
    if (udpInUsed + need > UDP_STAGE) return; // dropped, as a full socket buffer would
    const dst = udpIn + udpInUsed;
    memory.copy(dst, <usize>load<u32>(e, D_C), <usize>AM_UDP_ADDR); // the datagram's mbuf is ours for this poll only
    memory.copy(dst + <usize>AM_UDP_ADDR, <usize>load<u32>(e, D_A), len);
    if (pendPush(EV_UDP_RECV, NO, <u32>(dst + <usize>AM_UDP_ADDR), <u32>len, <u32>dst, 0) != 0) udpInUsed += need;
    return;
  }
  const i = slotOfStack(h, load<u32>(e, D_COOKIE));
  if (i == NO) return; // a connection the proxy has let go of (fault, abort)
  const r = rec(i);
  if (kind == EV_TCP_RECV) {
    const len = load<u32>(e, D_B);
    store<u32>(r, load<u32>(r, R_RECV_OUT) + len, R_RECV_OUT);
    if (pendPush(EV_TCP_RECV, i, load<u32>(e, D_A), len, 0, 0) == 0) overflow(i);
  } else if (kind == EV_TCP_SENT) {
    const acked = load<u32>(e, D_A);
    let head = load<u32>(r, R_HEAD) + acked;
    if (head >= SEND_CAP) head -= SEND_CAP;
    store<u32>(r, head, R_HEAD);
    store<u32>(r, load<u32>(r, R_LEN) - acked, R_LEN);
    store<u32>(r, load<u32>(r, R_OFFERED) - acked, R_OFFERED);
    store<u32>(r, 0, R_BLOCKED);
    markDirty(i);
    if (pendPush(EV_TCP_SENT, i, acked, SEND_CAP - load<u32>(r, R_LEN), 0, 0) == 0) overflow(i);
  } else if (kind == EV_TCP_DEAD) {
    pendPush(EV_TCP_DEAD, i, load<u32>(e, D_A), 0, 0, 0); // if full, the module's handle goes stale anyway
    slotFree(i);
  }
}

/** No room to tell the module: the connection cannot go on consistently, so it ends. */
function overflow(i: u32): void {
  const r = rec(i);
  cmdPush(CMD_ABORT, load<u32>(r, R_STACK), i + 1, 0, 0, 0, 0);
  slotFree(i);
}

// ---- the module's commands --------------------------------------------------------------
/** Takes the module's answer: as many commands as the stack's queue has room for. */
function importRun(): void {
  const len = ctlGet(XC_IMPORT_LEN);
  if (impNext == 0) {
    impGarbage = 0;
    if (len < AM_OUT_HDR || len > ctlGet(XC_IMPORT_CAP)) return fault();
    const n = load<u32>(imp, AM_OUT_CMDS);
    const data = load<u32>(imp, AM_OUT_DATA);
    if (n > AM_OUT_CMDS_MAX || data > AM_OUT_DATA_MAX) return fault();
    if (<u64>AM_OUT_HDR + <u64>n * <u64>DESC_SIZE + <u64>data != <u64>len) return fault();
  }
  const n = load<u32>(imp, AM_OUT_CMDS);
  const room = cfg(CFG_EVQ_SLOTS);
  while (impNext < n) {
    if (cmdLen() + 4 > room) return; // the rest at the next poll (commands have results pending: it is busy)
    const c = imp + <usize>AM_OUT_HDR + <usize>impNext * DESC_SIZE;
    const r = res + <usize>nRes * DESC_SIZE;
    memory.copy(r, c, DESC_SIZE); // the module sees its command back, with D_RET
    const ret = moduleCommand(c, n);
    // A stale handle or a command its state does not allow can be a race with an event
    // the module has not seen yet; RET_INVAL (unknown opcode, a forged handle, data
    // outside the outbox, more RECV_DONE than delivered) cannot.
    if (ret == RET_INVAL) {
      ctlAdd(XC_GARBAGE, 1);
      if (++impGarbage > XC_GARBAGE_MAX) return fault();
    }
    store<i32>(r, ret, D_RET);
    if (ret < 0 || (load<u16>(c, D_KIND) == CMD_SENDV && <u32>ret < load<u32>(c, D_B))) urgent = true;
    nRes++;
    impNext++;
  }
  impNext = 0;
  atomic.store<u32>(ctl, XS_IDLE, <usize>XC_STATE << 2);
}

/** Offset and length inside the outbox's data area, or NO. */
function dataAt(n: u32, off: u32, len: u32): usize {
  const data = load<u32>(imp, AM_OUT_DATA);
  if (<u64>off + <u64>len > <u64>data) return 0;
  return imp + <usize>AM_OUT_HDR + <usize>n * DESC_SIZE + <usize>off;
}

function moduleCommand(c: usize, n: u32): i32 {
  const kind = load<u16>(c, D_KIND);
  if (kind == CMD_UDP_SEND) return udpSend(c, n);
  if (kind != CMD_ACCEPT && kind != CMD_REJECT && kind != CMD_SENDV && kind != CMD_RECV_DONE && kind != CMD_CLOSE && kind != CMD_ABORT)
    return RET_INVAL; // unknown, or not offered to modules (CONNECT, TIMER)
  const h = load<u32>(c, D_HANDLE);
  if ((h & 0xffffff) >= conns) return RET_INVAL; // never a handle of ours
  const i = slotOf(h);
  if (i == NO) return RET_BADHANDLE;
  const r = rec(i);
  const st = load<u32>(r, R_STATE);
  const sh = load<u32>(r, R_STACK);
  if (kind == CMD_ACCEPT) {
    if (st != ST_KNOCKED) return RET_STATE;
    store<u32>(r, load<u32>(c, D_COOKIE), R_COOKIE);
    store<u32>(r, ST_OPEN, R_STATE);
    cmdPush(CMD_ACCEPT, sh, i + 1, 0, 0, 0, 0);
    return RET_OK;
  }
  if (kind == CMD_REJECT) {
    if (st != ST_KNOCKED) return RET_STATE;
    cmdPush(CMD_REJECT, sh, 0, 0, 0, 0, 0);
    slotFree(i); // REJECT ends the handle without an event
    return RET_OK;
  }
  if (kind == CMD_ABORT) {
    cmdPush(st == ST_KNOCKED ? CMD_REJECT : CMD_ABORT, sh, i + 1, 0, 0, 0, 0);
    if (st == ST_KNOCKED) slotFree(i); // else the stack's DEAD frees it
    return RET_OK;
  }
  if (st != ST_OPEN) return RET_STATE;
  const f = load<u32>(r, R_FLAGS);
  if (kind == CMD_RECV_DONE) {
    const k = load<u32>(c, D_A);
    if (k > load<u32>(r, R_RECV_OUT)) return RET_INVAL; // more than delivered and not yet returned
    store<u32>(r, load<u32>(r, R_RECV_OUT) - k, R_RECV_OUT);
    if (k != 0) cmdPush(CMD_RECV_DONE, sh, i + 1, k, 0, 0, 0);
    return RET_OK;
  }
  if ((f & (F_CLOSE | F_CLOSE_SENT)) != 0) return RET_STATE; // nothing after CLOSE
  if (kind == CMD_CLOSE) {
    store<u32>(r, f | F_CLOSE, R_FLAGS);
    markDirty(i);
    return RET_OK;
  }
  // CMD_SENDV: a = offset, b = length in the outbox's data area
  const len = load<u32>(c, D_B);
  const src = dataAt(n, load<u32>(c, D_A), len);
  if (src == 0) return RET_INVAL;
  const have = load<u32>(r, R_LEN);
  const take = min<u32>(len, SEND_CAP - have);
  let tail = load<u32>(r, R_HEAD) + have;
  if (tail >= SEND_CAP) tail -= SEND_CAP;
  const first = min<u32>(take, SEND_CAP - tail);
  memory.copy(r + R_BUF + <usize>tail, src, first);
  if (first < take) memory.copy(r + R_BUF, src + <usize>first, take - first);
  store<u32>(r, have + take, R_LEN);
  if (take != 0) markDirty(i);
  return <i32>take;
}

function udpSend(c: usize, n: u32): i32 {
  if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) == XS_DOWN) return RET_STATE;
  const len = load<u32>(c, D_B);
  if (len > 65507) return RET_INVAL; // RFC 768 over IPv4: what one datagram can carry
  const src = dataAt(n, load<u32>(c, D_A), len);
  const addr = dataAt(n, load<u32>(c, D_C), AM_UDP_ADDR);
  if (src == 0 || addr == 0) return RET_INVAL;
  const need = (<usize>AM_UDP_ADDR + <usize>len + 7) & ~7;
  if (udpOutUsed + need > UDP_STAGE) return RET_AGAIN;
  const dst = udpOut + udpOutUsed;
  memory.copy(dst, addr, <usize>AM_UDP_ADDR);
  memory.copy(dst + <usize>AM_UDP_ADDR, src, len);
  udpOutUsed += need;
  cmdPush(CMD_UDP_SEND, 0, 0, <u32>(dst + <usize>AM_UDP_ADDR), len, <u32>dst, 0); // d = 0: an answer to that datagram's sender
  return <i32>len;
}

// ---- the stack's results of the proxy's commands -------------------------------------
function stackResult(d: usize): void {
  const kind = load<u16>(d, D_KIND);
  const cookie = load<u32>(d, D_COOKIE);
  if (cookie == 0) return;
  const i = cookie - 1;
  if (i >= conns) return;
  const r = rec(i);
  if (load<u32>(r, R_STATE) == ST_FREE || load<u32>(r, R_STACK) != load<u32>(d, D_HANDLE)) return;
  const ret = load<i32>(d, D_RET);
  if (kind == CMD_SENDV) {
    const offered = load<u32>(r, R_INFLIGHT);
    store<u32>(r, 0, R_INFLIGHT);
    if (ret >= 0) {
      store<u32>(r, load<u32>(r, R_OFFERED) + <u32>ret, R_OFFERED);
      if (<u32>ret < offered) store<u32>(r, 1, R_BLOCKED);
    }
    markDirty(i); // AGAIN: offered again; an error: the stack's DEAD follows
  } else if (kind == CMD_ACCEPT && ret < 0) {
    pendPush(EV_TCP_DEAD, i, DEAD_ABORTED, 0, 0, 0);
    slotFree(i);
  }
}

/** Gives the stack what the connection's send buffer holds beyond what it has taken, then the FIN. */
function flush(i: u32): void {
  const r = rec(i);
  store<u32>(r, load<u32>(r, R_FLAGS) & ~F_DIRTY, R_FLAGS);
  if (load<u32>(r, R_STATE) != ST_OPEN || load<u32>(r, R_INFLIGHT) != 0) return;
  const sh = load<u32>(r, R_STACK);
  const left = load<u32>(r, R_LEN) - load<u32>(r, R_OFFERED);
  if (left != 0) {
    if (load<u32>(r, R_BLOCKED) != 0) return;
    let at = load<u32>(r, R_HEAD) + load<u32>(r, R_OFFERED);
    if (at >= SEND_CAP) at -= SEND_CAP;
    const first = min<u32>(left, SEND_CAP - at);
    const iov = r + R_IOV;
    store<u32>(iov, <u32>(r + R_BUF + <usize>at));
    store<u32>(iov, first, 4);
    store<u32>(iov + SPAN_SIZE, <u32>(r + R_BUF));
    store<u32>(iov + SPAN_SIZE, left - first, 4);
    if (cmdPush(CMD_SENDV, sh, i + 1, <u32>iov, first < left ? 2 : 1, 0, 0) != 0) store<u32>(r, left, R_INFLIGHT);
    else markDirty(i);
    return;
  }
  const f = load<u32>(r, R_FLAGS);
  if ((f & (F_CLOSE | F_CLOSE_SENT)) == F_CLOSE) {
    if (cmdPush(CMD_CLOSE, sh, i + 1, 0, 0, 0, 0) != 0) store<u32>(r, f | F_CLOSE_SENT, R_FLAGS);
    else markDirty(i);
  }
}

// ---- the batch for the module ------------------------------------------------------------
/** Writes results and as many pending events as fit into the export area; marks it XS_EXPORTED. */
function exportRun(): void {
  const descs = exp + <usize>AM_IN_HDR;
  memory.copy(descs, res, <usize>nRes * DESC_SIZE);
  let out = descs + <usize>nRes * DESC_SIZE;
  // events first, then the data: the data area starts after the last event, so count first
  let nEv: u32 = 0;
  let need: usize = 0;
  let k: u32 = 0;
  for (; k < pCount && nEv < AM_IN_EVENTS_MAX; k++) {
    const e = pendAt(k);
    const kind = load<u16>(e, D_KIND);
    if (kind == 0) continue;
    const b = dataNeed(e, kind);
    if (need + b > <usize>AM_IN_DATA_MAX) break;
    need += b;
    nEv++;
  }
  const taken = k;
  const data = out + <usize>nEv * DESC_SIZE;
  let used: usize = 0;
  for (let j: u32 = 0; j < taken; j++) {
    const e = pendAt(j);
    const kind = load<u16>(e, D_KIND);
    if (kind == 0) continue;
    memory.copy(out, e, DESC_SIZE);
    if (kind == EV_TCP_RECV) {
      const len = <usize>load<u32>(e, D_B);
      memory.copy(data + used, <usize>load<u32>(e, D_A), len); // the one copy in: mbuf -> batch
      store<u32>(out, <u32>used, D_A);
      used += (len + 7) & ~7;
    } else if (kind == EV_TCP_KNOCK) {
      memory.copy(data + used, e + 32, 16);
      store<u32>(out, <u32>used, D_C);
      used += 16;
    } else if (kind == EV_UDP_RECV) {
      const len = <usize>load<u32>(e, D_B);
      memory.copy(data + used, <usize>load<u32>(e, D_C), <usize>AM_UDP_ADDR + len);
      store<u32>(out, <u32>used, D_C);
      store<u32>(out, <u32>(used + <usize>AM_UDP_ADDR), D_A);
      used += (<usize>AM_UDP_ADDR + len + 7) & ~7;
    }
    out += DESC_SIZE;
  }
  pHead = (pHead + taken) % PEND_MAX;
  pCount -= taken;
  if (pCount == 0) udpInUsed = 0;
  store<u32>(exp, AM_VERSION, AM_IN_VERSION);
  store<u32>(exp, nRes, AM_IN_RESULTS);
  store<u32>(exp, nEv, AM_IN_EVENTS);
  store<u32>(exp, <u32>used, AM_IN_DATA);
  nRes = 0;
  urgent = false;
  ctlSet(XC_RESULTS, 0);
  atomic.store<u32>(ctl, 0, <usize>XC_FLUSH << 2);
  ctlSet(XC_EXPORT_LEN, <u32>(data + used - exp));
  ctlAdd(XC_BATCHES, 1);
  atomic.store<u32>(ctl, XS_EXPORTED, <usize>XC_STATE << 2);
}

@inline function dataNeed(e: usize, kind: u16): usize {
  if (kind == EV_TCP_RECV) return (<usize>load<u32>(e, D_B) + 7) & ~7;
  if (kind == EV_TCP_KNOCK) return 16;
  if (kind == EV_UDP_RECV) return (<usize>AM_UDP_ADDR + <usize>load<u32>(e, D_B) + 7) & ~7;
  return 0;
}

// ---- faults ------------------------------------------------------------------------------
/** The module is faulty: every connection it holds is reset (RST), its queues dropped; XS_DOWN. */
function fault(): void {
  pHead = pCount = nRes = nDirty = impNext = 0; // first: nothing queued for the module survives
  for (let i: u32 = 0; i < conns; i++) {
    const r = rec(i);
    const st = load<u32>(r, R_STATE);
    if (st == ST_FREE) continue;
    cmdPush(st == ST_KNOCKED ? CMD_REJECT : CMD_ABORT, load<u32>(r, R_STACK), i + 1, 0, 0, 0, 0);
    ctlAdd(XC_FAULT_RESETS, 1);
    slotFree(i);
  }
  udpInUsed = 0;
  faultPending = false;
  ctlAdd(XC_FAULTS, 1);
  atomic.store<u32>(ctl, XS_DOWN, <usize>XC_STATE << 2);
}

export function extRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  udpOutUsed = 0; // last poll's UDP_SENDs have run
  for (let k: u32 = 0; k < nPrev; k++) stackResult(prev + <usize>k * DESC_SIZE);
  if (faultPending) fault();
  if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) == XS_ANSWERED) importRun();
  for (let k: u32 = 0; k < nEv; k++) stackEvent(ev + <usize>k * DESC_SIZE);
  // flush() may mark its connection dirty again (queue full): it is appended at a
  // position already read (each entry read adds at most one), for the next poll.
  const n = nDirty;
  nDirty = 0;
  for (let k: u32 = 0; k < n; k++) flush(load<u32>(dirty + (<usize>k << 2)));
  // Results alone wait for the next event (a request answered costs the module one
  // batch, not three: RECV, then SENDV's result, then the SENT after it); an urgent
  // one (refused, cut short) goes now, and the host flushes any after a short while
  // (XC_FLUSH, module-host.ts), so none waits for an event that never comes.
  ctlSet(XC_RESULTS, nRes);
  if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) != XS_IDLE) return;
  if (!(pCount != 0 || (nRes != 0 && (urgent || atomic.load<u32>(ctl, <usize>XC_FLUSH << 2) != 0)))) return;
  exportRun();
  // A module the host runs in this thread answers during the call (1: it ran the
  // batch): its commands reach the stack in this poll, as a built-in app's would,
  // with no poll in between. A module in a thread of its own answers later (0).
  // (The module's own thread sleeps on the state word: only then is a wake-up needed.)
  if (hostAppRun() == 0) {
    atomic.notify(ctl + (<usize>XC_STATE << 2), 1);
    return;
  }
  if (atomic.load<u32>(ctl, <usize>XC_STATE << 2) != XS_ANSWERED) return;
  importRun();
  const m = nDirty;
  nDirty = 0;
  for (let k: u32 = 0; k < m; k++) flush(load<u32>(dirty + (<usize>k << 2)));
}
