// The seeded fault sweep (test/pair/sweep.ts) over 50 seeds: 50 × 5 fault kinds
// × 2 apps × 2 thread layouts = 1,000 small runs, and 50 × {loss, all} × {SACK,
// NewReno} = 200 bulk runs, each bounded, every byte verified, every connection
// opened and closed in order. `npm run sweep` runs the same over 1,000 seeds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CASES_PER_SEED, reproduce, runSweep, sweepCases, type SweepOutcome } from "./sweep.ts";

const SEEDS = 50;

test(`fault sweep: ${SEEDS} seeds × {loss, reorder, dup, corrupt, all} × {echo, memcached} × {1, 2 workers}, and bulk echo × {loss, all} × {SACK, NewReno}`, async () => {
  const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);
  const bad: SweepOutcome[] = [];
  let runs = 0;
  const t0 = performance.now();
  await runSweep(sweepCases(seeds), (o) => {
    runs++;
    if (!o.ok) bad.push(o);
  });
  console.log(
    `  note: ${runs} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${bad.length} failed`,
  );
  assert.is(runs, SEEDS * CASES_PER_SEED);
  assert.is(CASES_PER_SEED, 5 * 2 * 2 + 2 * 2);
  assert.equal(
    bad.slice(0, 10).map((o) => `${reproduce(o)}: ${o.problems.join("; ")}`),
    [],
  );
});

test.run();
