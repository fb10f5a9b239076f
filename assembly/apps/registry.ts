// The app registry: which app a core runs, as one row of operations chosen once at
// init (STYLE.md §10, like net/stack.ts's steps). The contract an app implements is
// api/ (abi.ts: descriptors, queues; env.ts: its region and the clock); this file
// only maps app ids (abi/table.ts APPS) to the functions that implement them.
//
// Adding an app
//  1. Pick an id in abi/table.ts (APPS; `npm run gen:abi`) and write
//     assembly/apps/<name>.ts with two functions:
//       <name>Init(): i32
//         Called once at core init. Lay out your state in R_APP (api/env.ts
//         appBase(), appBytes() = CFG_APP_BYTES); return 0, or < 0 if the region
//         is too small. Nothing may be allocated later.
//       <name>Run(prevCmds: usize, nPrev: u32, events: usize, nEvents: u32): void
//         Called once per loop iteration that has work. prevCmds holds the
//         commands you pushed in the previous iteration with their D_RET filled
//         (bytes SENDV accepted, the handle CONNECT returned, errors). READ THEM
//         FIRST: the command queue was just reset and the first cmdPush() of this
//         iteration overwrites them. Then walk the events (api/abi.ts EV_*) and
//         answer with cmdPush(CMD_*). Commands run after you return, in order.
//  2. Add its row to rowFor() below: init, run, the well-known port (0: not a
//     server), whether it answers UDP on that port, the R_APP bytes it needs, and
//     the migration hooks if its connections can move between workers.
//  3. Rules (api/abi.ts says why): the bytes of an EV_TCP_RECV stay yours until
//     CMD_RECV_DONE, which is also what re-opens the window; bytes given to
//     CMD_SENDV must not change until EV_TCP_SENT acknowledges them; a SENDV may
//     be accepted only in part (D_RET). Use the cookie (set in ACCEPT/CONNECT) to
//     find your per-connection state. No allocation, no strings: constants as
//     memory.data bytes, raw load/store.
//  EV_TCP_RECV with length 0 means the peer closed its side (FIN): the apps here
//  answer with CMD_CLOSE once their output is acknowledged.
//
// Dispatch cost: the loop calls appStep (net/stack.ts, one call_indirect per busy
// poll) = appDispatch, which calls the row's run (one more call_indirect). The
// switch this replaced was a br_table and a direct call; both are per poll, never
// per packet, and `bench instructions --mode serve` counts the same per packet
// (docs/design/app-modules.md, "Registry").
import { CFG_APP, CFG_APP_PORT, cfg } from "../mem/layout";
import { cmdBase, cmdLen, evBase, evLen, queuesReset } from "../api/abi";
import { setMigrateHooks } from "../net/tcp/migrate";
import { APP_ECHO, APP_ECHO_CLIENT, APP_LIVEPLAY, APP_MEMCACHED, APP_MEMCACHED_CLIENT } from "../abi/apps.gen";
import { APP_MIRROR, APP_NETPIPE, APP_NONE, APP_SINK, APP_SOCKPERF } from "../abi/apps.gen";
import { echoInit, echoRun, ECHO_CONN_BYTES, ECHO_UDP_SCRATCH } from "./echo";
import { echoMigrateBytes, echoExport, echoImport, echoMigrateRoom } from "./echo";
import { sinkInit, sinkRun } from "./sink";
import { mcInit, mcRun } from "./memcached";
import { CONN_BYTES as MC_CONN_BYTES } from "./mc-conn";
import { clientRegionBytes } from "./client";
import { echoClientInit, echoClientRun } from "./echo-client";
import { mcClientInit, mcClientRun } from "./memcached-client";
import { mirrorInit, mirrorRun } from "./mirror";
import { netpipeInit, netpipeRun, NETPIPE_CONN_BYTES } from "./netpipe";
import { sockperfInit, sockperfRun, SOCKPERF_CONN_BYTES } from "./sockperf";
import { liveplayInit, liveplayRun } from "./liveplay";

export { APP_NONE } from "../abi/apps.gen";

/** One app's operations. Lives in static memory (no allocation): see ROW and PROBE. */
@unmanaged class AppRow {
  init: () => i32;
  run: (prev: usize, nPrev: u32, ev: usize, nEv: u32) => void;
  /** Bytes of R_APP for `conns` connections (client apps: messages of msgBytes); 0: none. */
  regionBytes: (conns: u32, msgBytes: u32) => u64;
  /** Bytes of the record of connection `cookie`, or -1: this app's connections cannot move. */
  migrateBytes: (cookie: u32) => i32;
  /** Writes connection `cookie`'s record at out and forgets the connection; returns its bytes. */
  exportConn: (cookie: u32, out: usize) => u32;
  /** Takes a record written by exportConn on another core; returns the new cookie, or -1. */
  importConn: (inp: usize, len: u32, handle: u32) => i32;
  /** Connections the app could still take in (0xffffffff: no per-connection state). */
  migrateRoom: () => u32;
  /** Well-known port; 0: the app serves no port. */
  port: u32;
  /** The app also answers UDP on its port. */
  udp: bool;
}

// ---- defaults: an app without the operation -------------------------------------
function initNothing(): i32 {
  return 0;
}
function runNothing(_prev: usize, _nPrev: u32, _ev: usize, _nEv: u32): void {}
function noRegion(_conns: u32, _msgBytes: u32): u64 {
  return 0;
}
function notMovable(_cookie: u32): i32 {
  return -1;
}
function exportNothing(_cookie: u32, _out: usize): u32 {
  return 0;
}
function importRefused(_inp: usize, _len: u32, _handle: u32): i32 {
  return -1;
}
function noRoom(): u32 {
  return 0;
}
// An app without per-connection state moves for free (sink).
function stateless(_cookie: u32): i32 {
  return 0;
}
function importStateless(_inp: usize, _len: u32, _handle: u32): i32 {
  return 0;
}
function roomUnbounded(): u32 {
  return 0xffffffff;
}

// ---- region sizes (pure: the host asks before it plans memory) --------------------
@inline function conns1(conns: u32): u64 {
  return <u64>(conns == 0 ? 1 : conns);
}
function echoRegion(conns: u32, _msgBytes: u32): u64 {
  return <u64>ECHO_UDP_SCRATCH + conns1(conns) * <u64>ECHO_CONN_BYTES;
}
/** memcached: its connection records plus a 64 MiB store, as memcached's default -m 64. */
function mcRegion(conns: u32, _msgBytes: u32): u64 {
  return conns1(conns) * <u64>MC_CONN_BYTES + (64 << 20) + 4096;
}
function netpipeRegion(conns: u32, _msgBytes: u32): u64 {
  return conns1(conns) * <u64>NETPIPE_CONN_BYTES;
}
function sockperfRegion(conns: u32, _msgBytes: u32): u64 {
  return conns1(conns) * <u64>SOCKPERF_CONN_BYTES;
}
function clientRegion(conns: u32, msgBytes: u32): u64 {
  return <u64>clientRegionBytes(conns == 0 ? 1 : conns, msgBytes == 0 ? 64 : msgBytes);
}

function rowReset(r: AppRow): void {
  r.init = initNothing;
  r.run = runNothing;
  r.regionBytes = noRegion;
  r.migrateBytes = notMovable;
  r.exportConn = exportNothing;
  r.importConn = importRefused;
  r.migrateRoom = noRoom;
  r.port = 0;
  r.udp = false;
}

/** Fills r with app `id`'s operations; false for an unknown id (r then does nothing). */
function rowFor(id: u32, r: AppRow): bool {
  rowReset(r);
  switch (id) {
    case APP_NONE:
      return true;
    case APP_ECHO:
      r.init = echoInit;
      r.run = echoRun;
      r.regionBytes = echoRegion;
      r.migrateBytes = echoMigrateBytes;
      r.exportConn = echoExport;
      r.importConn = echoImport;
      r.migrateRoom = echoMigrateRoom;
      r.port = 7;
      r.udp = true;
      return true;
    case APP_SINK:
      r.init = sinkInit;
      r.run = sinkRun;
      r.migrateBytes = stateless;
      r.importConn = importStateless;
      r.migrateRoom = roomUnbounded;
      r.port = 9;
      return true;
    case APP_MEMCACHED:
      r.init = mcInit;
      r.run = mcRun;
      r.regionBytes = mcRegion;
      r.port = 11211;
      return true;
    case APP_NETPIPE:
      r.init = netpipeInit;
      r.run = netpipeRun;
      r.regionBytes = netpipeRegion;
      r.port = 5002; // NPtcp's DEFPORT
      return true;
    case APP_SOCKPERF:
      r.init = sockperfInit;
      r.run = sockperfRun;
      r.regionBytes = sockperfRegion;
      r.port = 11111; // sockperf's DEFAULT_PORT
      r.udp = true;
      return true;
    case APP_ECHO_CLIENT:
      r.init = echoClientInit;
      r.run = echoClientRun;
      r.regionBytes = clientRegion;
      return true;
    case APP_MEMCACHED_CLIENT:
      r.init = mcClientInit;
      r.run = mcClientRun;
      r.regionBytes = clientRegion;
      return true;
    case APP_MIRROR:
      r.init = mirrorInit;
      r.run = mirrorRun;
      return true;
    case APP_LIVEPLAY:
      r.init = liveplayInit;
      r.run = liveplayRun;
      return true;
  }
  return false;
}

// The selected app's row, and a scratch row for appRegionBytes (which may ask about
// any app without changing the selection).
const ROW = changetype<AppRow>(memory.data(offsetof<AppRow>(), 8));
const PROBE = changetype<AppRow>(memory.data(offsetof<AppRow>(), 8));
let appId: u32 = APP_NONE;

/** Selects and initialises the app named by CFG_APP. Returns 0, or < 0 (unknown app, R_APP too small). */
export function appInit(): i32 {
  appId = cfg(CFG_APP);
  if (!rowFor(appId, ROW)) {
    appId = APP_NONE;
    return -1;
  }
  setMigrateHooks(ROW.migrateBytes, ROW.exportConn, ROW.importConn, ROW.migrateRoom);
  return ROW.init();
}

/**
 * One application step; the loop calls it once per busy iteration after the RX batch.
 * Order: the app sees the previous commands' results, the command queue is reset,
 * then the app handles this iteration's events and pushes new commands. (The reset
 * only zeroes the counts, so the old descriptors are still readable until the app's
 * first cmdPush: each app reads its results before pushing.)
 */
export function appDispatch(): void {
  const nPrev = cmdLen();
  const nEv = evLen();
  queuesReset();
  ROW.run(cmdBase(), nPrev, evBase(), nEv);
}

/** R_APP bytes (CFG_APP_BYTES) app `app` needs for `conns` connections; 0 if none or too many. */
export function appRegionBytes(app: u32, conns: u32, msgBytes: u32): u32 {
  if (!rowFor(app, PROBE)) return 0;
  const b = PROBE.regionBytes(conns, msgBytes);
  return b > 0xfff00000 ? 0 : <u32>b;
}

export function appSelected(): u32 {
  return appId;
}

/** The port a server app listens on: CFG_APP_PORT, or the app's well-known default. */
export function appListenPort(): u32 {
  const p = cfg(CFG_APP_PORT);
  if (p != 0) return p;
  return ROW.port != 0 ? ROW.port : 7;
}

/** The app serves a port (core init listens on appListenPort()). */
export function appIsServer(): bool {
  return ROW.port != 0;
}

/** The app also answers UDP on its port. */
export function appServesUdp(): bool {
  return ROW.udp;
}
