// Child of `ixwasm bench instructions`, run under callgrind: one long replay of
// a capture; after `warmup` packets, `windows` windows of at least `n` packets
// each are counted and dumped apart (host/measure/native/cgmark.c). A window opens and
// closes at batch ends (the only place the host sees the packet count), so its
// dump names how many packets it held.
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
let seen = 0;
let start = -1; // packet count where the open window began
let done = 0;
replay(file, {
  mode: mode as ReplayMode,
  progress: false,
  loop: loops,
  onBatch: (_core, count) => {
    seen += count;
    if (done === windows) return;
    if (start < 0) {
      if (seen < warmup) return;
    } else if (seen - start < n) return;
    else {
      off();
      dump(`packets ${seen - start}`);
      if (++done === windows) return;
    }
    start = seen;
    on();
  },
});
if (done < windows) throw new Error(`${seen} packets held ${done} of ${windows} windows`);
