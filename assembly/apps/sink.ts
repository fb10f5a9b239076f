// sink (discard): accepts every connection, gives received bytes back at once
// (CMD_RECV_DONE, so the window never closes), counts them, and closes when the
// peer does. Needs no per-connection state: the cookie is unused.
import {
  D_B, D_HANDLE, D_KIND, DESC_SIZE,
  EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_DEAD, EV_UDP_RECV, CMD_ACCEPT, CMD_RECV_DONE, CMD_CLOSE, cmdPush,
} from "../api/abi";

let cConns: u64 = 0;
let cClosed: u64 = 0;
let cBytes: u64 = 0;
let cSegs: u64 = 0;
let cUdp: u64 = 0;
let cUdpBytes: u64 = 0;

export function sinkInit(): i32 {
  cConns = cClosed = cBytes = cSegs = cUdp = cUdpBytes = 0;
  return 0;
}

export function sinkRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  // No command result changes what a sink does (a failed ACCEPT ends in DEAD or nothing).
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const h = load<u32>(e, D_HANDLE);
    if (kind == EV_TCP_RECV) {
      const len = load<u32>(e, D_B);
      if (len == 0) {
        cmdPush(CMD_CLOSE, h, 0, 0, 0, 0, 0);
        continue;
      }
      cBytes += len;
      cSegs++;
      cmdPush(CMD_RECV_DONE, h, 0, len, 0, 0, 0);
    } else if (kind == EV_TCP_KNOCK) {
      cConns++;
      cmdPush(CMD_ACCEPT, h, 0, 0, 0, 0, 0);
    } else if (kind == EV_TCP_DEAD) {
      cClosed++;
    } else if (kind == EV_UDP_RECV) {
      cUdp++;
      cUdpBytes += load<u32>(e, D_B);
    }
  }
}

/** 0 connections accepted, 1 closed, 2 TCP bytes, 3 TCP segments, 4 UDP datagrams, 5 UDP bytes. */
export function sinkStat(i: i32): u64 {
  switch (i) {
    case 0: return cConns;
    case 1: return cClosed;
    case 2: return cBytes;
    case 3: return cSegs;
    case 4: return cUdp;
    case 5: return cUdpBytes;
  }
  return 0;
}
