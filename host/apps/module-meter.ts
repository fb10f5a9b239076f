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
// `ixwasm app build` needs it anyway). It runs in a child process of plain node
// (METER_SCRIPT, the module's bytes in, the metered ones out): its package has a
// top-level await (no synchronous import) and is 13 MB of JS, which tsx's loader
// took 20 s to import here against 1 s for plain node. One child per distinct
// module per process (cached by content). Without binaryen the module runs in a
// worker thread of its own (the watchdog there is worker.terminate()).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";

/** Loop turns and function entries between two looks at the clock. */
export const FUEL_PER_TICK = 10_000;
/** Where the metered module imports its tick from (an app module may import only env.memory and env.abort: no clash). */
export const METER_MODULE = "ixwasm_meter";
export const METER_TICK = "tick";

// The child: reads the module from stdin, writes the metered module to stdout.
// fuel < 1 ? fuel = tick() : fuel -= 1, at every loop top and function entry
// (log-execution's import, replaced by this body and inlined everywhere: a call
// per loop turn would cost more than the count).
const METER_SCRIPT = `
const { default: b } = await import(process.argv[process.argv.length - 1]);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const m = b.readBinary(new Uint8Array(Buffer.concat(chunks)));
m.setFeatures(b.Features.All);
m.runPasses(["log-execution"]);
m.removeFunction("log_execution");
const i32 = b.i32;
m.addGlobal("ixwasm_fuel", i32, true, m.i32.const(0));
m.addFunctionImport("ixwasm_tick", ${JSON.stringify(METER_MODULE)}, ${JSON.stringify(METER_TICK)}, b.none, i32);
const fuel = () => m.global.get("ixwasm_fuel", i32);
m.addFunction("log_execution", b.createType([i32]), b.none, [],
  m.if(m.i32.lt_s(fuel(), m.i32.const(1)),
    m.global.set("ixwasm_fuel", m.call("ixwasm_tick", [], i32)),
    m.global.set("ixwasm_fuel", m.i32.sub(fuel(), m.i32.const(1)))));
b.setAlwaysInlineMaxSize(64);
m.runPasses(["inlining", "remove-unused-module-elements"]);
if (!m.validate()) { console.error("binaryen produced an invalid module"); process.exit(2); }
process.stdout.write(m.emitBinary());
`;

let missing: string | null = null;
const cache = new Map<string, WebAssembly.Module | null>();

/** Why the last module could not be metered (null: it was, or none was asked for). */
export function meterUnavailable(): string | null {
  return missing;
}

/** The module with fuel metering (a validated module in, a validated module out), or null without binaryen. */
export function meterModule(bytes: Uint8Array): WebAssembly.Module | null {
  const key = createHash("sha256").update(bytes).digest("hex");
  if (cache.has(key)) return cache.get(key)!;
  let url: string;
  try {
    url = import.meta.resolve("binaryen");
  } catch (e) {
    missing = `binaryen is not installed (${(e as Error).message.split("\n")[0]})`;
    cache.set(key, null);
    return null;
  }
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", METER_SCRIPT, url], {
    input: bytes,
    maxBuffer: 1 << 30,
    timeout: 120_000,
    env: { ...process.env, NODE_OPTIONS: "" }, // plain node: not tsx's loader
  });
  let out: WebAssembly.Module | null = null;
  if (r.status === 0) out = new WebAssembly.Module(new Uint8Array(r.stdout));
  else missing = `metering failed: ${r.error?.message ?? String(r.stderr).trim().split("\n").pop()}`;
  cache.set(key, out);
  return out;
}
