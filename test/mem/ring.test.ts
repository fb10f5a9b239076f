// SPSC rings: layout agreement between the core and host/runtime/ring.ts,
// wrap-around, full ring, sleep/notify handshake, and 1e6 items across two
// threads in each direction (JS worker → WASM core, WASM core → JS worker).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import { COUNTER_BASE, createCore, type Core } from "../../host/core/core.ts";
import { RING, RING_LAYOUT_ORDER, SpscRing, ringBytes } from "../../host/runtime/ring.ts";

const C_RING_FULL = 14;
type Fn = (...a: number[]) => number;
const fns = (core: Core) => core.exports as unknown as Record<string, Fn>;
const counter = (core: Core, c: number) => core.u32[(COUNTER_BASE >>> 2) + c * 2];
const mk = (ringSlots: number) =>
  createCore({ mbufs: 16, flows: 16, ringSlots, stagingBytes: 1 << 20, descSlots: 16 });

function mix(i: number): number {
  return Math.imul(i ^ (i >>> 15), 0x2c1b3c6d) >>> 0;
}

test("core and host agree on the ring layout", () => {
  const core = mk(16);
  const f = fns(core);
  RING_LAYOUT_ORDER.forEach((v, i) => assert.is(f.ringLayout(i) >>> 0, v, `ringLayout(${i})`));
  assert.is(f.ringLayout(RING_LAYOUT_ORDER.length) >>> 0, 0xffffffff, "host mirrors every entry");
  assert.is(core.regions.rxRing.bytes, ringBytes(16));
  assert.is(core.regions.txRing.bytes, ringBytes(16));
  assert.ok(
    RING.tail - RING.head >= 64 && RING.sleep - RING.tail >= 64,
    "head, tail, sleep on separate lines",
  );
  // init() left both rings initialised: the host attaches without re-initialising.
  const rx = new SpscRing(core.memory.buffer, core.regions.rxRing.offset);
  assert.is(rx.slots, 16);
  assert.is(rx.count(), 0);
});

for (const local of [false, true])
  test(`host produces, core consumes: wrap-around keeps order over many laps${local ? " (local ring)" : ""}`, () => {
    const core = mk(8);
    const f = fns(core);
    const ringOff = core.regions.rxRing.offset;
    const ring = new SpscRing(core.memory.buffer, ringOff, local);
    const dst = core.regions.staging.offset;
    let next = 0;
    let got = 0;
    for (let round = 0; round < 1000; round++) {
      const k = 1 + (round % 7);
      for (let j = 0; j < k; j++) {
        assert.ok(ring.push(next, next & 0xffff, 3, mix(next), 7));
        next++;
      }
      const n = f.ringDequeue(ringOff, dst, 5);
      for (let j = 0; j < n; j++) {
        const w = (dst >>> 2) + j * 4;
        assert.is(core.u32[w], got);
        assert.is(core.u32[w + 1], (got & 0xffff) | (3 << 16));
        assert.is(core.u32[w + 2], mix(got));
        assert.is(core.u32[w + 3], 7);
        got++;
      }
      // drain the rest so the next round has room
      let m: number;
      while ((m = f.ringDequeue(ringOff, dst, 64)) > 0) {
        for (let j = 0; j < m; j++) assert.is(core.u32[(dst >>> 2) + j * 4], got++);
      }
    }
    assert.is(got, next);
    assert.ok(ring.head() > 8 * 100, "head went around the ring many times");
    assert.is(f.ringCount(ringOff), 0);
  });

for (const local of [false, true])
  test(`free-running indices survive the 2^32 wrap${local ? " (local ring)" : ""}`, () => {
    const core = mk(8);
    const f = fns(core);
    const off = core.regions.txRing.offset;
    // Move both indices to just below 2^32 on an empty ring.
    core.u32[(off + RING.head) >>> 2] = 0xfffffffd;
    core.u32[(off + RING.tail) >>> 2] = 0xfffffffd;
    const host = new SpscRing(core.memory.buffer, off, local);
    for (let i = 0; i < 6; i++) assert.ok(f.ringPush(off, 100 + i, 60, 0, 0, i));
    assert.is(host.count(), 6);
    assert.is(f.ringSpace(off), 2);
    for (let i = 0; i < 6; i++)
      assert.equal(host.pop(), { buf: 100 + i, len: 60, flags: 0, hash: 0, user: i });
    assert.is(host.pop(), null);
    assert.is(core.u32[(off + RING.head) >>> 2], 3, "head wrapped");
  });

for (const local of [false, true])
  test(`full ring: enqueue returns how many fit, the rest is counted${local ? " (local ring)" : ""}`, () => {
    const core = mk(16);
    const f = fns(core);
    const off = core.regions.txRing.offset;
    const src = core.regions.staging.offset;
    for (let i = 0; i < 40; i++) core.u32.set([i, 60, 0, 0], (src >>> 2) + i * 4);
    assert.is(f.ringEnqueue(off, src, 10), 10);
    assert.is(f.ringEnqueue(off, src + 160, 30), 6, "only 6 slots left");
    assert.is(counter(core, C_RING_FULL), 24);
    assert.is(f.ringEnqueue(off, src, 1), 0);
    assert.is(f.ringPush(off, 1, 1, 0, 0, 0), 0);
    assert.is(counter(core, C_RING_FULL), 26);
    const host = new SpscRing(core.memory.buffer, off, local);
    assert.is(host.refused(), 26);
    const out = new Uint32Array(64 * 4);
    assert.is(host.dequeue(out), 16);
    const bufs = Array.from({ length: 16 }, (_, i) => out[i * 4]);
    assert.equal(bufs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // host-side producer into a full ring
    const rx = new SpscRing(core.memory.buffer, core.regions.rxRing.offset, local);
    const items = new Uint32Array(20 * 4);
    assert.is(rx.enqueue(items), 16);
    assert.is(rx.refused(), 4);
    assert.is(rx.space(), 0);
  });

test("local ring: the same counts with plain accesses, never a notify, no sleep", () => {
  const core = mk(16);
  const f = fns(core);
  const off = core.regions.rxRing.offset;
  const ring = new SpscRing(core.memory.buffer, off, true);
  core.u32[(off + RING.sleep) >>> 2] = 1; // as if a consumer slept on it: a local ring never has one
  assert.ok(ring.push(5, 60), "push");
  assert.is(core.u32[(off + RING.sleep) >>> 2], 1, "the flag is left alone (no notify)");
  assert.is(ring.notifies(), 0);
  assert.is(f.ringCount(off), 1, "the core sees the plain head store");
  assert.is(ring.count(), 1);
  assert.is(ring.reserve(), 15);
  assert.throws(() => ring.sleep(1), /local ring/);
  const tx = new SpscRing(core.memory.buffer, core.regions.txRing.offset, true);
  assert.ok(f.ringPush(core.regions.txRing.offset, 9, 60, 0, 0, 1));
  assert.is(tx.available(), 1);
  tx.release(1);
  assert.is(f.ringSpace(core.regions.txRing.offset), 16, "the core sees the plain tail store");
});

test("sleep flag: producer notifies only a consumer that said it sleeps", () => {
  const core = mk(16);
  const f = fns(core);
  const off = core.regions.txRing.offset;
  const host = new SpscRing(core.memory.buffer, off);
  f.ringPush(off, 1, 1, 0, 0, 0);
  assert.is(host.notifies(), 0, "consumer awake: no notify");
  host.pop();
  // Consumer announces sleep; the core's publish clears the flag and notifies.
  core.i32[(off + RING.sleep) >>> 2] = 1;
  f.ringPush(off, 2, 1, 0, 0, 0);
  assert.is(host.notifies(), 1);
  assert.is(core.i32[(off + RING.sleep) >>> 2], 0, "producer cleared the flag");
  // sleep() with items present returns at once without waiting.
  const t0 = performance.now();
  assert.is(host.sleep(500), 1);
  assert.ok(performance.now() - t0 < 100);
  // The core as consumer: ringSleepPrepare reports what is there.
  const rxOff = core.regions.rxRing.offset;
  assert.is(f.ringSleepPrepare(rxOff), 0);
  const rx = new SpscRing(core.memory.buffer, rxOff);
  assert.ok(rx.push(5, 5));
  assert.is(rx.notifies(), 1);
  f.ringAwake(rxOff);
  assert.is(f.ringCount(rxOff), 1);
});

function peer(data: object): Worker {
  // Workers can't load .ts under tsx on Node 20 directly (AS-NOTES §6): register tsx first.
  const url = new URL("./ring-peer.ts", import.meta.url).href;
  const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}

function result(w: Worker): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
}

const N = 1_000_000;

test("two threads: JS worker produces 1e6 items, WASM core consumes them in order", async () => {
  const core = mk(1024);
  const f = fns(core);
  const off = core.regions.rxRing.offset;
  const w = peer({ buffer: core.memory.buffer, base: off, role: "produce", n: N, batch: 32 });
  const done = result(w);
  const dst = core.regions.staging.offset;
  const u = core.u32;
  const sleepIx = (off + RING.sleep) >>> 2;
  let expect = 0;
  let bad = 0;
  let idle = 0;
  let sleeps = 0;
  const t0 = performance.now();
  while (expect < N) {
    const n = f.ringDequeue(off, dst, 64);
    if (n === 0) {
      // Idle: spin a while, then sleep on the flag like a worker would.
      if (++idle > 5000) {
        if (f.ringSleepPrepare(off) === 0) {
          sleeps++;
          Atomics.wait(core.i32, sleepIx, 1, 100);
        }
        f.ringAwake(off);
        idle = 0;
      }
      continue;
    }
    idle = 0;
    for (let j = 0; j < n; j++) {
      const b = (dst >>> 2) + j * 4;
      const v = expect + j;
      if (
        u[b] !== v ||
        u[b + 1] !== ((v & 0x7ff) | ((v & 0xffff) << 16)) >>> 0 ||
        u[b + 2] !== mix(v) ||
        u[b + 3] !== ~v >>> 0
      )
        bad++;
    }
    expect += n;
  }
  const ms = performance.now() - t0;
  const r = await done;
  await w.terminate();
  assert.is(r.sent, N);
  assert.is(expect, N);
  assert.is(bad, 0, "no torn, lost or reordered item");
  assert.is(f.ringCount(off), 0);
  console.log(
    `  JS→core: ${N} items in ${ms.toFixed(0)} ms (${((ms * 1e6) / N).toFixed(0)} ns/item), consumer sleeps ${sleeps}`,
  );
});

test("two threads: WASM core produces 1e6 items, JS worker consumes them in order", async () => {
  const core = mk(1024);
  const f = fns(core);
  const off = core.regions.txRing.offset;
  const w = peer({ buffer: core.memory.buffer, base: off, role: "consume", n: N, batch: 0 });
  const done = result(w);
  const src = core.regions.staging.offset;
  const u = core.u32;
  const t0 = performance.now();
  let sent = 0;
  while (sent < N) {
    const space = f.ringSpace(off);
    if (space === 0) continue;
    const k = Math.min(space, 32, N - sent);
    for (let j = 0; j < k; j++) {
      const v = sent + j;
      const b = (src >>> 2) + j * 4;
      u[b] = v;
      u[b + 1] = (v & 0x7ff) | ((v & 0xffff) << 16);
      u[b + 2] = mix(v);
      u[b + 3] = ~v >>> 0;
    }
    assert.is(f.ringEnqueue(off, src, k), k);
    sent += k;
  }
  const r = await done;
  const ms = performance.now() - t0;
  await w.terminate();
  assert.is(r.received, N);
  assert.is(r.bad, 0, "no torn, lost or reordered item");
  assert.is(counter(core, C_RING_FULL), 0);
  const host = new SpscRing(core.memory.buffer, off);
  console.log(
    `  core→JS: ${N} items in ${ms.toFixed(0)} ms (${((ms * 1e6) / N).toFixed(0)} ns/item), consumer sleeps ${r.sleeps}, notifies ${host.notifies()}`,
  );
});

test.run();
