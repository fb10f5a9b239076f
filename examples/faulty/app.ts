// A faulty app module, for the containment tests (test/apps/module-faults.test.ts) and to
// watch containment by hand (`--app-module examples/faulty/app.wasm --app-options mode=2`):
// echo, until a connection from the client whose IPv4 address ends in `octet`
// (or, with `rport`, the connection from that remote port, whatever its address)
// sends its first bytes; then, by `mode`:
//   1 trap     unreachable
//   2 loop     spins forever (the watchdog's case)
//   3 hog      allocates until the memory limit (each MiB touched)
//   4 opcodes  answers with 100 commands of an unknown kind
//   5 handles  answers with 100 CLOSEs of handles the proxy never gave out
//   6 lengths  answers with 100 SENDVs whose bytes lie past the outbox
// Clients from other addresses are echoed throughout (a restarted instance serves them).
import { CMD_CLOSE, CMD_SENDV, D_B, D_C, D_COOKIE, D_KIND, DESC_SIZE, EV_TCP_KNOCK, EV_TCP_RECV, cmdPush, register } from "../../sdk";
import { argU32 } from "../../sdk/args";
import { echoInit, echoRun } from "../echo/echo";
export * from "../../sdk/exports";

let mode: u32 = 0;
let octet: u32 = 0;
let rport: u32 = 0;
const BAD = memory.data(4096 * 4, 8); // echo cookies of connections from the bad client (cookie < 4096)

function init(args: usize, len: u32): i32 {
  mode = argU32(args, len, "mode", 0);
  octet = argU32(args, len, "octet", 1);
  rport = argU32(args, len, "rport", 0);
  memory.fill(BAD, 0, 4096 * 4);
  return echoInit(args, len);
}

/** A KNOCK from the bad client: its remote port (b) with `rport`, else its address's last byte (c: the address). */
function isBad(e: usize): bool {
  if (rport != 0) return load<u32>(e, D_B) == rport;
  return <u32>load<u8>(<usize>load<u32>(e, D_C) + 3) == octet;
}

function misbehave(h: u32): void {
  if (mode == 1) unreachable();
  if (mode == 2) {
    let x: u32 = 0;
    while (true) store<u32>(BAD, ++x); // never returns; the store keeps the loop from being optimised away
  }
  if (mode == 3) {
    while (true) {
      const p = heap.alloc(1 << 20);
      store<u8>(p, 1);
      store<u8>(p + (1 << 19), 1);
    }
  }
  for (let i: u32 = 0; i < 100; i++) {
    if (mode == 4) cmdPush(999, 0, 0, 0, 0, 0, 0);
    else if (mode == 5) cmdPush(CMD_CLOSE, 0xfffff0 + (i & 15), 0, 0, 0, 0, 0);
    else if (mode == 6) cmdPush(CMD_SENDV, h, 0, 0x7ffffff0, 1 << 20, 0, 0); // a live handle, bytes past the outbox
  }
}

function run(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  let trigger = false;
  let h: u32 = 0;
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    // KNOCK: c points at the remote address (IPv4: its first 4 bytes, network order)
    if (kind == EV_TCP_KNOCK && isBad(e)) {
      // echo will accept it with the next free cookie; remember the address instead by marking after run
      store<u32>(BAD + 4 * 4095, 1);
    }
    if (kind == EV_TCP_RECV) {
      const c = load<u32>(e, D_COOKIE);
      if (c < 4095 && load<u32>(BAD + (<usize>c << 2)) != 0) {
        trigger = true;
        h = load<u32>(e, D_HANDLE);
      }
    }
  }
  if (trigger && mode != 0) return misbehave(h);
  // which cookies echo hands out to the bad client's connections: its ACCEPTs after this run
  const marked = load<u32>(BAD + 4 * 4095) != 0;
  echoRun(prev, nPrev, ev, nEv);
  if (marked) markAccepts(ev, nEv);
}

import { CMD_ACCEPT, D_HANDLE, cmdCount, cmdPushed } from "../../sdk";

/** Marks the cookies of this run's ACCEPTs whose KNOCK came from the bad client. */
function markAccepts(ev: usize, nEv: u32): void {
  const n = cmdCount();
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    if (load<u16>(e, D_KIND) != EV_TCP_KNOCK || !isBad(e)) continue;
    const h = load<u32>(e, D_HANDLE);
    for (let j: u32 = 0; j < n; j++) {
      const c = cmdPushed(j);
      if (load<u16>(c, D_KIND) == CMD_ACCEPT && load<u32>(c, D_HANDLE) == h) {
        const cookie = load<u32>(c, D_COOKIE);
        if (cookie < 4095) store<u32>(BAD + (<usize>cookie << 2), 1);
      }
    }
  }
  store<u32>(BAD + 4 * 4095, 0);
}

register(init, run, 7, 0);
