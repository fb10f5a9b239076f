// Child of `ixwasm bench instructions`, run under callgrind: one replay of a
// capture with collection switched on only around it (bench/native/cgmark.c).
// argv: capture, mode, path of cgmark.so.
import koffi from "koffi";
import { replay, type ReplayMode } from "../host/commands/replay.ts";
import { loadCoreModule } from "../host/core.ts";

const [file, mode, so] = process.argv.slice(2);
const lib = koffi.load(so);
const on = lib.func("void ixwasm_cg_on(void)");
const off = lib.func("void ixwasm_cg_off(void)");
loadCoreModule(); // compile the wasm before counting: a large constant whose noise would not cancel
on();
const r = replay(file, { mode: mode as ReplayMode, progress: false });
off();
process.stdout.write(JSON.stringify({ packets: r.packets_in, processed: r.packets_processed }) + "\n");
