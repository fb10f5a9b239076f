// The application interface: how an app plugs into the run-to-completion loop.
//
// Adding an app
//  1. Pick an id below (APP_*) and write assembly/apps/<name>.ts with two functions:
//       <name>Init(): i32
//         Called once by appInit() at core init. Lay out your state in R_APP
//         (regionOffset(R_APP), regionBytes(R_APP) = CFG_APP_BYTES); return 0, or
//         < 0 if the region is too small. Nothing may be allocated later.
//       <name>Run(prevCmds: usize, nPrev: u32, events: usize, nEvents: u32): void
//         Called once per loop iteration by appDispatch(). prevCmds holds the
//         commands you pushed in the previous iteration with their D_RET filled
//         (bytes SENDV accepted, the handle CONNECT returned, errors). READ THEM
//         FIRST: the command queue was just reset and the first cmdPush() of this
//         iteration overwrites them. Then walk the events (api/abi.ts EV_*) and
//         answer with cmdPush(CMD_*). Commands run after you return, in order.
//  2. Add a case to appInit() and appDispatch() below.
//  3. Rules (api/abi.ts says why): the bytes of an EV_TCP_RECV stay yours until
//     CMD_RECV_DONE, which is also what re-opens the window; bytes given to
//     CMD_SENDV must not change until EV_TCP_SENT acknowledges them; a SENDV may
//     be accepted only in part (D_RET). Use the cookie (set in ACCEPT/CONNECT) to
//     find your per-connection state. No allocation, no strings: constants as
//     memory.data bytes, raw load/store.
//  EV_TCP_RECV with length 0 means the peer closed its side (FIN): the apps here
//  answer with CMD_CLOSE once their output is acknowledged.
import { R_APP, CFG_APP, CFG_APP_PORT, cfg, regionBytes, regionOffset } from "../mem/layout";
import { cmdBase, cmdLen, evBase, evLen, evPush, queuesReset } from "./abi";
import { PKT_NOW_US, pkt } from "../net/pkt";
import { echoInit, echoRun, ECHO_CONN_BYTES, ECHO_UDP_SCRATCH } from "../apps/echo";
import { sinkInit, sinkRun } from "../apps/sink";
import { mcInit, mcRun } from "../apps/memcached";
import { CONN_BYTES as MC_CONN_BYTES } from "../apps/mc-conn";
import { clientRegionBytes } from "../apps/client";
import { echoClientInit, echoClientRun } from "../apps/echo-client";
import { mcClientInit, mcClientRun } from "../apps/memcached-client";
import { mirrorInit, mirrorRun } from "../apps/mirror";
import { netpipeInit, netpipeRun, NETPIPE_CONN_BYTES } from "../apps/netpipe";
import { sockperfInit, sockperfRun, SOCKPERF_CONN_BYTES } from "../apps/sockperf";
import { liveplayInit, liveplayRun } from "../apps/liveplay";

// App ids: from the ABI table (abi/table.ts), which the host's APP_ID comes from too.
export * from "../abi/apps.gen";
import { APP_ECHO, APP_ECHO_CLIENT, APP_LIVEPLAY, APP_MEMCACHED, APP_MEMCACHED_CLIENT } from "../abi/apps.gen";
import { APP_MIRROR, APP_NETPIPE, APP_NONE, APP_SINK, APP_SOCKPERF } from "../abi/apps.gen";

// Chosen once in appInit(); appDispatch() switches on it once per iteration.
let appId: u32 = APP_NONE;
let appIters: u64 = 0;

/** Selects and initialises the app named by CFG_APP. Returns 0, or < 0 (unknown app, R_APP too small). */
export function appInit(): i32 {
  appId = cfg(CFG_APP);
  appIters = 0;
  switch (appId) {
    case APP_NONE:
      return 0;
    case APP_ECHO:
      return echoInit();
    case APP_SINK:
      return sinkInit();
    case APP_MEMCACHED:
      return mcInit();
    case APP_ECHO_CLIENT:
      return echoClientInit();
    case APP_MEMCACHED_CLIENT:
      return mcClientInit();
    case APP_MIRROR:
      return mirrorInit();
    case APP_NETPIPE:
      return netpipeInit();
    case APP_SOCKPERF:
      return sockperfInit();
    case APP_LIVEPLAY:
      return liveplayInit();
  }
  appId = APP_NONE;
  return -1;
}

/**
 * One application step; the loop calls it once per iteration after the RX batch.
 * Order: the app sees the previous commands' results, the command queue is reset,
 * then the app handles this iteration's events and pushes new commands. (The reset
 * only zeroes the counts, so the old descriptors are still readable until the app's
 * first cmdPush: each app reads its results before pushing.)
 */
export function appDispatch(): void {
  const nPrev = cmdLen();
  const nEv = evLen();
  queuesReset();
  appIters++;
  const c = cmdBase();
  const e = evBase();
  switch (appId) {
    case APP_ECHO:
      echoRun(c, nPrev, e, nEv);
      break;
    case APP_SINK:
      sinkRun(c, nPrev, e, nEv);
      break;
    case APP_MEMCACHED:
      mcRun(c, nPrev, e, nEv);
      break;
    case APP_ECHO_CLIENT:
      echoClientRun(c, nPrev, e, nEv);
      break;
    case APP_MEMCACHED_CLIENT:
      mcClientRun(c, nPrev, e, nEv);
      break;
    case APP_MIRROR:
      mirrorRun(c, nPrev, e, nEv);
      break;
    case APP_NETPIPE:
      netpipeRun(c, nPrev, e, nEv);
      break;
    case APP_SOCKPERF:
      sockperfRun(c, nPrev, e, nEv);
      break;
    case APP_LIVEPLAY:
      liveplayRun(c, nPrev, e, nEv);
      break;
  }
}

/**
 * Bytes of R_APP (CFG_APP_BYTES) an app needs for `conns` connections (client apps:
 * messages of msgBytes). memcached gets its connection records plus a 64 MiB store,
 * as memcached's default -m 64. Pure: the host may call it before planning memory.
 */
export function appRegionBytes(app: u32, conns: u32, msgBytes: u32): u32 {
  const n = <u64>(conns == 0 ? 1 : conns);
  let b: u64 = 0;
  switch (app) {
    case APP_ECHO:
      b = <u64>ECHO_UDP_SCRATCH + n * <u64>ECHO_CONN_BYTES;
      break;
    case APP_MEMCACHED:
      b = n * <u64>MC_CONN_BYTES + (64 << 20) + 4096;
      break;
    case APP_NETPIPE:
      b = n * <u64>NETPIPE_CONN_BYTES;
      break;
    case APP_SOCKPERF:
      b = n * <u64>SOCKPERF_CONN_BYTES;
      break;
    case APP_ECHO_CLIENT:
    case APP_MEMCACHED_CLIENT:
      b = <u64>clientRegionBytes(conns == 0 ? 1 : conns, msgBytes == 0 ? 64 : msgBytes);
      break;
  }
  return b > 0xfff00000 ? 0 : <u32>b;
}

export function appSelected(): u32 {
  return appId;
}

/** The port a server app listens on: CFG_APP_PORT, or the app's well-known default. */
export function appListenPort(): u32 {
  const p = cfg(CFG_APP_PORT);
  if (p != 0) return p;
  if (appId == APP_MEMCACHED) return 11211;
  if (appId == APP_SINK) return 9;
  if (appId == APP_NETPIPE) return 5002; // NPtcp's DEFPORT
  if (appId == APP_SOCKPERF) return 11111; // sockperf's DEFAULT_PORT
  return 7;
}

/** The app serves a port (core init listens on appListenPort()). */
export function appIsServer(): bool {
  return appId == APP_ECHO || appId == APP_SINK || appId == APP_MEMCACHED || appId == APP_NETPIPE || appId == APP_SOCKPERF;
}

/** The app also answers UDP on its port. */
export function appServesUdp(): bool {
  return appId == APP_ECHO || appId == APP_SOCKPERF;
}

// ---- helpers for apps -----------------------------------------------------------
@inline export function appBase(): usize {
  return regionOffset(R_APP);
}
@inline export function appBytes(): usize {
  return regionBytes(R_APP);
}
@inline export function appNowUs(): u64 {
  return load<u64>(pkt() + PKT_NOW_US);
}

// ---- test hooks: drive an app without the stack -----------------------------------
/** Appends an event as the stack would (returns 0 if the queue is full). */
export function appTestEvent(kind: u32, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32): usize {
  return evPush(<u16>kind, handle, cookie, a, b, c, d);
}
/** Sets the loop clock (microseconds; f64 so JS can pass a plain number). */
export function appTestClock(us: f64): void {
  store<u64>(pkt() + PKT_NOW_US, <u64>us);
}
/** Commands the app pushed in the last appDispatch(). */
export function appCmdCount(): u32 {
  return cmdLen();
}

// ---- flow-group migration hooks (net/tcp/migrate.ts) -------------------------------
// Moving a connection moves the app's record for it: the app writes it out
// (appExport, then forgets the connection) and another core's app takes it in
// (appImport: a new cookie, the new handle; pointers into the connection's
// received bytes are translated with migrateXlate). Apps without a hook are
// not movable: their groups stay where they are.
import { echoMigrateBytes, echoExport, echoImport, echoMigrateRoom } from "../apps/echo";

/** Bytes of the app's record for connection `cookie`, or -1 when this app's connections cannot move. */
export function appMigrateBytes(cookie: u32): i32 {
  if (appId == APP_ECHO) return echoMigrateBytes(cookie);
  if (appId == APP_SINK) return 0; // no per-connection state
  return -1;
}

/** Writes connection `cookie`'s record at out and forgets the connection; returns its bytes. */
export function appExport(cookie: u32, out: usize): u32 {
  if (appId == APP_ECHO) return echoExport(cookie, out);
  return 0;
}

/** Takes a record written by appExport on another core; returns the new cookie, or -1. */
export function appImport(inp: usize, len: u32, handle: u32): i32 {
  if (appId == APP_ECHO) return echoImport(inp, len, handle);
  if (appId == APP_SINK) return 0;
  return -1;
}

/** Connections the app could still take in (0xffffffff: no per-connection state). */
export function appMigrateRoom(): u32 {
  if (appId == APP_ECHO) return echoMigrateRoom();
  if (appId == APP_SINK) return 0xffffffff;
  return 0;
}
