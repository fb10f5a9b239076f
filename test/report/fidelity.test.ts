// The fidelity meter's verdicts (host/report/fidelity.ts) on small hand-made
// conversations: payload bytes are compared, a capture cut by its snap length is
// compared on the captured part, a segmentation-offload segment keeps its FIN on
// the last piece, a capture retransmission is counted apart, and nothing compared
// scores 100 %. Each case was written against a mutant that survived the serve
// suites (test/mutate/mutants.mjs, ids fid-*).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FidelityMeter } from "../../host/report/fidelity.ts";

const ISN = 1000;
const ACK = 0x10;
const FIN = 0x01;
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test("payload bytes that differ are a mismatch, not a match", () => {
  const m = new FidelityMeter();
  const cap = bytes(100, 1);
  const core = cap.slice();
  core[50] ^= 0xff;
  m.ref(0, "f", ISN, ISN + 1, 100, ACK, cap, 0, 100, 0);
  m.out(0, "f", ISN, ISN + 1, ACK, core, 0, 100);
  const f = m.finish();
  assert.equal([f.segments_compared, f.segments_matching], [1, 0]);
  assert.equal(
    f.first_mismatches.map((x) => x.what),
    ["payload bytes differ"],
  );
  // the same bytes match
  const ok = new FidelityMeter();
  ok.ref(0, "f", ISN, ISN + 1, 100, ACK, cap, 0, 100, 0);
  ok.out(0, "f", ISN, ISN + 1, ACK, cap, 0, 100);
  assert.equal(ok.finish().segments_matching, 1);
});

test("a capture cut by its snap length is compared on the captured part", () => {
  const cap = bytes(100, 3);
  // captured: 40 of 100 bytes; the core's bytes agree there and differ after
  const same = cap.slice();
  same[80] ^= 0xff;
  const m = new FidelityMeter();
  m.ref(0, "f", ISN, ISN + 1, 100, ACK, cap, 0, 40, 0);
  m.out(0, "f", ISN, ISN + 1, ACK, same, 0, 100);
  assert.is(m.finish().segments_matching, 1, "agreement on the captured part is a match");
  // a difference inside the captured part is found
  const other = cap.slice();
  other[10] ^= 0xff;
  const d = new FidelityMeter();
  d.ref(0, "f", ISN, ISN + 1, 100, ACK, cap, 0, 40, 0);
  d.out(0, "f", ISN, ISN + 1, ACK, other, 0, 100);
  const f = d.finish();
  assert.equal([f.segments_compared, f.segments_matching], [1, 0]);
  assert.equal(
    f.first_mismatches.map((x) => x.what),
    ["payload bytes differ"],
  );
});

test("a segmentation-offload segment is compared as MSS pieces, the FIN on the last", () => {
  const data = bytes(3000, 5);
  const m = new FidelityMeter();
  m.ref(0, "f", ISN, ISN + 1, 3000, ACK | FIN, data, 0, 3000, 1000);
  for (let i = 0; i < 3; i++)
    m.out(0, "f", ISN, ISN + 1 + i * 1000, i === 2 ? ACK | FIN : ACK, data, i * 1000, 1000);
  const f = m.finish();
  assert.equal(
    [f.segments_compared, f.segments_matching, f.segments_missing, f.segments_extra],
    [3, 3, 0, 0],
  );
});

test("a retransmission in the capture is counted apart, not compared again", () => {
  const data = bytes(200, 9);
  const m = new FidelityMeter();
  m.ref(0, "f", ISN, ISN + 1, 100, ACK, data, 0, 100, 0);
  m.ref(0, "f", ISN, ISN + 101, 100, ACK, data, 100, 100, 0);
  m.ref(0, "f", ISN, ISN + 101, 100, ACK, data, 100, 100, 0); // the capture's server sent it again
  m.out(0, "f", ISN, ISN + 1, ACK, data, 0, 100);
  m.out(0, "f", ISN, ISN + 101, ACK, data, 100, 100);
  const f = m.finish();
  assert.equal(
    [f.segments_compared, f.segments_matching, f.retransmissions_capture, f.segments_missing],
    [2, 2, 1, 0],
  );
});

test("nothing compared scores 100 %; one of two matching scores 50 %", () => {
  assert.is(new FidelityMeter().finish().segments_pct, 100);
  const data = bytes(20, 11);
  const m = new FidelityMeter();
  m.ref(0, "f", ISN, ISN + 1, 10, ACK, data, 0, 10, 0);
  m.ref(0, "f", ISN, ISN + 11, 10, ACK, data, 10, 10, 0);
  m.out(0, "f", ISN, ISN + 1, ACK, data, 0, 10);
  assert.is(m.finish().segments_pct, 50);
});

test.run();
