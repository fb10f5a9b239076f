// gen is a pure function of its options and seed: the same seed writes the same
// bytes, another seed different ones; inspect agrees with the generator's counts
// (packets, bytes, one TCP flow per connection) in both file formats.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generate, type WorkloadName } from "../../host/gen/index.ts";
import { genOptions, type GenFlags } from "../../host/gen/run.ts";
import { inspect } from "../../host/inspect/inspect.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("gen-det");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

const CASES: [WorkloadName, GenFlags][] = [
  ["echo", { messages: 100, conns: 8 }],
  ["etc", { duration: 0.1e9 }],
  ["usr", { duration: 0.05e9, protocol: "binary" }],
  ["incast", { servers: 8, duration: 0.005e9 }],
  ["churn", { conns: 2000, rate: 20000 }],
];

for (const [w, flags] of CASES) {
  test(`${w}: same seed → same bytes, other seed → other bytes; inspect agrees`, () => {
    const run = (seed: number, ext: string) => {
      const out = join(tmp, `${w}-${seed}-${ext}`);
      return { out, r: generate(genOptions(w, { out, seed, quiet: true, ...flags })) };
    };
    const a = run(5, "a.pcap");
    const b = run(5, "b.pcap");
    const c = run(6, "c.pcap");
    assert.is(sha(a.out), sha(b.out));
    assert.is.not(sha(a.out), sha(c.out));
    const ia = inspect(a.out);
    assert.is(ia.error, undefined);
    assert.is(ia.packets, a.r.packets);
    assert.is(ia.bytes, a.r.bytes);
    assert.is(ia.tcp, a.r.packets);
    assert.is(ia.tcp_flows, a.r.connections);
    const ng = run(5, "a.pcapng");
    const ing = inspect(ng.out);
    assert.ok(ing.format.startsWith("pcapng"));
    assert.is(ing.packets, a.r.packets);
    assert.is(ing.tcp_flows, a.r.connections);
    assert.is(ng.r.packets, a.r.packets);
    // the record timestamps are the model's, in order
    assert.ok(ing.first_ts! <= ing.last_ts!);
  });
}

test("--packets stops new work at the count and still closes every connection", () => {
  const out = join(tmp, "etc-packets.pcap");
  const r = generate(genOptions("etc", { out, packets: 5000, quiet: true }));
  assert.ok(r.packets >= 5000 && r.packets < 5200, `${r.packets}`);
  assert.is(inspect(out).tcp_flows, 16);
  assert.is(r.peak_concurrent, 16);
});

test.run();
