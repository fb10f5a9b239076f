// The one poll loop's back-off: how many empty rounds (or how long) it spins before a nap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Backoff, pollLoop } from "../../host/runtime/poll-loop.ts";

test("rounds: naps on the (N+1)th consecutive empty round, work resets the count", () => {
  let naps = 0;
  const b = new Backoff({ rounds: 3 }, () => naps++);
  const napped = [0, 0, 0, 0].map(() => b.after(0));
  assert.equal(napped, [false, false, false, true]);
  b.after(0);
  b.after(0);
  b.after(5); // work: the spin starts again
  assert.equal([b.after(0), b.after(0), b.after(0), b.after(0)], [false, false, false, true]);
  assert.is(naps, 2);
  assert.is(b.naps, 2);
});

test("time: spins while the empty rounds last less than the spin, then naps", () => {
  let naps = 0;
  const b = new Backoff({ us: 2000 }, () => naps++);
  const t0 = performance.now();
  let rounds = 0;
  while (naps === 0 && performance.now() - t0 < 1000) {
    b.after(0);
    rounds++;
  }
  const spun = performance.now() - t0;
  assert.is(naps, 1);
  assert.ok(spun >= 2, `napped after ${spun.toFixed(3)} ms of empty rounds, spin is 2 ms`);
  assert.ok(rounds > 1);
  // a spin of 0 naps at the first empty round
  const z = new Backoff({ us: 0 }, () => {});
  assert.is(z.after(0), true);
});

test("pollLoop runs rounds until running() is false and backs off on the empty ones", () => {
  let naps = 0;
  const work = [1, 0, 0, 2, 0, 0, 0];
  let i = 0;
  const rounds = pollLoop(
    () => work[i++],
    new Backoff({ rounds: 2 }, () => naps++),
    () => i < work.length,
  );
  assert.is(rounds, work.length);
  assert.is(naps, 1); // only the last three empty rounds in a row exceed the spin of 2
});

test.run();
