// flowKeyMix (assembly/flow/key.ts), the flow table's hash for inspect's
// conversation count: a function of the 40 key bytes alone, every byte of the
// key reaches the top bits (the flow table takes its home slot from them), and
// keys that differ in one field spread over the table like random ones.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore } from "../../host/core/core.ts";

const KEY = 40;
const core = createCore({ mbufs: 16, flows: 1024, ringSlots: 16, stagingBytes: 1 << 20, descSlots: 16 });
const f = core.exports as unknown as Record<string, (...a: number[]) => number>;
const A = core.regions.staging.offset;
const B = A + 4096; // the same key elsewhere

function v6Key(o: number, i: number): void {
  const u8 = core.u8;
  u8.fill(0, o, o + KEY);
  u8[o] = 6;
  u8[o + 1] = 6;
  core.u16[(o + 4) >>> 1] = 1024 + i;
  core.u16[(o + 6) >>> 1] = 443;
  for (let j = 8; j < KEY; j++) u8[o + j] = (j * 29 + i * 7) & 0xff;
}

test("a function of the key bytes alone; one flipped bit anywhere moves the top 16 bits", () => {
  v6Key(A, 1);
  core.u8.copyWithin(B, A, A + KEY);
  const h = f.flowKeyMix(A) >>> 0;
  assert.is(f.flowKeyMix(B) >>> 0, h, "same bytes, other place");
  for (let byte = 0; byte < KEY; byte++)
    for (let bit = 0; bit < 8; bit++) {
      core.u8[B + byte] ^= 1 << bit;
      const g = f.flowKeyMix(B) >>> 0;
      core.u8[B + byte] ^= 1 << bit;
      assert.is.not(g >>> 16, h >>> 16, `byte ${byte} bit ${bit}`);
    }
});

test("sequential client ports and addresses spread over the top bits (home slots of 2^16)", () => {
  const u8 = core.u8;
  const dv = new DataView(core.memory.buffer);
  const homes = new Set<number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    u8.fill(0, A, A + KEY);
    u8[A] = 4;
    u8[A + 1] = 6;
    core.u16[(A + 4) >>> 1] = 1024 + (i % 5000);
    core.u16[(A + 6) >>> 1] = 80;
    dv.setUint32(A + 8, (198 << 24) | (18 << 16) | Math.floor(i / 5000));
    dv.setUint32(A + 24, (198 << 24) | (19 << 16) | 1);
    homes.add((f.flowKeyMix(A) >>> 0) >>> 16);
  }
  // n balls in 2^16 bins: 65536 * (1 - e^(-n/65536)) ≈ 17,371 occupied expected
  assert.ok(homes.size > 17_000, `${homes.size} distinct top-16-bit values of ${n}`);
});

test.run();
