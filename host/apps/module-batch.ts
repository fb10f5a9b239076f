// One batch through an app module (docs/design/app-modules.md, "How payload crosses"),
// the same wherever the module runs (its own worker, module-worker.ts, or the serving
// thread, module-inline.ts): the core's export area is copied into the module's inbox
// (one set), ixapp_run runs once, the outbox is copied into the proxy's import area
// (one set, clamped to the area; the proxy validates the rest) and the mailbox is
// marked XS_ANSWERED.
import { instantiateModule, initModule, type ModuleExports } from "./module.ts";
import {
  XC_EXPORT_LEN,
  XC_EXPORT_PTR,
  XC_IMPORT_CAP,
  XC_IMPORT_LEN,
  XC_IMPORT_PTR,
  XC_STATE,
  XC_WORDS,
  XS_ANSWERED,
  XS_EXPORTED,
} from "../core/app-module.gen.ts";
import { FAULT } from "./module-control.ts";

/** A module instance ready to run batches. */
export interface ModuleInstance {
  ex: ModuleExports;
  memory: WebAssembly.Memory;
  /** The inbox's address in the module's memory. */
  inbox: number;
  /** --app-memory, bytes. */
  memoryBytes: number;
  /** A view of the module's memory (renewed when it grows): Buffer.copy takes offsets, so a batch makes no view of its own. */
  bytes: Buffer;
  /** ex.ixapp_run and ex.ixapp_outbox, looked up once. */
  run: (inLen: number) => number;
  outbox: () => number;
}

/** The module's memory as bytes, renewed after a grow (which detaches the old buffer: its view reads length 0). */
function moduleBytes(m: ModuleInstance): Buffer {
  if (m.bytes.length === 0) m.bytes = Buffer.from(m.memory.buffer);
  return m.bytes;
}

/** Thrown out of a metered module by its tick once the batch is past its deadline (module-meter.ts). */
export class MeterTimeout extends Error {}

/** Instantiates and initialises; a FAULT code (init) with the error on failure. */
export function startInstance(
  mod: WebAssembly.Module,
  memoryBytes: number,
  options: string,
  imports?: WebAssembly.Imports,
): ModuleInstance | { fault: number; error: unknown } {
  try {
    const { exports: ex, memory } = instantiateModule(mod, memoryBytes, imports);
    const rc = initModule(ex, memory, options);
    if (rc !== 0) return { fault: FAULT.init, error: new Error(`ixapp_init returned ${rc}`) };
    // the inbox initModule asked for (0 bytes: the same one)
    return {
      ex,
      memory,
      inbox: ex.ixapp_inbox(0) >>> 0,
      memoryBytes,
      bytes: Buffer.from(memory.buffer),
      run: ex.ixapp_run,
      outbox: ex.ixapp_outbox,
    };
  } catch (e) {
    return { fault: FAULT.init, error: e };
  }
}

/** The proxy's control block, as Int32 words (XC_*), in the core's memory at byte address ctl. */
export function controlView(core: WebAssembly.Memory, ctl: number): Int32Array {
  return new Int32Array(core.buffer, ctl, XC_WORDS);
}

/**
 * Runs the exported batch (the mailbox must be XS_EXPORTED) and marks it answered.
 * Returns FAULT.none, or the fault (the mailbox then stays XS_EXPORTED; `error` holds
 * what was thrown).
 */
export function runBatch(m: ModuleInstance, core: Buffer, st: Int32Array, err: { error: unknown }): number {
  const ptr = st[XC_EXPORT_PTR] >>> 0;
  const len = st[XC_EXPORT_LEN] >>> 0;
  let outLen: number;
  let out: number;
  try {
    // the one copy in: the core's batch -> the module's inbox (the buffer may have grown)
    core.copy(moduleBytes(m), m.inbox, ptr, ptr + len);
    outLen = m.run(len) >>> 0;
    out = m.outbox() >>> 0;
  } catch (e) {
    err.error = e;
    if (e instanceof MeterTimeout) return FAULT.timeout;
    // Past half its limit, a failed allocation is what trapped: the SDK's stub runtime
    // grows the memory by at least its size again, so the grow that fails asks for
    // more than the limit leaves (a heuristic: a trap of another kind there counts too).
    return m.memory.buffer.byteLength * 2 > m.memoryBytes ? FAULT.memory : FAULT.trap;
  }
  const cap = st[XC_IMPORT_CAP] >>> 0;
  try {
    // the one copy out, clamped to the import area; an outbox outside the module's
    // memory is garbage (the proxy would refuse a length past its area anyway)
    const n = Math.min(outLen, cap);
    const mb = moduleBytes(m);
    if (out + n > mb.length) throw new RangeError(`outbox ${out}+${n} outside the module's memory`);
    mb.copy(core, st[XC_IMPORT_PTR] >>> 0, out, out + n);
  } catch (e) {
    err.error = e;
    return FAULT.garbage;
  }
  st[XC_IMPORT_LEN] = outLen;
  // Only a batch still out may be answered: after a fault the serving thread has moved on.
  Atomics.compareExchange(st, XC_STATE, XS_EXPORTED, XS_ANSWERED);
  return FAULT.none;
}
