// Stage accounting (issue 16 §1): a replay report's stages (pre-scan, set-up,
// read, core, host, tx, track, output, wait, report) are on the clock of its pps,
// and add up to the run's whole time: the residual (total − sum) is within 5 % on
// the project's captures, serve and track. On this shared machine a process can
// be descheduled for tens of ms in any line, so a capture gets up to 3 runs: the
// first within 5 % counts (each run's figures are printed when one fails).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { replay } from "../../host/replay/replay.ts";
import { prescan } from "../../host/replay/serve/prescan.ts";
import { formatReplay, type ReplayReport } from "../../host/report/replay.ts";
import type { ReplayOptions } from "../../host/replay/options.ts";

const CAPTURES = [
  "traces/http-kernel.pcap",
  "traces/memcaslap-cut.pcap",
  "traces/servers/http-nginx.pcap",
  "traces/servers/redis-pipeline.pcap",
  "../shared/traces/example2.pcap",
];

function accounted(f: string, opts: ReplayOptions): ReplayReport {
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = replay(f, opts);
    const a = r.accounting!;
    assert.is(a.schema, "ixwasm-accounting/1");
    assert.is(a.packets, r.packets_in);
    const sum = a.stages.reduce((s, x) => s + x.ms, 0);
    assert.ok(Math.abs(sum - a.sum_ms) < 0.05 * a.stages.length);
    assert.ok(Math.abs(a.total_ms - a.sum_ms - a.residual_ms) < 0.02);
    // The pass pps is computed from is inside the total, on the same clock.
    assert.ok(a.total_ms >= r.duration_s * 1000 - 0.01, `${a.total_ms} ms < ${r.duration_s} s`);
    if (Math.abs(a.residual_pct) <= 5) return r;
    seen.push(
      `${a.residual_pct} % (${a.stages.map((s) => `${s.name} ${s.ms}`).join(", ")}; total ${a.total_ms})`,
    );
  }
  assert.unreachable(`${f} ${opts.mode}: residual above 5 % in 3 runs: ${seen.join("; ")}`);
  throw new Error("unreachable");
}

test("serve: the stages add up to the run (residual ≤ 5 %), the pre-scan and the host's JS included", () => {
  for (const f of CAPTURES) {
    const r = accounted(f, { mode: "serve", prescan: prescan(f) });
    const by = Object.fromEntries(r.accounting!.stages.map((s) => [s.name, s.ms]));
    for (const k of ["pre-scan", "set-up", "read", "core", "host", "tx", "report"])
      assert.ok(by[k] > 0, `${f}: ${k} ${by[k]} ms`);
    // The pass's stages are the pass (duration_s, pps's span) within 5 %.
    const pass = by.read + by.core + by.host + by.tx + by.track + by.wait;
    assert.ok(
      Math.abs(pass - r.duration_s * 1000) <= 0.05 * r.duration_s * 1000,
      `${f}: pass ${pass} ms, duration ${r.duration_s} s`,
    );
  }
});

test("track (--loop 10) and raw: the stages add up to the run (residual ≤ 5 %)", () => {
  for (const f of CAPTURES) accounted(f, { mode: "track", loop: 10 });
  accounted("traces/servers/http-nginx.pcap", { mode: "raw", loop: 10 });
});

test("the table shows every stage, the total and the residual", () => {
  const r = replay("traces/http-kernel.pcap", { mode: "serve" });
  const text = formatReplay(r);
  for (const k of [
    "pre-scan",
    "set-up",
    "read",
    "core",
    "host",
    "tx",
    "track",
    "report",
    "sum",
    "total",
    "residual",
  ])
    assert.match(text, new RegExp(`\\n {10,}${k} +\\d+\\.\\d\\d ms`));
});

test.run();
