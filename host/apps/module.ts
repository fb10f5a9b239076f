// App modules (docs/design/app-modules.md): loading a module a user built with the
// SDK, checking its exports, asking it its port and flags, and sizing the core's
// proxy app for it. The module runs in its own worker (module-worker.ts), watched by
// a ModuleHost (module-host.ts).
import { readFileSync } from "node:fs";
import { UsageError } from "../io/errors.ts";
import { loadCoreModule } from "../core/core.ts";
import { APP_ID } from "../core/stack-config.ts";
import {
  AM_IN_DATA_MAX,
  AM_IN_EVENTS_MAX,
  AM_IN_HDR,
  AM_OUT_CMDS_MAX,
  AM_VERSION,
} from "../core/app-module.gen.ts";
import { DESC_SIZE } from "../core/abi.gen.ts";
import { meterModule } from "./module-meter.ts";

/** The functions an app module must export (besides its memory). */
export const MODULE_EXPORTS = [
  "ixapp_version",
  "ixapp_inbox",
  "ixapp_init",
  "ixapp_port",
  "ixapp_flags",
  "ixapp_run",
  "ixapp_outbox",
] as const;

/** Bytes of the module's inbox: the largest batch the core's proxy exports. */
export const INBOX_BYTES = AM_IN_HDR + (AM_OUT_CMDS_MAX + AM_IN_EVENTS_MAX) * DESC_SIZE + AM_IN_DATA_MAX;
const PAGE = 65536;
/** Pages the module's memory starts with (the SDK's build asks for 2). */
export const MODULE_INITIAL_PAGES = 32;

export interface ModuleExports {
  ixapp_version(): number;
  ixapp_inbox(bytes: number): number;
  ixapp_init(argLen: number): number;
  ixapp_port(): number;
  ixapp_flags(): number;
  ixapp_run(inLen: number): number;
  ixapp_outbox(): number;
}

export interface AppModule {
  path: string;
  module: WebAssembly.Module;
  /** The options string given to ixapp_init. */
  options: string;
  /** The port the module serves (its own, or --app-port). */
  port: number;
  /** ixapp_flags(): bit 0, UDP too. */
  flags: number;
  /** Upper bound of the module's memory, bytes (--app-memory). */
  memoryBytes: number;
  /** The module with fuel metering, to run in the serving thread (module-meter.ts); null without binaryen. */
  metered: WebAssembly.Module | null;
}

/** Thrown by an app module's abort() (an AssemblyScript assertion or out-of-memory). */
export class ModuleAbort extends Error {}

/** An instance of the module on a memory of its own, limited to maxBytes. */
export function instantiateModule(
  mod: WebAssembly.Module,
  maxBytes: number,
  imports: WebAssembly.Imports = {},
): { exports: ModuleExports; memory: WebAssembly.Memory } {
  const maximum = Math.max(MODULE_INITIAL_PAGES, Math.floor(maxBytes / PAGE));
  const memory = new WebAssembly.Memory({ initial: MODULE_INITIAL_PAGES, maximum });
  const inst = new WebAssembly.Instance(mod, {
    ...imports,
    env: {
      memory,
      abort() {
        throw new ModuleAbort("app module aborted");
      },
    },
  });
  return { exports: inst.exports as unknown as ModuleExports, memory };
}

/** Writes the options string into the module's inbox and runs ixapp_init; returns its code. */
export function initModule(ex: ModuleExports, memory: WebAssembly.Memory, options: string): number {
  const inbox = ex.ixapp_inbox(INBOX_BYTES) >>> 0;
  if (inbox === 0) return -100;
  const arg = Buffer.from(options, "utf8");
  if (arg.length > INBOX_BYTES) return -101;
  new Uint8Array(memory.buffer).set(arg, inbox);
  return ex.ixapp_init(arg.length);
}

/**
 * Loads and checks an app module, and asks it (in a throwaway instance, here) for its
 * port and flags, so the core can be configured before the module's worker starts.
 */
export function loadAppModule(
  path: string,
  o: { options?: string; port?: number; memoryBytes?: number; meter?: boolean } = {},
): AppModule {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new UsageError(`cannot read app module ${path}`, "build it with `ixwasm app build DIR`");
  }
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(bytes);
  } catch (e) {
    throw new UsageError(`${path} is not a WASM module (${(e as Error).message})`);
  }
  const names = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = MODULE_EXPORTS.filter((n) => !names.has(n));
  if (missing.length)
    throw new UsageError(
      `${path} is not an app module: it lacks ${missing.join(", ")}`,
      'export the SDK\'s functions: `export * from "<repo>/sdk/exports"`',
    );
  for (const imp of WebAssembly.Module.imports(mod))
    if (!(imp.module === "env" && (imp.name === "memory" || imp.name === "abort")))
      throw new UsageError(
        `${path} imports ${imp.module}.${imp.name}`,
        "an app module may import only env.memory and env.abort",
      );
  const memoryBytes = o.memoryBytes ?? 256 << 20;
  const options = o.options ?? "";
  let port: number;
  let flags: number;
  try {
    const { exports: ex, memory } = instantiateModule(mod, memoryBytes);
    if (ex.ixapp_version() >>> 0 !== AM_VERSION)
      throw new UsageError(
        `${path} speaks mailbox version ${ex.ixapp_version()}, the core ${AM_VERSION}`,
        "rebuild it with this repository's SDK",
      );
    const rc = initModule(ex, memory, options);
    if (rc !== 0)
      throw new UsageError(`${path}: ixapp_init("${options}") returned ${rc}`, "check --app-options");
    port = o.port ?? ex.ixapp_port() >>> 0;
    flags = ex.ixapp_flags() >>> 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path} failed at load: ${(e as Error).message}`);
  }
  if (!(port > 0 && port < 65536))
    throw new UsageError(`${path} serves no port (${port})`, "give one with --app-port");
  return {
    path,
    module: mod,
    options,
    port,
    flags,
    memoryBytes,
    metered: o.meter === false ? null : meterModule(bytes),
  };
}

/** Bytes of R_APP the core's proxy needs for `conns` connections (asked of the core: one formula). */
export function moduleAppBytes(conns: number): number {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const inst = new WebAssembly.Instance(loadCoreModule(), {
    env: { memory, abort() {}, "performance.now": () => performance.now(), appModuleRun: () => 0 },
  });
  const f = inst.exports.appRegionBytes as (app: number, conns: number, msg: number) => number;
  return f(APP_ID.external, conns, 0) >>> 0;
}
