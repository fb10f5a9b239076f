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

test("peer: naps once the peer's work count stood still for stillUs, spins on while it moves", () => {
  let naps = 0;
  let peer = 0;
  const b = new Backoff({ rounds: 1e9, peer: () => peer, stillUs: 2000 }, () => naps++);
  // The peer works (its count moves every round): no nap, however long the spin.
  const t0 = performance.now();
  let t1 = t0; // when the peer's count last moved (at or before the round that saw it)
  while (t1 - t0 < 5) {
    peer++;
    t1 = performance.now();
    assert.is(b.after(0), false);
  }
  assert.is(naps, 0);
  // The peer stands still: a nap once 2 ms of empty rounds have passed since it last moved, not before.
  let rounds = 0;
  while (naps === 0 && performance.now() - t1 < 1000) {
    b.after(0);
    rounds++;
  }
  const still = performance.now() - t1;
  assert.is(naps, 1);
  assert.ok(still >= 2, `napped after ${still.toFixed(3)} ms of a still peer, stillUs is 2 ms`);
  assert.ok(still < 500, `napped only after ${still.toFixed(1)} ms (the round bound is 1e9 rounds)`);
  assert.ok(rounds > 1);
  // Our own work restarts the watch: right after it, a still peer does not make us nap at once.
  b.after(1);
  assert.is(b.after(0), false);
});

test("owed: while the peer owes an answer, a still peer does not make the loop nap; once it does not, it does", () => {
  let naps = 0;
  let owed = true;
  const b = new Backoff({ rounds: 1e9, peer: () => 0, stillUs: 200, owed: () => owed }, () => naps++);
  const t0 = performance.now();
  while (performance.now() - t0 < 3)
    assert.is(b.after(0), false, "no nap while owed, the peer still for 3 ms");
  owed = false;
  let rounds = 0;
  while (naps === 0 && rounds < 1e7) {
    b.after(0);
    rounds++;
  }
  assert.is(naps, 1, "the still peer's nap once nothing is owed");
  assert.ok(performance.now() - t0 < 500);
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
