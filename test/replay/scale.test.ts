// Scale (issue 10): 100,000 concurrent connections from `gen churn` through
// `replay --mode track`: every packet processed and none dropped, every
// connection tracked through its handshake and close. (1 M and the cost ratio
// are in the benchmark, host/measure/scale.ts: too long for the test suite.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runGen } from "../../host/gen/run.ts";
import { replay } from "../../host/replay/replay.ts";
import { tempDir } from "../helpers/tmp.ts";

test("100,000 concurrent connections (gen churn) through replay track: every packet and connection accounted for", () => {
  const dir = tempDir("scale");
  try {
    const pcap = join(dir, "churn.pcap");
    const g = runGen("churn", { out: pcap, conns: 100_000, quiet: true });
    assert.ok(g.peak_concurrent >= 99_999, `peak ${g.peak_concurrent} open at once`);
    const r = replay(pcap, { mode: "track", flows: 1 << 18 });
    assert.is(r.error, null);
    assert.is(r.packets_in, g.packets, "every packet read");
    assert.is(r.packets_processed, g.packets, "every packet processed");
    for (const [k, v] of Object.entries(r.drops)) assert.is(v, 0, `drop ${k}`);
    assert.is(r.flows.tracked, g.connections);
    assert.is(r.flows.midstream, 0);
    const tcp = r.tcp!;
    assert.is(tcp.handshakes, g.connections, "every handshake seen");
    assert.is(tcp.closed, g.connections, "every connection closed");
    assert.is(tcp.fins, 2 * g.connections);
    assert.is(tcp.retransmissions + tcp.out_of_order + tcp.seq_gaps + tcp.out_of_window + tcp.rsts, 0);
    console.log(
      `note: scale: ${g.connections} connections (peak ${g.peak_concurrent} concurrent), ${r.packets_processed} packets tracked in ${r.duration_s.toFixed(2)} s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
