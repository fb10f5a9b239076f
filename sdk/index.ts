// The SDK for app modules (docs/design/app-modules.md): an AssemblyScript server app
// built as a WASM module of its own, run by the host in a worker thread, talking to
// the core's proxy app through a mailbox copied in and out once per batch.
//
// An app's entry file:
//   import { register, ... } from "../../sdk";
//   export * from "../../sdk/exports";          // the ixapp_* functions the host calls
//   function init(args: usize, len: u32): i32 { ... }                    // options string
//   function run(prev: usize, nPrev: u32, ev: usize, nEv: u32): void { ... }
//   register(init, run, 8080, 0);                 // port; flags: IXAPP_UDP to serve UDP too
// Build: `ixwasm app build DIR` (asc DIR/app.ts --runtime stub -O3 --exportRuntime=false ...).
//
// The contract is the core's (assembly/api/abi.ts): the same descriptors, events and
// commands, and `run` has the built-in apps' shape: the previous commands' results
// first (D_RET filled), then this batch's events. What differs (the bytes are copies):
//  - RECV bytes are valid during this run only: copy what you keep. CMD_RECV_DONE
//    still re-opens the window, in stream order.
//  - send()/sendv() copy into the outbox at once; the bytes may be reused at once.
//    D_RET of the SENDV is the bytes accepted (may be fewer: offer the rest after
//    EV_TCP_SENT).
//  - handles are the proxy's (checked on every command); CMD_CONNECT is not offered.
// The numbers come from the core's ABI table (generated), never written here again.
export * from "../assembly/abi/api.gen";
import {
  AM_ALIGN, AM_OUT_CMDS_MAX, AM_OUT_DATA_MAX, AM_IN_DATA, AM_IN_EVENTS, AM_IN_HDR, AM_IN_RESULTS, AM_IN_VERSION, AM_OUT_CMDS, AM_OUT_DATA, AM_OUT_HDR,
  AM_UDP_ADDR, AM_VERSION, CMD_SENDV, CMD_UDP_SEND, D_A, D_B, D_C, D_COOKIE, D_D, D_FLAGS, D_HANDLE, D_KIND, D_RET,
  DESC_SIZE, EV_TCP_KNOCK, EV_TCP_RECV, EV_UDP_RECV, RET_AGAIN, SPAN_SIZE,
} from "../assembly/abi/api.gen";

/** flags of register(): also serve UDP on the port. */
export const IXAPP_UDP: u32 = 1;
/** Commands one batch may carry. */
export const OUT_CMDS: u32 = AM_OUT_CMDS_MAX;
/** Bytes of send data one batch may carry. */
export const OUT_DATA: usize = <usize>AM_OUT_DATA_MAX;

function initNone(_args: usize, _len: u32): i32 {
  return 0;
}
function runNone(_prev: usize, _nPrev: u32, _ev: usize, _nEv: u32): void {}

let appInit: (args: usize, len: u32) => i32 = initNone;
let appRun: (prev: usize, nPrev: u32, ev: usize, nEv: u32) => void = runNone;
let appPort: u32 = 0;
let appFlags: u32 = 0;

let inbox: usize = 0;
let inboxBytes: usize = 0;
let outbox: usize = 0;
let nCmds: u32 = 0;
let dataUsed: usize = 0;

/** Names the app's init and run, and the port it serves (the host's --app-port overrides it). */
export function register(
  init: (args: usize, len: u32) => i32,
  run: (prev: usize, nPrev: u32, ev: usize, nEv: u32) => void,
  port: u32,
  flags: u32,
): void {
  appInit = init;
  appRun = run;
  appPort = port;
  appFlags = flags;
}

@inline function cmdAt(i: u32): usize {
  return outbox + <usize>AM_OUT_HDR + <usize>i * DESC_SIZE;
}
@inline function dataBase(): usize {
  return outbox + <usize>AM_OUT_HDR + <usize>OUT_CMDS * DESC_SIZE;
}

/** Commands pushed in this run so far. */
export function cmdCount(): u32 {
  return nCmds;
}
/** The i-th command pushed in this run (i < cmdCount()), e.g. to read what a library pushed. */
export function cmdPushed(i: u32): usize {
  return cmdAt(i);
}

/** Appends a command without bytes (ACCEPT, REJECT, RECV_DONE, CLOSE, ABORT, TIMER); 0 if the outbox is full. */
export function cmdPush(kind: u16, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32): usize {
  if (nCmds >= OUT_CMDS) return 0;
  const p = cmdAt(nCmds++);
  store<u16>(p, kind, D_KIND);
  store<u16>(p, 0, D_FLAGS);
  store<u32>(p, handle, D_HANDLE);
  store<u32>(p, cookie, D_COOKIE);
  store<u32>(p, a, D_A);
  store<u32>(p, b, D_B);
  store<u32>(p, c, D_C);
  store<u32>(p, d, D_D);
  store<i32>(p, RET_AGAIN, D_RET);
  return p;
}

/** Room for `len` bytes in the outbox's data area: their offset, or -1. */
function dataTake(len: usize): isize {
  const off = dataUsed;
  const end = (off + len + <usize>AM_ALIGN - 1) & ~(<usize>AM_ALIGN - 1);
  if (end > OUT_DATA) return -1;
  dataUsed = end;
  return <isize>off;
}

/** Sends len bytes at ptr (copied now); flags: SENDV_EOR. Returns the command (read D_RET next run), or 0 if full. */
export function send(handle: u32, cookie: u32, ptr: usize, len: u32, flags: u16 = 0): usize {
  if (nCmds >= OUT_CMDS) return 0;
  const off = dataTake(len);
  if (off < 0) return 0;
  memory.copy(dataBase() + <usize>off, ptr, len);
  const c = cmdPush(CMD_SENDV, handle, cookie, <u32>off, len, 0, 0);
  store<u16>(c, flags, D_FLAGS);
  return c;
}

/** Sends n spans {ptr u32, len u32} at iov as one SENDV (gathered, copied now). */
export function sendv(handle: u32, cookie: u32, iov: usize, n: u32, flags: u16 = 0): usize {
  let total: usize = 0;
  for (let i: u32 = 0; i < n; i++) total += <usize>load<u32>(iov + <usize>i * SPAN_SIZE, 4);
  if (nCmds >= OUT_CMDS) return 0;
  const off = dataTake(total);
  if (off < 0) return 0;
  let q = dataBase() + <usize>off;
  for (let i: u32 = 0; i < n; i++) {
    const s = iov + <usize>i * SPAN_SIZE;
    const l = <usize>load<u32>(s, 4);
    memory.copy(q, <usize>load<u32>(s), l);
    q += l;
  }
  const c = cmdPush(CMD_SENDV, handle, cookie, <u32>off, <u32>total, 0, 0);
  store<u16>(c, flags, D_FLAGS);
  return c;
}

/** Answers the datagram whose address record is at addr (an EV_UDP_RECV's c) with len bytes at ptr. */
export function udpReply(ptr: usize, len: u32, addr: usize): usize {
  if (nCmds >= OUT_CMDS) return 0;
  const a = dataTake(<usize>AM_UDP_ADDR);
  if (a < 0) return 0;
  const off = dataTake(len);
  if (off < 0) {
    dataUsed = <usize>a;
    return 0;
  }
  memory.copy(dataBase() + <usize>a, addr, <usize>AM_UDP_ADDR);
  memory.copy(dataBase() + <usize>off, ptr, len);
  return cmdPush(CMD_UDP_SEND, 0, 0, <u32>off, len, <u32>a, 0);
}

// ---- what the host calls (sdk/exports.ts re-exports these under their ixapp_ names) ----
export function sdkVersion(): u32 {
  return AM_VERSION;
}

export function sdkInbox(bytes: u32): usize {
  if (inbox != 0) return <usize>bytes <= inboxBytes ? inbox : 0;
  inbox = heap.alloc(<usize>bytes);
  inboxBytes = <usize>bytes;
  outbox = heap.alloc(<usize>AM_OUT_HDR + <usize>OUT_CMDS * DESC_SIZE + OUT_DATA);
  return inbox;
}

export function sdkInit(argLen: u32): i32 {
  if (inbox == 0 || <usize>argLen > inboxBytes) return -1;
  return appInit(inbox, argLen);
}

export function sdkPort(): u32 {
  return appPort;
}
export function sdkFlags(): u32 {
  return appFlags;
}
export function sdkOutbox(): usize {
  return outbox;
}

/** One batch: turns the inbox's offsets into addresses, runs the app, closes the outbox. */
export function sdkRun(inLen: u32): u32 {
  nCmds = 0;
  dataUsed = 0;
  if (inbox == 0 || <usize>inLen > inboxBytes || inLen < AM_IN_HDR) return finish();
  if (load<u32>(inbox, AM_IN_VERSION) != AM_VERSION) return finish();
  const nRes = load<u32>(inbox, AM_IN_RESULTS);
  const nEv = load<u32>(inbox, AM_IN_EVENTS);
  const descs = <u64>nRes + <u64>nEv;
  if (<u64>AM_IN_HDR + descs * <u64>DESC_SIZE + <u64>load<u32>(inbox, AM_IN_DATA) > <u64>inLen) return finish();
  const res = inbox + <usize>AM_IN_HDR;
  const ev = res + <usize>nRes * DESC_SIZE;
  const data = ev + <usize>nEv * DESC_SIZE;
  for (let i: u32 = 0; i < nEv; i++) {
    const e = ev + <usize>i * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    if (kind == EV_TCP_RECV || kind == EV_UDP_RECV) store<u32>(e, <u32>(data + <usize>load<u32>(e, D_A)), D_A);
    if (kind == EV_UDP_RECV || kind == EV_TCP_KNOCK) store<u32>(e, <u32>(data + <usize>load<u32>(e, D_C)), D_C);
  }
  appRun(res, nRes, ev, nEv);
  return finish();
}

function finish(): u32 {
  store<u32>(outbox, nCmds, AM_OUT_CMDS);
  store<u32>(outbox, <u32>dataUsed, AM_OUT_DATA);
  // Commands and data are contiguous in the outbox only when all OUT_CMDS slots are
  // used; move the data up behind the last command so one copy takes the whole batch.
  const dst = cmdAt(nCmds);
  if (dst != dataBase() && dataUsed != 0) memory.copy(dst, dataBase(), dataUsed);
  return AM_OUT_HDR + nCmds * <u32>DESC_SIZE + <u32>dataUsed;
}
