// `ixwasm bench instructions`: the figure repeats (docs/measurement/
// instructions.md). Two valgrind runs of two windows of N = 20 000 packets (the
// smallest N the method promises ±0.5 % for) and one run of one window of
// 60 000 opened after twice the warm-up (so a warm-up too short to reach the
// steady state shows as a difference): every window free of compilation, every
// window within 0.5 % of the others. Without valgrind: a failure under CI, a "note: missing
// oracle" otherwise.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { OWN_TRACES } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import {
  benchInstructions,
  MIN_WINDOW_PACKETS,
  valgrindVersion,
  WARMUP_PACKETS,
} from "../../host/measure/instructions.ts";
import { INSTRUCTIONS_JSON_SCHEMA, validate } from "../../host/report/schema.ts";

if (requireOracle("valgrind", !!valgrindVersion(), "apt-get install valgrind; .ci/run installs it"))
  test("instructions per packet: the same within 0.5 % across runs, windows and N", () => {
    const file = join(OWN_TRACES, "http-kernel.pcap");
    const small = benchInstructions(file, "raw", { packets: MIN_WINDOW_PACKETS, runs: 2, windows: 2 });
    assert.equal(validate(INSTRUCTIONS_JSON_SCHEMA, JSON.parse(JSON.stringify(small))), []);
    const large = benchInstructions(file, "raw", {
      packets: 3 * MIN_WINDOW_PACKETS,
      runs: 1,
      windows: 1,
      warmup: 2 * WARMUP_PACKETS,
    });
    const all = [...small.windows, ...large.windows];
    assert.is(all.length, 5);
    for (const w of all) {
      assert.ok(w.packets >= MIN_WINDOW_PACKETS && w.per_packet > 50, JSON.stringify(w));
      assert.is(w.compile_ir, 0, `a compilation inside a window: ${JSON.stringify(w)}`);
    }
    assert.ok(small.steady && large.steady);
    const pp = all.map((w) => w.per_packet);
    const spread = (Math.max(...pp) - Math.min(...pp)) / Math.min(...pp);
    assert.ok(spread <= 0.005, `windows differ by ${(spread * 100).toFixed(2)} %: ${JSON.stringify(all)}`);
  });

test.run();
