// `npm run sweep [-- --seeds N] [-- --from S]`: the fault sweep of test/pair/sweep.ts
// over many seeds (default 1,000: 24,000 runs), a progress line, a summary, and
// each failing case with the command that runs it again. Exit 1 if any failed.
import { CASES_PER_SEED, reproduce, runSweep, sweepCases, type SweepOutcome } from "./sweep.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a whole number ≥ 1`);
  return v;
}

const nSeeds = arg("--seeds", 1000);
const from = arg("--from", 1);
const seeds = Array.from({ length: nSeeds }, (_, i) => from + i);
const total = nSeeds * CASES_PER_SEED;
const bad: SweepOutcome[] = [];
const byGroup = new Map<string, { runs: number; bad: number; maxS: number }>();
let runs = 0;
const t0 = performance.now();
const tty = process.stderr.isTTY;
let lastLine = 0;
await runSweep(sweepCases(seeds), (o) => {
  runs++;
  const g = `${o.bulk ? "bulk " : ""}${o.kind} ${o.app} ${o.workers}w${o.bulk ? (o.sack ? " sack" : " newreno") : ""}`;
  const s = byGroup.get(g) ?? { runs: 0, bad: 0, maxS: 0 };
  s.runs++;
  s.maxS = Math.max(s.maxS, o.seconds);
  if (!o.ok) {
    s.bad++;
    bad.push(o);
    process.stderr.write(`${tty ? "\r\x1b[K" : ""}FAIL seed ${o.seed} ${g}: ${o.problems.join("; ")}\n`);
  }
  byGroup.set(g, s);
  const now = performance.now();
  if (now - lastLine > (tty ? 200 : 10_000) || runs === total) {
    lastLine = now;
    const line = `sweep: ${runs}/${total} runs (seed ${o.seed}), ${bad.length} failed, ${((now - t0) / 1000).toFixed(0)} s`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }
});
if (tty) process.stderr.write("\n");
const secs = (performance.now() - t0) / 1000;
console.log(
  `fault sweep: seeds ${from}..${from + nSeeds - 1}, ${runs} runs, ${bad.length} failed, ${secs.toFixed(0)} s`,
);
console.log("group                        runs  failed  longest run (s; one thread: virtual)");
for (const [g, s] of byGroup)
  console.log(
    `${g.padEnd(28)} ${String(s.runs).padStart(5)}  ${String(s.bad).padStart(6)}  ${s.maxS.toFixed(2)}`,
  );
for (const o of bad.slice(0, 20)) console.log(`again: ${reproduce(o)}  # ${o.problems.join("; ")}`);
process.exitCode = bad.length ? 1 : 0;
