// Stage timers, the cost JSON and its schema, the cost ladder's JSON and
// `ixwasm diff`. Checks structure and arithmetic only: speed figures belong in
// benchmarks (the machine is shared and noisy).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OWN_TRACES, ROOT, ownTraces } from "../helpers/corpus.ts";
import { replay } from "../../host/replay/replay.ts";
import { measureCost } from "../../host/measure/cost.ts";
import {
  clockReadMs,
  pollTimersFor,
  POLL_LONG_MS,
  readStageSums,
  STAGE_NAMES,
  type StageSums,
} from "../../host/report/stages.ts";
import { createCore } from "../../host/core/core.ts";
import {
  COST_SECTION_SCHEMA,
  DIFF_JSON_SCHEMA,
  LADDER_JSON_SCHEMA,
  validate,
} from "../../host/report/schema.ts";
import { diffReports } from "../../host/report/diff.ts";
import { benchLadder } from "../../host/measure/ladder.ts";
import { ladderRound, runFigures, warmLadder } from "../../host/measure/ladder-run.ts";
import { summarize } from "../../host/measure/lib/stats.ts";
import { LogHist } from "../../host/report/hist.ts";
import { tempDir } from "../helpers/tmp.ts";

const HTTP = join(OWN_TRACES, "http-kernel.pcap");
const tmp = tempDir("stages");
const TIMED = { raw: "replayRawBatchTimed", track: "replayTrackBatchTimed" } as const;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), ...args], {
    encoding: "utf8",
    cwd: ROOT,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("timed stage passes give the plain path's report (verdict counts, drops, TCP analysis, workers)", () => {
  const clean = (r: object) =>
    JSON.stringify({ ...r, duration_s: 0, pps: 0, mbps: 0, stages: 0, stages_cycles_est: 0, accounting: 0 });
  for (const f of ownTraces())
    for (const mode of ["raw", "track"] as const) {
      const plain = replay(f, { mode, workers: 3, loop: 2 });
      const timed = replay(f, { mode, workers: 3, loop: 2, stages: true, batchExport: TIMED[mode] });
      assert.is(clean(timed), clean(plain), `${mode} ${f}`);
    }
});

test("stage timers: every stage of the mode measured, the sum within 5 % of the total, cycles estimated", () => {
  for (const mode of ["raw", "track"] as const) {
    // Medians of 5 timed runs: the residual compares the stage sum with the total,
    // and single runs on a shared 2-vCPU machine scatter by several percent.
    const r = measureCost(HTTP, { mode, loop: 30 }, 5);
    const c = r.cost.stage_cost;
    assert.equal(
      c.stages.map((s) => s.name),
      mode === "raw" ? ["parse+hash", "dispatch"] : ["parse+hash", "flow lookup", "tcp input", "dispatch"],
    );
    for (const s of c.stages) {
      assert.ok(s.ns_per_packet > 0 && s.min <= s.ns_per_packet && s.ns_per_packet <= s.max, s.name);
      assert.ok(s.cycles_per_packet_est > 0, s.name);
    }
    assert.is(c.packets, 133 * 30);
    assert.ok(Math.abs(c.residual_pct) <= 5, `residual ${c.residual_pct} %`);
    assert.ok(c.mhz_estimated > 100, `calibrated ${c.mhz_estimated} MHz`);
    assert.ok(c.overhead.untimed_ns_per_packet.median > 0);
    assert.equal(validate(COST_SECTION_SCHEMA, r.cost), []);
    assert.is(r.cost.batch_service_us.samples, 133 * 30);
    assert.ok(r.cost.timeline.t_ms.length > 0);
  }
});

test("poll() sections: serve mode with timers on measures rx+input and the rest, within the total", () => {
  let sums: StageSums | null = null;
  // --loop 4: one poll in 16 is timed (serve's sampling), enough of them to hold each section.
  const r = replay(HTTP, {
    mode: "serve",
    app: "mirror",
    stages: true,
    loop: 4,
    onEnd: (c) => (sums = readStageSums(c)),
  });
  assert.ok(r.packets_in > 0);
  const s = sums as unknown as StageSums;
  assert.ok(s.calls > 0 && s.packets > 0);
  const at = (n: string) => s.ms[STAGE_NAMES.indexOf(n as never)];
  assert.ok(at("rx+input") > 0 && at("flush") > 0 && at("tx") > 0);
  const sum = s.ms.reduce((a, b) => a + b, 0);
  assert.ok(sum <= s.totalMs * 1.0001, `${sum} ≤ ${s.totalMs}`);
  // Timers off: nothing is summed.
  let off: StageSums | null = null;
  replay(HTTP, { mode: "serve", app: "mirror", onEnd: (c) => (off = readStageSums(c)) });
  assert.is((off as unknown as StageSums).calls, 0);
});

test("serve --stages: the stage timers run in a random one poll of 16 (issue 16 §6), figures per input packet", () => {
  let sums: StageSums | null = null;
  const r = replay(HTTP, { mode: "serve", stages: true, loop: 4, onEnd: (c) => (sums = readStageSums(c)) });
  const smp = r.serve!.stage_samples!;
  assert.is(smp.every, 16);
  assert.is(smp.polls, r.serve!.polls);
  // A random one poll in 16 (the core's xorshift): near polls / 16, not in step with the loop.
  assert.ok(
    Math.abs(smp.sampled - smp.polls / 16) < 4 * Math.sqrt(smp.polls / 16) + 2,
    `${smp.sampled} of ${smp.polls}`,
  );
  const s = sums as unknown as StageSums;
  assert.is(s.calls + s.idleCalls, smp.sampled, "only the sampled polls are timed");
  assert.is(s.polls, smp.polls);
  assert.ok(smp.clock_read_ns > 0 && s.clockMs > 0, "one clock read measured in place");
  // measureCost scales the sampled polls to the run and divides by input packets.
  const c = measureCost(HTTP, { mode: "serve", loop: 4 }, 1);
  assert.is(c.cost.stage_cost.packets, c.packets_in);
  assert.ok(c.cost.stage_cost.batches > 0 && c.cost.stage_cost.batches <= c.serve!.polls);
});

test("CLI: replay --stages --report json carries a valid cost section", () => {
  const c = cli("replay", HTTP, "--mode", "raw", "--loop", "10", "--stages", "1", "--report", "json");
  assert.is(c.code, 0, c.err);
  const r = JSON.parse(c.out);
  assert.is(r.schema, "ixwasm-replay/2");
  assert.equal(validate(COST_SECTION_SCHEMA, r.cost), []);
  const h = cli("replay", HTTP, "--report", "html");
  assert.is(h.code, 1);
  assert.match(h.err, /--report html needs --report-file/);
});

test("bench ladder: rungs in order, JSON valid, each figure and CV from the runs' figures", async () => {
  const l = await benchLadder(HTTP, { runs: 2, minPackets: 5000, rounds: 1 });
  assert.equal(validate(LADDER_JSON_SCHEMA, JSON.parse(JSON.stringify(l))), []);
  assert.equal(
    l.rungs.map((r) => r.name),
    ["raw", "+flow lookup", "+TCP tracking", "serve (+stack, app)"],
  );
  assert.ok(l.packets_per_run >= 5000);
  for (const r of l.rungs) {
    assert.ok(r.ns_per_packet && r.ns_per_packet.median > 0, r.name);
    assert.is(r.per_run.length, 2, r.name);
    // the CV printed is the spread of the runs' own figures, not of anything finer; a run
    // with no chunk to time (5,000 packets make few, and a loaded machine can deschedule
    // them all) has no figure, is left out, and the rung's note says so
    const figures = r.per_run.filter((x): x is number => x !== null);
    assert.equal(r.ns_per_packet, summarize(figures), r.name);
    if (figures.length < 2) assert.match(r.note ?? "", /1 of 2 runs had no chunk to time/, r.name);
    assert.ok(r.chunks_per_run >= 1 && r.chunks_per_run <= r.chunks_all_per_run, r.name);
  }
});

test("bench ladder: a rung that cannot run is not measured and says why; the others are", () => {
  const spec = {
    file: HTTP,
    orig: join(tmpdir(), "ixwasm-no-such-capture.pcap"),
    loops: 1,
    servePackets: 133,
  };
  warmLadder(spec);
  const run = runFigures([ladderRound(spec, 0)]);
  assert.ok(run.raw.ns !== null && run.raw.ns > 0);
  assert.ok(run.track.ns !== null && run.track.ns > 0);
  assert.is(run.serve.ns, null);
  assert.match(run.serve.error ?? "", /no-such-capture/);
});

// Two known reports: stage figures with spreads (B's tcp input clearly slower, parse within noise).
const stage = (name: string, m: number, lo: number, hi: number) => ({
  name,
  about: "",
  ns_per_packet: m,
  min: lo,
  max: hi,
  cycles_per_packet_est: 0,
});
const known = (tcp: [number, number, number], total: [number, number, number]) => ({
  schema: "ixwasm-replay/1",
  mode: "track",
  stages: {},
  cost: {
    stage_cost: {
      stages: [stage("parse+hash", 20, 19, 21), stage("tcp input", ...tcp)],
      total_ns_per_packet: { median: total[0], min: total[1], max: total[2] },
      overhead: { untimed_ns_per_packet: { median: 40, min: 39, max: 41 } },
    },
  },
});

test("diff: deltas, noise bands and verdicts on two known reports", () => {
  const a = known([25, 24, 26], [45, 44, 46]);
  const b = known([31, 30, 32], [51, 50, 52]);
  const d = diffReports(a, b, "a.json", "b.json");
  assert.equal(validate(DIFF_JSON_SCHEMA, d), []);
  const row = (n: string) => d.rows.find((r) => r.name === n)!;
  assert.is(row("parse+hash").verdict, "same");
  assert.is(row("tcp input").delta, 6);
  assert.is(row("tcp input").band, 2);
  assert.is(row("tcp input").verdict, "slower");
  assert.is(row("tcp input").delta_pct, 24);
  assert.is(row("total").verdict, "slower");
  assert.is(row("untimed (host clock)").verdict, "same");
  assert.is(d.regressions, 2);
  // instruction counts: the windows' spread is the band
  const instr = (pp: number[]) => ({
    schema: "ixwasm-instructions/2",
    mode: "raw",
    per_packet: pp[1],
    windows: pp.map((per_packet) => ({ per_packet })),
  });
  const di = diffReports(instr([325, 325.5, 326]), instr([330, 330.5, 331]));
  assert.is(di.kind, "instructions");
  assert.is(di.rows[0].delta, 5);
  assert.is(di.rows[0].verdict, "slower");
  const back = diffReports(b, a);
  assert.is(back.rows.find((r) => r.name === "tcp input")!.verdict, "faster");
  const near = diffReports(a, known([25.8, 24.5, 27], [45.5, 44, 47]));
  assert.is(near.rows.find((r) => r.name === "tcp input")!.verdict, "within noise");
  // The CLI: exit 1 with --fail-on-regression, one line naming it.
  writeFileSync(join(tmp, "a.json"), JSON.stringify(a));
  writeFileSync(join(tmp, "b.json"), JSON.stringify(b));
  const ok = cli("diff", join(tmp, "a.json"), join(tmp, "b.json"));
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.out, /tcp input .*slower/);
  const bad = cli("diff", join(tmp, "a.json"), join(tmp, "b.json"), "--fail-on-regression");
  assert.is(bad.code, 1);
  assert.match(bad.err, /2 figure\(s\) slower/);
  writeFileSync(join(tmp, "c.json"), JSON.stringify({ schema: "other" }));
  const wrong = cli("diff", join(tmp, "a.json"), join(tmp, "c.json"));
  assert.is(wrong.code, 1);
  assert.match(wrong.err, /not a cost report/);
});

test("log histogram: quantiles within one bucket (1/16), CDF ends at 1", () => {
  const h = new LogHist();
  for (let i = 1; i <= 10000; i++) h.add(i);
  const s = h.summary();
  for (const [q, v] of [
    [0.5, s.p50],
    [0.9, s.p90],
    [0.99, s.p99],
  ])
    assert.ok(Math.abs(v - q * 10000) <= (q * 10000) / 16 + 1, `${q}: ${v}`);
  assert.is(s.max, 10000);
  assert.is(s.cdf[s.cdf.length - 1][1], 1);
});

test("a timed poll descheduled between its first two clock reads is dropped, and that gap is not a clock read's cost", () => {
  // A fake clock: each read 100 ns on, except the second read of poll number 50,
  // which comes 5 ms later (the thread was off the CPU between the two reads that
  // measure a read's cost). Every poll is timed; after the first (the app's first
  // step) none has anything to do.
  const READ_MS = 1e-4;
  let clock = 1000;
  let readsThisPoll = 0;
  let pollNo = 0;
  const now = () => {
    clock += pollNo === 50 && readsThisPoll === 1 ? 5 : READ_MS;
    readsThisPoll++;
    return clock;
  };
  const core = createCore({}, { imports: { "performance.now": now } });
  const poll = core.exports.poll as (ns: number) => number;
  pollTimersFor(core)(true);
  for (pollNo = 1; pollNo <= 100; pollNo++) {
    readsThisPoll = 0;
    poll(pollNo * 1e6);
  }
  const s = readStageSums(core);
  assert.ok(readsThisPoll >= 2, "a timed poll reads the clock at least twice");
  assert.is(s.dropped, 1, "the poll with the gap is left out");
  assert.ok(s.droppedMs >= 5, `dropped ${s.droppedMs} ms`);
  assert.is(s.calls + s.idleCalls, 99, "the other 99 are kept");
  // One read in the hundred goes uncounted in the sum (the dropped poll's), none is 5 ms.
  const readNs = clockReadMs(s) * 1e6;
  assert.ok(readNs > 95 && readNs <= 100.001, `one clock read ${readNs} ns (the fake's 100 ns)`);
  assert.ok(5 > POLL_LONG_MS, "the gap is over the drop bound");
});

test.run();
