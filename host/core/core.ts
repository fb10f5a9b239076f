// Loading and instantiating the WASM core. Each instance gets its own shared
// Memory, sized once from the core's own plan() and never grown (two instances
// must never share one memory: their static data and heaps would collide).
//
// We use the WebAssembly API directly instead of @assemblyscript/loader or asc's
// generated bindings: every exchange with the core goes through linear memory
// (descriptors, results, counters), so there is nothing for a binding layer to
// convert, and the raw exports are the cheapest calls (see docs/design/packages.md, "Why no @assemblyscript/loader").
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The control block, config words, flag bits and region ids are generated from
// abi/table.ts (host/core/abi.gen.ts); the core's abiCheck() is still asked at every
// instantiation, which catches a core built from an older table.
import { ABI_VERSION, CFG_ABI, CFG_BASE, CFG_WORDS, CONFIG_WORDS, COUNTER_BASE } from "./abi.gen.ts";
import { CFG_F_FRESH_MEMORY, HIST_BASE, REGION, REGION_BASE, SCRATCH_BASE } from "./abi.gen.ts";
import { MODULE_MIN_PAGES, type CoreExports, type TestCoreExports } from "./exports.gen.ts";
export { ABI_VERSION, CFG_BASE, CONFIG_WORDS, COUNTER_BASE, HIST_BASE, REGION, REGION_BASE, SCRATCH_BASE };
export { CFG_F_FRESH_MEMORY };
export { CFG_F_ANY_ADDRESS, CFG_F_NO_CSUM_CHECK, CFG_F_POISON, CFG_F_SYMMETRIC } from "./abi.gen.ts";
export { CFG_F_TX_CSUM_OFFLOAD, TCPF_SACK } from "./abi.gen.ts";

/** hashBatchFrom's records in the scratch area (abi/table.ts HASH_BATCH). */
import { ABI_CHECKS, HB_BYTES, SCRATCH_BYTES } from "./abi.gen.ts";
export { HB_BYTES };
export { HB_GROUP, HB_NO_WORKER, HB_WORKER } from "./abi.gen.ts";
/** The most records one hashBatchFrom call writes (the scratch area's size). */
export const HB_MAX = SCRATCH_BYTES / HB_BYTES;

export type CoreConfig = { -readonly [K in keyof typeof CONFIG_WORDS]: number };

export const DEFAULT_CONFIG: CoreConfig = Object.fromEntries(
  Object.entries(CONFIG_WORDS).map(([k, [, v]]) => [k, v]),
) as CoreConfig;

export type RegionName = Exclude<keyof typeof REGION, "total">;

/** The raw exports of a core instance, generated from their declarations in assembly/. */
export type { CoreExports, TestCoreExports } from "./exports.gen.ts";

export interface Region {
  offset: number;
  bytes: number;
}

/** Typed views over a core's memory and its region table: all the main thread
 * needs of a core that runs in a worker (it must not instantiate a second core
 * on that memory: the worker's instance owns the static data and globals). */
export interface CoreViews {
  memory: WebAssembly.Memory;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  regions: Record<RegionName, Region>;
  totalBytes: number;
}

export interface Core extends CoreViews {
  exports: CoreExports;
  config: CoreConfig;
}

function readRegions(u32: Uint32Array): Record<RegionName, Region> {
  const regions = {} as Record<RegionName, Region>;
  for (const [name, id] of Object.entries(REGION)) {
    if (name === "total") continue;
    const i = (REGION_BASE >>> 2) + id * 2;
    regions[name as RegionName] = { offset: u32[i], bytes: u32[i + 1] };
  }
  return regions;
}

/** Views over a memory whose core was initialised (possibly by another thread). */
export function coreViews(memory: WebAssembly.Memory): CoreViews {
  const buf = memory.buffer;
  const u32 = new Uint32Array(buf);
  return {
    memory,
    u8: new Uint8Array(buf),
    u16: new Uint16Array(buf),
    u32,
    i32: new Int32Array(buf),
    f64: new Float64Array(buf),
    regions: readRegions(u32),
    totalBytes: buf.byteLength,
  };
}

/** Bytes of an mbuf header and the default data area (abi/table.ts MBUF). */
import { MBUF_DATA_DEFAULT, MBUF_HEADER_BYTES as MBUF_HEADER } from "./abi.gen.ts";
export { MBUF_DATA_DEFAULT, MBUF_HEADER };
/** Data-area size for frames up to 9216 bytes (`tap --mtu` above 2034). */
export const MBUF_DATA_JUMBO = 9216;

/** Header + data rounded up to an odd number of cache lines (assembly/mem/mbuf.ts mbufStrideFor). */
export function mbufStrideFor(data: number): number {
  const lines = (data + MBUF_HEADER) >>> 6;
  return (lines & 1 ? lines : lines + 1) << 6;
}

/** Data-area bytes of the mbufs of an initialised core (its CFG_MBUF_DATA word; 0 means the default). */
export function mbufDataOf(views: CoreViews): number {
  return views.u32[(CFG_BASE >>> 2) + CONFIG_WORDS.mbufData[0]] || MBUF_DATA_DEFAULT;
}

const PAGE = 65536;
const modules = new Map<string, WebAssembly.Module>();

/**
 * The build to load: the release core; with `test`, the test core (the release's
 * options plus the test hooks, assembly/test-core.ts); with `debug`, the debug
 * build of the test core (asserts, hooks included).
 */
export function coreWasmPath(debug = false, test = false): string {
  // package.json "imports" resolves the same way from host/ (tsx) and dist/host/.
  // IXWASM_CORE_DIR points at another build (parallel development, A/B benches).
  const dir = process.env.IXWASM_CORE_DIR;
  const name = debug ? "core.debug.wasm" : test ? "core-test.wasm" : "core.wasm";
  if (dir) return `${dir}/${name}`;
  return fileURLToPath(import.meta.resolve(`#${name}`));
}

export function loadCoreModule(debug = false, test = false): WebAssembly.Module {
  const path = coreWasmPath(debug, test);
  let mod = modules.get(path);
  if (!mod) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch {
      throw new Error(`WASM core not built (${path} missing): run \`npm install\` or \`npm run build\``);
    }
    mod = new WebAssembly.Module(bytes);
    modules.set(path, mod);
  }
  return mod;
}

/** Reads an AssemblyScript string (UTF-16, byte length at ptr - 4) for abort messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  const u32 = new Uint32Array(memory.buffer);
  const len = u32[(ptr - 4) >>> 2] >>> 1;
  const u16 = new Uint16Array(memory.buffer, ptr, len);
  return String.fromCharCode(...u16);
}

export class CoreTrap extends Error {}

/** Per core memory: what runs an app module's exported batch in this thread (host/apps/module-host.ts). */
const appRunners = new WeakMap<WebAssembly.Memory, () => number>();

/** The core on this memory calls run() when its app-module proxy has exported a batch; it returns 1 once the batch is answered. */
export function setAppRunner(memory: WebAssembly.Memory, run: (() => number) | null): void {
  if (run) appRunners.set(memory, run);
  else appRunners.delete(memory);
}

function imports(memory: WebAssembly.Memory, extra: Record<string, unknown> = {}) {
  return {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number) {
        throw new CoreTrap(
          `core abort: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`,
        );
      },
      "performance.now": () => performance.now(),
      appModuleRun: () => appRunners.get(memory)?.() ?? 0,
      ...extra,
    },
  };
}

/**
 * The one place the instance's untyped exports become CoreExports (generated from the
 * core's declarations; test/abi/generated.test.ts checks them against the module).
 */
function exportsOf(inst: WebAssembly.Instance): CoreExports {
  return inst.exports as unknown as CoreExports;
}

function writeConfig(u32: Uint32Array, c: CoreConfig): void {
  u32.fill(0, CFG_BASE >>> 2, (CFG_BASE >>> 2) + CFG_WORDS);
  u32[(CFG_BASE >>> 2) + CFG_ABI] = ABI_VERSION;
  for (const [k, [i]] of Object.entries(CONFIG_WORDS))
    u32[(CFG_BASE >>> 2) + i] = c[k as keyof CoreConfig] >>> 0;
}

const planned = new Map<string, number>();
/**
 * Total bytes the memory of a core with this config must have. Remembered per
 * build and config: asking the core costs an instance and a memory (~2 ms of
 * CPU, once more per createCore; a replay serve run of 500 k packets made 4 ns
 * a packet of it).
 */
export function planBytes(config: CoreConfig, debug = false, test = false): number {
  const key = `${coreWasmPath(debug, test)} ${JSON.stringify(config)}`;
  let total = planned.get(key);
  if (total === undefined) {
    total = askPlan(config, debug, test);
    planned.set(key, total);
  }
  return total;
}

const probes = new Map<string, { u32: Uint32Array; plan: () => number }>();

function askPlan(config: CoreConfig, debug: boolean, test: boolean): number {
  return planRegions(config, debug, test).totalBytes;
}

/**
 * The core's region plan for a config (assembly/mem/plan.ts), from a throw-away
 * instance: each region's offset and bytes, and the memory's total. What a
 * memory report divides by the counts in the config (host/replay/serve/memory.ts).
 */
export function planRegions(
  config: CoreConfig,
  debug = false,
  test = false,
): { regions: Record<RegionName, Region>; totalBytes: number } {
  // One probe instance per build, kept: plan() is a pure function of the config
  // words (it resets its cursor on each call), and an instance with its memory
  // costs ~2 ms of CPU (30 ms at load 30), a memory report asks for a few plans.
  const build = coreWasmPath(debug, test);
  let probe = probes.get(build);
  if (!probe) {
    const memory = new WebAssembly.Memory({
      initial: MODULE_MIN_PAGES,
      maximum: MODULE_MIN_PAGES,
      shared: true,
    });
    const inst = new WebAssembly.Instance(loadCoreModule(debug, test), imports(memory));
    probe = { u32: new Uint32Array(memory.buffer), plan: exportsOf(inst).plan };
    probes.set(build, probe);
  }
  const u32 = probe.u32;
  writeConfig(u32, config);
  const total = (probe.plan() >>> 0) as number;
  if (total === 0) throw new Error(`invalid core config ${JSON.stringify(config)}`);
  return { regions: readRegions(u32), totalBytes: Math.max(total, MODULE_MIN_PAGES * PAGE) };
}

export interface CreateOptions {
  /** The debug build (asserts; it has the test hooks too). */
  debug?: boolean;
  /** The test core: the release build plus the test hooks (testHooks() reaches them). */
  test?: boolean;
  imports?: Record<string, unknown>;
  /** Instantiate over an existing memory (e.g. one created by the main thread for a worker). */
  memory?: WebAssembly.Memory;
  /** Skip init() (the memory already holds an initialised core, e.g. in a worker). */
  attach?: boolean;
  /** The given memory was just created and never written (init may skip zero fills). */
  fresh?: boolean;
}

export function createCore(partial: Partial<CoreConfig> = {}, opts: CreateOptions = {}): Core {
  const config: CoreConfig = { ...DEFAULT_CONFIG, ...partial };
  const totalBytes = opts.memory ? opts.memory.buffer.byteLength : planBytes(config, opts.debug, opts.test);
  const pages = totalBytes / PAGE;
  const memory = opts.memory ?? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const inst = new WebAssembly.Instance(loadCoreModule(opts.debug, opts.test), imports(memory, opts.imports));
  const exports = exportsOf(inst);
  for (const [i, v] of ABI_CHECKS) {
    if (exports.abiCheck(i) >>> 0 !== v)
      throw new Error(`core ABI mismatch at ${i}: rebuild with \`npm run build\``);
  }
  const buf = memory.buffer;
  const u32 = new Uint32Array(buf);
  if (!opts.attach) {
    // A memory we just created is all zero: tell init() so it skips zero fills (CFG_F_FRESH_MEMORY).
    writeConfig(
      u32,
      opts.memory && !opts.fresh ? config : { ...config, flags: config.flags | CFG_F_FRESH_MEMORY },
    );
    const rc = exports.init();
    if (rc !== 0) throw new Error(`core init failed (${rc}) for config ${JSON.stringify(config)}`);
  }
  const regions = readRegions(u32);
  return {
    memory,
    exports,
    config,
    u8: new Uint8Array(buf),
    u16: new Uint16Array(buf),
    u32,
    i32: new Int32Array(buf),
    f64: new Float64Array(buf),
    regions,
    totalBytes,
  };
}

/** A fresh shared memory sized for this config (for a core a worker will create on it). */
export function createMemory(
  partial: Partial<CoreConfig> = {},
  debug = false,
  test = false,
): WebAssembly.Memory {
  const pages = planBytes({ ...DEFAULT_CONFIG, ...partial }, debug, test) / PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** The test hooks of a core created with { test: true } or { debug: true }; throws for a release core, which has none. */
export function testHooks(core: Core): TestCoreExports {
  if (typeof (core.exports as Partial<TestCoreExports>).tcpTestStat !== "function")
    throw new Error("this core has no test hooks: create it with { test: true } (or { debug: true })");
  return core.exports as TestCoreExports;
}
