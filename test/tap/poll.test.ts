// `ixwasm tap --poll busy|adaptive`: busy answers sparse pings and never naps
// (on the main thread and in a worker); adaptive naps between them and reports
// what waking cost (host/tap/wake.ts). Sparse: one ping every 20 ms, far longer
// than the 200 µs spin, so an adaptive loop is asleep when each one comes.
// No speed is asserted (benches only): only the counts the modes must differ in.
// Needs root and /dev/net/tun: without them these tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inNs, tapNames, withTap, type RunningTap } from "../helpers/tap.ts";

const names = tapNames("tapbusy");
const PINGS = 20;

function sparsePings(t: RunningTap): void {
  const p = inNs(t.ns, ["ping", "-c", String(PINGS), "-i", "0.02", "-W", "2", "198.18.0.2"]);
  assert.is(p.code, 0, `ping: ${p.out}${p.err}`);
  assert.match(p.out.toString(), new RegExp(`${PINGS} received`));
}

const histogramSum = (r: Record<string, any>) =>
  (r.poll.wake_to_reply_us.counts as number[]).reduce((a, b) => a + b, 0);

for (const [what, extra, workers] of [
  ["main thread", [], 0],
  ["one worker over two queues", ["--queues", "2", "--workers", "1"], 1],
] as const) {
  test(`--poll busy (${what}): sparse pings answered, zero naps`, async () => {
    await withTap(names(), ["--duration", "30", "--poll", "busy", ...extra], async (t) => {
      sparsePings(t);
      const { code, report: r } = await t.stop();
      assert.is(code, 0, t.stderr());
      assert.is(r.workers, workers);
      assert.ok(r.counters.icmp_echo >= PINGS, `echo requests answered: ${r.counters.icmp_echo}`);
      assert.is(r.poll.mode, "busy");
      assert.is(r.poll.spin_us, null);
      assert.is(r.poll.naps, 0, "busy never sleeps in poll(2)");
      assert.is(r.host.poll_waits, 0);
      assert.is(r.host.wait_ms, 0);
      assert.is(r.poll.naps_woken, 0);
      assert.is(histogramSum(r), 0);
      assert.is(r.poll.wake_to_reply_us.p50_le, null);
      // It spun: far more rounds than frames (a 20 ms gap is thousands of rounds).
      assert.ok(r.host.rounds > 50 * r.rx_frames, `rounds ${r.host.rounds}, frames ${r.rx_frames}`);
    });
  });
}

test("--poll adaptive (the default): naps between sparse pings, each wake-up's cost in the histogram", async () => {
  await withTap(names(), ["--duration", "30"], async (t) => {
    sparsePings(t);
    const { code, report: r } = await t.stop();
    assert.is(code, 0, t.stderr());
    const p = r.poll;
    assert.is(p.mode, "adaptive");
    assert.is(p.spin_us, 200);
    assert.is(p.naps, r.host.poll_waits);
    // Each ping comes ~20 ms after the last frame: the loop has napped (≥ 4 naps of ≤ 5 ms per gap).
    assert.ok(p.naps >= PINGS, `naps ${p.naps}`);
    assert.ok(p.naps_woken >= 1 && p.naps_woken <= p.naps, `woken ${p.naps_woken} of ${p.naps}`);
    const w = p.wake_to_reply_us;
    assert.is(w.counts.length, w.bounds.length + 1);
    const n = histogramSum(r);
    // Every sample is a woken nap whose first frame was answered (a ping, or an ARP exchange).
    assert.ok(n >= 1 && n <= p.naps_woken, `samples ${n}, woken ${p.naps_woken}`);
    assert.ok(w.p50_le > 0 && w.p99_le >= w.p50_le, `p50 ≤ ${w.p50_le}, p99 ≤ ${w.p99_le}`);
    assert.ok(w.max > 0, `max ${w.max}`);
  });
});

test.run();
