// The fidelity meter's pending segments (host/report/fidelity.ts Pending: one
// inline entry, then small arrays, then a Map): matches are found wherever an
// entry sits, and the unmatched ones are reported in the order a single Map
// would give (inline entry first, then by insertion), which first_mismatches shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FidelityMeter } from "../../host/report/fidelity.ts";

const mem = new Uint8Array(4096);
for (let i = 0; i < mem.length; i++) mem[i] = (i * 13) & 0xff;
const ISN = 5000;
/** Segment j of flow 0: 10 bytes at offset 10j (sequence ISN + 1 + 10j), payload mem[10j, 10j+10). */
const ref = (m: FidelityMeter, j: number) =>
  m.ref(0, "f", ISN, ISN + 1 + 10 * j, 10, 0x18, mem, 10 * j, 10, 0);
const out = (m: FidelityMeter, j: number) => m.out(0, "f", ISN, ISN + 1 + 10 * j, 0x18, mem, 10 * j, 10);

test("pending: 14 segments across inline, arrays and Map; matches found in each; the rest in Map order", () => {
  const m = new FidelityMeter(20);
  for (let j = 0; j < 12; j++) ref(m, j); // 0 inline, 1-8 arrays, 9-11 Map
  out(m, 0); // the inline entry (each side's offsets only grow: lower ones would be retransmissions)
  out(m, 3); // from the arrays
  out(m, 10); // from the Map
  ref(m, 12); // inline again
  ref(m, 13); // the arrays have room, but the Map holds newer ones: after them
  const f = m.finish();
  assert.equal(
    [f.segments_compared, f.segments_matching, f.segments_missing, f.segments_extra],
    [14, 3, 11, 0],
  );
  assert.equal(
    f.first_mismatches.map((x) => x.offset),
    [120, 10, 20, 40, 50, 60, 70, 80, 90, 110, 130],
  );
  assert.ok(f.first_mismatches.every((x) => x.what === "not sent (capture: 10 bytes [data])"));
});

test("pending: the core's segments first, then the capture's, many at once: all match", () => {
  const m = new FidelityMeter(20);
  for (let j = 0; j < 40; j++) out(m, j);
  for (let j = 0; j < 40; j++) ref(m, j); // taken from inline, the arrays and the Map
  for (let j = 40; j < 60; j++) ref(m, j);
  for (let j = 40; j < 60; j++) out(m, j);
  const f = m.finish();
  assert.equal(
    [f.segments_compared, f.segments_matching, f.segments_missing, f.segments_extra],
    [60, 60, 0, 0],
  );
});

test.run();
