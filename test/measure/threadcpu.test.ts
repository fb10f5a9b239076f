// The per-thread CPU readings the native baselines print beside the WASM
// timing: a thread left spinning must show in otherThreadsCpuMs, and not in
// this thread's own clock.
import { Worker } from "node:worker_threads";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { otherThreadsCpuMs, otherThreadsDeltaMs, threadCpuNs } from "../../host/measure/lib/threadcpu.ts";

test("a spinning worker's CPU shows in otherThreadsCpuMs, not in threadCpuNs", async () => {
  // The worker spins until told to stop (or 20 s, a bound of its own).
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    "const { workerData: s } = require('node:worker_threads'); const end = Date.now() + 20000; while (Atomics.load(s, 0) === 0 && Date.now() < end) {}",
    { eval: true, workerData: stop },
  );
  try {
    const before = otherThreadsCpuMs();
    const mine = threadCpuNs();
    let seen = 0;
    // Sleep (no CPU in this thread) until the worker has used 100 ms, 15 s at most.
    for (const end = Date.now() + 15000; seen < 100 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 20));
      seen = otherThreadsDeltaMs(before, otherThreadsCpuMs());
    }
    const own = (threadCpuNs() - mine) / 1e6;
    assert.ok(seen >= 100, `other threads used ${seen} ms`);
    assert.ok(own * 2 < seen, `this thread used ${own} ms, the others ${seen} ms`);
  } finally {
    Atomics.store(stop, 0, 1);
    await w.terminate();
  }
});

test.run();
