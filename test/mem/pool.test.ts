// mbuf pool: LIFO alloc/free, exhaustion, double free, pool check, poison, jumbo data size.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CFG_F_POISON, COUNTER_BASE, createCore, type Core } from "../../host/core/core.ts";

const C_MBUF_EXHAUSTED = 12;
const C_MBUF_DOUBLE_FREE = 15;
const C_MBUF_BAD_HANDLE = 19;
const HEADER = 64;
const STRIDE = 2112;
const STATE_FREE = 0xf4ee;

type Fn = (...a: number[]) => number;
function fns(core: Core): Record<string, Fn> {
  return core.exports as unknown as Record<string, Fn>;
}
function counter(core: Core, c: number): number {
  return core.u32[(COUNTER_BASE >>> 2) + c * 2];
}
// No rings: with rings, init posts an mbuf in every RX slot (net/netif.ts), and these tests count the pool alone.
function small(flags = 0, debug = false): Core {
  return createCore(
    { mbufs: 64, flows: 16, ringSlots: 0, stagingBytes: 65536, descSlots: 16, flags },
    { debug },
  );
}

for (const debug of [false, true]) {
  const name = debug ? "debug" : "release";

  test(`${name}: alloc gives distinct mbufs of the region; exhaustion returns 0 and counts`, () => {
    const core = small(0, debug);
    const f = fns(core);
    const { offset, bytes } = core.regions.mbuf;
    assert.is(bytes, 64 * STRIDE);
    assert.is(f.mbufTotal(), 64);
    assert.is(f.mbufFreeCount(), 64);
    const seen = new Set<number>();
    for (let i = 0; i < 64; i++) {
      const m = f.mbufAlloc() >>> 0;
      assert.ok(m >= offset && m < offset + bytes && (m - offset) % STRIDE === 0, `mbuf ${m} in region`);
      assert.is(f.mbufIndex(m), (m - offset) / STRIDE);
      assert.is(f.mbufAt(f.mbufIndex(m)) >>> 0, m);
      assert.is(f.mbufData(m) >>> 0, m + HEADER); // dataOff 0 after alloc
      assert.is(core.u16[(m + 16) >>> 1], 1, "refcnt 1");
      assert.is(core.u32[(m + 24) >>> 2], 0xffffffff, "no flow");
      seen.add(m);
    }
    assert.is(seen.size, 64);
    assert.is(f.mbufFreeCount(), 0);
    assert.is(f.mbufAlloc(), 0, "null handle when empty");
    assert.is(f.mbufAlloc(), 0);
    assert.is(counter(core, C_MBUF_EXHAUSTED), 2);
    for (const m of seen) f.mbufFree(m);
    assert.is(f.mbufFreeCount(), 64, "pool back to full");
    assert.is(f.mbufPoolCheck(), 0);
  });

  test(`${name}: LIFO order (last freed is first reused)`, () => {
    const f = fns(small(0, debug));
    const a = f.mbufAlloc();
    const b = f.mbufAlloc();
    assert.is.not(a, b);
    f.mbufFree(a);
    f.mbufFree(b);
    assert.is(f.mbufAlloc(), b);
    assert.is(f.mbufAlloc(), a);
  });

  test(`${name}: double free and foreign handles are counted and ignored`, () => {
    const core = small(0, debug);
    const f = fns(core);
    const m = f.mbufAlloc() >>> 0;
    f.mbufFree(m);
    f.mbufFree(m);
    assert.is(counter(core, C_MBUF_DOUBLE_FREE), 1);
    assert.is(f.mbufFreeCount(), 64, "the second free did not push twice");
    f.mbufFree(m + 8); // inside an mbuf, not a header
    f.mbufFree(0);
    f.mbufFree(core.regions.mbuf.offset + 64 * STRIDE); // one past the end
    assert.is(counter(core, C_MBUF_BAD_HANDLE), 3);
    assert.is(f.mbufPoolCheck(), 0);
    // Two allocations must never return the same buffer after the double free.
    const all = new Set<number>();
    for (let i = 0; i < 64; i++) all.add(f.mbufAlloc() >>> 0);
    assert.is(all.size, 64);
    assert.not.ok(all.has(0));
  });

  test(`${name}: pool check finds a lost mbuf and a corrupted header`, () => {
    const core = small(0, debug);
    const f = fns(core);
    const m = f.mbufAlloc() >>> 0;
    assert.is(f.mbufPoolCheck(), 0, "allocated mbufs are consistent");
    core.u16[(m + 18) >>> 1] = STATE_FREE; // marked free but not on the stack: lost
    assert.ok(f.mbufPoolCheck() > 0);
    core.u16[(m + 18) >>> 1] = 0xa11c;
    core.u32[(m + 20) >>> 2] = 999; // index overwritten
    assert.ok(f.mbufPoolCheck() > 0);
  });

  test(`${name}: batch alloc/free through index arrays`, () => {
    const core = small(0, debug);
    const f = fns(core);
    const out = core.regions.staging.offset;
    assert.is(f.mbufAllocBatch(out, 40), 40);
    assert.is(f.mbufAllocBatch(out + 160, 40), 24, "only 24 left");
    assert.is(counter(core, C_MBUF_EXHAUSTED), 1);
    const idx = Array.from(core.u32.subarray(out >>> 2, (out >>> 2) + 64));
    assert.is(new Set(idx).size, 64);
    assert.ok(idx.every((i) => i < 64));
    f.mbufFreeBatch(out, 64);
    assert.is(f.mbufFreeCount(), 64);
    assert.is(f.mbufPoolCheck(), 0);
  });

  test(`${name}: chains free every segment`, () => {
    const core = small(0, debug);
    const f = fns(core);
    const a = f.mbufAlloc() >>> 0;
    const b = f.mbufAlloc() >>> 0;
    const c = f.mbufAlloc() >>> 0;
    core.u32[a >>> 2] = b;
    core.u32[b >>> 2] = c;
    f.mbufFreeChain(a);
    assert.is(f.mbufFreeCount(), 64);
    assert.is(f.mbufPoolCheck(), 0);
  });
}

test("poison flag (CFG_F_POISON) fills freed data; off by default", () => {
  for (const flags of [0, CFG_F_POISON]) {
    const core = small(flags);
    const f = fns(core);
    const m = f.mbufAlloc() >>> 0;
    core.u8.fill(0x11, m + HEADER, m + STRIDE);
    f.mbufFree(m);
    const data = core.u8.subarray(m + HEADER, m + STRIDE);
    const want = flags ? 0xdb : 0x11;
    assert.ok(
      data.every((x) => x === want),
      `flags ${flags}: data ${want.toString(16)}`,
    );
    assert.is(core.u32[(m + 20) >>> 2], f.mbufIndex(m), "header kept");
  }
});

test("a 100k alloc/free churn keeps the pool whole", () => {
  const core = createCore({ mbufs: 4096, flows: 16, ringSlots: 0, stagingBytes: 65536, descSlots: 16 });
  const f = fns(core);
  const held: number[] = [];
  let x = 12345;
  for (let i = 0; i < 100_000; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (held.length && (x & 1 || held.length === 4096)) {
      const j = (x >>> 8) % held.length;
      f.mbufFree(held[j]);
      held[j] = held[held.length - 1];
      held.pop();
    } else {
      const m = f.mbufAlloc();
      assert.ok(m !== 0);
      held.push(m);
    }
  }
  assert.is(f.mbufFreeCount(), 4096 - held.length);
  for (const m of held) f.mbufFree(m);
  assert.is(f.mbufFreeCount(), 4096);
  assert.is(f.mbufPoolCheck(), 0);
});

test("init is O(1): headers are written on first use, and the pool still counts every mbuf free", () => {
  const core = createCore({ mbufs: 100_000, flows: 16, ringSlots: 0, stagingBytes: 65536, descSlots: 16 });
  const f = fns(core);
  assert.is(f.mbufFreeCount(), 100_000);
  const last = core.regions.mbuf.offset + 99_999 * STRIDE;
  assert.is(core.u32[(last + 20) >>> 2], 0, "the last header was never written");
  const a = f.mbufAlloc();
  const b = f.mbufAlloc();
  assert.is(f.mbufIndex(a), 0);
  assert.is(f.mbufIndex(b), 1);
  f.mbufFree(a);
  assert.is(f.mbufAlloc(), a, "a freed mbuf is reused before a fresh one (LIFO)");
  assert.is(f.mbufFreeCount(), 99_998);
  assert.is(f.mbufPoolCheck(), 0);
});
test("jumbo mbufs (mbufData 9216): stride 9280 (145 lines, odd), pool carved without overlap, data filled to the end", () => {
  const JSTRIDE = 9280;
  for (const debug of [false, true]) {
    const core = createCore(
      {
        mbufs: 64,
        flows: 16,
        ringSlots: 0,
        stagingBytes: 65536,
        descSlots: 16,
        mbufData: 9216,
        flags: CFG_F_POISON,
      },
      { debug },
    );
    const f = fns(core);
    const { offset, bytes } = core.regions.mbuf;
    assert.is(bytes, 64 * JSTRIDE);
    assert.is(core.regions.mbufStack.offset >= offset + bytes, true, "stack after the pool");
    assert.is(f.mbufTotal(), 64);
    const ms: number[] = [];
    for (let i = 0; i < 64; i++) {
      const m = f.mbufAlloc() >>> 0;
      assert.is(m, offset + i * JSTRIDE, `mbuf ${i} at its stride`);
      assert.is(f.mbufIndex(m), i);
      assert.is(f.mbufAt(i) >>> 0, m);
      ms.push(m);
    }
    assert.is(f.mbufAlloc(), 0, "64 and no more");
    // Fill every data area to its last byte: no header may change.
    for (const m of ms) core.u8.fill(0x11, m + HEADER, m + HEADER + 9216);
    ms.forEach((m, i) => assert.is(core.u32[(m + 20) >>> 2], i, `header ${i} intact`));
    assert.is(f.mbufPoolCheck(), 0);
    f.mbufFree(ms[3] + 64); // inside a data area on a cache-line boundary
    f.mbufFree(offset + 64 * JSTRIDE); // one past the end
    assert.is(counter(core, C_MBUF_BAD_HANDLE), 2);
    f.mbufFree(ms[5]); // poison fills the whole 9216-byte data area, not the next header
    assert.ok(core.u8.subarray(ms[5] + HEADER, ms[5] + HEADER + 9216).every((x) => x === 0xdb));
    assert.is(core.u32[(ms[6] + 20) >>> 2], 6, "next header untouched by the poison");
    for (const m of ms) if (m !== ms[5]) f.mbufFree(m);
    assert.is(f.mbufFreeCount(), 64);
    assert.is(f.mbufPoolCheck(), 0);
  }
});

test("mbufData must be a multiple of 64 in 2048..16384 (plan refuses the rest); 0 means 2048", () => {
  for (const mbufData of [1024, 2047, 3000, 16448])
    assert.throws(
      () => createCore({ mbufs: 8, ringSlots: 0, mbufData }),
      /invalid core config/,
      `${mbufData}`,
    );
  const core = createCore({ mbufs: 8, ringSlots: 0, stagingBytes: 65536, descSlots: 16, mbufData: 0 });
  assert.is(core.regions.mbuf.bytes, 8 * STRIDE);
  const big = createCore({ mbufs: 8, ringSlots: 0, stagingBytes: 65536, descSlots: 16, mbufData: 4096 });
  assert.is(big.regions.mbuf.bytes, 8 * 4160, "4096 + 64 = 65 lines, already odd");
});

test.run();
