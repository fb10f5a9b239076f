// The timer wheel (assembly/net/timer.ts) through app timers (CMD_TIMER): every
// timer fires once, never before its deadline and at most one tick (128 µs)
// after it, for delays on both sides of each level boundary (256 ticks, 2^16
// ticks, 2^24 ticks) and far beyond. The clock is checked 1 µs before and 127 µs
// after every deadline, so a timer that fires early or a lap late is caught.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CMD, EV, RET, TcpCore } from "./harness.ts";

const TICK = 128;

test("app timers fire within [deadline, deadline + 127 µs] across all wheel levels", () => {
  const c = new TcpCore();
  const start = c.now;
  const delays: number[] = [1, 127, 128, 129, 1000, 100_000, 2_500_000];
  // around each level boundary: level 0 -> 1 at 256 ticks, 1 -> 2 at 2^16 ticks
  for (const base of [256 * TICK, 65536 * TICK]) for (let k = -3; k <= 3; k++) delays.push(base + k * 61 + 7);
  // beyond level 2's span (2^24 ticks, 35.8 min): parked and re-placed
  delays.push(40_000_000, 600_000_000, 2_200_000_000, 4_000_000_000);
  assert.ok(delays.length <= 64, "within CFG_TIMERS");
  delays.forEach((d, i) => assert.is(c.cmd(CMD.TIMER, 0, 1000 + i, i, d), RET.OK));
  const deadline = delays.map((d) => start + BigInt(d));
  const checks = [...new Set(deadline.flatMap((t) => [t - 1n, t + BigInt(TICK - 1)]))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const firedAt = new Map<number, bigint>();
  for (const t of checks) {
    if (t <= c.now) continue;
    c.now = t;
    c.timers();
    for (const e of c.events()) {
      assert.is(e.kind, EV.TIMER);
      assert.is(e.cookie, 1000 + e.a);
      assert.not.ok(firedAt.has(e.a), `timer ${e.a} fired twice`);
      firedAt.set(e.a, t);
    }
  }
  const late: string[] = [];
  delays.forEach((d, i) => {
    const at = firedAt.get(i);
    if (at === undefined) late.push(`delay ${d}: never fired`);
    else if (at < deadline[i]) late.push(`delay ${d}: early by ${deadline[i] - at} µs`);
    else if (at > deadline[i] + BigInt(TICK - 1)) late.push(`delay ${d}: late by ${at - deadline[i]} µs`);
  });
  assert.equal(late, []);
  assert.is(c.timerNext(), 0xffffffffffffffffn, "idle afterwards");
});

test("a timer armed after the wheel idled a long time fires on time", () => {
  const c = new TcpCore();
  c.now += 3_000_000_000n; // an hour of nothing
  c.timers();
  assert.is(c.cmd(CMD.TIMER, 0, 5, 1, 256 * TICK + 50), RET.OK);
  const due = c.now + BigInt(256 * TICK + 50);
  c.now = due - 1n;
  c.timers();
  assert.equal(c.events(), [], "not before its deadline");
  c.now = due + BigInt(TICK - 1);
  c.timers();
  assert.equal(
    c.events().map((e) => [e.kind, e.cookie, e.a]),
    [[EV.TIMER, 5, 1]],
  );
});

test.run();
