// The core's ABI, written once: every number the host and the AssemblyScript core
// must agree on (control block, config words and their flag bits, regions,
// counters, the apps' feeds; the TCB's layout and the TCP states in abi/tcb.ts beside it).
// abi/generate.ts writes both sides from them:
//   assembly/abi/*.gen.ts   constants the core imports (re-exported by mem/layout.ts,
//                           mem/counters.ts, ...); <app>.gen.ts: an app's feed in R_APP
//   host/core/abi.gen.ts    the host's constants, config defaults, counter names
//   host/core/<app>.gen.ts  the app's feed as the host writes and reads it (table/feeds.ts)
// Run `npm run gen:abi` after editing (`npm run build:wasm` runs it too);
// test/abi/generated.test.ts fails while a generated file differs from what this
// table gives.
//
// Why a TypeScript module and not JSON: each entry's comment is part of the table
// (the generator prints it on both sides, so the core's and the host's readers see
// the same words), JSON has no comments to keep and no type check; and tsc checks
// this file with the rest of the host (tsconfig.json includes abi/). Why here and not
// under assembly/ or host/: it belongs to neither side, and asc must never compile
// it (it is the host's TypeScript, not AssemblyScript).
//
// Rules: numbers only grow. A counter is appended at the end of COUNTERS (its index
// is its position, and reports of older builds are read by name); a config word takes
// a free index; the ABI version goes up when a meaning changes.

export * from "./table/types.ts";
export * from "./table/control.ts";
export * from "./table/counters.ts";
export * from "./table/api.ts";
export * from "./table/records.ts";
export * from "./table/memory.ts";
export * from "./table/feeds.ts";
export * from "./table/gen.ts";
export * from "./table/migrate.ts";
export * from "./table/serve.ts";
export * from "./table/track.ts";
import { LIVEPLAY, MIRROR } from "./table/feeds.ts";
import { GEN_FRAME } from "./table/gen.ts";
import { MIGRATE } from "./table/migrate.ts";
import { SERVE_COPIES } from "./table/serve.ts";
import { TRACK } from "./table/track.ts";
import type { SharedLayout } from "./table/types.ts";

/** Layouts shared by one part of the core and one host module, one generated file each a side. */
export const LAYOUTS: SharedLayout[] = [MIRROR, LIVEPLAY, GEN_FRAME, MIGRATE, SERVE_COPIES, TRACK];
