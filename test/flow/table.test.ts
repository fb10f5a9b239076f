// Flow table: API semantics, canonical keys, full table, 1,000,000 inserts /
// lookups / deletes / reinserts, and lookup cost.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { COUNTER_BASE, createCore, type Core } from "../../host/core/core.ts";
import { Mulberry32 } from "../../host/io/prng.ts";

const C_FLOW_TABLE_FULL = 13;
const KEY = 40;
type Fn = (...a: number[]) => number;
const fns = (core: Core) => core.exports as unknown as Record<string, Fn>;
const counter = (core: Core, c: number) => core.u32[(COUNTER_BASE >>> 2) + c * 2];
const mk = (flows: number, stagingBytes = 1 << 20, flags = 0) =>
  createCore({ mbufs: 16, flows, ringSlots: 16, stagingBytes, descSlots: 16, flags });

/** Writes key number i (IPv4 for even i % 3 != 0, IPv6 otherwise) at byte offset o. */
function writeKey(core: Core, o: number, i: number): void {
  const u8 = core.u8;
  u8.fill(0, o, o + KEY);
  const v6 = i % 3 === 0;
  u8[o] = v6 ? 6 : 4;
  u8[o + 1] = i & 1 ? 17 : 6;
  core.u16[(o + 4) >>> 1] = 1024 + (i % 50000);
  core.u16[(o + 6) >>> 1] = 80 + (i >>> 20);
  const dv = new DataView(core.memory.buffer);
  if (v6) {
    dv.setUint32(o + 8, 0x20010db8);
    dv.setUint32(o + 20, i);
    dv.setUint32(o + 24, 0xfd000000);
    dv.setUint32(o + 36, Math.imul(i, 7) >>> 0);
  } else {
    dv.setUint32(o + 8, (10 << 24) | (i >>> 8));
    dv.setUint32(o + 24, (198 << 24) | (18 << 16) | (i & 0xff));
  }
}

test("insert, find, value word, delete", () => {
  const core = mk(1000);
  const f = fns(core);
  const k = core.regions.staging.offset;
  writeKey(core, k, 1);
  const h = f.flowKeyHash(k) >>> 0;
  assert.is(f.flowFind(k, h), -1);
  const i = f.flowInsert(k, h);
  assert.ok(i >= 0);
  assert.is(f.flowCount(), 1);
  assert.is(f.flowInsert(k, h), i, "insert of a present key returns its entry");
  assert.is(f.flowCount(), 1);
  assert.is(f.flowFind(k, h), i);
  const v = f.flowValue(i) >>> 0;
  assert.is(core.u32[v >>> 2], 0, "value starts at 0");
  core.u32[v >>> 2] = 0xabcd;
  assert.is(core.u32[(f.flowValue(f.flowFind(k, h)) >>> 0) >>> 2], 0xabcd);
  const stored = f.flowKeyAt(i) >>> 0;
  assert.equal(Array.from(core.u8.subarray(stored, stored + KEY)), Array.from(core.u8.subarray(k, k + KEY)));
  // a key differing in one byte (the proto) is another flow
  core.u8[k + 1] ^= 0xff;
  assert.is(f.flowFind(k, h), -1);
  core.u8[k + 1] ^= 0xff;
  f.flowDelete(i);
  assert.is(f.flowCount(), 0);
  assert.is(f.flowFind(k, h), -1);
  f.flowDelete(i); // twice: ignored
  f.flowDelete(-1);
  f.flowDelete(1 << 30);
  assert.is(f.flowCount(), 0);
  assert.is(f.flowValue(-1), 0);
  // a zeroed buffer (family 0) is not a key
  core.u8.fill(0, k, k + KEY);
  assert.is(f.flowInsert(k, 0), -1);
});

test("keys that differ only in a port, forced into one hash: distinct entries, each found as itself", () => {
  const core = mk(100);
  const f = fns(core);
  const base = core.regions.staging.offset;
  const H = 0x12345678; // one hash for all: the table must tell them apart by the key's bytes
  for (const v6 of [false, true]) {
    const keys: number[] = [];
    // i = 0: the base key; 1: another source port; 2: another destination port; 3: the ports swapped.
    const ports = [
      [40000, 80],
      [40001, 80],
      [40000, 81],
      [80, 40000],
    ];
    ports.forEach(([sp, dp], i) => {
      const o = base + (v6 ? 512 : 0) + i * 64;
      writeKey(core, o, v6 ? 3 : 1);
      core.u16[(o + 4) >>> 1] = sp;
      core.u16[(o + 6) >>> 1] = dp;
      keys.push(o);
    });
    for (const k of keys) assert.is(f.flowFind(k, H), -1, "absent before insert");
    const idx = keys.map((k) => f.flowInsert(k, H));
    assert.is(new Set(idx).size, 4, `four entries, not one: ${idx}`);
    keys.forEach((k, i) => {
      assert.is(f.flowFind(k, H), idx[i], `key ${i} finds its own entry`);
      const stored = f.flowKeyAt(idx[i]) >>> 0;
      assert.equal(
        [core.u16[(stored + 4) >>> 1], core.u16[(stored + 6) >>> 1]],
        ports[i],
        `key ${i}'s ports stored`,
      );
    });
    // Deleting one leaves the others reachable (backward shift within the one cluster).
    f.flowDelete(idx[0]);
    assert.is(f.flowFind(keys[0], H), -1);
    for (let i = 1; i < 4; i++) assert.is(f.flowFind(keys[i], H), idx[i]);
    for (let i = 1; i < 4; i++) f.flowDelete(idx[i]);
    assert.is(f.flowCount(), 0);
  }
});

test("canonical keys: both directions give one key and one entry", () => {
  const core = mk(100);
  const f = fns(core);
  const a = core.regions.staging.offset;
  const b = a + 64;
  for (const v6 of [false, true]) {
    core.u8.fill(0, a, a + 128);
    for (const [o, rev] of [
      [a, false],
      [b, true],
    ] as const) {
      core.u8[o] = v6 ? 6 : 4;
      core.u8[o + 1] = 6;
      const src = v6 ? [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9] : [198, 18, 0, 9];
      const dst = v6 ? [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] : [198, 18, 0, 2];
      core.u16[(o + 4) >>> 1] = rev ? 80 : 40000;
      core.u16[(o + 6) >>> 1] = rev ? 40000 : 80;
      core.u8.set(rev ? dst : src, o + 8);
      core.u8.set(rev ? src : dst, o + 24);
    }
    assert.is(f.flowKeyCanonicalSwap(a), 1, "9 > 2: swapped");
    assert.is(f.flowKeyCanonicalSwap(b), 0, "already canonical");
    assert.equal(Array.from(core.u8.subarray(a, a + KEY)), Array.from(core.u8.subarray(b, b + KEY)));
    f.flowKeyCanonical(a);
    assert.equal(
      Array.from(core.u8.subarray(a, a + KEY)),
      Array.from(core.u8.subarray(b, b + KEY)),
      "idempotent",
    );
    const i = f.flowInsert(a, f.flowKeyHash(a));
    assert.is(f.flowInsert(b, f.flowKeyHash(b)), i);
  }
  // same addresses, ports decide
  core.u8.fill(0, a, a + KEY);
  core.u8[a] = 4;
  core.u8.set([1, 2, 3, 4], a + 8);
  core.u8.set([1, 2, 3, 4], a + 24);
  core.u16[(a + 4) >>> 1] = 9000;
  core.u16[(a + 6) >>> 1] = 53;
  assert.is(f.flowKeyCanonicalSwap(a), 1);
  assert.is(core.u16[(a + 4) >>> 1], 53);
});

test("symmetric RSS: canonical key hash equals the hash of either packet direction", () => {
  const core = mk(16, 1 << 20, 1);
  const f = fns(core);
  const k = core.regions.staging.offset;
  writeKey(core, k, 4);
  const h1 = f.flowKeyHash(k);
  f.flowKeyReverse(k);
  assert.is(f.flowKeyHash(k), h1);
});

test("full table: insert returns -1 and counts; a delete makes room", () => {
  const cap = 100;
  const core = mk(cap);
  const f = fns(core);
  assert.is(f.flowCapacity(), cap);
  assert.is(f.flowSlots(), 256, "next power of two >= 100/0.75");
  const base = core.regions.staging.offset;
  const idx: number[] = [];
  for (let i = 0; i < cap; i++) {
    writeKey(core, base + i * 64, i);
    idx.push(f.flowInsert(base + i * 64, f.flowKeyHash(base + i * 64)));
  }
  assert.ok(idx.every((x) => x >= 0 && x < cap));
  assert.is(new Set(idx).size, cap);
  writeKey(core, base + cap * 64, cap);
  assert.is(f.flowInsert(base + cap * 64, f.flowKeyHash(base + cap * 64)), -1);
  assert.is(counter(core, C_FLOW_TABLE_FULL), 1);
  assert.is(f.flowCount(), cap);
  f.flowDelete(idx[37]);
  assert.is(f.flowInsert(base + cap * 64, f.flowKeyHash(base + cap * 64)), idx[37], "reuses the freed entry");
  for (let i = 0; i < cap; i++) {
    if (i === 37) continue;
    assert.is(f.flowFind(base + i * 64, f.flowKeyHash(base + i * 64)), idx[i]);
  }
});

test("hashes with constant low bits (one worker's flow groups) still spread", () => {
  const n = 50_000;
  const core = mk(n, n * KEY);
  const f = fns(core);
  const base = core.regions.staging.offset;
  for (let i = 0; i < n; i++) {
    writeKey(core, base + i * KEY, i);
    // keep only hashes whose RETA group is 5: what one worker of many sees
    const h = ((f.flowKeyHash(base + i * KEY) >>> 0) & ~127) | 5;
    assert.ok(f.flowInsert(base + i * KEY, h >>> 0) >= 0);
  }
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const p = f.flowProbeLength(i);
    sum += p;
    max = Math.max(max, p);
  }
  console.log(
    `  ${n} flows, load ${(n / f.flowSlots()).toFixed(2)}: mean probe ${(sum / n).toFixed(2)}, max ${max}`,
  );
  assert.ok(sum / n < 3, "mean probe distance stays small");
});

test("1,000,000 flows: insert, lookup, delete half, reinsert, churn", () => {
  const n = 1_000_000;
  const core = mk(n, n * KEY);
  const f = fns(core);
  console.log(
    `  flow region ${(core.regions.flow.bytes / 1e6).toFixed(1)} MB for ${n} flows: ${(core.regions.flow.bytes / n).toFixed(1)} B/flow, ${f.flowSlots()} slots`,
  );
  const base = core.regions.staging.offset;
  const hash = new Uint32Array(n);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    writeKey(core, base + i * KEY, i);
    hash[i] = f.flowKeyHash(base + i * KEY);
  }
  let t0 = performance.now();
  for (let i = 0; i < n; i++) idx[i] = f.flowInsert(base + i * KEY, hash[i]);
  const insNs = ((performance.now() - t0) * 1e6) / n;
  assert.is(f.flowCount(), n);
  assert.ok(idx.every((x) => x >= 0 && x < n));
  assert.is(new Set(idx).size, n, "distinct entries");
  // lookups: median of 3 passes
  const pass = () => {
    let bad = 0;
    const t = performance.now();
    for (let i = 0; i < n; i++) if (f.flowFind(base + i * KEY, hash[i]) !== idx[i]) bad++;
    return { ns: ((performance.now() - t) * 1e6) / n, bad };
  };
  const runs = [pass(), pass(), pass()];
  assert.ok(runs.every((r) => r.bad === 0));
  const findNs = runs.map((r) => r.ns).sort((a, b) => a - b)[1];
  // misses: keys not in the table
  let miss = 0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) if (f.flowFind(base + i * KEY, hash[i] ^ 0x5a5a5a5a) === -1) miss++;
  const missNs = ((performance.now() - t0) * 1e6) / n;
  assert.is(miss, n);
  // delete the even ones
  t0 = performance.now();
  for (let i = 0; i < n; i += 2) f.flowDelete(idx[i]);
  const delNs = ((performance.now() - t0) * 2e6) / n;
  assert.is(f.flowCount(), n / 2);
  for (let i = 0; i < n; i++) {
    const r = f.flowFind(base + i * KEY, hash[i]);
    if (i % 2 === 0) {
      if (r !== -1) assert.unreachable(`deleted key ${i} still found`);
    } else if (r !== idx[i]) assert.unreachable(`key ${i} lost after deletes: ${r} vs ${idx[i]}`);
  }
  // reinsert them: the table is full again and every key is found
  for (let i = 0; i < n; i += 2) idx[i] = f.flowInsert(base + i * KEY, hash[i]);
  assert.is(f.flowCount(), n);
  assert.ok(idx.every((x) => x >= 0 && x < n));
  assert.is(new Set(idx).size, n);
  for (let i = 0; i < n; i++)
    if (f.flowFind(base + i * KEY, hash[i]) !== idx[i]) assert.unreachable(`key ${i}`);
  writeKey(core, base, n + 1);
  core.u16[(base + 6) >>> 1] = 9; // a key not in the table
  assert.is(f.flowInsert(base, f.flowKeyHash(base)), -1, "full at capacity");
  writeKey(core, base, 0);
  // churn: delete and reinsert random keys
  const rnd = new Mulberry32(99);
  for (let r = 0; r < 200_000; r++) {
    const i = rnd.int(n);
    f.flowDelete(idx[i]);
    idx[i] = f.flowInsert(base + i * KEY, hash[i]);
    if (idx[i] < 0) assert.unreachable("reinsert failed");
  }
  assert.is(f.flowCount(), n);
  for (let i = 0; i < n; i++)
    if (f.flowFind(base + i * KEY, hash[i]) !== idx[i]) assert.unreachable(`after churn ${i}`);
  console.log(
    `  1M flows (load ${(n / f.flowSlots()).toFixed(2)}), per op incl. the JS→WASM call: insert ${insNs.toFixed(0)} ns, find hit ${findNs.toFixed(0)} ns, miss ${missNs.toFixed(0)} ns, delete ${delNs.toFixed(0)} ns`,
  );
});

test.run();
