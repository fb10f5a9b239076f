// Child of `ixwasm bench instructions`, run under callgrind: one long replay of
// a capture; after `warmup` packets, `windows` windows of at least `n` packets
// each are counted and dumped apart (host/measure/native/cgmark.c). A window opens and
// closes at batch ends (the only place the host sees the packet count), so its
// dump names how many packets it held; two rehearsal windows come first (below).
// argv: capture, mode, path of cgmark.so, warmup, n, windows, loops (the replay's --loop).
import koffi from "koffi";
import { replay } from "../replay/replay.ts";
import { type ReplayMode } from "../replay/options.ts";
import { loadCoreModule } from "../core/core.ts";

const [file, mode, so, ...nums] = process.argv.slice(2);
const [warmup, n, windows, loops] = nums.map(Number);
const lib = koffi.load(so);
const on = lib.func("void ixwasm_cg_on(void)");
const off = lib.func("void ixwasm_cg_off(void)");
const dump = lib.func("void ixwasm_cg_dump(const char *)");
loadCoreModule();
// Two rehearsal windows inside the warm-up run the window code (on, off, dump)
// before the counted ones. onBatch is inlined into serve's optimized poll loop;
// a path of it first taken at a window's edge (the first `seen - start`, the
// first dump) deoptimized that loop, and its recompilation, 40-50 million
// instructions, landed in the next window ("not steady" on every serve run;
// docs/measurement/performance-log.md). Their dumps are named "rehearsal" and skipped.
const REHEARSALS = 2;
const rn = Math.max(1, Math.min(n, Math.floor(warmup / 4)));
const total = REHEARSALS + windows;
/** Where window k may open (the counted ones: the warm-up, then back to back) and its least size. */
const opensAt = (k: number) => (k < REHEARSALS ? Math.floor((warmup * (k + 1)) / 4) : warmup);
const size = (k: number) => (k < REHEARSALS ? rn : n);
let seen = 0;
let start = -1; // packet count where the open window began
let k = 0; // the open or next window
replay(file, {
  mode: mode as ReplayMode,
  progress: false,
  loop: loops,
  onBatch: (_core, count) => {
    seen += count;
    if (k === total) return;
    if (start < 0) {
      if (seen < opensAt(k)) return;
    } else if (seen - start < size(k)) return;
    else {
      off();
      // One expression for both kinds: a site the rehearsals never ran would deoptimize here too.
      dump((k < REHEARSALS ? "rehearsal " : "packets ") + (seen - start));
      start = -1;
      if (++k === total || seen < opensAt(k)) return;
    }
    start = seen;
    on();
  },
});
if (k < total) throw new Error(`${seen} packets held ${Math.max(0, k - REHEARSALS)} of ${windows} windows`);
