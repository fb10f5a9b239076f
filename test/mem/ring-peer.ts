// Worker side of the two-thread ring tests (loaded through tsx by an eval
// bootstrap in ring.test.ts). Plays producer or consumer with the JS SpscRing.
import { parentPort, workerData } from "node:worker_threads";
import { SpscRing } from "../../host/runtime/ring.ts";

interface Job {
  buffer: SharedArrayBuffer;
  base: number;
  role: "produce" | "consume";
  n: number;
  batch: number;
}
const { buffer, base, role, n, batch } = workerData as Job;
const ring = new SpscRing(buffer, base);
const u = ring.u32;

// Item i carries i, a length/flags word, a hash-like mix and ~i, so a torn or
// stale slot shows up as a mismatch.
export function mix(i: number): number {
  return Math.imul(i ^ (i >>> 15), 0x2c1b3c6d) >>> 0;
}

if (role === "produce") {
  let i = 0;
  let fullSpins = 0;
  while (i < n) {
    const free = ring.reserve();
    if (free === 0) {
      fullSpins++;
      continue;
    }
    const k = Math.min(free, batch, n - i);
    const head = ring.head();
    for (let j = 0; j < k; j++) {
      const w = ring.slotWord(head + j);
      const v = i + j;
      u[w] = v;
      u[w + 1] = (v & 0x7ff) | ((v & 0xffff) << 16);
      u[w + 2] = mix(v);
      u[w + 3] = ~v >>> 0;
    }
    ring.publish(k);
    i += k;
  }
  parentPort!.postMessage({ sent: i, fullSpins });
} else {
  let expect = 0;
  let bad = 0;
  let sleeps = 0;
  let idle = 0;
  while (expect < n) {
    const a = ring.available();
    if (a === 0) {
      if (++idle > 2000) {
        sleeps++;
        ring.sleep(100);
        idle = 0;
      }
      continue;
    }
    idle = 0;
    const tail = ring.tail();
    for (let j = 0; j < a; j++) {
      const w = ring.slotWord(tail + j);
      const v = expect + j;
      if (
        u[w] !== v >>> 0 ||
        u[w + 1] !== ((v & 0x7ff) | ((v & 0xffff) << 16)) >>> 0 ||
        u[w + 2] !== mix(v) ||
        u[w + 3] !== ~v >>> 0
      )
        bad++;
    }
    ring.release(a);
    expect += a;
  }
  parentPort!.postMessage({ received: expect, bad, sleeps });
}
