// Child of the bench's cost section: the native baselines (host/measure/native.ts)
// in a process of their own, so nothing an earlier section left behind (worker
// threads, a large heap, tiered-up code) is in the process the WASM loops run in.
// argv: capture, runs, minimum operations per timed call. Prints the NativeBench as JSON.
import { benchNative } from "./native.ts";

const [source, runs, minOps] = process.argv.slice(2);
process.stdout.write(JSON.stringify(benchNative(source, Number(runs), Number(minOps))) + "\n");
