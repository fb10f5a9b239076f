// The worker thread an app module runs in with --app-thread (docs/design/app-modules.md).
// It holds the module's instance (its own memory, limited to --app-memory) and a view
// of the core's memory, and moves one batch at a time (module-batch.ts) each time the
// core's proxy marks one XS_EXPORTED. Nothing here waits on the serving thread's event
// loop: everything crosses through shared memory, so a core loop that never yields
// (tap, pair) still gets its answers.
//
// A trap, an abort or a bad outbox address ends the worker with the fault written
// into the module control words (MC_*); an endless loop is the serving thread's to
// stop (module-host.ts, the watchdog: worker.terminate()).
import { workerData } from "node:worker_threads";
import { XC_STATE, XS_EXPORTED } from "../core/app-module.gen.ts";
import { FAULT, MC } from "./module-control.ts";
import { controlView, runBatch, startInstance } from "./module-batch.ts";

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
const st = controlView(d.core, d.ctl);
const coreBytes = Buffer.from(d.core.buffer);
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
  const m = startInstance(d.module, d.memoryBytes, d.options);
  if ("fault" in m) return failed(m.fault, m.error);
  Atomics.store(mc, MC.ready, 1);
  Atomics.notify(mc, MC.ready);
  const err = { error: null as unknown };
  for (;;) {
    const s = Atomics.load(st, XC_STATE);
    if (Atomics.load(mc, MC.stop)) return;
    if (s !== XS_EXPORTED) {
      Atomics.wait(st, XC_STATE, s, 50);
      continue;
    }
    Atomics.add(mc, MC.runs, 1);
    const f = runBatch(m, coreBytes, st, err);
    if (f !== FAULT.none) return failed(f, err.error);
  }
}

main();
