// The live loops' clock (host/report/loop-clock.ts) and the accounting's
// arithmetic (host/report/accounting.ts) on a scripted clock: long iterations go
// whole to their own row and leave the samples, an interrupted clock-read
// measurement is left out, and the time off the CPU is shown beside the rows,
// never added to them. The real runs' residuals: test/pair/accounting.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LONG_ITER_MS, LoopClock } from "../../host/report/loop-clock.ts";
import { accounting, accountingRows } from "../../host/report/accounting.ts";

/** performance.now() answers from `script` (ms) while f runs. */
function scripted<T>(script: number[], f: () => T): T {
  const real = performance.now.bind(performance);
  let i = 0;
  performance.now = () => {
    if (i >= script.length) throw new Error(`clock script ran out after ${i} reads`);
    return script[i++];
  };
  try {
    const out = f();
    assert.is(i, script.length, "every scripted read was used");
    return out;
  } finally {
    performance.now = real;
  }
}

const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test("tick: an iteration longer than LONG_ITER_MS goes whole to the long row; a pause ends the iteration", () => {
  const lc = new LoopClock(["a"]);
  const L = LONG_ITER_MS;
  lc.tick(0);
  lc.tick(L / 2); // short
  lc.tick(L / 2 + 3 * L); // long: 3 L
  lc.tick(L / 2 + 3 * L + L / 4); // short
  lc.pause(100); // long: up to the pause
  lc.tick(200); // after a nap: starts afresh, the nap is no iteration
  lc.tick(200 + L / 3);
  assert.is(lc.long, 2);
  near(lc.longMs, 3 * L + (100 - (L / 2 + 3 * L + L / 4)), "long ms");
});

test("samples: a long sampled iteration is dropped; the parts are scaled to the iterations that were not long", () => {
  const lc = new LoopClock(["a", "b"]);
  const r = 0.00004; // one clock read: 40 ns
  // Two kept samples (parts a 0.002 + r and b 0.003 + r each, one read in each), one long sample dropped.
  scripted([0, r, 0.002 + 2 * r, 0.005 + 3 * r], () => {
    lc.begin();
    lc.mark(0);
    lc.mark(1);
    lc.end();
  });
  scripted([2, 2 + r, 2.002 + 2 * r, 2.005 + 3 * r], () => {
    lc.begin();
    lc.mark(0);
    lc.mark(1);
    lc.end();
  });
  scripted([4, 4 + r, 4 + r + 2 * LONG_ITER_MS], () => {
    lc.begin();
    lc.mark(0);
    lc.end();
  });
  assert.is(lc.sampled, 2);
  assert.is(lc.dropped, 1);
  near(lc.readCostMs(), r, "a clock read, measured in place"); // the dropped sample's too
  // 1,000 iterations of which 10 were long (ticks): the parts describe the other 990.
  for (let i = 0; i < 10; i++) {
    lc.tick(10 * i);
    lc.tick(10 * i + 2 * LONG_ITER_MS);
    lc.pause(10 * i + 2 * LONG_ITER_MS); // a zero-length tail: not long
  }
  assert.is(lc.long, 10);
  const e = lc.estimate(1000);
  near(e.a, 0.002 * 990, "part a over the short iterations");
  near(e.b, 0.003 * 990, "part b over the short iterations");
  assert.is(lc.count(0, 1000), 990, "part a ran once in each of the short iterations");
});

test("classes: each part's mean per mark, for a loop that counts its classes of iteration exactly", () => {
  const lc = new LoopClock(["busy", "idle"]);
  const r = 0.00004;
  // Sampled: three busy iterations of 0.004 ms and one idle of 0.0005 (one read in each part), from the loop's own read.
  for (const [t0, j, ms] of [
    [0, 0, 0.004],
    [1, 0, 0.004],
    [2, 1, 0.0005],
    [3, 0, 0.004],
  ] as const)
    scripted([t0 + ms + r, t0 + 0.5, t0 + 0.5 + 0.00004], () => {
      lc.beginAt(t0);
      lc.mark(j);
      lc.end();
      lc.measureRead();
    });
  near(lc.readCostMs(), 0.00004, "a read");
  near(lc.perMark(0), 0.004, "busy per mark");
  near(lc.perMark(1), 0.0005, "idle per mark");
  // A long iteration is charged to the class of the iteration that ran.
  lc.cls = 1;
  lc.tick(10);
  lc.tick(10 + 2 * LONG_ITER_MS);
  lc.cls = 0;
  lc.tick(10 + 2 * LONG_ITER_MS + LONG_ITER_MS / 2);
  lc.tick(20);
  assert.equal(lc.longOf, [1, 1]);
});

test("an interrupted clock-read measurement is left out", () => {
  const lc = new LoopClock([]);
  scripted([0, 0.00004, 1, 1.5, 2, 2.00006], () => {
    lc.measureRead();
    lc.measureRead(); // 0.5 ms between two reads: an interrupt, not a read's cost
    lc.measureRead();
  });
  assert.is(lc.reads, 2);
  near(lc.readCostMs(), 0.00005, "mean of the two clean measurements");
});

test("accounting: the aside is shown, not added; the residual is total − rows", () => {
  const a = accounting(
    1000,
    100,
    [
      ["x", "part x", 60],
      ["y", "part y", 30],
    ],
    { unit: "frame", clock: "scripted", aside: [["off the CPU", "inside the rows", 25]] },
  );
  assert.is(a.sum_ms, 90);
  assert.is(a.residual_ms, 10);
  assert.is(a.residual_pct, 10);
  assert.is(a.aside?.[0].ms, 25);
  assert.is(a.aside?.[0].pct, 25);
  const rows = accountingRows(a).map(([, v]) => v);
  const residual = rows.findIndex((v) => v.startsWith("residual"));
  const aside = rows.findIndex((v) => v.startsWith("off the CPU"));
  assert.ok(residual > 0 && aside > residual, `aside printed after the residual: ${rows.join(" / ")}`);
});

test.run();
