// The libix-style boundary between the stack (net/) and the applications
// (apps/): one fixed 32-byte descriptor shape carries events (stack -> app) and
// commands (app -> stack), as IX's {sysnr, args} does (inc/ix/syscall.h). Apps
// never touch headers; they see handles, cookies and spans of bytes in mbufs.
//
// Descriptor (32 bytes, little-endian):
//  off size field
//   0   2   kind     EV_* or CMD_*
//   2   2   flags    (reserved, 0)
//   4   4   handle   connection handle: TCB slot | generation << 24 (checked on every command)
//   8   4   cookie   the app's own word for this connection (given in ACCEPT / CONNECT)
//  12   4   a        arguments, per kind (below)
//  16   4   b
//  20   4   c
//  24   4   d
//  28   4   ret      result written by the stack when it executes a command (RET_*, or a count)
//
// Events (the stack appends them while processing a batch; the app reads them all
// in the same iteration):
//   EV_TCP_KNOCK      handle; a = local port, b = remote port, c = ptr to 16-byte remote address, d = family (4|6)
//   EV_TCP_CONNECTED  handle, cookie; a = RET_OK or an error (then the handle is dead)
//   EV_TCP_RECV       handle, cookie; a = ptr to data (inside an mbuf), b = length
//                     The bytes stay valid until the app returns them with CMD_RECV_DONE;
//                     only RECV_DONE re-opens the receive window (flow control is the app's).
//   EV_TCP_SENT       handle, cookie; a = bytes newly acknowledged, b = bytes the send window
//                     can take now. Spans given to SENDV up to that point may be reused.
//   EV_TCP_DEAD       handle, cookie; a = DEAD_* reason. The handle is invalid afterwards.
//   EV_UDP_RECV       a = ptr to data, b = length, c = ptr to a 40-byte flow key of the datagram
//                     (flow/key.ts layout: family, proto, ports, src, dst), d = mbuf handle
//                     (valid for this iteration only: copy what must be kept)
//   EV_TIMER          cookie; a = timer id given in CMD_TIMER
//
// Commands (the app appends them; the stack executes them in order after the app
// returns, in the same iteration):
//   CMD_ACCEPT        handle (from KNOCK), cookie
//   CMD_REJECT        handle (an RST is sent)
//   CMD_CONNECT       cookie; a = family, b = ptr to 16-byte remote address, c = remote port.
//                     ret = the new handle (or an error < 0); EV_TCP_CONNECTED follows.
//                     The local port is chosen so the Toeplitz hash of the reply tuple maps
//                     to this worker's RETA entries.
//   CMD_SENDV         handle; a = ptr to an array of spans {ptr u32, len u32}, b = span count.
//                     ret = bytes accepted (flow control: may be less than offered; offer the
//                     rest after the next EV_TCP_SENT). Zero-copy: the stack keeps pointers to
//                     the app's bytes until they are acknowledged (EV_TCP_SENT), as IX does.
//                     flags SENDV_EOR: these bytes end a record (Linux's MSG_EOR): no segment
//                     carries bytes of this SENDV and of a later one. Without it, segments are
//                     filled up to the MSS from whatever is queued.
//   CMD_RECV_DONE     handle; a = bytes consumed (in order of RECV events)
//   CMD_CLOSE         handle (FIN after queued data)
//   CMD_ABORT         handle (RST now)
//   CMD_UDP_SEND      a = ptr to data, b = length, c = ptr to a flow key of the datagram to
//                     answer (the stack swaps it), or of the destination (d = 1: key is as sent)
//   CMD_TIMER         cookie; a = timer id, b = delay in microseconds
import { R_CMDQ, R_EVQ, CFG_EVQ_SLOTS, cfg, regionOffset } from "../mem/layout";

// The numbers (descriptor fields, kinds, flags, results, DEAD reasons) come from
// the ABI table, abi/table.ts, as the host's do (host/core/abi.gen.ts).
export * from "../abi/api.gen";
import { D_A, D_B, D_C, D_COOKIE, D_D, D_FLAGS, D_HANDLE, D_KIND, D_RET, DESC_SIZE, RET_AGAIN } from "../abi/api.gen";

export function queueBytes(slots: u32): usize {
  return <usize>slots * DESC_SIZE;
}

// ---- queues: the stack appends events, the app appends commands ---------------
let evCount: u32 = 0;
let cmdCount: u32 = 0;
let evDropped: u32 = 0;

@inline export function evBase(): usize {
  return regionOffset(R_EVQ);
}
@inline export function cmdBase(): usize {
  return regionOffset(R_CMDQ);
}
export function evLen(): u32 {
  return evCount;
}
export function cmdLen(): u32 {
  return cmdCount;
}
export function evDroppedCount(): u32 {
  return evDropped;
}
export function queuesReset(): void {
  evCount = 0;
  cmdCount = 0;
}
/** After the app has read the events: events pushed later in the iteration wait for the next app run. */
export function evReset(): void {
  evCount = 0;
}
/** Right before the app runs, after it has seen the previous commands' results. */
export function cmdReset(): void {
  cmdCount = 0;
}

/** Writes one descriptor at slot `i` of the queue at `base`. */
@inline function descWrite(base: usize, i: u32, kind: u16, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32, ret: i32): usize {
  const p = base + <usize>i * DESC_SIZE;
  store<u16>(p, kind, D_KIND);
  store<u16>(p, 0, D_FLAGS);
  store<u32>(p, handle, D_HANDLE);
  store<u32>(p, cookie, D_COOKIE);
  store<u32>(p, a, D_A);
  store<u32>(p, b, D_B);
  store<u32>(p, c, D_C);
  store<u32>(p, d, D_D);
  store<i32>(p, ret, D_RET);
  return p;
}

/** Appends an event; returns its descriptor pointer, or 0 if the queue is full (counted). */
export function evPush(kind: u16, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32): usize {
  if (evCount >= cfg(CFG_EVQ_SLOTS)) {
    evDropped++;
    return 0;
  }
  return descWrite(evBase(), evCount++, kind, handle, cookie, a, b, c, d, 0);
}

/** Appends a command; returns its descriptor pointer (read D_RET after the stack ran it), or 0 if full. */
export function cmdPush(kind: u16, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32): usize {
  if (cmdCount >= cfg(CFG_EVQ_SLOTS)) return 0;
  return descWrite(cmdBase(), cmdCount++, kind, handle, cookie, a, b, c, d, RET_AGAIN);
}
