// The worker thread an app module runs in (docs/design/app-modules.md). It holds the
// module's instance (its own memory, limited to --app-memory) and a view of the
// core's memory, and moves one batch at a time: when the core's proxy marks a batch
// XS_EXPORTED it copies the batch into the module's inbox, calls ixapp_run once,
// copies the outbox into the proxy's import area (clamped to its size; the proxy
// validates the rest) and marks it XS_ANSWERED. Nothing here waits on the main
// thread's event loop: everything crosses through shared memory, so a core loop that
// never yields (tap, pair) still gets its answers.
//
// A trap, an abort or a bad outbox address ends the worker with the fault written
// into the module control words (MC_*); an endless loop is the main thread's to stop
// (module-host.ts, the watchdog).
import { workerData } from "node:worker_threads";
import { instantiateModule, initModule, type ModuleExports } from "./module.ts";
import {
  XC_EXPORT_LEN,
  XC_EXPORT_PTR,
  XC_IMPORT_CAP,
  XC_IMPORT_LEN,
  XC_IMPORT_PTR,
} from "../core/app-module.gen.ts";
import { XC_STATE, XS_ANSWERED, XS_EXPORTED } from "../core/app-module.gen.ts";
import { FAULT, MC } from "./module-control.ts";

interface Data {
  module: WebAssembly.Module;
  options: string;
  memoryBytes: number;
  core: WebAssembly.Memory;
  /** Byte address of the proxy's control block in the core's memory. */
  ctl: number;
  mc: SharedArrayBuffer;
}

const d = workerData as Data;
const mc = new Int32Array(d.mc);
const st = new Int32Array(d.core.buffer, d.ctl, 16);
const coreU8 = new Uint8Array(d.core.buffer);
// It sleeps in Atomics.wait between batches rather than spinning: a spin for the next
// batch (0.5 ms) made pair 1-connection echo 100 times slower here, two vCPUs shared by
// busy neighbours, the spinning thread taking the core the poll loop needed.

function failed(code: number, e: unknown): void {
  Atomics.store(mc, MC.fault, code);
  Atomics.add(mc, MC.seq, 1);
  Atomics.notify(mc, MC.fault);
  if (process.env.IXWASM_MODULE_DEBUG)
    console.error(`app module fault ${code}: ${(e as Error)?.message ?? e}`);
}

function main(): void {
  let ex: ModuleExports;
  let memory: WebAssembly.Memory;
  try {
    ({ exports: ex, memory } = instantiateModule(d.module, d.memoryBytes));
    const rc = initModule(ex, memory, d.options);
    if (rc !== 0) return failed(FAULT.init, new Error(`ixapp_init returned ${rc}`));
  } catch (e) {
    return failed(FAULT.init, e);
  }
  const inbox = ex.ixapp_inbox(0) >>> 0; // the inbox initModule asked for (0 bytes: the same one)
  Atomics.store(mc, MC.ready, 1);
  Atomics.notify(mc, MC.ready);
  for (;;) {
    const s = Atomics.load(st, XC_STATE);
    if (Atomics.load(mc, MC.stop)) return;
    if (s !== XS_EXPORTED) {
      Atomics.wait(st, XC_STATE, s, 50);
      continue;
    }
    const ptr = st[XC_EXPORT_PTR] >>> 0;
    const len = st[XC_EXPORT_LEN] >>> 0;
    let outLen: number;
    let out: number;
    try {
      // the one copy in: the core's batch -> the module's inbox (the buffer may have grown)
      new Uint8Array(memory.buffer).set(coreU8.subarray(ptr, ptr + len), inbox);
      Atomics.add(mc, MC.runs, 1);
      outLen = ex.ixapp_run(len) >>> 0;
      out = ex.ixapp_outbox() >>> 0;
    } catch (e) {
      // Past half its limit, a failed allocation is what trapped: the SDK's stub runtime
      // grows the memory by at least its size again, so the grow that fails asks for
      // more than the limit leaves (a heuristic: a trap of another kind there counts too).
      const full = memory.buffer.byteLength * 2 > d.memoryBytes;
      return failed(full ? FAULT.memory : FAULT.trap, e);
    }
    const cap = st[XC_IMPORT_CAP] >>> 0;
    try {
      // the one copy out, clamped to the import area; an outbox outside the module's
      // memory is garbage (the proxy would refuse a length past its area anyway)
      const n = Math.min(outLen, cap);
      coreU8.set(new Uint8Array(memory.buffer, out, n), st[XC_IMPORT_PTR] >>> 0);
    } catch (e) {
      return failed(FAULT.garbage, e);
    }
    st[XC_IMPORT_LEN] = outLen;
    // Only a batch still out may be answered: after a fault the main thread has moved on.
    if (Atomics.compareExchange(st, XC_STATE, XS_EXPORTED, XS_ANSWERED) !== XS_EXPORTED) return;
  }
}

main();
