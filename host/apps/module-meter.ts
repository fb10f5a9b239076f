// Metering an app module so it can run in the serving thread (docs/design/app-modules.md,
// "Where it runs"): a WASM loop cannot be interrupted from outside its thread, so the
// host rewrites the module (binaryen's log-execution pass puts a call at the top of
// every loop body and every function entry) and makes that call a fuel counter:
// one decrement and one compare, inlined; every FUEL_PER_TICK of them it calls
// the host's tick, which throws once the batch is past its deadline. An endless
// loop then ends within the timeout plus FUEL_PER_TICK loop turns, in its own
// thread, with the throw unwinding the module's frames like a trap.
//
// binaryen comes with the AssemblyScript compiler (a development dependency, as
// `ixwasm app build` needs it anyway); it is loaded once, asynchronously (its
// package has a top-level await), by loadMeter() before the module is loaded.
// Without it the module runs in a worker thread of its own (the watchdog there
// is worker.terminate()).

/** Loop turns and function entries between two looks at the clock. */
export const FUEL_PER_TICK = 10_000;
/** Where the metered module imports its tick from (an app module may import only env.memory and env.abort: no clash). */
export const METER_MODULE = "ixwasm_meter";
export const METER_TICK = "tick";

type Binaryen = typeof import("binaryen").default;
let binaryen: Binaryen | null = null;
let missing: string | null = null;

/** Loads binaryen once; false (and meterUnavailable() says why) when it is not installed. */
export async function loadMeter(): Promise<boolean> {
  if (binaryen || missing) return binaryen !== null;
  try {
    binaryen = (await import("binaryen")).default;
  } catch (e) {
    missing = `binaryen is not installed (${(e as Error).message.split("\n")[0]})`;
  }
  return binaryen !== null;
}

/** Why modules cannot be metered, or null when they can (or loadMeter() has not run). */
export function meterUnavailable(): string | null {
  return binaryen ? null : (missing ?? "loadMeter() was not called");
}

/** The module with fuel metering (a validated module in, a validated module out), or null without binaryen. */
export function meterModule(bytes: Uint8Array): WebAssembly.Module | null {
  const b = binaryen;
  if (!b) return null;
  const m = b.readBinary(bytes);
  try {
    m.setFeatures(b.Features.All);
    m.runPasses(["log-execution"]); // imports env.log_execution(i32), called at every loop top and function entry
    m.removeFunction("log_execution");
    const i32 = b.i32;
    m.addGlobal("ixwasm_fuel", i32, true, m.i32.const(0));
    m.addFunctionImport("ixwasm_tick", METER_MODULE, METER_TICK, b.none, i32);
    const fuel = () => m.global.get("ixwasm_fuel", i32);
    // fuel < 1 ? fuel = tick() : fuel -= 1
    m.addFunction(
      "log_execution",
      b.createType([i32]),
      b.none,
      [],
      m.if(
        m.i32.lt_s(fuel(), m.i32.const(1)),
        m.global.set("ixwasm_fuel", m.call("ixwasm_tick", [], i32)),
        m.global.set("ixwasm_fuel", m.i32.sub(fuel(), m.i32.const(1))),
      ),
    );
    // inline the counter everywhere (a call per loop turn would cost more than the count)
    b.setAlwaysInlineMaxSize(64);
    m.runPasses(["inlining", "remove-unused-module-elements"]);
    if (!m.validate()) throw new Error("binaryen produced an invalid module");
    return new WebAssembly.Module(new Uint8Array(m.emitBinary()));
  } finally {
    m.dispose();
  }
}
