// Serve mode's fidelity hash in the core (assembly/replay/serve.ts serveHash,
// through host/replay/serve/tx.ts fidelityHash): equal bytes hash equal wherever
// they lie, one changed bit or a different length changes the hash, results are
// unsigned like the JS hash's, and the fidelity meter scores with it as with the
// JS hash.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore } from "../../../host/core/core.ts";
import { fidelityHash } from "../../../host/replay/serve/tx.ts";
import { FidelityMeter, payloadHash } from "../../../host/report/fidelity.ts";
import { scanCoreConfig } from "../../../host/core/open-capture.ts";

const core = createCore(scanCoreConfig());
const mem = core.u8;
const A = core.regions.staging.offset;
const B = A + 70001; // the same bytes at an unaligned place
for (let i = 0; i < 65536; i++) mem[A + i] = mem[B + i] = (i * 2654435761) >>> 24;
const hash = fidelityHash(core);

test("core hash: equal bytes at any alignment hash equal; one flipped bit or another length differs", () => {
  assert.ok(hash !== payloadHash, "this core has serveHash");
  const lengths = [...Array(41).keys(), 63, 64, 65, 225, 1448, 9000, 65535];
  let negative = 0;
  for (const len of lengths) {
    const h = hash(mem, A, len);
    assert.is(hash(mem, B, len), h, `length ${len}: same bytes, other place`);
    assert.ok(h >= 0 && h <= 0xffffffff && Number.isInteger(h), `length ${len}: a u32 (${h})`);
    if (h >= 2 ** 31) negative++;
    if (len > 0) assert.is.not(hash(mem, A, len - 1), h, `length ${len - 1} vs ${len}`);
    for (const at of len ? [0, len >>> 1, len - 1] : []) {
      for (const bit of [0, 7]) {
        mem[B + at] ^= 1 << bit;
        assert.is.not(hash(mem, B, len), h, `length ${len}: bit ${bit} of byte ${at} flipped`);
        mem[B + at] ^= 1 << bit;
      }
    }
  }
  assert.ok(negative > 0, "some hashes have the top bit set (and stay unsigned)");
});

test("fidelity meter with the core hash: matches and mismatches as with the JS hash", () => {
  const run = (h: (m: Uint8Array, o: number, l: number) => number) => {
    const m = new FidelityMeter(10, null, h);
    const isn = 1000;
    m.ref(0, "f", isn, isn + 1, 500, 0x18, mem, A, 500, 0); // capture first
    m.out(0, "f", isn, isn + 1, 0x18, mem, B, 500);
    m.out(0, "f", isn, isn + 501, 0x18, mem, B + 500, 300); // core first
    m.ref(0, "f", isn, isn + 501, 300, 0x18, mem, A + 500, 300, 0);
    mem[B + 899] ^= 0x80;
    m.ref(0, "f", isn, isn + 801, 100, 0x18, mem, A + 800, 100, 0);
    m.out(0, "f", isn, isn + 801, 0x18, mem, B + 800, 100); // its last byte differs
    mem[B + 899] ^= 0x80;
    m.refDatagram(1, "u", 20, mem, A, 20);
    m.outDatagram(1, "u", mem, B, 20);
    return m.finish();
  };
  const core = run(hash);
  const js = run(payloadHash);
  assert.equal([core.segments_compared, core.segments_matching, core.datagrams_matching], [3, 2, 1]);
  assert.equal(core.first_mismatches, js.first_mismatches);
  assert.equal(
    core.first_mismatches.map((x) => x.what),
    ["payload bytes differ"],
  );
});

test("core hash refuses memory that is not the core's", () => {
  assert.throws(() => hash(new Uint8Array(16), 0, 8), /not the core's memory/);
});

test.run();
