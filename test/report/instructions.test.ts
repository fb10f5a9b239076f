// `ixwasm bench instructions`: callgrind counts of N and 2N packets give the
// same instructions per packet on two repetitions (within 0.5 %). Without
// valgrind: a failure under CI, a "note: missing oracle" otherwise. N is
// 100 000, not the bench's 20 000: the run-to-run noise is a roughly fixed
// number of instructions (tens of thousands), and after the fast-path work
// (~345 per packet) 20 000 packets once left it at 0.66 %; the packets
// themselves cost little next to Node's start-up under valgrind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { OWN_TRACES } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { benchInstructions, valgrindVersion } from "../../bench/instructions.ts";
import { INSTRUCTIONS_JSON_SCHEMA, validate } from "../../host/report/schema.ts";

if (requireOracle("valgrind", !!valgrindVersion(), "apt-get install valgrind; .ci/run installs it"))
  test("instructions per packet: two N/2N pairs agree within 0.5 %", () => {
    const r = benchInstructions(join(OWN_TRACES, "http-kernel.pcap"), "raw", 100_000, 2);
    assert.equal(validate(INSTRUCTIONS_JSON_SCHEMA, JSON.parse(JSON.stringify(r))), []);
    assert.is(r.runs.length, 2);
    for (const x of r.runs) assert.ok(x.ir_2n > x.ir_n && x.per_packet > 50, JSON.stringify(x));
    assert.ok(r.spread_pct <= 0.5, `runs differ by ${r.spread_pct} %: ${JSON.stringify(r.runs)}`);
  });

test.run();
